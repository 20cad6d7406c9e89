//! The hardening headers of the contract's "Response headers", on every answer:
//! no sniffing, no framing, no referrer, a content security policy (relaxed
//! for the Swagger UI only), and HSTS in production.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// Swagger UI loads its own scripts, styles and images, some inline.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
const HSTS: &str = "max-age=31536000; includeSubDomains";

#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Adds `Strict-Transport-Security` (production, behind TLS).
    pub hsts: bool,
    /// Where the Swagger UI is served.
    pub docs_path: &'static str,
}

pub async fn add(State(config): State<SecurityHeaders>, request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with(config.docs_path);
    let mut response = next.run(request).await;
    let policy = if docs { DOCS_POLICY } else { API_POLICY };
    let hsts = config
        .hsts
        .then_some((header::STRICT_TRANSPORT_SECURITY, HSTS));
    // Every answer passes here: a fixed list, no allocation.
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, policy),
    ];
    for (name, value) in headers.into_iter().chain(hsts) {
        response
            .headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
