//! `/auth/2fa`: TOTP two-factor sign-in, its recovery codes, and the answer
//! to a sign-in's challenge.

use std::sync::Arc;

use axum::{Extension, Json};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{ClientIp, CurrentSession, CurrentUser, JsonBody},
};
use webauthn_rs::prelude::PublicKeyCredential;

use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        security_events::{EventKind, Origin},
        two_factor::{Challenge, TwoFactorError},
        users::{self, SignedIn},
    },
    views::{
        auth::AuthResponse,
        two_factor::{RecoveryCodesResponse, TwoFactorSetupResponse},
        users::UserResponse,
    },
};

/// Said of a refused sign-in in the user's log.
const WRONG_SECOND_FACTOR: &str = "wrong two-factor code";

/// A TOTP code (six digits) or a recovery code. Not `Debug`: it is a secret.
#[derive(Deserialize, Validate, ToSchema)]
pub struct TwoFactorCode {
    #[validate(length(
        max = 32,
        code = "string_too_long",
        message = "String should have at most 32 characters"
    ))]
    #[schema(max_length = 32, example = "123456")]
    pub code: String,
}

/// The challenge a sign-in answered, and a code, or a passkey's answer to
/// options from `/auth/2fa/passkey/options`. Not `Debug`: secrets.
#[derive(Deserialize, Validate, ToSchema)]
pub struct ChallengeAnswer {
    pub challenge_token: String,
    #[validate(length(
        max = 32,
        code = "string_too_long",
        message = "String should have at most 32 characters"
    ))]
    #[schema(max_length = 32, example = "123456")]
    pub code: Option<String>,
    pub authentication_id: Option<Uuid>,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Box<PublicKeyCredential>>,
}

/// How a challenge is answered.
enum Factor<'a> {
    Code(&'a str),
    Passkey(Uuid, &'a PublicKeyCredential),
}

impl Factor<'_> {
    /// `challenge` answered with this: the user, or why not.
    async fn answer(
        self,
        db: &DatabaseConnection,
        app: &AppState,
        challenge: Challenge,
        origin: &Origin,
    ) -> ApiResult<Result<users::Model, TwoFactorError>> {
        Ok(match self {
            Self::Code(code) => {
                challenge
                    .answer(db, &app.two_factor, (code, origin.ip))
                    .await
            }
            Self::Passkey(authentication_id, credential) => {
                let rp = app
                    .relying_party
                    .as_ref()
                    .ok_or_else(|| ApiError::Forbidden(msg::PASSKEYS_OFF.into()))?;
                let passkey = (authentication_id, credential);
                challenge.answer_with_passkey(db, rp, passkey, origin).await
            }
        })
    }
}

impl ChallengeAnswer {
    fn factor(&self) -> ApiResult<Factor<'_>> {
        match (&self.code, self.authentication_id, &self.credential) {
            (Some(code), None, None) => Ok(Factor::Code(code)),
            (None, Some(id), Some(credential)) => Ok(Factor::Passkey(id, credential)),
            _ => Err(ApiError::field(
                vec!["body".into(), "code".into()],
                "Send either code, or authentication_id and credential",
                "missing",
            )),
        }
    }
}

/// What a check of `email`'s second factor came to, as an answer: a wrong
/// code that began a series of locks on the account is told to its owner
/// first.
async fn or_refused<T>(
    ctx: &AppContext,
    app: &AppState,
    email: &str,
    checked: Result<T, TwoFactorError>,
) -> ApiResult<T> {
    if let Err(TwoFactorError::Locked {
        until,
        lock_began: true,
    }) = &checked
    {
        AccountMailer::codes_locked(ctx, &app.settings, email, *until).await;
    }
    Ok(checked?)
}

/// Makes a new TOTP secret for the caller's authenticator app; not in force
/// until enabled with a first code. A new setup replaces one not enabled.
#[utoipa::path(post, path = "/api/v1/auth/2fa/setup", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TwoFactorSetupResponse),
        (status = 401, body = Detail),
        (status = 409, description = "Two-factor sign-in is already on", body = Detail),
    ))]
