//! Passkeys: adding and managing them (`/users/me/passkeys`), and signing in
//! with one alone (`/auth/passkey`), usernameless. Options and answers are
//! WebAuthn's JSON forms, binary fields as base64url.

use std::sync::Arc;

use axum::{Extension, Json, http::StatusCode};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;
use webauthn_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Webauthn,
};

use super::{
    docs::ApiRoutes,
    extractors::{CurrentSession, CurrentUser, Db, JsonBody, PathParams, QueryParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        pagination::Pagination,
        passkeys::{self, PasskeyError},
        security_events::{EventKind, Origin},
        users::{self, SignedIn},
    },
    views::{
        self,
        auth::AuthResponse,
        passkeys::{AuthenticationOptions, PasskeyResponse, RegistrationOptions},
    },
};

/// A passkey's name: what its owner calls it ("phone", "laptop").
#[derive(Deserialize, Validate, ToSchema)]
pub struct PasskeyName {
    #[validate(length(
        min = 1,
        max = 64,
        code = "string_too_long",
        message = "String should have between 1 and 64 characters"
    ))]
    #[schema(min_length = 1, max_length = 64, example = "phone")]
    pub name: String,
}

/// The authenticator's answer to a registration's options.
#[derive(Deserialize, Validate, ToSchema)]
pub struct RegistrationAnswer {
    pub registration_id: Uuid,
    #[validate(length(
        min = 1,
        max = 64,
        code = "string_too_long",
        message = "String should have between 1 and 64 characters"
    ))]
    #[schema(min_length = 1, max_length = 64, example = "phone")]
    pub name: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.create()`.
    #[schema(value_type = Object)]
    pub credential: Box<RegisterPublicKeyCredential>,
}

/// The authenticator's answer to a sign-in's options.
#[derive(Deserialize, Validate, ToSchema)]
pub struct AuthenticationAnswer {
    pub authentication_id: Uuid,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    pub credential: Box<PublicKeyCredential>,
}

fn relying_party(app: &AppState) -> ApiResult<&Webauthn> {
    app.relying_party
        .as_ref()
        .ok_or_else(|| ApiError::Forbidden(msg::PASSKEYS_OFF.into()))
}

/// Begins adding a passkey, on a sign-in of the last 10 minutes: the options
/// for `navigator.credentials.create()` (a resident key; the user's own
/// passkeys excluded). They live 5 minutes and are answered once.
#[utoipa::path(post, path = "/api/v1/users/me/passkeys/registration", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = RegistrationOptions),
        (status = 401, description = "Not signed in, or a sign-in too old", body = Detail),
        (status = 403, description = "Passkeys are off", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn start_registration(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    session: CurrentSession,
) -> ApiResult<Json<RegistrationOptions>> {
    let rp = relying_party(&app)?;
    let begun =
        passkeys::Model::start_registration(&db, rp, &session.user, session.signed_in_at).await?;
    Ok(Json(RegistrationOptions {
        registration_id: begun.id,
        options: begun.options,
    }))
}

/// Ends adding a passkey with the authenticator's answer; stores it under
/// its name. The user is mailed.
#[utoipa::path(post, path = "/api/v1/users/me/passkeys/registration/finish", tag = "users",
    security(("bearer" = [])), request_body = RegistrationAnswer,
    responses(
        (status = 200, body = PasskeyResponse),
        (status = 400, description = "Unknown, expired or answered registration", body = Detail),
        (status = 401, description = "Not signed in, or the answer was refused", body = Detail),
        (status = 403, description = "Passkeys are off", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn finish_registration(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    CurrentUser(user): CurrentUser,
    JsonBody(answer): JsonBody<RegistrationAnswer>,
) -> ApiResult<Response> {
    let rp = relying_party(&app)?;
    let ceremony = (answer.registration_id, answer.name.as_str());
    let added =
        passkeys::Model::finish_registration(&ctx.db, rp, &user, ceremony, &answer.credential)
            .await?;
    let (account, kind) = ((user.id, user.email.as_str()), EventKind::PasskeyAdded);
    let detail = Some(added.name.as_str());
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, detail).await;
    Ok(Json(PasskeyResponse::from(&added)).into_response())
}

/// The caller's passkeys, oldest first.
#[utoipa::path(get, path = "/api/v1/users/me/passkeys", tag = "users",
    security(("bearer" = [])), params(Pagination),
    responses(
        (status = 200, body = [PasskeyResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))),
        (status = 401, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn list(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let passkeys = passkeys::Model::list_for(&db, user.id, &page).await?;
    let next = page.next(&passkeys, |passkey| (passkey.created_at, passkey.id));
    let listed = passkeys.iter().map(PasskeyResponse::from).collect();
    Ok(views::page::render(listed, next))
}

/// Renames one of the caller's passkeys.
#[utoipa::path(patch, path = "/api/v1/users/me/passkeys/{id}", tag = "users",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = PasskeyName,
    responses(
        (status = 200, body = PasskeyResponse), (status = 401, body = Detail),
        (status = 404, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn rename(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    PathParams(id): PathParams<Uuid>,
    JsonBody(body): JsonBody<PasskeyName>,
) -> ApiResult<Response> {
    let passkey = passkeys::Model::find_of(&db, user.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(msg::PASSKEY_NOT_FOUND.into()))?;
    let renamed = passkey.rename(&db, &body.name).await?;
    Ok(Json(PasskeyResponse::from(&renamed)).into_response())
}

/// Removes one of the caller's passkeys, on a sign-in of the last 10
/// minutes. The user is mailed. (An emailed code always signs the account
/// in, so no passkey is its last way in.)
#[utoipa::path(delete, path = "/api/v1/users/me/passkeys/{id}", tag = "users",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204), (status = 401, description = "Not signed in, or a sign-in too old", body = Detail),
        (status = 404, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn remove(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<StatusCode> {
    let user = &session.user;
    passkeys::Model::require_fresh(session.signed_in_at)?;
    let passkey = passkeys::Model::find_of(&ctx.db, user.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(msg::PASSKEY_NOT_FOUND.into()))?;
    let removed = passkey.remove(&ctx.db).await?;
    let (account, kind) = ((user.id, user.email.as_str()), EventKind::PasskeyRemoved);
    let detail = Some(removed.name.as_str());
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, detail).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A sign-in's two-factor challenge.
#[derive(Deserialize, Validate, ToSchema)]
pub struct ChallengeToken {
    pub challenge_token: String,
}

/// Begins answering a sign-in's two-factor challenge with a passkey: the
/// options for `navigator.credentials.get()`, limited to the user's
/// passkeys; the answer goes to `/auth/2fa/verify`. Counts as one of the
/// challenge's five answers.
#[utoipa::path(post, path = "/api/v1/auth/2fa/passkey/options", tag = "auth",
    request_body = ChallengeToken,
    responses(
        (status = 200, body = AuthenticationOptions),
        (status = 401, description = "Invalid token (the challenge), or no passkey", body = Detail),
        (status = 403, description = "Passkeys are off", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn second_factor_options(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(body): JsonBody<ChallengeToken>,
) -> ApiResult<Json<AuthenticationOptions>> {
    let rp = relying_party(&app)?;
    app.limiter.check(Action::Login, origin.ip, None).await?;
    let challenge = users::Model::open_challenge(&db, &app.signer, &body.challenge_token).await?;
    let begun = passkeys::Model::start_second_factor(&db, rp, challenge.user.id).await?;
    authentication_options(begun)
}

fn authentication_options(
    begun: passkeys::Begun<RequestChallengeResponse>,
) -> ApiResult<Json<AuthenticationOptions>> {
    Ok(Json(AuthenticationOptions {
        authentication_id: begun.id,
        options: serde_json::to_value(&begun.options)
            .map_err(|error| ApiError::Internal(error.to_string()))?,
    }))
}

/// Begins a sign-in with a passkey alone, naming nobody: the options for
/// `navigator.credentials.get()` (conditional UI). They live 5 minutes and
/// are answered once.
#[utoipa::path(post, path = "/api/v1/auth/passkey/options", tag = "auth",
    responses(
        (status = 200, body = AuthenticationOptions),
        (status = 403, description = "Passkeys are off", body = Detail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn sign_in_options(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
) -> ApiResult<Json<AuthenticationOptions>> {
    let rp = relying_party(&app)?;
    app.limiter.check(Action::Login, origin.ip, None).await?;
    let begun = passkeys::Model::start_sign_in(&db, rp).await?;
    authentication_options(begun)
}

/// Signs in with a passkey's answer: a new session, as every sign-in. A
/// passkey verifies the user, so it counts as both factors.
#[utoipa::path(post, path = "/api/v1/auth/passkey", tag = "auth",
    request_body = AuthenticationAnswer,
    responses(
        (status = 200, body = AuthResponse),
        (status = 400, description = "Unknown, expired or answered sign-in", body = Detail),
        (status = 401, description = "The passkey was not accepted", body = Detail),
        (status = 403, description = "Passkeys are off", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn sign_in(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(answer): JsonBody<AuthenticationAnswer>,
) -> ApiResult<Json<AuthResponse>> {
    let rp = relying_party(&app)?;
    app.limiter.check(Action::Login, origin.ip, None).await?;
    let answered = (answer.authentication_id, answer.credential.as_ref());
    let verified = passkeys::Model::finish_sign_in(&ctx.db, rp, answered, &origin).await?;
    let user = users::Model::find_active(&ctx.db, verified.user_id)
        .await?
        .ok_or_else(|| ApiError::from(PasskeyError::Refused("no active user".into())))?;
    let signed_in = SignedIn::existing(user);
    let new = users::Model::signed_in(&ctx.db, &app.signer, signed_in, &origin).await?;
    Ok(Json(AuthResponse::of(&new, &app.settings.server_host)))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(start_registration))
        .route(routes!(finish_registration))
        .route(routes!(list))
        .route(routes!(rename, remove))
        .route(routes!(sign_in_options))
        .route(routes!(second_factor_options))
        .route(routes!(sign_in))
}
