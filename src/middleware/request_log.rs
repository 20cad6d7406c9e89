//! The request log: Loco's logger, but what it writes of the URI is the
//! route (`/api/v1/auth/password-recovery/{email}`) and the names of the query
//! parameters, never their values: paths carry emails, and the provider
//! callback's query carries a code and a state.

use std::{sync::Arc, time::Duration};

use axum::{
    Router as AxumRouter,
    extract::MatchedPath,
    http::{Request, Response, Uri, header},
};
use loco_rs::{
    Result,
    app::AppContext,
    controller::middleware::{MiddlewareLayer, request_id::LocoRequestId},
    environment::Environment,
};
use tower::ServiceBuilder;
use tower_http::trace::{DefaultOnResponse, OnResponse, TraceLayer};
use tracing::{Span, field::Empty};

use super::http_metrics::CountRequests;
use crate::infra::{metrics::UNMATCHED, state::AppState, telemetry};

/// Stands where Loco's `logger` middleware stood, on or off as it was; with
/// `metrics`, counts each request too (`http_metrics`), in the same layer.
pub struct RequestLog {
    pub enable: bool,
    pub environment: Environment,
    pub metrics: Option<Arc<AppState>>,
}

impl MiddlewareLayer for RequestLog {
    fn name(&self) -> &'static str {
        "logger"
    }

    fn is_enabled(&self) -> bool {
        self.enable || self.metrics.is_some()
    }

    fn config(&self) -> serde_json::Result<serde_json::Value> {
        Ok(serde_json::json!({ "enable": self.enable }))
    }

    fn apply(&self, app: AxumRouter<AppContext>) -> Result<AxumRouter<AppContext>> {
        // Shared: the span maker is cloned with the service on every request.
        let environment: Arc<str> = self.environment.to_string().into();
        let log = TraceLayer::new_for_http()
            .make_span_with(move |request: &Request<_>| {
                let request_id = request
                    .extensions()
                    .get::<LocoRequestId>()
                    .map_or("req-id-none", LocoRequestId::get);
                let user_agent = request
                    .headers()
                    .get(header::USER_AGENT)
                    .and_then(|agent| agent.to_str().ok())
                    .unwrap_or_default();
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str);
                let span = tracing::error_span!(
                    "http-request",
                    "http.method" = %request.method(),
                    "http.uri" = %logged_uri(request.uri(), route),
                    "http.version" = ?request.version(),
                    "http.user_agent" = %user_agent,
                    "environment" = %environment,
                    request_id = %request_id,
                    "otel.name" = Empty,
                    "otel.kind" = Empty,
                    "http.route" = Empty,
                    "http.response.status_code" = Empty,
                );
                // What only a trace needs, only when traces are exported.
                if telemetry::enabled() {
                    let route = route.unwrap_or(UNMATCHED);
                    span.record("otel.name", format!("{} {route}", request.method()));
                    span.record("otel.kind", "server");
                    span.record("http.route", route);
                    telemetry::continue_trace(&span, request.headers());
                }
                span
            })
            .on_response(|response: &Response<_>, latency: Duration, span: &Span| {
                DefaultOnResponse::default().on_response(response, latency, span);
                if telemetry::enabled() {
                    span.record("http.response.status_code", response.status().as_u16());
                }
            });
        let count = self.metrics.clone().map(CountRequests);
        Ok(match (count, self.enable) {
            (Some(count), true) => app.layer(ServiceBuilder::new().layer(count).layer(log)),
            (Some(count), false) => app.layer(count),
            (None, _) => app.layer(log),
        })
    }
}

/// The route a request took, or, when none did, its path with every segment
/// holding an `@` hidden; then the query's parameter names.
#[must_use]
pub fn logged_uri(uri: &Uri, route: Option<&str>) -> String {
    let mut logged = route.map_or_else(
        || {
            uri.path()
                .split('/')
                .map(|segment| {
                    if segment.contains('@') {
                        "[hidden]"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        },
        str::to_string,
    );
    if let Some(query) = uri.query() {
        let names: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name))
            .collect();
        logged.push('?');
        logged.push_str(&names.join("&"));
    }
    logged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(uri: &str, route: Option<&str>) -> String {
        logged_uri(&uri.parse().expect("a URI"), route)
    }

    #[test]
    fn logs_routes_and_query_names_never_values() {
        assert_eq!(
            logged(
                "/api/v1/auth/password-recovery/jane@example.com",
                Some("/api/v1/auth/password-recovery/{email}")
            ),
            "/api/v1/auth/password-recovery/{email}"
        );
        assert_eq!(
            logged(
                "/api/v1/auth/google/callback?code=4%2F0Ab&state=s3cr3t",
                Some("/api/v1/auth/{provider}/callback")
            ),
            "/api/v1/auth/{provider}/callback?code&state"
        );
        assert_eq!(
            logged("/api/v1/nope/jane@example.com/x?token=abc", None),
            "/api/v1/nope/[hidden]/x?token"
        );
        assert_eq!(logged("/_ping", Some("/_ping")), "/_ping");
    }
}
