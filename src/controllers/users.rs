//! `/users`: the caller's own account, and every account for admins.

use std::sync::Arc;

use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, CurrentSession, CurrentUser, Db, JsonBody, PathParams, QueryParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ModelResultExt, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        deleted_accounts::RequestedBy,
        one_time_passwords::six_digits,
        pagination::Pagination,
        refresh_tokens,
        security_events::{EventKind, Origin},
        users::{self, AdminUserUpdate, Role, UserCreate, UserUpdate},
    },
    views::{self, auth::AuthResponse, users::UserResponse},
    workers::account_deletion,
};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// Include archived users.
    #[serde(default)]
    pub with_archived: bool,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleParam {
    /// The new user's role.
    #[serde(default)]
    #[param(inline)]
    pub role: Role,
}

/// What an admin's change says in the user's security log.
const BY_ADMIN: Option<&str> = Some("by an admin");

/// A user as the security log names them: id, and the address to tell.
fn account(user: &users::Model) -> (Uuid, &str) {
    (user.id, &user.email)
}

fn render(app: &AppState, user: &users::Model) -> Json<UserResponse> {
    Json(UserResponse::new(user, &app.settings.server_host))
}

/// Any user, archived included.
async fn find_user(db: &DatabaseConnection, id: Uuid) -> ApiResult<users::Model> {
    users::Model::find_by_id(db, id)
        .await
        .or_not_found(msg::USER_NOT_FOUND)
}

/// Every user, oldest first.
/// Starts a session of `user` signed in at `signed_in_at`, and renders it:
/// after a change that ends every session, the caller's own goes on in a new
/// one as old as it was.
async fn carry_on_session(
    ctx: &AppContext,
    app: &AppState,
    user: &users::Model,
    origin: &Origin,
    signed_in_at: DateTime<Utc>,
) -> ApiResult<Json<AuthResponse>> {
    let signer = &app.signer;
    let session = refresh_tokens::Model::start_session_signed_in_at(
        &ctx.db,
        signer,
        user,
        origin,
        signed_in_at,
    )
    .await?;
    let host = &app.settings.server_host;
    Ok(Json(AuthResponse::new(user, &session, host)))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])), params(Pagination, ListFilter),
    responses(
        (status = 200, body = [UserResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn list(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
    QueryParams(page): QueryParams<Pagination>,
    QueryParams(filter): QueryParams<ListFilter>,
) -> ApiResult<Response> {
    let users = users::Model::list(&db, &page, filter.with_archived).await?;
    let host = &app.settings.server_host;
    let next = page.next(&users, |user| (user.created_at, user.id));
    let users = users
        .iter()
        .map(|user| UserResponse::new(user, host))
        .collect();
    Ok(views::page::render(users, next))
}

/// Creates a user with the given role.
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])), params(RoleParam), request_body = UserCreate,
    responses(
        (status = 200, body = UserResponse),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 409, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn create(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
    QueryParams(param): QueryParams<RoleParam>,
    JsonBody(params): JsonBody<UserCreate>,
) -> ApiResult<Json<UserResponse>> {
    let languages = app.translations.languages();
    let user = users::Model::create(&ctx.db, &params, param.role, &languages).await?;
    AccountMailer::welcome(&ctx, &app.settings, &user).await;
    Ok(render(&app, &user))
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = Detail)))]
#[debug_handler(state = AppContext)]
pub async fn me(
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> Json<UserResponse> {
    render(&app, &user)
}

/// Changes the caller's own account (not their role). A new email is only
/// pending until the code mailed to it is confirmed.
#[utoipa::path(put, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = [])), request_body = UserUpdate,
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "Not signed in, or a new email on a sign-in too old", body = Detail),
        (status = 409, body = Detail), (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many new emails asked for; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn update_me(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    JsonBody(changes): JsonBody<UserUpdate>,
) -> ApiResult<Json<UserResponse>> {
    let (user, signed_in_at) = (session.user, session.signed_in_at);
    // A new email mails a code to any address: limited as code requests are.
    if let Some(email) = changes.new_email(&user.email) {
        let limit = Action::OtpRequest;
        app.limiter
            .check(limit, origin.ip, Some(email.as_str()))
            .await?;
    }
    let languages = app.translations.languages();
    let update = user
        .update_own(
            &ctx.db,
            &app.code_policy,
            &changes,
            &languages,
            signed_in_at,
        )
        .await?;
    if let Some((new_email, code)) = &update.email_change {
        AccountMailer::send_email_change_code(&ctx, &app.settings, new_email, code).await?;
        let (account, kind) = (account(&update.user), EventKind::EmailChangeRequested);
        let detail = Some(new_email.as_str());
        AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, detail).await;
    }
    Ok(render(&app, &update.user))
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct EmailChangeConfirmation {
    #[validate(custom(function = "six_digits"))]
    #[schema(pattern = r"^\d{6}$", example = "123456")]
    pub code: String,
}

/// Makes the pending email the caller's, with the code mailed to it. Every
/// earlier token stops working; the answer carries fresh ones.
#[utoipa::path(post, path = "/api/v1/users/me/email/confirm", tag = "users",
    security(("bearer" = [])), request_body = EmailChangeConfirmation,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Invalid or expired authentication code", body = Detail),
        (status = 409, body = Detail), (status = 422, body = ValidationDetail),
        (status = 429, description = "Wrong codes locked the address or the caller out for now; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn confirm_email(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    JsonBody(confirmation): JsonBody<EmailChangeConfirmation>,
) -> ApiResult<Json<AuthResponse>> {
    let old_email = session.user.email.clone();
    let user = session
        .user
        .confirm_email_change(&ctx.db, &app.code_policy, (&confirmation.code, origin.ip))
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_CODE.into()))?;
    let (account, kind) = ((user.id, old_email.as_str()), EventKind::EmailChanged);
    let (settings, new_email) = (&app.settings, Some(user.email.as_str()));
    AccountMailer::security_event(&ctx, settings, account, kind, &origin, new_email).await;
    carry_on_session(&ctx, &app, &user, &origin, session.signed_in_at).await
}

