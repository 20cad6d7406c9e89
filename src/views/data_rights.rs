use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use loco_rs::storage::stream::BytesStream;
use serde::Serialize;
use utoipa::ToSchema;

use super::files::content_disposition;
use crate::models::data_exports;

/// `AccountDeletion`: when the account will be deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletionResponse {
    pub deletes_at: DateTime<Utc>,
}

/// `DataExport`: where the caller's export is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportResponse {
    /// `pending`, `ready`, `expired` or `failed`.
    #[schema(value_type = String, example = "ready")]
    pub state: &'static str,
    pub requested_at: DateTime<Utc>,
    /// Until when the archive may be downloaded; null until it is written.
    pub expires_at: Option<DateTime<Utc>>,
}

impl ExportResponse {
    #[must_use]
    pub fn new(export: &data_exports::Model, now: DateTime<Utc>) -> Self {
        Self {
            state: export.state(now).as_str(),
            requested_at: export.created_at.into(),
            expires_at: export.expires_at.map(Into::into),
        }
    }
}

/// The archive, streamed as an attachment named `name`.
pub fn archive(stream: BytesStream, name: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(name));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    (StatusCode::OK, headers, Body::from_stream(stream)).into_response()
}
