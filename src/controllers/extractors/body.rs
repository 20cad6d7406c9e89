use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::StatusCode,
};
use serde::de::DeserializeOwned;
use validator::Validate;

use super::input_error;
use crate::errors::{ApiError, FieldError, LocPart, msg};

/// A JSON body, parsed whatever the `Content-Type`, then validated.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// An `application/x-www-form-urlencoded` body, parsed then validated.
#[derive(Debug)]
pub struct FormBody<T>(pub T);

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(msg::PAYLOAD_TOO_LARGE.into())
            } else {
                ApiError::field(vec!["body".into()], rejection.body_text(), "body_read")
            }
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::field(
            vec!["body".into()],
            "Field required",
            "missing",
        ));
    }
    Ok(bytes)
}

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        input_error::reject_nul("body", &bytes, b"\\u0000")?;
        // serde reads a struct from an array too; FastAPI wants an object.
        if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::field(
                vec!["body".into()],
                "Input should be a valid dictionary or object to extract fields from",
                "model_attributes_type",
            ));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value: T = match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => value,
            Err(error) if error.inner().is_syntax() || error.inner().is_eof() => {
                return Err(json_invalid(error.inner()));
            }
            Err(error) => {
                return Err(ApiError::Validation(vec![input_error::field_error(
                    "body", &error,
                )]));
            }
        };
        deserializer.end().map_err(|error| json_invalid(&error))?;
        input_error::validate("body", &value)?;
        Ok(Self(value))
    }
}

/// A body that is not JSON at all says so, rather than naming a field.
fn json_invalid(error: &serde_json::Error) -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        vec![LocPart::from("body")],
        format!("JSON decode error: {error}"),
        "json_invalid",
    )])
}

impl<T, S> FromRequest<S> for FormBody<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        input_error::reject_nul("body", &bytes, b"%00")?;
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        Ok(Self(input_error::parse("body", deserializer)?))
    }
}
