//! `/auth/password-recovery` and `/auth/reset-password`: a reset link by mail,
//! good once, for a while.

use axum::Json;
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::{sign_error, token_signer},
    extractors::{ClientIp, JsonBody, PathParams},
    rate_limit::{Action, limit},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    mailers::account::AccountMailer,
    models::{single_use_tokens, tokens::TokenKind, users},
    settings::Settings,
    views::msg::Msg,
};

pub const RECOVERY_SENT: &str = "Password recovery email sent";
pub const PASSWORD_UPDATED: &str = "Password updated successfully";

#[derive(Debug, Deserialize, Validate, ToSchema)]
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

/// Sends a reset link. The answer is the same whether or not the email has an
/// account, so it tells nobody which emails do.
#[utoipa::path(post, path = "/api/v1/auth/password-recovery/{email}", tag = "auth",
    params(("email" = String, Path)),
    responses(
        (status = 200, body = Msg),
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn recover(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    PathParams(email): PathParams<String>,
) -> ApiResult<Json<Msg>> {
    limit(&ctx, Action::PasswordRecovery, ip, Some(&email)).await?;
    if let Ok(user) = users::Model::find_by_email(&ctx.db, &email).await
        && !user.is_archived()
    {
        let settings = Settings::from_context(&ctx)?;
        let reset = token_signer(&ctx)?
            .issue(
                user.id,
                TokenKind::PasswordReset,
                settings.email_reset_token_expire_hours * 3600,
            )
            .map_err(sign_error)?;
        single_use_tokens::Model::record(&ctx.db, &reset.claims).await?;
        let link = format!(
            "{}/reset-password?token={}",
            settings.web_app_url.trim_end_matches('/'),
            reset.token
        );
        // The answer must not differ for accounts that exist: log, do not fail.
        if let Err(error) = AccountMailer::send_password_reset(&ctx, &user.email, &link).await {
            tracing::error!(%error, user_id = %user.id, "password reset mail not queued");
        }
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
#[debug_handler]
pub async fn reset(
    State(ctx): State<AppContext>,
    JsonBody(reset): JsonBody<PasswordReset>,
) -> ApiResult<Json<Msg>> {
    let invalid = || ApiError::Unauthorized(msg::INVALID_TOKEN.into());
    let claims = token_signer(&ctx)?
        .verify(&reset.token, TokenKind::PasswordReset)
        .ok_or_else(invalid)?;
    let user = users::Model::find_active_by_id(&ctx.db, claims.sub)
        .await
        .map_err(|error| match error {
            ModelError::EntityNotFound => invalid(),
            other => ApiError::Model(other),
        })?;
    if !single_use_tokens::Model::use_once(&ctx.db, &claims).await? {
        return Err(invalid());
    }
    user.into_active_model()
        .set_password(&ctx.db, &reset.new_password)
        .await?;
    Ok(Json(Msg::new(PASSWORD_UPDATED)))
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/auth")
        .add("/password-recovery/{email}", post(recover))
        .add("/reset-password", post(reset))
}
