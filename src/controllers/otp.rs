//! `/auth/otp`: sign in, or sign up, with a one-time code sent by mail; and the
//! long-lived code for the Apple review team.

use axum::Json;
use chrono::Duration;
use loco_rs::{environment::Environment, prelude::*};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::ValidationError;

use super::{
    auth::auth_response,
    extractors::{AdminUser, ClientIp, JsonBody},
    rate_limit::{Action, limit},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    mailers::account::AccountMailer,
    models::{
        one_time_passwords::{self, CODE_LENGTH, CodeSignIn, Purpose},
        users,
    },
    settings::Settings,
    views::{auth::AuthResponse, msg::Msg, otp::OneTimePasswordResponse},
};

pub const CODE_SENT: &str = "If an account exists, a verification code has been sent";
pub const APPLE_REVIEW_REFUSED: &str =
    "Gracefully handled: Apple review team cannot request a verification code";

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CodeRequest {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    #[schema(format = "email")]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CodeVerification {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    #[schema(format = "email")]
    pub email: String,
    #[validate(custom(function = "six_digits"))]
    #[schema(pattern = r"^\d{6}$", example = "123456")]
    pub code: String,
}

/// Whether `text` has the shape of a code (six digits).
#[must_use]
pub fn is_code(text: &str) -> bool {
    text.len() == CODE_LENGTH && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn six_digits(code: &str) -> Result<(), ValidationError> {
    if is_code(code) {
        Ok(())
    } else {
        Err(ValidationError::new("string_pattern_mismatch")
            .with_message("String should match pattern '^\\d{6}$'".into()))
    }
}

/// The user `code` signs in as `email`, registering the email when the code is
/// its own and it has no account yet; `None` when the code does not sign in.
///
/// # Errors
/// On a database error.
pub async fn sign_in_with_code(
    ctx: &AppContext,
    email: &str,
    code: &str,
) -> ApiResult<Option<users::Model>> {
    let policy = Settings::from_context(ctx)?.code_policy(&ctx.environment);
    match one_time_passwords::Model::sign_in(&ctx.db, &policy, email, code).await? {
        CodeSignIn::Existing(user) => Ok(Some(*user)),
        CodeSignIn::NewAccount => {
            let user = users::Model::find_or_register_by_code(&ctx.db, email).await?;
            super::auth::welcome(ctx, &user).await;
            Ok(Some(user))
        }
        CodeSignIn::Refused => Ok(None),
    }
}

/// Sends a sign-in code to the email; a new request replaces the previous code.
#[utoipa::path(post, path = "/api/v1/auth/otp/request", tag = "auth",
    request_body = CodeRequest,
    responses(
        (status = 200, body = Msg), (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn request_code(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    JsonBody(request): JsonBody<CodeRequest>,
) -> ApiResult<Json<Msg>> {
    limit(&ctx, Action::OtpRequest, ip, Some(&request.email)).await?;
    let settings = Settings::from_context(&ctx)?;
    let policy = settings.code_policy(&ctx.environment);
    if users::normalize_email(&request.email) == policy.apple_review_email {
        return Ok(Json(Msg::new(APPLE_REVIEW_REFUSED)));
    }
    let code = policy.generate();
    one_time_passwords::Model::issue(
        &ctx.db,
        &policy,
        &request.email,
        &code,
        Purpose::Login,
        Duration::minutes(settings.verification_code_expiration_minutes),
    )
    .await?;
    if settings.emails_enabled() {
        AccountMailer::send_verification_code(&ctx, &users::normalize_email(&request.email), &code)
            .await?;
    } else if ctx.environment != Environment::Production {
        // Development without mail: the code travels in the answer instead.
        return Ok(Json(Msg::new(format!(
            "Development mode: Your verification code is {code}"
        ))));
    } else {
        tracing::warn!("email disabled: a verification code was requested and not sent");
    }
    Ok(Json(Msg::new(CODE_SENT)))
}

/// Signs in with a code, or registers the email if it has no account yet.
#[utoipa::path(post, path = "/api/v1/auth/otp/verify", tag = "auth",
    request_body = CodeVerification,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Invalid or expired authentication code", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn verify_code(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    JsonBody(verification): JsonBody<CodeVerification>,
) -> ApiResult<Json<AuthResponse>> {
    limit(&ctx, Action::OtpVerify, ip, Some(&verification.email)).await?;
    let user = sign_in_with_code(&ctx, &verification.email, &verification.code)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_CODE.into()))?;
    auth_response(&ctx, &user, None).await
}

/// Makes (or replaces) the Apple review team's long-lived code.
#[utoipa::path(post, path = "/api/v1/auth/generate-apple-review-team-otp", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = OneTimePasswordResponse),
        (status = 401, body = Detail), (status = 403, body = Detail),
    ))]
#[debug_handler]
pub async fn generate_apple_review_code(
    State(ctx): State<AppContext>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Json<OneTimePasswordResponse>> {
    let settings = Settings::from_context(&ctx)?;
    let policy = settings.code_policy(&ctx.environment);
    let reviewer =
        users::Model::find_or_register_by_code(&ctx.db, &policy.apple_review_email).await?;
    let code = policy.generate();
    let otp = one_time_passwords::Model::issue(
        &ctx.db,
        &policy,
        &reviewer.email,
        &code,
        Purpose::AppleReview,
        Duration::days(settings.apple_review_team_otp_expiration_days),
    )
    .await?;
    Ok(Json(OneTimePasswordResponse::new(
        &otp,
        Some(reviewer.id),
        Some(code),
    )))
}

/// Deletes the Apple review team's code.
#[utoipa::path(delete, path = "/api/v1/auth/delete-apple-review-team-otp", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = OneTimePasswordResponse),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 404, description = "No Apple review team OTP found", body = Detail),
    ))]
#[debug_handler]
pub async fn delete_apple_review_code(
    State(ctx): State<AppContext>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Json<OneTimePasswordResponse>> {
    let policy = Settings::from_context(&ctx)?.code_policy(&ctx.environment);
    let otp = one_time_passwords::Model::delete_for(
        &ctx.db,
        &policy.apple_review_email,
        Purpose::AppleReview,
    )
    .await?
    .ok_or(ApiError::NotFound(msg::NO_APPLE_REVIEW_OTP.into()))?;
    let reviewer = users::Model::find_by_email(&ctx.db, &otp.email).await.ok();
    Ok(Json(OneTimePasswordResponse::new(
        &otp,
        reviewer.map(|user| user.id),
        None,
    )))
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/auth")
        .add("/otp/request", post(request_code))
        .add("/otp/verify", post(verify_code))
        .add(
            "/generate-apple-review-team-otp",
            post(generate_apple_review_code),
        )
        .add(
            "/delete-apple-review-team-otp",
            delete(delete_apple_review_code),
        )
}
