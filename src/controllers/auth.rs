//! `/auth`: password accounts and tokens.

use std::sync::Arc;

use axum::{Json, http::StatusCode};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    extractors::{ClientIp, CurrentUser, FormBody, JsonBody, auth::active_user},
    otp,
    rate_limit::{Action, limit},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    i18n::Translations,
    mailers::account::AccountMailer,
    models::{
        refresh_tokens::{self, Rotation},
        tokens::{TokenKind, TokenSigner},
        users::{self, Role, UserCreate},
    },
    settings::Settings,
    views::{auth::AuthResponse, users::UserResponse},
};

/// The OAuth2 password form. `grant_type`, `scope`, `client_id` and
/// `client_secret` are accepted and ignored.
#[derive(Debug, Deserialize, Validate, ToSchema)]
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
#[derive(Debug, Deserialize, ToSchema)]
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

/// The translation catalogue loaded at boot, which also says which languages
/// users may choose.
pub fn translations(ctx: &AppContext) -> Arc<Translations> {
    ctx.shared_store
        .get::<Arc<Translations>>()
        .unwrap_or_default()
}

/// A fresh access and refresh token for `user`. The refresh token is recorded
/// in `family` (the login it descends from), or starts a new one.
///
/// # Errors
/// When the tokens cannot be signed or recorded.
pub async fn auth_response(
    ctx: &AppContext,
    user: &users::Model,
    family: Option<Uuid>,
) -> ApiResult<Json<AuthResponse>> {
    auth_response_in(ctx, &ctx.db, user, family).await
}

/// `auth_response`, recording the refresh token through `conn` (a transaction).
///
/// # Errors
/// When the tokens cannot be signed or recorded.
pub async fn auth_response_in(
    ctx: &AppContext,
    conn: &impl ConnectionTrait,
    user: &users::Model,
    family: Option<Uuid>,
) -> ApiResult<Json<AuthResponse>> {
    let settings = Settings::from_context(ctx)?;
    let signer = token_signer(ctx)?;
    let access = signer
        .issue(
            user.id,
            TokenKind::Access,
            settings.access_token_expires_seconds,
        )
        .map_err(sign_error)?;
    let refresh = signer
        .issue(
            user.id,
            TokenKind::Refresh,
            settings.refresh_token_expires_seconds,
        )
        .map_err(sign_error)?;
    refresh_tokens::Model::record(conn, &refresh.claims, family.unwrap_or_else(Uuid::new_v4))
        .await?;
    Ok(Json(AuthResponse::new(user, &access, &refresh)))
}

/// A token that could not be signed is the server's fault.
pub fn sign_error(error: jsonwebtoken::errors::Error) -> ApiError {
    ApiError::internal(error.to_string())
}

/// Queues the welcome mail. The account exists whatever happens to its mail,
/// so a failure here is logged, not returned.
pub async fn welcome(ctx: &AppContext, user: &users::Model) {
    if let Err(error) = AccountMailer::send_welcome(ctx, &user.email).await {
        tracing::error!(%error, user_id = %user.id, "welcome mail not queued");
    }
}

/// # Errors
/// When the app did not go through its boot.
pub fn token_signer(ctx: &AppContext) -> ApiResult<Arc<TokenSigner>> {
    ctx.shared_store
        .get::<Arc<TokenSigner>>()
        .ok_or_else(|| ApiError::internal("token signer was not set up at boot"))
}

/// Creates a customer account with a password and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = UserCreate,
    responses(
        (status = 200, body = AuthResponse),
        (status = 409, description = "Email already registered", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn register(
    State(ctx): State<AppContext>,
    JsonBody(params): JsonBody<UserCreate>,
) -> ApiResult<Json<AuthResponse>> {
    if params.password.is_none() {
        return Err(ApiError::field(
            vec!["body".into(), "password".into()],
            "Field required",
            "missing",
        ));
    }
    let translations = translations(&ctx);
    let user =
        users::Model::create(&ctx.db, &params, Role::Customer, &translations.languages()).await?;
    welcome(&ctx, &user).await;
    auth_response(&ctx, &user, None).await
}

/// Signs in with the OAuth2 password form. The password may also be a
/// one-time code, which signs in (or registers) like `/auth/otp/verify`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Incorrect email, password, or OTP", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn login(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    FormBody(form): FormBody<LoginForm>,
) -> ApiResult<Json<AuthResponse>> {
    limit(&ctx, Action::Login, ip, Some(&form.username)).await?;
    let user = match users::Model::authenticate(&ctx.db, &form.username, &form.password).await? {
        Some(user) => Some(user),
        None if otp::is_code(&form.password) => {
            otp::sign_in_with_code(&ctx, &form.username, &form.password).await?
        }
        None => None,
    };
    let user = user.ok_or(ApiError::Unauthorized(msg::INCORRECT_LOGIN.into()))?;
    auth_response(&ctx, &user, None).await
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
    JsonBody(body): JsonBody<RefreshTokenBody>,
) -> ApiResult<Json<AuthResponse>> {
    let claims = token_signer(&ctx)?
        .verify(body.token(), TokenKind::Refresh)
        .ok_or(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()))?;
    let txn = ctx.db.begin().await?;
    match refresh_tokens::Model::rotate(&txn, &claims).await? {
        Rotation::Rotated { family_id } => {
            let user = active_user(&ctx, claims.sub).await?;
            let response = auth_response_in(&ctx, &txn, &user, Some(family_id)).await?;
            txn.commit().await?;
            Ok(response)
        }
        Rotation::Reused => {
            // Keep the revocation of the family.
            txn.commit().await?;
            Err(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()))
        }
        Rotation::Unknown => Err(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into())),
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
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<RefreshTokenBody>,
) -> ApiResult<StatusCode> {
    let claims = token_signer(&ctx)?
        .verify(body.token(), TokenKind::Refresh)
        .filter(|claims| claims.sub == user.id)
        .ok_or(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()))?;
    refresh_tokens::Model::revoke(&ctx.db, claims.jti, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller, if their access token is good.
#[utoipa::path(post, path = "/api/v1/auth/login/test-token", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = Detail)))]
#[debug_handler(state = AppContext)]
pub async fn test_token(CurrentUser(user): CurrentUser) -> Json<UserResponse> {
    Json(UserResponse::from(&user))
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/auth")
        .add("/register", post(register))
        .add("/login", post(login))
        .add("/refresh", post(refresh))
        .add("/logout", post(logout))
        .add("/login/test-token", post(test_token))
}
