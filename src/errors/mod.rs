//! Every error a request can end in, and the one place that turns it into HTTP:
//! `{"detail": "<message>"}`, or FastAPI's list of field errors for a 422.

use std::borrow::Cow;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use loco_rs::model::{ModelError, ModelResult};
use sea_orm::{DbErr, SqlErr, prelude::DateTimeWithTimeZone};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    infra::rate_limit::RateLimitError,
    mailers::account::MailError,
    models::{
        access::AccessError,
        data_exports::ExportError,
        deletion_proof::DeletionError,
        files::FileError,
        passkeys::PasskeyError,
        passwords::Saturated,
        two_factor::TwoFactorError,
        users::{CodeSignIn, EraseError, ScheduledForDeletion, UserError},
    },
};

pub mod msg;
mod sign_in_providers;

/// One entry of a 422 body, as FastAPI writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where the bad value sits: `["body", "email"]`, `["query", "limit"]`,
    /// `["body", "tags", 2]` (an index into a list).
    pub loc: Vec<LocPart>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A key, or a list index: `string | integer`, as FastAPI documents it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LocPart {
    Key(String),
    Index(usize),
}

impl From<&str> for LocPart {
    fn from(key: &str) -> Self {
        Self::Key(key.to_string())
    }
}

impl FieldError {
    pub fn new(loc: Vec<LocPart>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            loc,
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

/// `{"detail": "..."}`, the body of every error but a 422.
#[derive(Debug, Serialize, ToSchema)]
pub struct Detail {
    pub detail: String,
}

/// `{"detail": [...]}`, the body of a 422.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationDetail {
    pub detail: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(Cow<'static, str>),
    #[error("{0}")]
    Unauthorized(Cow<'static, str>),
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    #[error("{0}")]
    NotFound(Cow<'static, str>),
    #[error("{0}")]
    Conflict(Cow<'static, str>),
    #[error("{0}")]
    PayloadTooLarge(Cow<'static, str>),
    #[error("{0}")]
    UnsupportedMediaType(Cow<'static, str>),
    /// Busy or cut off from a service it needs: try again soon.
    #[error("{0}")]
    Unavailable(Cow<'static, str>),
    /// A service this request needed did not answer in time.
    #[error("{0}")]
    GatewayTimeout(Cow<'static, str>),
    /// Over a rate limit; try again in this many seconds.
    #[error("too many requests, retry in {0} s")]
    TooManyRequests(u64),
    #[error("invalid request: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Framework(#[from] loco_rs::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    #[must_use]
    pub fn field(loc: Vec<LocPart>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(loc, msg, kind)])
    }

    /// A refused sign-in by code (or the password form): 429 while codes are
    /// locked, else 401 with `refused`.
    #[must_use]
    pub fn refused_sign_in(outcome: CodeSignIn, refused: &'static str) -> Self {
        match outcome {
            CodeSignIn::Locked { until, .. } => Self::locked_until(until),
            CodeSignIn::SignedIn(_) | CodeSignIn::Refused => Self::Unauthorized(refused.into()),
        }
    }

    /// 429 with `Retry-After` saying when a lock on wrong codes ends.
    #[must_use]
    pub fn locked_until(until: DateTimeWithTimeZone) -> Self {
        let seconds = (until.to_utc() - chrono::Utc::now()).num_seconds();
        Self::TooManyRequests(u64::try_from(seconds).unwrap_or_default().saturating_add(1))
    }

    fn status_and_body(&self) -> (StatusCode, ErrorBody) {
        let detail = |status, text: &Cow<'static, str>| (status, ErrorBody::Message(text.clone()));
        match self {
            Self::BadRequest(text) => detail(StatusCode::BAD_REQUEST, text),
            Self::Unauthorized(text) => detail(StatusCode::UNAUTHORIZED, text),
            Self::Forbidden(text) => detail(StatusCode::FORBIDDEN, text),
            Self::NotFound(text) => detail(StatusCode::NOT_FOUND, text),
            Self::Conflict(text) => detail(StatusCode::CONFLICT, text),
            Self::PayloadTooLarge(text) => detail(StatusCode::PAYLOAD_TOO_LARGE, text),
            Self::UnsupportedMediaType(text) => detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, text),
            Self::Unavailable(text) => detail(StatusCode::SERVICE_UNAVAILABLE, text),
            Self::GatewayTimeout(text) => detail(StatusCode::GATEWAY_TIMEOUT, text),
            Self::TooManyRequests(_) => detail(
                StatusCode::TOO_MANY_REQUESTS,
                &Cow::Borrowed(msg::TOO_MANY_REQUESTS),
            ),
            Self::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorBody::Fields(errors.clone()),
            ),
            Self::Model(ModelError::EntityNotFound) => {
                detail(StatusCode::NOT_FOUND, &Cow::Borrowed(msg::NOT_FOUND))
            }
            Self::Model(ModelError::EntityAlreadyExists) => {
                detail(StatusCode::CONFLICT, &Cow::Borrowed(msg::CONFLICT))
            }
            Self::Model(ModelError::Any(error)) if error.is::<ScheduledForDeletion>() => detail(
                StatusCode::FORBIDDEN,
                &Cow::Borrowed(msg::DELETION_SCHEDULED),
            ),
            Self::Model(ModelError::Any(error)) if error.is::<Saturated>() => {
                tracing::warn!("password hashing saturated: request turned away");
                detail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &Cow::Borrowed(msg::UNAVAILABLE),
                )
            }
            Self::Db(error)
            | Self::Model(ModelError::DbErr(error))
            | Self::Framework(loco_rs::Error::DB(error))
                if database_unavailable(error) =>
            {
                tracing::warn!(error = %self, "database unavailable: request turned away");
                detail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &Cow::Borrowed(msg::UNAVAILABLE),
                )
            }
            // Two writes of the same unique value, one of them a moment late:
            // the row exists, which is no server error.
            Self::Db(error)
            | Self::Model(ModelError::DbErr(error))
            | Self::Framework(loco_rs::Error::DB(error))
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                detail(StatusCode::CONFLICT, &Cow::Borrowed(msg::CONFLICT))
            }
            Self::Internal(_) | Self::Db(_) | Self::Model(_) | Self::Framework(_) => {
                tracing::error!(error = %self, "request failed");
                detail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &Cow::Borrowed(msg::INTERNAL),
                )
            }
        }
    }
}

/// The database cannot serve now, but may soon: no connection free in time,
/// none to be made, or one cut under the query (a restart, a failover). Not
/// the request's fault: 503, try again.
fn database_unavailable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(cause)) | DbErr::Exec(RuntimeErr::SqlxError(cause)) => {
            match cause.as_ref() {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                // Class 08: connection exceptions; 57P01-03: the server is
                // shutting down, crashed, or not yet accepting connections.
                Sqlx::Database(database) => database.code().is_some_and(|code| {
                    code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// What an error response says, kept on the response so that the language
/// middleware can say it again in the caller's language.
#[derive(Debug, Clone)]
pub enum ErrorBody {
    Message(Cow<'static, str>),
    Fields(Vec<FieldError>),
}

impl ErrorBody {
    /// The JSON body, with each message passed through `translate`.
    pub fn to_json<'a>(&'a self, translate: impl Fn(&'a str) -> &'a str) -> serde_json::Value {
        match self {
            Self::Message(text) => serde_json::json!({ "detail": translate(text) }),
            Self::Fields(errors) => {
                let detail: Vec<FieldError> = errors
                    .iter()
                    .map(|error| FieldError {
                        msg: translate(&error.msg).to_string(),
                        ..error.clone()
                    })
                    .collect();
                serde_json::json!({ "detail": detail })
            }
        }
    }

    /// An error response in English.
    #[must_use]
    pub fn into_response(self, status: StatusCode) -> Response {
        let mut response = (status, Json(self.to_json(|text| text))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        let mut response = body.into_response(status);
        let retry_after = match self {
            Self::TooManyRequests(seconds) => Some(seconds.max(1)),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Gives a model's "not found" the message the contract names.
pub trait ModelResultExt<T> {
    /// # Errors
    /// `ApiError::NotFound(message)` for a missing row, the error itself otherwise.
    fn or_not_found(self, message: &'static str) -> ApiResult<T>;
}

impl<T> ModelResultExt<T> for ModelResult<T> {
    fn or_not_found(self, message: &'static str) -> ApiResult<T> {
        self.map_err(|error| match error {
            ModelError::EntityNotFound => ApiError::NotFound(Cow::Borrowed(message)),
            other => ApiError::Model(other),
        })
    }
}

/// An owned row someone asked for: unknown (404, with `message`), or
/// someone else's (403).
impl<T> ModelResultExt<T> for Result<T, AccessError> {
    fn or_not_found(self, message: &'static str) -> ApiResult<T> {
        self.map_err(|error| match error {
            AccessError::NotFound => ApiError::NotFound(Cow::Borrowed(message)),
            AccessError::Forbidden => ApiError::Forbidden(msg::NOT_ENOUGH_PRIVILEGE.into()),
            AccessError::Model(error) => ApiError::Model(error),
        })
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::EmailTaken => Self::Conflict(msg::EMAIL_TAKEN.into()),
            UserError::UnsupportedLanguage => Self::field(
                vec!["body".into(), "language".into()],
                msg::UNSUPPORTED_LANGUAGE,
                "enum",
            ),
            UserError::Archived => Self::Unauthorized(msg::INVALID_CREDENTIALS.into()),
            UserError::WeakPassword(field) => Self::field(
                vec!["body".into(), field.into()],
                msg::WEAK_PASSWORD,
                "value_error",
            ),
            UserError::IncorrectPassword => Self::Unauthorized(msg::INCORRECT_PASSWORD.into()),
            UserError::SignInAgain => Self::Unauthorized(msg::SIGN_IN_AGAIN.into()),
            UserError::CodesLocked(until) => Self::locked_until(until),
            UserError::NoEmail => Self::BadRequest(msg::NO_PROVIDER_EMAIL.into()),
            UserError::Model(error) => Self::Model(error),
        }
    }
}

impl From<TwoFactorError> for ApiError {
    fn from(error: TwoFactorError) -> Self {
        match error {
            TwoFactorError::AlreadyOn => Self::Conflict(msg::TWO_FACTOR_ALREADY_ON.into()),
            TwoFactorError::NotSetUp => Self::Conflict(msg::TWO_FACTOR_NOT_SET_UP.into()),
            TwoFactorError::WrongCode => Self::Unauthorized(msg::INVALID_CODE.into()),
            TwoFactorError::Locked { until, .. } => Self::locked_until(until),
            TwoFactorError::InvalidChallenge => Self::Unauthorized(msg::INVALID_TOKEN.into()),
            TwoFactorError::SignInAgain => Self::Unauthorized(msg::SIGN_IN_AGAIN.into()),
            TwoFactorError::Passkey(error) => error.into(),
            TwoFactorError::Model(error) => Self::Model(error),
        }
    }
}

impl From<PasskeyError> for ApiError {
    fn from(error: PasskeyError) -> Self {
        match error {
            PasskeyError::Ceremony => Self::BadRequest(msg::PASSKEY_CEREMONY.into()),
            PasskeyError::SignInAgain => Self::Unauthorized(msg::SIGN_IN_AGAIN.into()),
            PasskeyError::Refused(_) | PasskeyError::CounterWentBack { .. } => {
                Self::Unauthorized(msg::PASSKEY_REFUSED.into())
            }
            PasskeyError::Model(error) => Self::Model(error),
        }
    }
}

impl From<DeletionError> for ApiError {
    fn from(error: DeletionError) -> Self {
        match error {
            DeletionError::IncorrectPassword => Self::Unauthorized(msg::INCORRECT_PASSWORD.into()),
            DeletionError::SignInAgain => Self::Unauthorized(msg::SIGN_IN_AGAIN.into()),
            DeletionError::SecondFactor(error) => error.into(),
            DeletionError::Model(error) => Self::Model(error),
        }
    }
}

impl From<EraseError> for ApiError {
    fn from(error: EraseError) -> Self {
        match error {
            EraseError::Provider(error) => error.into(),
            EraseError::Model(error) => Self::Model(error),
        }
    }
}

impl From<ExportError> for ApiError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::Pending => Self::Conflict(msg::EXPORT_PENDING.into()),
            ExportError::TooSoon(next) => Self::locked_until(next.into()),
            ExportError::Model(error) => Self::Model(error),
        }
    }
}

impl From<FileError> for ApiError {
    fn from(error: FileError) -> Self {
        let file = || vec![LocPart::from("body"), LocPart::from("file")];
        match error {
            FileError::NotFound => Self::NotFound(msg::FILE_NOT_FOUND.into()),
            FileError::Forbidden => Self::Forbidden(msg::NOT_ENOUGH_PRIVILEGE.into()),
            FileError::TooLarge(_) => Self::PayloadTooLarge(msg::FILE_TOO_LARGE.into()),
            FileError::Empty => Self::field(file(), msg::FILE_EMPTY, "value_error"),
            FileError::Unreadable(_) => Self::field(file(), msg::FILE_UNREADABLE, "value_error"),
            FileError::NotAPicture => Self::UnsupportedMediaType(msg::NOT_A_PICTURE.into()),
            FileError::PictureTooLarge => Self::PayloadTooLarge(msg::PICTURE_TOO_LARGE.into()),
            FileError::Saturated => {
                tracing::warn!("image decoding saturated: request turned away");
                Self::Unavailable(msg::UNAVAILABLE.into())
            }
            FileError::TooManyAtOnce => Self::TooManyRequests(1),
            FileError::OverQuota => Self::PayloadTooLarge(msg::FILE_QUOTA_EXCEEDED.into()),
            FileError::Storage(error) => {
                tracing::error!(%error, "file store failed");
                Self::Unavailable(msg::UNAVAILABLE.into())
            }
            FileError::Model(error) => Self::Model(error),
        }
    }
}

impl From<RateLimitError> for ApiError {
    fn from(error: RateLimitError) -> Self {
        let RateLimitError::TooMany(seconds) = error;
        Self::TooManyRequests(seconds)
    }
}

impl From<MailError> for ApiError {
    fn from(error: MailError) -> Self {
        Self::Internal(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_and_an_exhausted_pool_are_503_with_retry_after() {
        let saturated = ApiError::Model(ModelError::Any(Saturated.into()));
        let pool = ApiError::Db(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout));
        for error in [saturated, pool] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
    }

    #[test]
    fn a_connection_cut_under_a_query_is_503_not_500() {
        use sea_orm::{RuntimeErr, sqlx};
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let cut = DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::Io(
            io,
        ))));
        let closed = DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(
            sqlx::Error::PoolClosed,
        )));
        for error in [cut, closed] {
            assert_eq!(
                ApiError::Db(error).into_response().status(),
                StatusCode::SERVICE_UNAVAILABLE
            );
        }
        let broken = DbErr::Query(RuntimeErr::Internal("syntax".to_string()));
        assert_eq!(
            ApiError::Db(broken).into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
