//! The user's own data rights: deleting their account (after a grace
//! period they may cancel in), and exporting everything the service holds
//! about them.

use std::sync::Arc;

use axum::{Extension, Json, http::StatusCode, response::Response};
use chrono::Utc;
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{CurrentSession, CurrentUser, JsonBody},
};
use crate::{
    errors::{ApiError, ApiResult, Detail, ValidationDetail, msg},
    infra::{rate_limit::Action, state::AppState},
    mailers::account::AccountMailer,
    models::{
        data_exports::{self, ExportState},
        deletion_proof::DeletionProof,
        files::FileError,
        security_events::{self, EventKind, Origin},
        users,
    },
    views::{
        data_rights::{self, DeletionResponse, ExportResponse},
        msg::Msg,
    },
    workers::{
        account_deletion,
        data_export::{DataExportArgs, DataExportWorker},
    },
};

pub const DELETION_CANCELLED: &str = "Account deletion cancelled";

/// What deleting one's account takes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct DeletionRequest {
    /// The account's password, when it has one.
    #[serde(default)]
    pub password: Option<String>,
    /// A TOTP or recovery code, when two-factor sign-in is on.
    #[serde(default)]
    pub code: Option<String>,
}

/// The token of the mail's cancel link.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct DeletionCancel {
    pub token: String,
}

/// Schedules the deletion of the caller's account after
/// `ACCOUNT_DELETION_GRACE_DAYS` (at once when 0). Every session ends; every
/// sign-in is refused until the deletion is cancelled with the mailed link.
#[utoipa::path(post, path = "/api/v1/users/me/deletion", tag = "users",
    security(("bearer" = [])), request_body = DeletionRequest,
    responses(
        (status = 202, body = DeletionResponse),
        (status = 401, description = "Wrong password or code, or a sign-in too old (for an account with neither)", body = Detail),
        (status = 422, body = ValidationDetail),
        (status = 429, description = "Too many attempts; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn request_deletion(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    session: CurrentSession,
    JsonBody(request): JsonBody<DeletionRequest>,
) -> ApiResult<(StatusCode, Json<DeletionResponse>)> {
    // Checking the password is a sign-in attempt: limited as one.
    let email = Some(session.user.email.as_str());
    app.limiter.check(Action::Login, origin.ip, email).await?;
    let proof = DeletionProof {
        password: request.password.as_deref(),
        code: request.code.as_deref(),
        source: origin.ip,
        signed_in_at: session.signed_in_at,
    };
    let user = session.user;
    user.check_deletion_proof(&ctx.db, &app.two_factor, &proof)
        .await?;
    let grace = app.settings.data_rights.grace();
    let scheduled = user.schedule_deletion(&ctx.db, &app.signer, grace).await?;
    account_deletion::scheduled(&ctx, &app, &scheduled, (&origin, None)).await?;
    let deletes_at = scheduled.deletes_at;
    Ok((StatusCode::ACCEPTED, Json(DeletionResponse { deletes_at })))
}

/// Cancels a scheduled deletion with the token of the mailed link, during
/// the grace period; the user signs in again as before.
#[utoipa::path(post, path = "/api/v1/auth/deletion/cancel", tag = "auth",
    request_body = DeletionCancel,
    responses(
        (status = 200, body = Msg),
        (status = 401, description = "Invalid, used or expired token", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn cancel_deletion(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    origin: Origin,
    JsonBody(cancel): JsonBody<DeletionCancel>,
) -> ApiResult<Json<Msg>> {
    let user = users::Model::cancel_deletion(&ctx.db, &app.signer, &cancel.token)
        .await?
        .ok_or(ApiError::Unauthorized(msg::INVALID_TOKEN.into()))?;
    let (account, kind) = ((user.id, user.email.as_str()), EventKind::DeletionCancelled);
    AccountMailer::security_event(&ctx, &app.settings, account, kind, &origin, None).await;
    Ok(Json(Msg::new(DELETION_CANCELLED)))
}

/// Starts an export of everything the service holds about the caller: one
/// zip archive, ready to download for `DATA_EXPORT_TTL_HOURS`; they are
/// mailed when it is.
#[utoipa::path(post, path = "/api/v1/users/me/export", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 202, body = ExportResponse), (status = 401, body = Detail),
        (status = 409, description = "An export is being written", body = Detail),
        (status = 429, description = "An export was asked for minutes ago; see Retry-After", body = Detail),
    ))]
#[debug_handler]
pub async fn request_export(
    State(ctx): State<AppContext>,
    origin: Origin,
    CurrentUser(user): CurrentUser,
) -> ApiResult<(StatusCode, Json<ExportResponse>)> {
    let export = data_exports::Model::request((&ctx.db, &ctx.storage), user.id).await?;
    let kind = EventKind::ExportRequested;
    security_events::Model::note(&ctx.db, user.id, kind, &origin, None).await;
    DataExportWorker::perform_later(
        &ctx,
        DataExportArgs {
            export_id: export.id,
        },
    )
    .await?;
    // A worker in this process may have written it already.
    let export = data_exports::Model::find_of(&ctx.db, user.id)
        .await?
        .unwrap_or(export);
    Ok((
        StatusCode::ACCEPTED,
        Json(ExportResponse::new(&export, Utc::now())),
    ))
}

/// Where the caller's export is.
#[utoipa::path(get, path = "/api/v1/users/me/export", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ExportResponse), (status = 401, body = Detail),
        (status = 404, description = "No export was asked for", body = Detail),
    ))]
#[debug_handler]
pub async fn export_state(
    State(ctx): State<AppContext>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<ExportResponse>> {
    let export = data_exports::Model::find_of(&ctx.db, user.id)
        .await?
        .ok_or(ApiError::NotFound(msg::EXPORT_NOT_FOUND.into()))?;
    Ok(Json(ExportResponse::new(&export, Utc::now())))
}

/// The caller's export archive, streamed (`application/zip`).
#[utoipa::path(get, path = "/api/v1/users/me/export/download", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The zip archive", content_type = "application/zip"),
        (status = 401, body = Detail),
        (status = 404, description = "No export, or it expired", body = Detail),
        (status = 409, description = "The export is being written, or failed", body = Detail),
        (status = 503, description = "The store did not answer", body = Detail),
    ))]
#[debug_handler]
pub async fn download_export(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound(msg::EXPORT_NOT_FOUND.into());
    let export = data_exports::Model::find_of(&ctx.db, user.id)
        .await?
        .ok_or_else(not_found)?;
    let key = match (export.state(Utc::now()), export.storage_key.as_deref()) {
        (ExportState::Ready, Some(key)) => key,
        (ExportState::Expired, _) => return Err(not_found()),
        _ => return Err(ApiError::Conflict(msg::EXPORT_NOT_READY.into())),
    };
    let stream = ctx
        .storage
        .download_stream(std::path::Path::new(key))
        .await
        .map_err(FileError::Storage)?;
    let date = export.created_at.format("%Y-%m-%d");
    let name = format!("{}-data-{date}.zip", app.settings.project_name);
    Ok(data_rights::archive(stream, &name))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(request_deletion))
        .route(routes!(cancel_deletion))
        .route(routes!(request_export, export_state))
        .route(routes!(download_export))
}
