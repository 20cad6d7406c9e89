use axum::{
    extract::{FromRequestParts, Path, RawPathParams, path::ErrorKind, rejection::PathRejection},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::errors::{ApiError, FieldError, LocPart};

/// Path parameters, which in this API are ids; one that does not parse is a 422 naming
/// `["path", "<name>"]`.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        super::input_error::reject_nul("path", parts.uri.path().as_bytes(), b"%00")?;
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                let mut loc = vec![LocPart::from("path")];
                match error.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. } => loc.push(LocPart::Key(key.clone())),
                    // A lone parameter is parsed without its name: take it from the route.
                    _ => {
                        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await
                            && let Some((key, _)) = raw.iter().next()
                        {
                            loc.push(LocPart::from(key));
                        }
                    }
                }
                Err(ApiError::Validation(vec![FieldError::new(
                    loc,
                    "Input should be a valid UUID",
                    "uuid_parsing",
                )]))
            }
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}
