//! `POST /auth/{provider}/token`: native sign-in. An iOS or Android app signs
//! in with the platform's own sheet (Sign in with Apple, Google's Credential
//! Manager), which hands it an OpenID Connect ID token; the app trades it here,
//! once, for what every other sign-in answers.

use std::sync::Arc;

use axum::Extension;
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{ClientIp, JsonBody, PathParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, LocPart, ValidationDetail},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        native_sign_in::{self, NativeToken},
        security_events::Origin,
        users::{self, Provider},
    },
    views::auth::SignInResponse,
};

#[derive(Deserialize, Validate, ToSchema)]
pub struct NativeSignIn {
    /// The ID token the platform's sheet gave the app.
    #[validate(length(min = 1, max = 16384))]
    pub id_token: String,
    /// The raw nonce the app made for this sign-in; the token carries it,
    /// or (Apple) its SHA-256 in hex.
    #[validate(length(min = 1, max = 512))]
    pub nonce: String,
    /// Apple: the name the sheet gave at the first sign-in (Apple's token
    /// has none).
    #[validate(length(max = 255))]
    pub first_name: Option<String>,
    #[validate(length(max = 255))]
    pub last_name: Option<String>,
    /// Apple: the sheet's authorization code. When sent, it is traded for
    /// the refresh token that is revoked when the account is deleted, as
    /// Apple requires.
    #[validate(length(max = 2048))]
    pub authorization_code: Option<String>,
}

impl NativeSignIn {
    fn apple_code(&self, provider: Provider) -> Option<&str> {
        self.authorization_code
            .as_deref()
            .filter(|_| provider == Provider::Apple)
    }

    fn token(&self, provider: Provider) -> NativeToken<'_> {
        let named = self.first_name.is_some() || self.last_name.is_some();
        let name = |name: &Option<String>| name.clone().unwrap_or_default();
        NativeToken {
            provider,
            id_token: &self.id_token,
            nonce: &self.nonce,
            names: named.then(|| (name(&self.first_name), name(&self.last_name))),
        }
    }
}

/// The provider named in the path, when native sign-in with it is on.
fn native_provider(app: &AppState, name: &str) -> ApiResult<Provider> {
    let provider = match name {
        "google" => Provider::Google,
        "apple" => Provider::Apple,
        _ => {
            return Err(ApiError::field(
                vec![LocPart::from("path"), LocPart::from("provider")],
                "Input should be 'google' or 'apple'",
                "enum",
            ));
        }
    };
    if app.settings.sso.audiences(provider).is_empty() {
        return Err(ApiError::Forbidden(
            format!("Native sign-in with '{name}' is not enabled for this application").into(),
        ));
    }
    Ok(provider)
}

/// Trades a provider's ID token (Google's or Apple's), once, for tokens.
#[utoipa::path(post, path = "/api/v1/auth/{provider}/token", tag = "sso",
    params(("provider" = String, Path, description = "google or apple")),
    request_body = NativeSignIn,
    responses(
        (status = 200, description = "Signed in; or, with two-factor sign-in on, the challenge to answer", body = SignInResponse),
        (status = 400, description = "A new account, and the token has no email", body = Detail),
        (status = 401, description = "The token failed a check, or was traded before", body = Detail),
        (status = 403, description = "Native sign-in with this provider is off", body = Detail),
        (status = 409, description = "The email belongs to another account", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many requests; see Retry-After", body = Detail),
        (status = 504, description = "The provider's keys could not be fetched", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn token(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    origin: Origin,
    PathParams(name): PathParams<String>,
    JsonBody(body): JsonBody<NativeSignIn>,
) -> ApiResult<SignInResponse> {
    let provider = native_provider(&app, &name)?;
    app.limiter.check(Action::SsoLogin, ip, None).await?;
    let (id, audiences) = (&app.identity, app.settings.sso.audiences(provider));
    let keys = (id.keys_of(provider), &id.http);
    let (profile, audience) =
        native_sign_in::verify(&ctx.db, keys, &audiences, body.token(provider)).await?;
    let signed_in = users::Model::sign_in_with_provider(&ctx.db, provider, &profile).await?;
    if let Some(code) = body.apple_code(provider) {
        let apple = (&id.apple, &id.http, &id.sealer);
        native_sign_in::keep_apple_token(&ctx.db, apple, signed_in.user.id, &audience, code).await;
    }
    let keys = (&app.signer, &app.code_policy);
    let outcome = users::Model::sign_in(&ctx.db, keys, signed_in, &origin).await?;
    AccountMailer::welcome_new(&ctx, &app.settings, &outcome).await;
    Ok(SignInResponse::new(&outcome, &app.settings.server_host))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(token))
}