/// Not `Debug`: it holds passwords.
#[derive(Deserialize, Validate, ToSchema)]
pub struct PasswordChange {
    /// Omitted by accounts without a password, shortly after signing in.
    pub current_password: Option<String>,
    #[validate(length(
        min = 8,
        code = "string_too_short",
        message = "String should have at least 8 characters"
    ))]
    #[schema(min_length = 8)]
    pub new_password: String,
}

/// Changes (or sets) the caller's password. Every other session ends; the
/// answer carries fresh tokens.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users",
    security(("bearer" = [])), request_body = PasswordChange,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "Incorrect password, or a sign-in too old to set one", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn change_password(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    JsonBody(change): JsonBody<PasswordChange>,
) -> ApiResult<Json<AuthResponse>> {
    // Checking the current password is a sign-in attempt: limited as one.
    let email = session.user.email.as_str();
    app.limiter
        .check(Action::Login, origin.ip, Some(email))
        .await?;
    let current = change.current_password.as_deref();
    let user = session
        .user
        .change_password(&ctx.db, current, &change.new_password, session.signed_in_at)
        .await?;
    let kind = EventKind::PasswordChanged;
    AccountMailer::security_event(&ctx, &app.settings, account(&user), kind, &origin, None).await;
    carry_on_session(&ctx, &app, &user, &origin, session.signed_in_at).await
}

/// Archives the caller: their tokens stop working.
#[utoipa::path(delete, path = "/api/v1/users/me/archive", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = Detail)))]
#[debug_handler]
pub async fn archive_me(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<UserResponse>> {
    let user = user.into_active_model().archive(&ctx.db).await?;
    let kind = EventKind::Archived;
    AccountMailer::security_event(&ctx, &app.settings, account(&user), kind, &origin, None).await;
    Ok(render(&app, &user))
}

/// Any user, archived included.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses(
        (status = 200, body = UserResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn show(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
) -> ApiResult<Json<UserResponse>> {
    let user = find_user(&db, user_id).await?;
    Ok(render(&app, &user))
}

/// Changes any user, role included.
#[utoipa::path(put, path = "/api/v1/users/{user_id}", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)), request_body = AdminUserUpdate,
    responses(
        (status = 200, body = UserResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 409, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn update(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<AdminUserUpdate>,
) -> ApiResult<Json<UserResponse>> {
    let user = find_user(&ctx.db, user_id).await?;
    let old_email = user.email.clone();
    let languages = app.translations.languages();
    let (changes, role) = changes.split();
    let user = user
        .into_active_model()
        .apply_update(&ctx.db, &changes, role, &languages)
        .await?;
    if user.email != old_email {
        let (account, kind) = ((user.id, old_email.as_str()), EventKind::EmailChanged);
        let (settings, new_email) = (&app.settings, Some(user.email.as_str()));
        AccountMailer::security_event(&ctx, settings, account, kind, &origin, new_email).await;
    }
    Ok(render(&app, &user))
}

/// Archives a user.
#[utoipa::path(delete, path = "/api/v1/users/{user_id}/archive", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses(
        (status = 200, body = UserResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn archive(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
) -> ApiResult<Json<UserResponse>> {
    let user = find_user(&ctx.db, user_id).await?;
    let user = user.into_active_model().archive(&ctx.db).await?;
    let kind = EventKind::Archived;
    AccountMailer::security_event(&ctx, &app.settings, account(&user), kind, &origin, BY_ADMIN)
        .await;
    Ok(render(&app, &user))
}

/// Brings an archived user back.
#[utoipa::path(put, path = "/api/v1/users/{user_id}/unarchive", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses(
        (status = 200, body = UserResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn unarchive(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
) -> ApiResult<Json<UserResponse>> {
    let user = find_user(&ctx.db, user_id).await?;
    let user = user.into_active_model().unarchive(&ctx.db).await?;
    let kind = EventKind::Unarchived;
    AccountMailer::security_event(&ctx, &app.settings, account(&user), kind, &origin, BY_ADMIN)
        .await;
    Ok(render(&app, &user))
}

/// Deletes a user for good, at once, as their own deletion does when it
/// comes: every row of theirs, their stored files, their provider's token.
#[utoipa::path(delete, path = "/api/v1/users/{user_id}", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses(
        (status = 200, body = UserResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 503, description = "Apple refused to revoke its sign-in: nothing was deleted", body = Detail),
        (status = 504, description = "Apple did not answer: nothing was deleted", body = Detail),
    ))]
#[debug_handler]
pub async fn destroy(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
) -> ApiResult<Json<UserResponse>> {
    let user = find_user(&ctx.db, user_id).await?;
    let shown = render(&app, &user);
    account_deletion::erase(&ctx, &app, user, RequestedBy::Admin).await?;
    Ok(shown)
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(list, create))
        .route(routes!(me, update_me))
        .route(routes!(confirm_email))
        .route(routes!(change_password))
        .route(routes!(archive_me))
        .route(routes!(show, update, destroy))
        .route(routes!(archive))
        .route(routes!(unarchive))
}
