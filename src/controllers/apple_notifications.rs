//! `POST /auth/apple/notifications`: Apple's server-to-server notifications
//! of Sign in with Apple (email forwarding switched off or on, consent taken
//! back, Apple account deleted), each a JWS Apple signs.

use std::sync::Arc;

use axum::{Extension, Json};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{Db, JsonBody},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::state::AppState,
    models::{apple::AppleEvent, security_events::Origin, users},
    views::msg::Msg,
};

#[derive(Deserialize, Validate, ToSchema)]
pub struct AppleNotification {
    /// The JWS: its `events` claim is a JSON string with `type` and `sub`.
    #[validate(length(min = 1, max = 16384))]
    pub payload: String,
}

/// Records the event in the user's security log; `consent-revoked` and
/// `account-delete` end their sessions. An event for no account of this app
/// is acknowledged all the same.
#[utoipa::path(post, path = "/api/v1/auth/apple/notifications", tag = "sso",
    request_body = AppleNotification,
    responses(
        (status = 200, body = Msg),
        (status = 401, description = "Not a notification Apple signed for this app", body = Detail),
        (status = 403, description = "Sign in with Apple is off", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 504, description = "Apple's keys could not be fetched", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn notifications(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(body): JsonBody<AppleNotification>,
) -> ApiResult<Json<Msg>> {
    let audiences = app.settings.sso.audiences(users::Provider::Apple);
    if audiences.is_empty() {
        return Err(ApiError::Forbidden(msg::APPLE_OFF.into()));
    }
    let keys = (&app.identity.apple_keys, &app.identity.http);
    let event = AppleEvent::verify(keys, &audiences, &body.payload).await?;
    users::Model::on_apple_event(&db, &event, &origin).await?;
    Ok(Json(Msg::new("Notification received")))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(notifications))
}
