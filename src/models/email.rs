//! An email address as the application keeps it: trimmed, lower-cased and
//! checked once, where it enters, so nothing further in needs to normalize.
//!
//! In a request body or query, an `Email` field is normalized as it is read
//! and checked by its `#[validate(email)]` rule, which every input extractor
//! runs: a 422 then lists a bad address beside the other bad fields, as
//! FastAPI does, and no handler sees an unchecked address.

use std::{borrow::Cow, fmt};

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::ValidateEmail;

/// The message a malformed address gets, as FastAPI words it.
pub const INVALID_EMAIL: &str = "value is not a valid email address";

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[schema(value_type = String, format = "email", example = "jane@example.com")]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{INVALID_EMAIL}")]
pub struct InvalidEmail;

impl Email {
    /// # Errors
    /// When `raw`, trimmed, is not an email address.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let email = Self::normalized(raw);
        if email.validate_email() {
            Ok(email)
        } else {
            Err(InvalidEmail)
        }
    }

    fn normalized(raw: &str) -> Self {
        Self(raw.trim().to_lowercase())
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Normalizes only: the field's `#[validate(email)]` rule checks it.
impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|raw| Self::normalized(&raw))
    }
}

impl ValidateEmail for Email {
    fn as_email_string(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_lower_cases_and_checks() {
        let email = Email::parse("  Jane@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "jane@example.com");
        assert_eq!(email.domain(), "example.com");
        assert_eq!(Email::parse("not-an-email"), Err(InvalidEmail));
        assert_eq!(Email::parse(""), Err(InvalidEmail));
    }

    #[test]
    fn deserializes_normalized_and_validates_as_an_address() {
        let email: Email = serde_json::from_str("\" A@B.io\"").expect("a string");
        assert_eq!(email.as_str(), "a@b.io");
        assert!(email.validate_email());
        let bad: Email = serde_json::from_str("\"nope\"").expect("a string");
        assert!(!bad.validate_email());
    }
}
