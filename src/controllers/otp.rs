//! `/auth/otp`: sign in, or sign up, with a one-time code sent by mail; and the
//! long-lived code for the Apple review team.

use std::sync::Arc;

use axum::{Extension, Json};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, ClientIp, Db, JsonBody},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::{AccountMailer, CodeDelivery},
    models::{
        email::Email,
        one_time_passwords::{self, CodeRequest, Purpose, six_digits},
        security_events::Origin,
        users,
    },
    views::{
        auth::SignInResponse,
        msg::Msg,
        otp::{AppleReviewCodeResponse, OneTimePasswordResponse},
    },
};

pub const CODE_SENT: &str = "If an account exists, a verification code has been sent";
pub const APPLE_REVIEW_REFUSED: &str =
    "Gracefully handled: Apple review team cannot request a verification code";

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(as = CodeRequest)]
pub struct CodeRequestBody {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Email,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct CodeVerification {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Email,
    #[validate(custom(function = "six_digits"))]
    #[schema(pattern = r"^\d{6}$", example = "123456")]
    pub code: String,
}

/// Sends a sign-in code to the email; a new request replaces the previous code.
#[utoipa::path(post, path = "/api/v1/auth/otp/request", tag = "auth",
    request_body = CodeRequestBody,
    responses(
        (status = 200, body = Msg), (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn request_code(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    JsonBody(request): JsonBody<CodeRequestBody>,
) -> ApiResult<Json<Msg>> {
    let email = request.email;
    app.limiter
        .check(Action::OtpRequest, ip, Some(email.as_str()))
        .await?;
    let code = match one_time_passwords::Model::request(&ctx.db, &app.code_policy, &email).await? {
        CodeRequest::Issued(code) => code,
        CodeRequest::AppleReviewRefused => return Ok(Json(Msg::new(APPLE_REVIEW_REFUSED))),
    };
    match AccountMailer::send_sign_in_code(&ctx, &app.settings, &email, &code).await? {
        CodeDelivery::InAnswer(code) => Ok(Json(Msg::new(format!(
            "Development mode: Your verification code is {code}"
        )))),
        CodeDelivery::Mailed | CodeDelivery::Dropped => Ok(Json(Msg::new(CODE_SENT))),
    }
}

/// Signs in with a code, or registers the email if it has no account yet.
#[utoipa::path(post, path = "/api/v1/auth/otp/verify", tag = "auth",
    request_body = CodeVerification,
    responses(
        (status = 200, description = "Signed in; or, with two-factor sign-in on, the challenge to answer", body = SignInResponse),
        (status = 401, description = "Invalid or expired authentication code", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn verify_code(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(verification): JsonBody<CodeVerification>,
) -> ApiResult<SignInResponse> {
    let email = &verification.email;
    app.limiter
        .check(Action::OtpVerify, origin.ip, Some(email.as_str()))
        .await?;
    let (policy, code) = (&app.code_policy, &verification.code);
    let outcome = users::Model::sign_in_by_code(&ctx.db, policy, (email, origin.ip), code).await?;
    let signed_in = AccountMailer::unless_refused(&ctx, &app.settings, (email, &origin), outcome)
        .await
        .map_err(|refused| ApiError::refused_sign_in(refused, msg::INVALID_CODE))?;
    let keys = (&app.signer, policy);
    let outcome = users::Model::sign_in(&ctx.db, keys, signed_in, &origin).await?;
    AccountMailer::welcome_new(&ctx, &app.settings, &outcome).await;
    Ok(SignInResponse::new(&outcome, &app.settings.server_host))
}

/// Makes (or replaces) the Apple review team's long-lived code.
#[utoipa::path(post, path = "/api/v1/auth/generate-apple-review-team-otp", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = OneTimePasswordResponse),
        (status = 401, body = Detail), (status = 403, body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn generate_apple_review_code(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Json<OneTimePasswordResponse>> {
    let policy = &app.code_policy;
    let reviewer = users::Model::find_or_register_by_code(&db, &policy.apple_review_email).await?;
    let (otp, code) = one_time_passwords::Model::issue_apple_review(&db, policy).await?;
    let reviewer_id = Some(reviewer.user.id);
    Ok(Json(OneTimePasswordResponse::new(
        &otp,
        reviewer_id,
        Some(code),
    )))
}

/// The state of the Apple review team's code: its wrong tries in all so
/// far, and whether it still signs in.
#[utoipa::path(get, path = "/api/v1/auth/apple-review-team-otp", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AppleReviewCodeResponse),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 404, description = "No Apple review team OTP found", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn apple_review_code(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Json<AppleReviewCodeResponse>> {
    let otp = one_time_passwords::Model::apple_review_state(&db, &app.code_policy)
        .await?
        .ok_or(ApiError::NotFound(msg::NO_APPLE_REVIEW_OTP.into()))?;
    Ok(Json(AppleReviewCodeResponse::new(&otp)))
}

/// Deletes the Apple review team's code.
#[utoipa::path(delete, path = "/api/v1/auth/delete-apple-review-team-otp", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = OneTimePasswordResponse),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 404, description = "No Apple review team OTP found", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn delete_apple_review_code(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
) -> ApiResult<Json<OneTimePasswordResponse>> {
    let email = &app.code_policy.apple_review_email;
    let otp = one_time_passwords::Model::delete_for(&db, email, Purpose::AppleReview)
        .await?
        .ok_or(ApiError::NotFound(msg::NO_APPLE_REVIEW_OTP.into()))?;
    let reviewer = users::Model::find_by_email(&db, email).await.ok();
    Ok(Json(OneTimePasswordResponse::new(
        &otp,
        reviewer.map(|user| user.id),
        None,
    )))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(request_code))
        .route(routes!(verify_code))
        .route(routes!(generate_apple_review_code))
        .route(routes!(apple_review_code))
        .route(routes!(delete_apple_review_code))
}
