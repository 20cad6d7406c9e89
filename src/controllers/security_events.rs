//! `/users/me/security-events` and `/users/{user_id}/security-events`: the
//! account's security log. Handlers write to it with
//! `AccountMailer::security_event`.

use loco_rs::prelude::*;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, CurrentUser, Db, PathParams, QueryParams},
};
use crate::{
    errors::{ApiResult, Detail, ModelResultExt, ValidationDetail, msg},
    models::{pagination::Pagination, security_events, users},
    views::{self, security_events::SecurityEventResponse},
};

fn render(events: &[security_events::Model], page: &Pagination) -> Response {
    let next = page.next(events, |event| (event.created_at, event.id));
    views::page::render(
        events.iter().map(SecurityEventResponse::from).collect(),
        next,
    )
}

/// The caller's security log, newest first.
#[utoipa::path(get, path = "/api/v1/users/me/security-events", tag = "users",
    security(("bearer" = [])), params(Pagination),
    responses(
        (status = 200, body = [SecurityEventResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))),
        (status = 401, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn mine(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let events = security_events::Model::list_for(&db, user.id, &page).await?;
    Ok(render(&events, &page))
}

/// A user's security log, newest first.
#[utoipa::path(get, path = "/api/v1/users/{user_id}/security-events", tag = "users",
    security(("bearer" = [])), params(("user_id" = Uuid, Path), Pagination),
    responses(
        (status = 200, body = [SecurityEventResponse], headers(("x-next-cursor" = String,
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
    let events = security_events::Model::list_for(&db, user.id, &page).await?;
    Ok(render(&events, &page))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(mine))
        .route(routes!(of_user))
}
