//! `/auth`: password accounts and tokens.

use std::sync::Arc;

use axum::Json;
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extractors::{CurrentUser, FormBody, JsonBody, auth::active_user};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    i18n::Translations,
    mailers::account::AccountMailer,
    models::{
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

/// A fresh access and refresh token for `user`.
///
/// # Errors
/// When the tokens cannot be signed.
pub fn auth_response(ctx: &AppContext, user: &users::Model) -> ApiResult<Json<AuthResponse>> {
    let settings = Settings::from_context(ctx)?;
    let signer = token_signer(ctx)?;
    let sign_error = |error: jsonwebtoken::errors::Error| ApiError::internal(error.to_string());
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
    Ok(Json(AuthResponse::new(user, &access, &refresh)))
}

/// Queues the welcome mail. The account exists whatever happens to its mail,
/// so a failure here is logged, not returned.
pub async fn welcome(ctx: &AppContext, user: &users::Model) {
    if let Err(error) = AccountMailer::send_welcome(ctx, &user.email).await {
        tracing::error!(%error, user_id = %user.id, "welcome mail not queued");
    }
}

fn token_signer(ctx: &AppContext) -> ApiResult<Arc<TokenSigner>> {
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
    auth_response(&ctx, &user)
}

/// Signs in with the OAuth2 password form.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Incorrect email, password, or OTP", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn login(
    State(ctx): State<AppContext>,
    FormBody(form): FormBody<LoginForm>,
) -> ApiResult<Json<AuthResponse>> {
    let user = users::Model::authenticate(&ctx.db, &form.username, &form.password)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INCORRECT_LOGIN.into()))?;
    auth_response(&ctx, &user)
}

/// Trades a refresh token for a new pair of tokens.
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
    let user = active_user(&ctx, claims.sub).await?;
    auth_response(&ctx, &user)
}

/// The caller, if their access token is good.
#[utoipa::path(post, path = "/api/v1/auth/login/test-token", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = Detail)))]
#[debug_handler]
pub async fn test_token(
    State(_ctx): State<AppContext>,
    CurrentUser(user): CurrentUser,
) -> Json<UserResponse> {
    Json(UserResponse::from(&user))
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/auth")
        .add("/register", post(register))
        .add("/login", post(login))
        .add("/refresh", post(refresh))
        .add("/login/test-token", post(test_token))
}
