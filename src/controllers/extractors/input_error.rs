//! Turns deserialization and validation failures into FastAPI's 422 entries.

use std::fmt::Display;

use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::errors::{ApiError, FieldError, LocPart};

/// Refuses input carrying a NUL character (`needle`: how the format spells
/// it), which no text column takes: PostgreSQL would fail the query.
///
/// # Errors
/// A 422 naming `location`.
pub fn reject_nul(location: &str, input: &[u8], needle: &[u8]) -> Result<(), ApiError> {
    let found = input
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle));
    if found {
        Err(ApiError::field(
            vec![LocPart::from(location)],
            "Input should not contain NUL characters",
            "string_type",
        ))
    } else {
        Ok(())
    }
}

/// Deserializes with `deserializer`, naming the failing field under `location`
/// (`body`, `query`, `path`), then validates.
///
/// # Errors
/// A 422 listing what is missing, malformed or invalid.
pub fn parse<'de, T, D>(location: &str, deserializer: D) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate,
    D: serde::Deserializer<'de>,
    D::Error: Display,
{
    let value: T = serde_path_to_error::deserialize(deserializer)
        .map_err(|error| ApiError::Validation(vec![field_error(location, &error)]))?;
    validate(location, &value)?;
    Ok(value)
}

/// # Errors
/// A 422 listing each rule `value` breaks.
pub fn validate(location: &str, value: &impl Validate) -> Result<(), ApiError> {
    value.validate().map_err(|errors| {
        let mut fields = Vec::new();
        collect(&errors, &mut vec![LocPart::from(location)], &mut fields);
        fields.sort_by(|a, b| format!("{:?}", a.loc).cmp(&format!("{:?}", b.loc)));
        ApiError::Validation(fields)
    })
}

fn collect(errors: &ValidationErrors, loc: &mut Vec<LocPart>, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        loc.push(LocPart::Key(field.to_string()));
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let msg = error
                        .message
                        .as_ref()
                        .map_or_else(|| error.code.to_string(), ToString::to_string);
                    out.push(FieldError::new(loc.clone(), msg, error.code.to_string()));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, loc, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    loc.push(LocPart::Index(*index));
                    collect(inner, loc, out);
                    loc.pop();
                }
            }
        }
        loc.pop();
    }
}

/// The 422 entry for a value that did not deserialize.
pub fn field_error<E: Display>(
    location: &str,
    error: &serde_path_to_error::Error<E>,
) -> FieldError {
    let mut loc = vec![LocPart::from(location)];
    for segment in error.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(LocPart::Index(*index)),
            serde_path_to_error::Segment::Map { key } => loc.push(LocPart::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => {
                loc.push(LocPart::Key(variant.clone()));
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = error.inner().to_string();
    // serde_json appends the position; the location already says where.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_string();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        loc.push(LocPart::Key(field.to_string()));
        return FieldError::new(loc, "Field required", "missing");
    }
    let kind = if message.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    };
    FieldError::new(loc, message, kind)
}
