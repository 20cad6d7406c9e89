//! `/auth/password-recovery` and `/auth/reset-password`: a reset link by mail,
//! good once, for a while.

use std::sync::Arc;

use axum::{Extension, Json};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{ClientIp, JsonBody, PathParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        email::Email,
        security_events::{EventKind, Origin},
        users,
    },
    views::msg::Msg,
    workers::password_recovery::{PasswordRecoveryArgs, PasswordRecoveryWorker},
};

pub const RECOVERY_SENT: &str = "Password recovery email sent";
pub const PASSWORD_UPDATED: &str = "Password updated successfully";

#[derive(Deserialize, Validate, ToSchema)]
pub struct PasswordReset {
    pub token: String,
    #[validate(length(
        min = 8,
        code = "string_too_short",
        message = "String should have at least 8 characters"
    ))]
    #[schema(min_length = 8)]
    pub new_password: String,
}

/// Sends a reset link. The answer, and the work done before it, are the same
/// whether or not the email has an account, so it tells nobody which emails do.
#[utoipa::path(post, path = "/api/v1/auth/password-recovery/{email}", tag = "auth",
    params(("email" = String, Path)),
    responses(
        (status = 200, body = Msg),
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn recover(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    PathParams(email): PathParams<String>,
) -> ApiResult<Json<Msg>> {
    app.limiter
        .check(Action::PasswordRecovery, ip, Some(&email))
        .await?;
    // One queued job either way: the answer takes as long for an email with
    // an account as for one without.
    if let Ok(email) = Email::parse(&email) {
        PasswordRecoveryWorker::perform_later(&ctx, PasswordRecoveryArgs { email }).await?;
    }
    Ok(Json(Msg::new(RECOVERY_SENT)))
}

/// Sets a new password with a reset token; signs the user out everywhere.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "auth",
    request_body = PasswordReset,
    responses(
        (status = 200, body = Msg),
        (status = 401, description = "Invalid token", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn reset(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(reset): JsonBody<PasswordReset>,
) -> ApiResult<Json<Msg>> {
    let (token, password) = (&reset.token, &reset.new_password);
    let reset = users::Model::reset_password(&ctx.db, &app.signer, token, password)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_TOKEN.into()))?;
    let (account, settings) = ((reset.user.id, reset.user.email.as_str()), &app.settings);
    if reset.claimed {
        let (kind, detail) = (EventKind::AccountClaimed, Some("by a reset link"));
        AccountMailer::security_event(&ctx, settings, account, kind, &origin, detail).await;
    }
    let kind = EventKind::PasswordReset;
    AccountMailer::security_event(&ctx, settings, account, kind, &origin, None).await;
    Ok(Json(Msg::new(PASSWORD_UPDATED)))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(recover))
        .route(routes!(reset))
}
