//! `/auth`: password accounts and tokens.

use std::sync::Arc;

use axum::{Extension, Json, http::StatusCode};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{CurrentUser, FormBody, JsonBody},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        email::Email,
        refresh_tokens,
        security_events::{EventKind, Origin},
        users::{self, Resumed, Role, SignedIn, UserCreate},
    },
    views::{
        auth::{AuthResponse, SignInResponse},
        users::UserResponse,
    },
};

/// The OAuth2 password form. `grant_type`, `scope`, `client_id` and
/// `client_secret` are accepted and ignored. Not `Debug`: it holds a password.
#[derive(Deserialize, Validate, ToSchema)]
pub struct LoginForm {
    /// The email.
    pub username: String,
    pub password: String,
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A refresh token, as the bare JSON string or as an object.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RefreshTokenBody {
    Bare(String),
    Wrapped { refresh_token: String },
}

impl Validate for RefreshTokenBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl RefreshTokenBody {
    #[must_use]
    pub fn token(&self) -> &str {
        match self {
            Self::Bare(token)
            | Self::Wrapped {
                refresh_token: token,
            } => token,
        }
    }
}

/// Creates a customer account with a password and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = UserCreate,
    responses(
        (status = 200, body = AuthResponse),
        (status = 409, description = "Email already registered", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn register(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(params): JsonBody<UserCreate>,
) -> ApiResult<Json<AuthResponse>> {
    let email = params.email.as_str();
    app.limiter
        .check(Action::Register, origin.ip, Some(email))
        .await?;
    if params.password.is_none() {
        return Err(ApiError::field(
            vec!["body".into(), "password".into()],
            "Field required",
            "missing",
        ));
    }
    let languages = app.translations.languages();
    let user = users::Model::create(&ctx.db, &params, Role::Customer, &languages).await?;
    let signed_in = SignedIn {
        user,
        registered: true,
        claimed: false,
    };
    let new = users::Model::signed_in(&ctx.db, &app.signer, signed_in, &origin).await?;
    AccountMailer::welcome(&ctx, &app.settings, &new.user).await;
    Ok(Json(AuthResponse::of(&new, &app.settings.server_host)))
}

/// Signs in with the OAuth2 password form. The password may also be a
/// one-time code, which signs in (or registers) like `/auth/otp/verify`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in; or, with two-factor sign-in on, the challenge to answer", body = SignInResponse),
        (status = 401, description = "Incorrect email, password, or OTP", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn login(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    FormBody(form): FormBody<LoginForm>,
) -> ApiResult<SignInResponse> {
    app.limiter
        .check(Action::Login, origin.ip, Some(&form.username))
        .await?;
    let incorrect = || ApiError::Unauthorized(msg::INCORRECT_LOGIN.into());
    let email = Email::parse(&form.username).map_err(|_| incorrect())?;
    let (policy, caller) = (&app.code_policy, (&email, origin.ip));
    let outcome =
        users::Model::sign_in_with_password_or_code(&ctx.db, policy, caller, &form.password)
            .await?;
    let signed_in = AccountMailer::unless_refused(&ctx, &app.settings, (&email, &origin), outcome)
        .await
        .map_err(|refused| ApiError::refused_sign_in(refused, msg::INCORRECT_LOGIN))?;
    let keys = (&app.signer, policy);
    let outcome = users::Model::sign_in(&ctx.db, keys, signed_in, &origin).await?;
    AccountMailer::welcome_new(&ctx, &app.settings, &outcome).await;
    Ok(SignInResponse::new(&outcome, &app.settings.server_host))
}

/// Trades a refresh token for a new pair; the one presented is used up.
/// Presenting a used one revokes every token of its login.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshTokenBody,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn refresh(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(body): JsonBody<RefreshTokenBody>,
) -> ApiResult<Json<AuthResponse>> {
    match users::Model::resume_session(&ctx.db, &app.signer, body.token(), &origin).await? {
        Resumed::Session(user, session) => Ok(Json(AuthResponse::new(
            &user,
            &session,
            &app.settings.server_host,
        ))),
        Resumed::Replayed(user) => {
            let (account, kind) = (
                (user.id, user.email.as_str()),
                EventKind::RefreshTokenReused,
            );
            AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, None).await;
            Err(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()))
        }
        Resumed::Refused => Err(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into())),
    }
}

/// Revokes one of the caller's refresh tokens.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])), request_body = RefreshTokenBody,
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn logout(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<RefreshTokenBody>,
) -> ApiResult<StatusCode> {
    refresh_tokens::Model::sign_out(&ctx.db, &app.signer, body.token(), user.id)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()))?;
    let account = (user.id, user.email.as_str());
    AccountMailer::security_event(
        &ctx,
        &app.settings,
        account,
        EventKind::SignedOut,
        &origin,
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller, if their access token is good.
#[utoipa::path(post, path = "/api/v1/auth/login/test-token", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = Detail)))]
#[debug_handler(state = AppContext)]
pub async fn test_token(
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> Json<UserResponse> {
    Json(UserResponse::new(&user, &app.settings.server_host))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(register))
        .route(routes!(login))
        .route(routes!(refresh))
        .route(routes!(logout))
        .route(routes!(test_token))
}
