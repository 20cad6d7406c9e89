//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa_axum::routes;

use super::{docs::ApiRoutes, extractors::Db};
use crate::errors::Detail;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub ok: bool,
}

/// The process is up.
#[utoipa::path(get, path = "/_ping", tag = "monitoring",
    responses((status = 200, body = Health)))]
pub async fn ping() -> Json<Health> {
    Json(Health { ok: true })
}

/// The process is up and its database answers.
#[utoipa::path(get, path = "/_health", tag = "monitoring",
    responses((status = 200, body = Health), (status = 503, body = Detail)))]
pub async fn health(State(Db(db)): State<Db>) -> impl IntoResponse {
    match db.ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { ok: true })).into_response(),
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
