//! `/auth/{provider}`: sign in with Google, GitHub or Facebook. The login
//! redirects to the provider with a CSRF state (kept server-side and in a
//! cookie) and a PKCE challenge; the callback trades the code for the profile
//! and redirects to the app with a confirmation token, which
//! `/auth/sso/confirm` trades, once and within 30 seconds, for tokens.

use std::{borrow::Cow, sync::Arc};

use axum::{
    Extension, Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{ClientIp, Db, JsonBody, PathParams, QueryParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, LocPart, ValidationDetail, msg},
    infra::{rate_limit::Action, settings::Settings, state::AppState},
    mailers::account::AccountMailer,
    models::{
        security_events::Origin,
        single_use_tokens, sso_logins,
        sso_providers::ProviderConfig,
        users::{self, Provider, SignedIn},
    },
    views::auth::SignInResponse,
};

const STATE_COOKIE: &str = "sso_state";
const COOKIE_SCOPE: &str = "Path=/api/v1/auth; HttpOnly; SameSite=Lax";

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginParams {
    /// Where to send the user back: within one of `SSO_ALLOWED_RETURN_URLS` (same
    /// scheme, host and port, a path at or below the listed one).
    pub return_url: String,
}

#[derive(Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    pub code: String,
    pub state: String,
}

/// A confirmation token, as the bare JSON string or as an object.
#[derive(Deserialize, ToSchema)]
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

impl ConfirmationBody {
    fn token(&self) -> &str {
        match self {
            Self::Bare(token)
            | Self::Wrapped {
                sso_confirmation_token: token,
            } => token,
        }
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

/// The provider named in the path, and its settings, when it is on.
fn enabled<'a>(settings: &'a Settings, name: &str) -> ApiResult<(Provider, &'a ProviderConfig)> {
    let provider = provider(name)?;
    settings
        .sso
        .of(provider)
        .filter(|config| config.enabled())
        .map(|config| (provider, config))
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

/// Binds a sign-in under way to this browser.
fn set_state_cookie(settings: &Settings, state: &str) -> String {
    let secure = if settings.server_host.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let max_age = sso_logins::LIFETIME_MINUTES * 60;
    format!("{STATE_COOKIE}={state}; Max-Age={max_age}; {COOKIE_SCOPE}{secure}")
}

fn allowed_return_url(settings: &Settings, return_url: &str) -> ApiResult<String> {
    settings.allowed_return_url(return_url).ok_or_else(|| {
        ApiError::field(
            vec![LocPart::from("query"), LocPart::from("return_url")],
            msg::RETURN_URL_NOT_ALLOWED,
            "value_error",
        )
    })
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
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn login(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    PathParams(name): PathParams<String>,
    QueryParams(params): QueryParams<LoginParams>,
) -> ApiResult<Response> {
    let settings = &app.settings;
    let (provider, config) = enabled(settings, &name)?;
    app.limiter.check(Action::SsoLogin, ip, None).await?;
    let return_url = allowed_return_url(settings, &params.return_url)?;
    let callback = callback_url(settings, provider);
    let (started, consent_url) =
        sso_logins::Model::start(&db, provider, config, &callback, &return_url).await?;
    redirect(&consent_url, &set_state_cookie(settings, &started.state))
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
        (status = 504, description = "The provider did not answer in time", body = Detail),
    ))]
#[debug_handler]
pub async fn callback(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    headers: HeaderMap,
    PathParams(name): PathParams<String>,
    QueryParams(params): QueryParams<CallbackParams>,
) -> ApiResult<Response> {
    let (provider, config) = enabled(&app.settings, &name)?;
    if state_cookie(&headers) != Some(params.state.as_str()) {
        return Err(ApiError::BadRequest(msg::INVALID_STATE.into()));
    }
    let callback = callback_url(&app.settings, provider);
    let (started, profile) = sso_logins::Model::finish(
        &ctx.db,
        provider,
        config,
        &callback,
        &params.state,
        &params.code,
    )
    .await?;
    let signed_in = users::Model::sign_in_with_provider(&ctx.db, provider, &profile).await?;
    if signed_in.registered {
        AccountMailer::welcome(&ctx, &app.settings, &signed_in.user).await;
    }
    let confirmation =
        single_use_tokens::Model::issue_sso_confirmation(&ctx.db, &app.signer, signed_in.user.id)
            .await?;
    let clear = format!("{STATE_COOKIE}=; Max-Age=0; {COOKIE_SCOPE}");
    redirect(&started.return_url_with(&confirmation.token), &clear)
}

/// Trades a confirmation token, once and within 30 seconds, for tokens.
#[utoipa::path(post, path = "/api/v1/auth/sso/confirm", tag = "sso",
    request_body = ConfirmationBody,
    responses(
        (status = 200, description = "Signed in; or, with two-factor sign-in on, the challenge to answer", body = SignInResponse),
        (status = 401, description = "Invalid token", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn confirm(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(body): JsonBody<ConfirmationBody>,
) -> ApiResult<Json<SignInResponse>> {
    let token = body.token();
    let user = users::Model::redeem_sso_confirmation(&ctx.db, &app.signer, token)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_TOKEN.into()))?;
    let keys = (&app.signer, &app.code_policy);
    let outcome = users::Model::sign_in(&ctx.db, keys, SignedIn::existing(user), &origin).await?;
    Ok(Json(SignInResponse::new(
        &outcome,
        &app.settings.server_host,
    )))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(confirm))
        .route(routes!(login))
        .route(routes!(callback))
}
