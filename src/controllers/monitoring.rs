//! Liveness and readiness probes for load balancers and orchestrators.

use std::sync::Arc;

use axum::{Extension, Json, extract::State, http::StatusCode, response::IntoResponse};
use loco_rs::app::AppContext;
use utoipa_axum::routes;

use super::docs::ApiRoutes;
use crate::{
    infra::{health, state::AppState},
    views::monitoring::{Health, Readiness},
};

/// The process is up.
#[utoipa::path(get, path = "/_ping", tag = "monitoring",
    responses((status = 200, body = Health)))]
pub async fn ping() -> Json<Health> {
    Json(Health { ok: true })
}

/// Each dependency's state and latency: the database (without it, 503),
/// Redis when configured, the file store (it answers and takes a write),
/// and SMTP (the last delivery). Only the database takes the instance out
/// of service: the rest of the API works without the others, and another
/// instance would not reach them either.
#[utoipa::path(get, path = "/_health", tag = "monitoring",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn health(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
) -> impl IntoResponse {
    let readiness = health::readiness(&ctx, &app).await;
    let status = if readiness.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(ping)).route(routes!(health))
}
