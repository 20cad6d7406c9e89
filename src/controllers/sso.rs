//! `/auth/{provider}`: sign in with Google, GitHub, Facebook or Apple. The
//! login redirects to the provider with a CSRF state (kept server-side and in
//! a cookie) and a PKCE challenge (Apple: a nonce); the callback trades the
//! code for the profile and redirects to the app with a confirmation token,
//! which `/auth/sso/confirm` trades, once and within 30 seconds, for tokens.
//!
//! Apple's callback is a form that Apple's page posts, cross-site: a
//! `SameSite=Lax` cookie is not sent with it, so Apple's state cookie is
//! `SameSite=None; Secure` (browsers take a `Secure` cookie from
//! `http://localhost` too).

use std::{borrow::Cow, sync::Arc};

use axum::{
    Extension,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{ClientIp, Db, FormBody, JsonBody, PathParams, QueryParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, LocPart, ValidationDetail, msg},
    infra::{rate_limit::Action, settings::Settings, state::AppState},
    mailers::account::AccountMailer,
    models::{
        security_events::Origin,
        single_use_tokens,
        sso_logins::{self, AppleAnswer},
        sso_providers::ProviderConfig,
        users::{self, Provider, SignedIn},
    },
    views::auth::SignInResponse,
};

const STATE_COOKIE: &str = "sso_state";
const COOKIE_SCOPE: &str = "Path=/api/v1/auth; HttpOnly; SameSite=Lax";
const CROSS_SITE_COOKIE_SCOPE: &str = "Path=/api/v1/auth; HttpOnly; SameSite=None; Secure";

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

/// What Apple posts back: the code and state, or the error when the user
/// cancelled; the name (JSON) at the first sign-in only. Its `id_token` is not
/// read: the one the code is traded for is.
#[derive(Deserialize, Validate, ToSchema)]
pub struct AppleCallbackForm {
    #[serde(default)]
    pub code: Option<String>,
    pub state: String,
    /// `{"name": {"firstName", "lastName"}, "email"}`.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

impl AppleCallbackForm {
    fn names(&self) -> Option<(String, String)> {
        let user: serde_json::Value = serde_json::from_str(self.user.as_deref()?).ok()?;
        let name = |field: &str| user["name"][field].as_str().unwrap_or_default().to_string();
        Some((name("firstName"), name("lastName")))
    }
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
            "Input should be 'google', 'github', 'facebook' or 'apple'",
            "enum",
        )
    })
}

/// The provider named in the path, and its settings, when it is on.
fn enabled<'a>(
    settings: &'a Settings,
    name: &str,
) -> ApiResult<(Provider, Cow<'a, ProviderConfig>)> {
    let provider = provider(name)?;
    let config = settings
        .sso
        .web(provider)
        .ok_or_else(|| not_enabled(provider))?;
    Ok((provider, config))
}

