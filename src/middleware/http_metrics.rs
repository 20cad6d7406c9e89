//! Counts each request in the metrics: by method, route template (never the
//! raw path, which carries ids and emails) and status, with the time to its
//! answer's head; and, on a sign-in route, the attempt by way in and outcome.
//! Only when metrics are on: off, nothing is added to a request's path.

use std::{sync::Arc, time::Instant};

use axum::{
    Router as AxumRouter,
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode},
    middleware::{Next, from_fn_with_state},
    response::Response,
};
use loco_rs::{Result, app::AppContext, controller::middleware::MiddlewareLayer};

use crate::{
    infra::{
        metrics::{RequestLabels, UNMATCHED},
        state::AppState,
    },
    views::auth::SecondFactorAsked,
};

pub struct HttpMetrics {
    pub state: Arc<AppState>,
}

impl MiddlewareLayer for HttpMetrics {
    fn name(&self) -> &'static str {
        "http_metrics"
    }

    fn is_enabled(&self) -> bool {
        true
    }

    fn config(&self) -> serde_json::Result<serde_json::Value> {
        Ok(serde_json::json!({ "enable": true }))
    }

    fn apply(&self, app: AxumRouter<AppContext>) -> Result<AxumRouter<AppContext>> {
        Ok(app.layer(from_fn_with_state(self.state.clone(), count)))
    }
}

async fn count(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let metrics = &state.metrics;
    let _in_flight = metrics.request_started();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status();
    if let Some(path) = sign_in_path(method, &route) {
        let asked = response.extensions().get::<SecondFactorAsked>().is_some();
        metrics.sign_in(path, sign_in_outcome(status, asked));
    }
    let labels = RequestLabels {
        method,
        route,
        status: status.as_u16(),
    };
    metrics.request_answered(labels, took);
    response
}

/// The method, of a known few: one a client makes up is one more label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The way in a route signs in by, if it does.
fn sign_in_path(method: &str, route: &str) -> Option<&'static str> {
    if method != "POST" {
        return None;
    }
    Some(match route {
        "/api/v1/auth/login" => "password",
        "/api/v1/auth/otp/verify" => "code",
        "/api/v1/auth/sso/confirm" => "provider",
        "/api/v1/auth/{provider}/token" => "native_id_token",
        "/api/v1/auth/passkey" => "passkey",
        "/api/v1/auth/2fa/verify" => "second_factor",
        "/api/v1/auth/refresh" => "refresh",
        "/api/v1/auth/register" => "register",
        _ => return None,
    })
}

/// What a sign-in's answer says of it: every refused credential is a 401,
/// an account that may not sign in a 403.
fn sign_in_outcome(status: StatusCode, second_factor_asked: bool) -> &'static str {
    match status.as_u16() {
        200..=299 if second_factor_asked => "second_factor_asked",
        200..=299 => "success",
        401 => "bad_credentials",
        403 => "refused",
        429 => "rate_limited",
        400..=499 => "invalid_request",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_outcomes_come_from_the_status() {
        assert_eq!(sign_in_outcome(StatusCode::OK, false), "success");
        assert_eq!(sign_in_outcome(StatusCode::OK, true), "second_factor_asked");
        assert_eq!(
            sign_in_outcome(StatusCode::UNAUTHORIZED, false),
            "bad_credentials"
        );
        assert_eq!(
            sign_in_outcome(StatusCode::TOO_MANY_REQUESTS, false),
            "rate_limited"
        );
        assert_eq!(
            sign_in_outcome(StatusCode::UNPROCESSABLE_ENTITY, false),
            "invalid_request"
        );
        assert_eq!(
            sign_in_outcome(StatusCode::SERVICE_UNAVAILABLE, false),
            "error"
        );
        assert_eq!(sign_in_path("GET", "/api/v1/auth/login"), None);
        assert_eq!(sign_in_path("POST", "/api/v1/items"), None);
    }
}
