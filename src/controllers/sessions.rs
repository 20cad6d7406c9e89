//! `/auth/sessions` and `/users/{user_id}/sessions`: the devices signed in to
//! an account, and ending them.

use std::sync::Arc;

use axum::{Extension, http::StatusCode};
use loco_rs::prelude::*;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, CurrentSession, Db, PathParams, QueryParams},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ModelResultExt, ValidationDetail, msg},
    infra::state::AppState,
    mailers::account::AccountMailer,
    models::{
        pagination::Pagination,
        security_events::{EventKind, Origin},
        sessions, users,
    },
    views::{self, sessions::SessionResponse},
};

/// Said of a session ended by an admin, in its owner's log.
const BY_ADMIN: &str = "by an admin";

fn render(sessions: &[sessions::Model], page: &Pagination, current: Option<Uuid>) -> Response {
    let next = page.next(sessions, |session| (session.created_at, session.id));
    let sessions = sessions
        .iter()
        .map(|session| SessionResponse::new(session, current))
        .collect();
    views::page::render(sessions, next)
}

/// The caller's live sessions, newest first; `current` marks the caller's.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth",
    security(("bearer" = [])), params(Pagination),
    responses(
        (status = 200, body = [SessionResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))),
        (status = 401, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn mine(
    State(Db(db)): State<Db>,
    session: CurrentSession,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let listed = sessions::Model::list_for(&db, session.user.id, &page).await?;
    Ok(render(&listed, &page, Some(session.session_id)))
}

/// Ends one session: its tokens, access tokens included, stop working. A
/// user ends their own (the current one too); an admin, anyone's. Someone
/// else's is "not found" to a user, as it would be to a guess.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, body = Detail),
        (status = 404, description = "Session not found", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn end(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<StatusCode> {
    let caller = &session.user;
    let not_found = || ApiError::NotFound(msg::SESSION_NOT_FOUND.into());
    let target = sessions::Model::find_live(&ctx.db, id)
        .await?
        .filter(|target| target.user_id == caller.id || caller.is_admin())
        .ok_or_else(not_found)?;
    if !sessions::Model::end(&ctx.db, target.user_id, id).await? {
        return Err(not_found());
    }
    let (account, detail) = if target.user_id == caller.id {
        ((caller.id, caller.email.clone()), None)
    } else {
        let owner = users::Model::find_by_id(&ctx.db, target.user_id)
            .await
            .or_not_found(msg::SESSION_NOT_FOUND)?;
        ((owner.id, owner.email), Some(BY_ADMIN))
    };
    let (account, kind) = ((account.0, account.1.as_str()), EventKind::SessionEnded);
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, detail).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller's but the one asking.
#[utoipa::path(post, path = "/api/v1/auth/sessions/end-others", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Ended"), (status = 401, body = Detail)))]
#[debug_handler]
pub async fn end_others(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
) -> ApiResult<StatusCode> {
    let user = &session.user;
    let ended = sessions::Model::end_others(&ctx.db, user.id, session.session_id).await?;
    if ended > 0 {
        let detail = format!("{ended} other sessions");
        let (account, kind) = ((user.id, user.email.as_str()), EventKind::SessionEnded);
        AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, Some(&detail))
            .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A user's live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/users/{user_id}/sessions", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path), Pagination),
    responses(
        (status = 200, body = [SessionResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 404, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn of_user(
    State(Db(db)): State<Db>,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let user = users::Model::find_by_id(&db, user_id)
        .await
        .or_not_found(msg::USER_NOT_FOUND)?;
    let listed = sessions::Model::list_for(&db, user.id, &page).await?;
    Ok(render(&listed, &page, None))
}

/// Signs a user out everywhere: every token of theirs stops working.
#[utoipa::path(delete, path = "/api/v1/users/{user_id}/sessions", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 404, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn end_all_of_user(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    AdminUser(_admin): AdminUser,
    PathParams(user_id): PathParams<Uuid>,
) -> ApiResult<StatusCode> {
    let user = users::Model::find_by_id(&ctx.db, user_id)
        .await
        .or_not_found(msg::USER_NOT_FOUND)?
        .end_all_sessions(&ctx.db)
        .await?;
    let (account, kind) = ((user.id, user.email.as_str()), EventKind::SessionEnded);
    let detail = format!("every session, {BY_ADMIN}");
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, Some(&detail)).await;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(mine))
        .route(routes!(end))
        .route(routes!(end_others))
        .route(routes!(of_user, end_all_of_user))
}
