//! Liveness and readiness probes for load balancers and orchestrators.

use std::sync::Arc;

use axum::{Extension, Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{Db, Store},
};
use crate::{errors::Detail, infra::rate_limit::LimitStore, infra::state::AppState, models::files};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub ok: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub ok: bool,
    /// `memory_fallback`: Redis is configured but unreachable, and each
    /// process counts sign-in limits on its own until it is back.
    pub rate_limits: LimitStore,
    /// `down`: the file store (folder or S3 bucket) does not answer; uploads
    /// and downloads answer 503 until it does, everything else works.
    pub storage: StoreState,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoreState {
    Up,
    Down,
}

/// The process is up.
#[utoipa::path(get, path = "/_ping", tag = "monitoring",
    responses((status = 200, body = Health)))]
pub async fn ping() -> Json<Health> {
    Json(Health { ok: true })
}

/// The process is up and its database answers (else 503); says where rate
/// limits are counted and whether the file store answers. A store that is
/// down does not take the instance out of service: the rest of the API works
/// without it, and another instance would not reach it either.
#[utoipa::path(get, path = "/_health", tag = "monitoring",
    responses((status = 200, body = Readiness), (status = 503, body = Detail)))]
pub async fn health(
    State(Db(db)): State<Db>,
    State(Store(storage)): State<Store>,
    Extension(app): Extension<Arc<AppState>>,
) -> impl IntoResponse {
    if let Err(error) = db.ping().await {
        tracing::error!(%error, "health check: database unreachable");
        let detail = "Database unreachable".to_string();
        return (StatusCode::SERVICE_UNAVAILABLE, Json(Detail { detail })).into_response();
    }
    let (rate_limits, store_answers) =
        tokio::join!(app.limiter.store(), files::store_answers(&storage));
    let storage = if store_answers {
        StoreState::Up
    } else {
        StoreState::Down
    };
    Json(Readiness {
        ok: true,
        rate_limits,
        storage,
    })
    .into_response()
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(ping)).route(routes!(health))
}
