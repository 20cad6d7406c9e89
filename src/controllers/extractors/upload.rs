//! The `file` field of a `multipart/form-data` body, handed over as it
//! arrives: the body is never held whole in memory. The field may be at most
//! its route's limit (413 past it, as soon as the limit is passed, or before
//! reading when `Content-Length` already says so); other fields are skipped,
//! and small.

use std::{marker::PhantomData, sync::Arc};

use axum::{
    extract::{FromRequest, Request},
    http::header,
};
use bytes::Bytes;
use futures_util::{StreamExt, stream::BoxStream};
use multer::{Constraints, Multipart, SizeLimit};

use crate::{
    errors::ApiError,
    infra::{settings::FileSettings, state::AppState},
    models::files::{self, FileError},
};

/// The form field that carries the file.
pub const FIELD: &str = "file";

/// What a field other than `file` may weigh.
const OTHER_FIELD_BYTES: u64 = 16 * 1024;

/// Room for the multipart framing and a few small fields around the file.
const FRAMING_BYTES: u64 = 64 * 1024;

/// Which limit an upload route applies.
pub trait UploadLimit: Send {
    fn of(settings: &FileSettings) -> u64;
}

/// `/files`: `FILE_MAX_BYTES`.
pub struct AnyFile;

impl UploadLimit for AnyFile {
    fn of(settings: &FileSettings) -> u64 {
        settings.max_bytes
    }
}

/// A profile picture: `PROFILE_PICTURE_MAX_BYTES`.
pub struct ProfilePicture;

impl UploadLimit for ProfilePicture {
    fn of(settings: &FileSettings) -> u64 {
        settings.profile_picture_max_bytes
    }
}

/// The uploaded file: its cleaned name, its limit, and its bytes to come.
pub struct FileUpload<L> {
    pub name: String,
    pub limit: u64,
    pub body: BoxStream<'static, Result<Bytes, FileError>>,
    kind: PhantomData<L>,
}

impl<S: Send + Sync, L: UploadLimit> FromRequest<S> for FileUpload<L> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let limit = request
            .extensions()
            .get::<Arc<AppState>>()
            .map(|state| L::of(&state.settings.files))
            .ok_or_else(|| ApiError::internal("the app state layer is missing"))?;
        let whole = limit.saturating_add(FRAMING_BYTES);
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > whole) {
            return Err(FileError::TooLarge(limit).into());
        }
        let boundary = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| multer::parse_boundary(value).ok())
            .ok_or_else(missing)?;
        let constraints = Constraints::new().size_limit(
            SizeLimit::new()
                .whole_stream(whole)
                .per_field(OTHER_FIELD_BYTES)
                .for_field(FIELD, limit),
        );
        let mut form = Multipart::with_constraints(
            request.into_body().into_data_stream(),
            boundary,
            constraints,
        );
        let field = loop {
            let field = form
                .next_field()
                .await
                .map_err(|error| read_error(error, limit))?
                .ok_or_else(missing)?;
            if field.name() == Some(FIELD) {
                break field;
            }
            // Read past it: its size is capped by the constraints.
            field
                .bytes()
                .await
                .map_err(|error| read_error(error, limit))?;
        };
        let name = files::clean_name(field.file_name());
        let body = field
            .map(move |chunk| {
                // The form owns the body the field reads from.
                let _ = &form;
                chunk.map_err(|error| read_error(error, limit))
            })
            .boxed();
        Ok(Self {
            name,
            limit,
            body,
            kind: PhantomData,
        })
    }
}

/// No `file` field: FastAPI's 422.
fn missing() -> ApiError {
    ApiError::field(
        vec!["body".into(), FIELD.into()],
        "Field required",
        "missing",
    )
}

fn read_error(error: multer::Error, limit: u64) -> FileError {
    match error {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            FileError::TooLarge(limit)
        }
        other => FileError::Unreadable(other.to_string()),
    }
}
