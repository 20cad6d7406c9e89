//! `/auth`: password accounts and tokens.

use std::sync::Arc;

use axum::{Extension, Json, http::StatusCode};
use chrono::{DateTime, Utc};
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
    mailers::account::{AccountMailer, Notice},
    models::{
        email::Email,
        one_time_passwords::{self, CodeSignIn},
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

/// Sends the welcome mail when the sign-in made the account.
pub async fn welcome_new(ctx: &AppContext, app: &AppState, signed_in: &SignedIn) {
    if signed_in.registered {
        AccountMailer::welcome(ctx, &app.settings, &signed_in.user).await;
    }
}

/// Who a code (or the password form) signed in as `email`; refused with
/// `refused`, which goes in the security log of the account of `email`, if
/// any. When a wrong code began a series of locks on the email's codes, its
/// owner is told.
///
/// # Errors
/// 401 with `refused` when the sign-in is refused; 429 with `Retry-After`
/// while codes for the email, or from the caller, are locked.
pub async fn signed_in_by_code(
    ctx: &AppContext,
    app: &AppState,
    (email, origin): (&Email, &Origin),
    outcome: CodeSignIn,
    refused: &'static str,
) -> ApiResult<SignedIn> {
    if let CodeSignIn::SignedIn(signed_in) = outcome {
        return Ok(signed_in);
    }
    record_failed_sign_in(ctx, app, email, origin).await;
    match outcome {
        CodeSignIn::Locked { until, tell } => {
            if let Some(owner) = tell {
                tell_codes_paused(ctx, app, &owner.email, until).await;
            }
            Err(ApiError::locked_until(until))
        }
        CodeSignIn::SignedIn(_) | CodeSignIn::Refused => {
            Err(ApiError::Unauthorized(refused.into()))
        }
    }
}

/// Tells the owner of `email` that wrong codes locked its codes: they are
/// refused until `until`.
pub async fn tell_codes_paused(
    ctx: &AppContext,
    app: &AppState,
    email: &str,
    until: DateTimeWithTimeZone,
) {
    let until = until.to_utc().format("%Y-%m-%d %H:%M UTC").to_string();
    let notice = Notice::CodesPaused;
    AccountMailer::security_notice(ctx, &app.settings, email, notice, &until).await;
}

/// A refused sign-in as `email` goes in the security log of its account, if any.
async fn record_failed_sign_in(ctx: &AppContext, app: &AppState, email: &Email, origin: &Origin) {
    if let Ok(user) = users::Model::find_by_email(&ctx.db, email).await {
        let account = (user.id, user.email.as_str());
        AccountMailer::security_event(
            ctx,
            &app.settings,
            account,
            EventKind::SignInFailed,
            origin,
            None,
        )
        .await;
    }
}

/// A sign-in that proved who the user is: with two-factor sign-in on, the
/// challenge to answer with a code; otherwise `signed_in_now`.
///
/// # Errors
/// When the challenge or the session cannot be recorded.
pub async fn sign_in(
    ctx: &AppContext,
    app: &AppState,
    signed_in: SignedIn,
    origin: &Origin,
) -> ApiResult<Json<SignInResponse>> {
    let user = &signed_in.user;
    if user.needs_second_factor(&app.code_policy) {
        let challenge = user.challenge_second_factor(&ctx.db, &app.signer).await?;
        return Ok(Json(SignInResponse::challenge(challenge)));
    }
    let Json(tokens) = signed_in_now(ctx, app, signed_in, origin).await?;
    Ok(Json(SignInResponse::Tokens(Box::new(tokens))))
}

/// A complete sign-in: recorded in the user's security log, then
/// `start_session`.
///
/// # Errors
/// When the session cannot be recorded.
pub async fn signed_in_now(
    ctx: &AppContext,
    app: &AppState,
    signed_in: SignedIn,
    origin: &Origin,
) -> ApiResult<Json<AuthResponse>> {
    let account = (signed_in.user.id, signed_in.user.email.as_str());
    if signed_in.claimed {
        let kind = EventKind::AccountClaimed;
        AccountMailer::security_event(ctx, &app.settings, account, kind, origin, Some("by a code"))
            .await;
    }
    AccountMailer::security_event(ctx, &app.settings, account, EventKind::SignIn, origin, None)
        .await;
    start_session(ctx, app, signed_in, origin).await
}

/// Welcomes a new account, then starts a session and renders it.
///
/// # Errors
/// When the session cannot be recorded.
pub async fn start_session(
    ctx: &AppContext,
    app: &AppState,
    signed_in: SignedIn,
    origin: &Origin,
) -> ApiResult<Json<AuthResponse>> {
    welcome_new(ctx, app, &signed_in).await;
    carry_on_session(ctx, app, &signed_in.user, origin, Utc::now()).await
}

/// Starts a session of `user` signed in at `signed_in_at`, and renders it:
/// after a change that ends every session, the caller's own goes on in a new
/// one as old as it was.
///
/// # Errors
/// When the session cannot be recorded.
pub async fn carry_on_session(
    ctx: &AppContext,
    app: &AppState,
    user: &users::Model,
    origin: &Origin,
    signed_in_at: DateTime<Utc>,
) -> ApiResult<Json<AuthResponse>> {
    let session = refresh_tokens::Model::start_session_signed_in_at(
        &ctx.db,
        &app.signer,
        user,
        origin,
        signed_in_at,
    )
    .await?;
    Ok(Json(AuthResponse::new(
        user,
        &session,
        &app.settings.server_host,
    )))
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
    signed_in_now(&ctx, &app, signed_in, &origin).await
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
) -> ApiResult<Json<SignInResponse>> {
    app.limiter
        .check(Action::Login, origin.ip, Some(&form.username))
        .await?;
    let incorrect = || ApiError::Unauthorized(msg::INCORRECT_LOGIN.into());
    let email = Email::parse(&form.username).map_err(|_| incorrect())?;
    let outcome = one_time_passwords::Model::sign_in_with_password_or_code(
        &ctx.db,
        &app.code_policy,
        (&email, origin.ip),
        &form.password,
    )
    .await?;
    let caller = (&email, &origin);
    let signed_in = signed_in_by_code(&ctx, &app, caller, outcome, msg::INCORRECT_LOGIN).await?;
    sign_in(&ctx, &app, signed_in, &origin).await
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
