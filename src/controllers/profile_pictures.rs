//! Profile pictures: the caller sets theirs; anyone may fetch a user's
//! current one by the URL in `profile_picture_url`.

use std::sync::Arc;

use axum::{Extension, Json, http::HeaderMap};
use loco_rs::prelude::*;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{
        ClientIp, CurrentUser, Db, FileUpload, PathParams, Store, upload::ProfilePicture,
    },
};
use crate::{
    errors::{ApiResult, Detail, ValidationDetail},
    infra::{rate_limit::Action, state::AppState},
    models::profile_pictures::{self, Picture},
    views::{
        files::{self as view, UploadForm},
        users::UserResponse,
    },
};

/// Sets the caller's profile picture: a JPEG, PNG, WebP or GIF (read from
/// its bytes), at most `PROFILE_PICTURE_MAX_BYTES`, stored resized to fit
/// 512×512 without its metadata. The previous one is deleted.
#[utoipa::path(post, path = "/api/v1/users/me/profile-picture", tag = "users",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = UserResponse), (status = 401, body = Detail),
        (status = 413, body = Detail), (status = 415, body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many uploads, or two of the caller's pictures under way already; see Retry-After", body = Detail),
        (status = 503, body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn upload(
    State(Db(db)): State<Db>,
    State(Store(storage)): State<Store>,
    Extension(app): Extension<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    CurrentUser(user): CurrentUser,
    upload: FileUpload<ProfilePicture>,
) -> ApiResult<Json<UserResponse>> {
    app.limiter
        .check(Action::Upload, ip, Some(&user.id.to_string()))
        .await?;
    let picture = Picture::prepare(user.id, upload.body).await?;
    let user = picture.replace(&db, &storage, user).await?;
    Ok(Json(UserResponse::new(&user, &app.settings.server_host)))
}

/// A user's current profile picture. It never changes under its URL, so it
/// may be cached for good; `If-None-Match` with its `ETag` answers 304.
#[utoipa::path(get, path = "/api/v1/users/{user_id}/profile-picture/{file_id}", tag = "users",
    params(("user_id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The picture: JPEG for a JPEG upload, else PNG",
            content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))),
        (status = 304, description = "The cached copy is current"),
        (status = 404, body = Detail), (status = 422, body = ValidationDetail),
        (status = 503, body = Detail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn show(
    State(Db(db)): State<Db>,
    State(Store(storage)): State<Store>,
    headers: HeaderMap,
    PathParams((user_id, file_id)): PathParams<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let file = profile_pictures::find(&db, user_id, file_id).await?;
    if view::is_fresh(&headers, &file) {
        return Ok(view::not_modified(&file));
    }
    let stream = file.open(&storage).await?;
    Ok(view::bytes(&file, stream, view::picture_headers(&file)))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(upload)).route(routes!(show))
}
