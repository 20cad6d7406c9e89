//! `GET /metrics`: the Prometheus exposition (README, "Operations"). On the
//! public port it answers only a scrape that sends `METRICS_TOKEN` as a
//! bearer token; on `METRICS_ADDR`, an address of its own, it needs the
//! token only when one is set. Not in the OpenAPI document: it is for the
//! operator's scraper, not for clients.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use loco_rs::app::AppContext;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::{
    errors::Detail,
    infra::{metrics::CONTENT_TYPE, state::AppState},
};

pub const METRICS_PATH: &str = "/metrics";

struct Scrape {
    ctx: AppContext,
    state: Arc<AppState>,
    token: Option<SecretString>,
}

/// The route, for `ctx`'s app; a scrape must send `token` when there is one.
pub fn router(ctx: &AppContext, state: Arc<AppState>, token: Option<SecretString>) -> Router {
    let scrape = Arc::new(Scrape {
        ctx: ctx.clone(),
        state,
        token,
    });
    Router::new()
        .route(METRICS_PATH, get(scrape_metrics))
        .with_state(scrape)
}

async fn scrape_metrics(State(scrape): State<Arc<Scrape>>, headers: HeaderMap) -> Response {
    if let Some(token) = &scrape.token
        && !sends_token(&headers, token)
    {
        let detail = "Not authenticated".to_string();
        let mut refused = (StatusCode::UNAUTHORIZED, Json(Detail { detail })).into_response();
        refused
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused;
    }
    let text = scrape
        .state
        .metrics
        .render(&scrape.ctx, &scrape.state.limiter)
        .await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// Whether `Authorization` is `Bearer <token>`, compared in constant time.
fn sends_token(headers: &HeaderMap, token: &SecretString) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|sent| {
            bool::from(
                sent.trim()
                    .as_bytes()
                    .ct_eq(token.expose_secret().as_bytes()),
            )
        })
}
