//! `/auth/{provider}`: sign in with Google, GitHub or Facebook. The login
//! redirects to the provider with a CSRF state (kept server-side and in a
//! cookie) and a PKCE challenge; the callback trades the code for the profile
//! and redirects to the app with a confirmation token, which
//! `/auth/sso/confirm` trades, once and within 30 seconds, for tokens.

use std::borrow::Cow;

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use loco_rs::{model::ModelError, prelude::*};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{auth_response, sign_error, token_signer},
    extractors::{JsonBody, PathParams, QueryParams, auth::active_user},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, LocPart, ValidationDetail, msg},
    models::{
        single_use_tokens, sso_logins,
        sso_providers::{self, SsoError},
        tokens::TokenKind,
        users::{self, Provider, UserError},
    },
    settings::{ProviderSettings, Settings},
    views::auth::AuthResponse,
};

/// Seconds a confirmation token lives.
pub const CONFIRMATION_SECONDS: i64 = 30;
const STATE_COOKIE: &str = "sso_state";

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginParams {
    /// Where to send the user back; must start with one of `SSO_ALLOWED_RETURN_URLS`.
    pub return_url: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    pub code: String,
    pub state: String,
}

/// A confirmation token, as the bare JSON string or as an object.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConfirmationBody {
    Bare(String),
    Wrapped { sso_confirmation_token: String },
}

impl Validate for ConfirmationBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

fn provider(name: &str) -> ApiResult<Provider> {
    Provider::from_name(name).ok_or_else(|| {
        ApiError::field(
            vec![LocPart::from("path"), LocPart::from("provider")],
            "Input should be 'google', 'github' or 'facebook'",
            "enum",
        )
    })
}

/// The provider's settings, when it is on.
fn enabled(settings: &Settings, provider: Provider) -> ApiResult<ProviderSettings> {
    settings
        .sso
        .of(provider)
        .filter(|provider_settings| provider_settings.enabled())
        .cloned()
        .ok_or_else(|| {
            ApiError::Forbidden(Cow::Owned(format!(
                "SSO provider '{}' is not enabled or not available for this application",
                provider.as_str()
            )))
        })
}

fn callback_url(settings: &Settings, provider: Provider) -> String {
    format!(
        "{}/api/v1/auth/{}/callback",
        settings.server_host.trim_end_matches('/'),
        provider.as_str()
    )
}

fn state_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| cookie.trim().strip_prefix(STATE_COOKIE)?.strip_prefix('='))
}

fn redirect(location: &str, cookie: &str) -> ApiResult<Response> {
    let location = HeaderValue::from_str(location)
        .map_err(|_| ApiError::BadRequest(msg::SSO_FAILED.into()))?;
    let cookie =
        HeaderValue::from_str(cookie).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok((
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location), (header::SET_COOKIE, cookie)],
    )
        .into_response())
}

