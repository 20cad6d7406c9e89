//! Liveness and readiness probes for load balancers and orchestrators.

use std::sync::Arc;

use axum::{Extension, Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa_axum::routes;

use super::{docs::ApiRoutes, extractors::Db};
use crate::{errors::Detail, rate_limit::LimitStore, state::AppState};

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
}

/// The process is up.
#[utoipa::path(get, path = "/_ping", tag = "monitoring",
    responses((status = 200, body = Health)))]
pub async fn ping() -> Json<Health> {
    Json(Health { ok: true })
}

/// The process is up and its database answers; says where rate limits are
/// counted.
#[utoipa::path(get, path = "/_health", tag = "monitoring",
    responses((status = 200, body = Readiness), (status = 503, body = Detail)))]
pub async fn health(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
) -> impl IntoResponse {
    match db.ping().await {
        Ok(()) => {
            let rate_limits = app.limiter.store().await;
            (
                StatusCode::OK,
                Json(Readiness {
                    ok: true,
                    rate_limits,
                }),
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Detail {
                    detail: "Database unreachable".to_string(),
                }),
            )
                .into_response()
        }
    }
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(ping)).route(routes!(health))
}
