//! `/files`: uploads kept in the file store. Each user sees and deletes their
//! own files; admins everyone's.

use std::sync::Arc;

use axum::{Extension, Json, response::IntoResponse};
use loco_rs::prelude::*;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{
        ClientIp, CurrentUser, Db, FileUpload, PathParams, QueryParams, Store, upload::AnyFile,
    },
};
use crate::{
    errors::{ApiResult, Detail, ValidationDetail},
    infra::{rate_limit::Action, state::AppState},
    models::{files, pagination::Pagination},
    views::{
        self,
        files::{self as view, FileResponse, UploadForm, UsageResponse},
    },
};

fn render(app: &AppState, file: &files::Model) -> Response {
    Json(FileResponse::new(file, &app.settings.server_host)).into_response()
}

/// Stores a file (any type, at most `FILE_MAX_BYTES`) owned by the caller,
/// within their quota (`FILES_QUOTA_BYTES`, `FILES_QUOTA_COUNT`).
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = FileResponse), (status = 401, body = Detail),
        (status = 413, description = "Over `FILE_MAX_BYTES`, or over the caller's quota", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many uploads, or two of the caller's files under way already; see Retry-After", body = Detail),
        (status = 503, body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn upload(
    State(Db(db)): State<Db>,
    State(Store(storage)): State<Store>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    CurrentUser(user): CurrentUser,
    upload: FileUpload<AnyFile>,
) -> ApiResult<Response> {
    app.limiter
        .check(Action::Upload, ip, Some(&user.id.to_string()))
        .await?;
    let FileUpload {
        name, limit, body, ..
    } = upload;
    let quota = app.settings.files.quota_of(&user);
    let file = files::Model::upload(&db, &storage, user.id, name, (limit, quota), body).await?;
    Ok(render(&app, &file))
}

/// What the caller's files come to, and their quota.
#[utoipa::path(get, path = "/api/v1/files/usage", tag = "files",
    security(("bearer" = [])),
    responses((status = 200, body = UsageResponse), (status = 401, body = Detail)))]
#[debug_handler(state = AppContext)]
pub async fn usage(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<UsageResponse>> {
    let usage = files::Usage::of(&db, user.id).await?;
    let quota = app.settings.files.quota_of(&user);
    Ok(Json(UsageResponse::new(usage, quota)))
}

/// The caller's files (everyone's for an admin), oldest first.
#[utoipa::path(get, path = "/api/v1/files", tag = "files",
    security(("bearer" = [])), params(Pagination),
    responses(
        (status = 200, body = [FileResponse], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))), (status = 401, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn list(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let files = files::Model::list_for(&db, &user, &page).await?;
    let host = &app.settings.server_host;
    let next = page.next(&files, |file| (file.created_at, file.id));
    let files = files
        .iter()
        .map(|file| FileResponse::new(file, host))
        .collect();
    Ok(views::page::render(files, next))
}

/// One file's metadata.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FileResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn show(
    State(Db(db)): State<Db>,
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let file = files::Model::find_for(&db, id, &user).await?;
    Ok(render(&app, &file))
}

/// The file's bytes, streamed, as an attachment under its name.
#[utoipa::path(get, path = "/api/v1/files/{id}/download", tag = "files",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The bytes, with the type read from them",
            content_type = "*/*", body = Vec<u8>),
        (status = 401, body = Detail), (status = 403, body = Detail),
        (status = 404, body = Detail), (status = 422, body = ValidationDetail),
        (status = 503, body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn download(
    State(Db(db)): State<Db>,
    State(Store(storage)): State<Store>,
    CurrentUser(user): CurrentUser,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let file = files::Model::find_for(&db, id, &user).await?;
    let stream = file.open(&storage).await?;
    Ok(view::download(&file, stream))
}

/// Deletes the file, row and bytes, and returns what it was.
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FileResponse), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn destroy(
    State(Db(db)): State<Db>,
    State(Store(storage)): State<Store>,
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let file = files::Model::find_for(&db, id, &user).await?;
    let file = file.destroy(&db, &storage).await?;
    Ok(render(&app, &file))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(list, upload))
        .route(routes!(usage))
        .route(routes!(show, destroy))
        .route(routes!(download))
}
