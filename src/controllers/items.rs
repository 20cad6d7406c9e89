//! `/items`: the example resource. Each user sees and changes their own items;
//! admins see and change everyone's.

use axum::{Json, response::IntoResponse};
use loco_rs::prelude::*;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, Caller, CurrentUser, Db, JsonBody, PathParams, QueryParams},
};
use crate::{
    errors::{ApiResult, Detail, ModelResultExt, ValidationDetail, msg},
    models::{
        access::OwnerParam,
        items::{self, Archived, ItemCreate, ItemUpdate},
        pagination::Pagination,
        users,
    },
    views::{self, items::ItemResponse},
};

fn render(item: &items::Model) -> Response {
    Json(ItemResponse::from(item)).into_response()
}

/// The item `id` with its caller, read in one query: 401 when the caller is
/// signed out, then 404 or 403 as `managed_by` rules.
async fn managed(
    db: &DatabaseConnection,
    caller: &Caller,
    id: Uuid,
    archived: Archived,
) -> ApiResult<items::Model> {
    let (user, found) = caller
        .user_with::<items::Entity>(db, items::Model::picked(id, archived))
        .await?;
    items::Model::managed_by(found, &user).or_not_found(msg::ITEM_NOT_FOUND)
}

/// The caller's items (everyone's for an admin), oldest first.
#[utoipa::path(get, path = "/api/v1/items", tag = "items",
    security(("bearer" = [])), params(Pagination),
    responses(
        (status = 200, body = [ItemResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))), (status = 401, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn list(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let items = items::Model::list_for(&db, &user, &page).await?;
    let next = page.next(&items, |item| (item.created_at, item.id));
    Ok(views::page::render(
        items.iter().map(ItemResponse::from).collect(),
        next,
    ))
}

/// Creates an item owned by the caller.
#[utoipa::path(post, path = "/api/v1/items", tag = "items",
    security(("bearer" = [])), request_body = ItemCreate,
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn create(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    JsonBody(params): JsonBody<ItemCreate>,
) -> ApiResult<Response> {
    let item = items::Model::create(&db, user.id, &params).await?;
    Ok(render(&item))
}

/// Creates an item for another user.
#[utoipa::path(post, path = "/api/v1/items/admin", tag = "items",
    security(("bearer" = [])), params(OwnerParam), request_body = ItemCreate,
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, description = "User not found", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn create_for_user(
    State(Db(db)): State<Db>,
    AdminUser(_admin): AdminUser,
    QueryParams(owner): QueryParams<OwnerParam>,
    JsonBody(params): JsonBody<ItemCreate>,
) -> ApiResult<Response> {
    let owner = users::Model::find_by_id(&db, owner.user_id)
        .await
        .or_not_found(msg::USER_NOT_FOUND)?;
    let item = items::Model::create(&db, owner.id, &params).await?;
    Ok(render(&item))
}

/// One item.
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "items",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn show(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let item = managed(&db, &caller, id, Archived::Excluded).await?;
    Ok(render(&item))
}

/// Changes the fields present in the body.
#[utoipa::path(put, path = "/api/v1/items/{id}", tag = "items",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ItemUpdate,
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn update(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<ItemUpdate>,
) -> ApiResult<Response> {
    let item = managed(&db, &caller, id, Archived::Excluded).await?;
    let item = item.into_active_model().apply_update(&db, &changes).await?;
    Ok(render(&item))
}

/// Deletes an item for good and returns what it was.
#[utoipa::path(delete, path = "/api/v1/items/{id}", tag = "items",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn destroy(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let item = managed(&db, &caller, id, Archived::Included).await?;
    let item = item.destroy(&db).await?;
    Ok(render(&item))
}

/// Archives (soft-deletes) an item.
#[utoipa::path(delete, path = "/api/v1/items/{id}/archive", tag = "items",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn archive(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let item = managed(&db, &caller, id, Archived::Included).await?;
    let item = item.into_active_model().archive(&db).await?;
    Ok(render(&item))
}

/// Brings an archived item back.
#[utoipa::path(put, path = "/api/v1/items/{id}/unarchive", tag = "items",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ItemResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn unarchive(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let item = managed(&db, &caller, id, Archived::Included).await?;
    let item = item.into_active_model().unarchive(&db).await?;
    Ok(render(&item))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(list, create))
        .route(routes!(create_for_user))
        .route(routes!(show, update, destroy))
        .route(routes!(archive))
        .route(routes!(unarchive))
}