/// Redirects to the provider's consent page.
#[utoipa::path(get, path = "/api/v1/auth/{provider}/login", tag = "sso",
    params(("provider" = String, Path, description = "google, github or facebook"), LoginParams),
    responses(
        (status = 307, description = "To the provider's consent page"),
        (status = 403, description = "Provider not enabled", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn login(
    State(ctx): State<AppContext>,
    PathParams(name): PathParams<String>,
    QueryParams(params): QueryParams<LoginParams>,
) -> ApiResult<Response> {
    let provider = provider(&name)?;
    let settings = Settings::from_context(&ctx)?;
    let provider_settings = enabled(&settings, provider)?;
    if !settings.allows_return_url(&params.return_url) {
        return Err(ApiError::field(
            vec![LocPart::from("query"), LocPart::from("return_url")],
            msg::RETURN_URL_NOT_ALLOWED,
            "value_error",
        ));
    }
    let authorization = sso_providers::authorize(
        provider,
        &provider_settings,
        &callback_url(&settings, provider),
    )
    .map_err(|error| ApiError::internal(error.to_string()))?;
    sso_logins::Model::start(
        &ctx.db,
        provider.as_str(),
        &authorization.state,
        &params.return_url,
        &authorization.pkce_verifier,
    )
    .await?;
    let secure = if settings.server_host.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{STATE_COOKIE}={}; Max-Age={}; Path=/api/v1/auth; HttpOnly; SameSite=Lax{secure}",
        authorization.state,
        sso_logins::LIFETIME_MINUTES * 60
    );
    redirect(&authorization.url, &cookie)
}

/// Where the provider sends the user back: signs them in (or up) and
/// redirects to the app's `return_url` with a confirmation token.
#[utoipa::path(get, path = "/api/v1/auth/{provider}/callback", tag = "sso",
    params(("provider" = String, Path), CallbackParams),
    responses(
        (status = 307, description = "To `{return_url}?token=<confirmation token>`"),
        (status = 400, description = "Bad state, or the provider refused", body = Detail),
        (status = 403, body = Detail),
        (status = 409, description = "The email belongs to another account", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn callback(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    PathParams(name): PathParams<String>,
    QueryParams(params): QueryParams<CallbackParams>,
) -> ApiResult<Response> {
    let provider = provider(&name)?;
    let settings = Settings::from_context(&ctx)?;
    let provider_settings = enabled(&settings, provider)?;
    let invalid_state = || ApiError::BadRequest(msg::INVALID_STATE.into());
    if state_cookie(&headers) != Some(params.state.as_str()) {
        return Err(invalid_state());
    }
    let started = sso_logins::Model::take(&ctx.db, provider.as_str(), &params.state)
        .await?
        .ok_or_else(invalid_state)?;
    let profile = sso_providers::exchange(
        provider,
        &provider_settings,
        &callback_url(&settings, provider),
        &params.code,
        &started.pkce_verifier,
    )
    .await
    .map_err(|error| {
        tracing::warn!(provider = provider.as_str(), %error, "sso sign-in failed");
        match error {
            SsoError::Url(_) => ApiError::internal(error.to_string()),
            _ => ApiError::BadRequest(msg::SSO_FAILED.into()),
        }
    })?;
    let user = match users::Model::find_by_provider(&ctx.db, provider, &profile.id).await {
        Ok(user) => user,
        Err(ModelError::EntityNotFound) => {
            let user = users::Model::create_from_provider(&ctx.db, provider, &profile)
                .await
                .map_err(|error| match error {
                    UserError::EmailTaken => ApiError::Conflict(msg::EMAIL_TAKEN.into()),
                    other => ApiError::from(other),
                })?;
            super::auth::welcome(&ctx, &user).await;
            user
        }
        Err(error) => return Err(error.into()),
    };
    if user.is_archived() {
        return Err(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()));
    }
    let confirmation = token_signer(&ctx)?
        .issue(user.id, TokenKind::SsoConfirmation, CONFIRMATION_SECONDS)
        .map_err(sign_error)?;
    single_use_tokens::Model::record(&ctx.db, &confirmation.claims).await?;
    let separator = if started.return_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}token={}",
        started.return_url, confirmation.token
    );
    let clear = format!("{STATE_COOKIE}=; Max-Age=0; Path=/api/v1/auth; HttpOnly; SameSite=Lax");
    redirect(&location, &clear)
}

/// Trades a confirmation token, once and within 30 seconds, for tokens.
#[utoipa::path(post, path = "/api/v1/auth/sso/confirm", tag = "sso",
    request_body = ConfirmationBody,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Invalid token", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn confirm(
    State(ctx): State<AppContext>,
    JsonBody(body): JsonBody<ConfirmationBody>,
) -> ApiResult<Json<AuthResponse>> {
    let token = match &body {
        ConfirmationBody::Bare(token)
        | ConfirmationBody::Wrapped {
            sso_confirmation_token: token,
        } => token,
    };
    let invalid = || ApiError::Unauthorized(msg::INVALID_TOKEN.into());
    let claims = token_signer(&ctx)?
        .verify(token, TokenKind::SsoConfirmation)
        .ok_or_else(invalid)?;
    if !single_use_tokens::Model::use_once(&ctx.db, &claims).await? {
        return Err(invalid());
    }
    let user = active_user(&ctx, claims.sub).await?;
    auth_response(&ctx, &user, None).await
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/auth")
        .add("/sso/confirm", post(confirm))
        .add("/{provider}/login", get(login))
        .add("/{provider}/callback", get(callback))
}