#[debug_handler]
pub async fn setup(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<TwoFactorSetupResponse>> {
    let setup = user.set_up_two_factor(&ctx.db, &app.two_factor).await?;
    Ok(Json(setup.into()))
}

/// Turns two-factor sign-in on with a first code from the app, on a sign-in
/// of the last 10 minutes; answers the ten recovery codes, shown this once.
#[utoipa::path(post, path = "/api/v1/auth/2fa/enable", tag = "auth",
    security(("bearer" = [])), request_body = TwoFactorCode,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 401, description = "Wrong code, or a sign-in too old", body = Detail),
        (status = 409, description = "Already on, or not set up", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Wrong codes locked the account or the caller out for now; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn enable(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    JsonBody(body): JsonBody<TwoFactorCode>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    let (user, keys) = (&session.user, &app.two_factor);
    let enabled = user
        .enable_two_factor(&ctx.db, keys, (&body.code, origin.ip), session.signed_in_at)
        .await;
    let (user, recovery_codes) = or_refused(&ctx, &app, &user.email, enabled).await?;
    let (account, kind) = ((user.id, user.email.as_str()), EventKind::TwoFactorEnabled);
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, None).await;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Turns two-factor sign-in off, with a TOTP or recovery code. The user is
/// mailed.
#[utoipa::path(post, path = "/api/v1/auth/2fa/disable", tag = "auth",
    security(("bearer" = [])), request_body = TwoFactorCode,
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "Wrong code", body = Detail),
        (status = 409, description = "Two-factor sign-in is off", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Wrong codes locked the account or the caller out for now; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn disable(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<TwoFactorCode>,
) -> ApiResult<Json<UserResponse>> {
    let disabled = user
        .disable_two_factor(&ctx.db, &app.two_factor, Some((&body.code, origin.ip)))
        .await;
    let user = or_refused(&ctx, &app, &user.email, disabled).await?;
    let (account, kind) = ((user.id, user.email.as_str()), EventKind::TwoFactorDisabled);
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, None).await;
    Ok(Json(UserResponse::new(&user, &app.settings.server_host)))
}

/// Ten new recovery codes in place of the old ones, with a TOTP or recovery code.
#[utoipa::path(post, path = "/api/v1/auth/2fa/recovery-codes", tag = "auth",
    security(("bearer" = [])), request_body = TwoFactorCode,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 401, description = "Wrong code", body = Detail),
        (status = 409, description = "Two-factor sign-in is off", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Wrong codes locked the account or the caller out for now; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn recovery_codes(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<TwoFactorCode>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    let keys = &app.two_factor;
    let made = user
        .regenerate_recovery_codes(&ctx.db, keys, (&body.code, ip))
        .await;
    let recovery_codes = or_refused(&ctx, &app, &user.email, made).await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Answers a sign-in's challenge with a TOTP or recovery code, or with one
/// of the user's passkeys, for the session's tokens. A challenge lives 5
/// minutes, takes 5 answers, and works once; a TOTP code works once.
#[utoipa::path(post, path = "/api/v1/auth/2fa/verify", tag = "auth",
    request_body = ChallengeAnswer,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Invalid token (the challenge), or invalid code", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn verify(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(answer): JsonBody<ChallengeAnswer>,
) -> ApiResult<Json<AuthResponse>> {
    app.limiter.check(Action::Login, origin.ip, None).await?;
    let factor = answer.factor()?;
    let challenge =
        users::Model::open_challenge(&ctx.db, &app.signer, &answer.challenge_token).await?;
    let (id, email) = (challenge.user.id, challenge.user.email.clone());
    let answered = factor.answer(&ctx.db, &app, challenge, &origin).await?;
    if answered.is_err() {
        let (kind, detail) = (EventKind::SignInFailed, Some(WRONG_SECOND_FACTOR));
        AccountMailer::security_event(&ctx, &app.settings, (id, &email), kind, &origin, detail)
            .await;
    }
    let user = or_refused(&ctx, &app, &email, answered).await?;
    let signed_in = SignedIn::existing(user);
    let new = users::Model::signed_in(&ctx.db, &app.signer, signed_in, &origin).await?;
    Ok(Json(AuthResponse::of(&new, &app.settings.server_host)))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(setup))
        .route(routes!(enable))
        .route(routes!(disable))
        .route(routes!(recovery_codes))
        .route(routes!(verify))
}
