use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use loco_rs::storage::stream::BytesStream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::files;

/// `File`. `url` downloads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileResponse<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub mime_type: &'a str,
    pub size: i64,
    pub owner_id: Uuid,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

impl<'a> FileResponse<'a> {
    #[must_use]
    pub fn new(file: &'a files::Model, server_host: &str) -> Self {
        Self {
            id: file.id,
            name: &file.name,
            mime_type: &file.mime_type,
            size: file.size,
            owner_id: file.owner_id,
            url: format!("{server_host}/api/v1/files/{}/download", file.id),
            created_at: file.created_at.into(),
        }
    }
}

/// `FileUsage`: what the caller's files come to, and their quota (`null`
/// for no limit, as for admins).
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageResponse {
    pub bytes: u64,
    pub count: u64,
    pub quota_bytes: Option<u64>,
    pub quota_count: Option<u64>,
}

impl UsageResponse {
    #[must_use]
    pub const fn new(usage: files::Usage, quota: files::Quota) -> Self {
        Self {
            bytes: usage.bytes,
            count: usage.count,
            quota_bytes: quota.bytes,
            quota_count: quota.count,
        }
    }
}

/// The form of an upload, for the OpenAPI document.
#[derive(ToSchema)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// RFC 5987 `attr-char`s pass as they are; every other byte is escaped.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with the name twice (RFC 6266): `filename` in plain ASCII for
/// old clients (anything else, quotes, backslashes and separators become
/// `_`), and `filename*` with the exact name in UTF-8. Nothing from the name
/// can end the header or add a parameter.
#[must_use]
pub fn content_disposition(name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/' | ';' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = utf8_percent_encode(name, ATTR_CHAR);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The bytes of a file, streamed, with its type and length.
pub fn bytes(file: &files::Model, stream: BytesStream, extra: HeaderMap) -> Response {
    let mut headers = extra;
    if let Ok(mime_type) = HeaderValue::from_str(&file.mime_type) {
        headers.insert(header::CONTENT_TYPE, mime_type);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    (StatusCode::OK, headers, Body::from_stream(stream)).into_response()
}

/// A download: the bytes, as an attachment under the file's name.
pub fn download(file: &files::Model, stream: BytesStream) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(&file.name));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    bytes(file, stream, headers)
}

/// A picture's headers: it never changes under its URL (a new picture gets
/// a new one), so caches may keep it; its id is its `ETag`.
#[must_use]
pub fn picture_headers(file: &files::Model) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&picture_etag(file)) {
        headers.insert(header::ETAG, etag);
    }
    headers
}

#[must_use]
pub fn picture_etag(file: &files::Model) -> String {
    format!("\"{}\"", file.id.simple())
}

/// Whether `If-None-Match` already names this picture: then 304.
#[must_use]
pub fn is_fresh(request_headers: &HeaderMap, file: &files::Model) -> bool {
    let etag = picture_etag(file);
    request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// 304: the client's copy is current.
#[must_use]
pub fn not_modified(file: &files::Model) -> Response {
    (StatusCode::NOT_MODIFIED, picture_headers(file)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_out_of_the_header() {
        let header = content_disposition("a\"b\\c/d;e\r\nX-Evil: 1 été.pdf");
        let text = header.to_str().expect("ASCII");
        assert_eq!(
            text,
            "attachment; filename=\"a_b_c_d_e__X-Evil: 1 _t_.pdf\"; \
             filename*=UTF-8''a%22b%5Cc%2Fd%3Be%0D%0AX-Evil%3A%201%20%C3%A9t%C3%A9.pdf"
        );
        assert!(!text.contains('\n') && !text.contains('\r'));
    }
}
