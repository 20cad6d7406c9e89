//! `/.well-known/`: the association files that let the iOS and Android apps
//! use this site's passkeys, from settings; 404 when not configured.

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa_axum::routes;

use super::docs::ApiRoutes;
use crate::{
    errors::{ApiError, ApiResult, Detail, msg},
    infra::state::AppState,
};

fn served(file: Option<serde_json::Value>) -> ApiResult<Json<serde_json::Value>> {
    file.map(Json)
        .ok_or_else(|| ApiError::NotFound(msg::NOT_FOUND.into()))
}

/// The iOS apps whose passkeys are this site's (`APPLE_APP_IDS`).
#[utoipa::path(get, path = "/.well-known/apple-app-site-association", tag = "monitoring",
    responses((status = 200, body = Object), (status = 404, body = Detail)))]
pub async fn apple_app_site_association(
    Extension(app): Extension<Arc<AppState>>,
) -> ApiResult<Json<serde_json::Value>> {
    served(app.settings.passkeys.apple_app_site_association())
}

/// The Android app whose passkeys are this site's (`ANDROID_PACKAGE_NAME`,
/// `ANDROID_CERT_FINGERPRINTS`).
#[utoipa::path(get, path = "/.well-known/assetlinks.json", tag = "monitoring",
    responses((status = 200, body = Object), (status = 404, body = Detail)))]
pub async fn asset_links(
    Extension(app): Extension<Arc<AppState>>,
) -> ApiResult<Json<serde_json::Value>> {
    served(app.settings.passkeys.asset_links())
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(apple_app_site_association))
        .route(routes!(asset_links))
}