fn not_enabled(provider: Provider) -> ApiError {
    ApiError::Forbidden(Cow::Owned(format!(
        "SSO provider '{}' is not enabled or not available for this application",
        provider.as_str()
    )))
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
fn set_state_cookie(settings: &Settings, provider: Provider, state: &str) -> String {
    let max_age = sso_logins::LIFETIME_MINUTES * 60;
    let scope = match provider {
        Provider::Apple => CROSS_SITE_COOKIE_SCOPE,
        _ if settings.server_host.starts_with("https://") => &format!("{COOKIE_SCOPE}; Secure"),
        _ => COOKIE_SCOPE,
    };
    format!("{STATE_COOKIE}={state}; Max-Age={max_age}; {scope}")
}

fn clear_state_cookie() -> String {
    format!("{STATE_COOKIE}=; Max-Age=0; {COOKIE_SCOPE}")
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

fn redirect(status: StatusCode, location: &str, cookie: &str) -> ApiResult<Response> {
    let location = HeaderValue::from_str(location)
        .map_err(|_| ApiError::BadRequest(msg::SSO_FAILED.into()))?;
    let cookie =
        HeaderValue::from_str(cookie).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok((
        status,
        [(header::LOCATION, location), (header::SET_COOKIE, cookie)],
    )
        .into_response())
}

/// The end of a provider's callback: welcomes a new account, and sends the
/// browser back to the app with a confirmation token.
async fn back_to_the_app(
    ctx: &AppContext,
    app: &AppState,
    signed_in: &SignedIn,
    (status, started): (StatusCode, &sso_logins::Model),
) -> ApiResult<Response> {
    if signed_in.registered {
        AccountMailer::welcome(ctx, &app.settings, &signed_in.user).await;
    }
    let confirmation =
        single_use_tokens::Model::issue_sso_confirmation(&ctx.db, &app.signer, signed_in.user.id)
            .await?;
    let location = started.return_url_with(&confirmation.token);
    redirect(status, &location, &clear_state_cookie())
}

/// Redirects to the provider's consent page.
#[utoipa::path(get, path = "/api/v1/auth/{provider}/login", tag = "sso",
    params(("provider" = String, Path, description = "google, github, facebook or apple"), LoginParams),
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
        sso_logins::Model::start(&db, provider, &config, &callback, &return_url).await?;
    let cookie = set_state_cookie(settings, provider, &started.state);
    redirect(StatusCode::TEMPORARY_REDIRECT, &consent_url, &cookie)
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
        &config,
        &callback,
        &params.state,
        &params.code,
    )
    .await?;
    let signed_in = users::Model::sign_in_with_provider(&ctx.db, provider, &profile).await?;
    let back = (StatusCode::TEMPORARY_REDIRECT, &started);
    back_to_the_app(&ctx, &app, &signed_in, back).await
}

/// Where Apple posts the user back (`response_mode=form_post`): signs them in
/// (or up), keeps the refresh token Apple issued (sealed, to revoke it when
/// the account is deleted), and redirects to the app's `return_url` with a
/// confirmation token. 303, so that the browser follows with a GET and does
/// not post Apple's form on to the app.
#[utoipa::path(post, path = "/api/v1/auth/apple/callback", tag = "sso",
    request_body(content = AppleCallbackForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To `{return_url}?token=<confirmation token>`"),
        (status = 400, description = "Bad state, Apple refused, or the user cancelled", body = Detail),
        (status = 403, body = Detail),
        (status = 409, description = "The email belongs to another account", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 504, description = "Apple did not answer in time", body = Detail),
    ))]
#[debug_handler]
pub async fn apple_callback(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    headers: HeaderMap,
    FormBody(form): FormBody<AppleCallbackForm>,
) -> ApiResult<Response> {
    enabled(&app.settings, Provider::Apple.as_str())?;
    let code = form.code.as_deref().filter(|_| form.error.is_none());
    let (Some(code), Some(state)) = (code, state_cookie(&headers).filter(|s| *s == form.state))
    else {
        return Err(ApiError::BadRequest(msg::INVALID_STATE.into()));
    };
    let (id, callback) = (&app.identity, callback_url(&app.settings, Provider::Apple));
    let answer = AppleAnswer {
        state,
        code,
        names: form.names(),
    };
    let apple = (&id.apple, &id.apple_keys, &id.http);
    let done = sso_logins::Model::finish_with_apple(&ctx.db, apple, &callback, answer).await?;
    let signed_in = done.account(&ctx.db, &id.sealer).await?;
    back_to_the_app(
        &ctx,
        &app,
        &signed_in,
        (StatusCode::SEE_OTHER, &done.started),
    )
    .await
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
) -> ApiResult<SignInResponse> {
    let token = body.token();
    let user = users::Model::redeem_sso_confirmation(&ctx.db, &app.signer, token)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_TOKEN.into()))?;
    let keys = (&app.signer, &app.code_policy);
    let outcome = users::Model::sign_in(&ctx.db, keys, SignedIn::existing(user), &origin).await?;
    Ok(SignInResponse::new(&outcome, &app.settings.server_host))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(confirm))
        .route(routes!(login))
        .route(routes!(callback))
        .route(routes!(apple_callback))
}
