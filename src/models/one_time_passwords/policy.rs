//! What sign-in codes are: six digits from 1 to 9 from a CSPRNG, stored as
//! a hash keyed with `SECRET_KEY` and bound to the email, and the
//! development code that stands for any of them.

use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::*;

/// What signing in with a code needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct CodePolicy {
    /// Keys the code hashes, so a copy of the table does not give the codes away.
    pub secret: SecretString,
    /// The development code that signs in any existing user; `None` in production.
    pub persistent_code: Option<SecretString>,
    pub apple_review_email: Email,
    /// How long an ordinary code lives.
    pub lifetime: Duration,
    /// How long the Apple review team's code lives.
    pub apple_review_lifetime: Duration,
}

/// A field that must be a code, in FastAPI's words when it is not.
///
/// # Errors
/// When `code` is not six digits.
pub fn six_digits(code: &str) -> Result<(), validator::ValidationError> {
    if is_code(code) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("string_pattern_mismatch")
            .with_message("String should match pattern '^\\d{6}$'".into()))
    }
}

/// Whether `text` has the shape of a code (six digits).
#[must_use]
pub fn is_code(text: &str) -> bool {
    text.len() == CODE_LENGTH && text.bytes().all(|byte| byte.is_ascii_digit())
}

impl CodePolicy {
    /// `None` only if the key were refused, which HMAC never does.
    #[must_use]
    pub fn hash(&self, email: &Email, code: &str) -> Option<String> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes()).ok()?;
        mac.update(email.as_str().as_bytes());
        mac.update(b":");
        mac.update(code.as_bytes());
        Some(crate::models::hex(&mac.finalize().into_bytes()))
    }

    /// A fresh code: digits 1 to 9, never the persistent code.
    #[must_use]
    pub fn generate(&self) -> String {
        let mut rng = rand::rng();
        loop {
            let code: String = (0..CODE_LENGTH)
                .map(|_| char::from(b'0' + rng.random_range(1..=9u8)))
                .collect();
            if !self.is_persistent(&code) {
                return code;
            }
        }
    }

    pub(super) fn is_persistent(&self, code: &str) -> bool {
        self.persistent_code.as_ref().is_some_and(|persistent| {
            bool::from(persistent.expose_secret().as_bytes().ct_eq(code.as_bytes()))
        })
    }

    pub(super) fn is_apple_reviewer(email: &Email) -> bool {
        email.domain() == "apple.com"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CodePolicy {
        CodePolicy {
            secret: SecretString::from("secret"),
            persistent_code: Some(SecretString::from("123456")),
            apple_review_email: email("review@apple.com"),
            lifetime: Duration::minutes(10),
            apple_review_lifetime: Duration::days(15),
        }
    }

    fn email(raw: &str) -> Email {
        Email::parse(raw).expect("an email")
    }

    #[test]
    fn codes_are_six_digits_from_one_to_nine_and_never_the_persistent_code() {
        let policy = policy();
        for _ in 0..2000 {
            let code = policy.generate();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(
                code.chars().all(|digit| ('1'..='9').contains(&digit)),
                "{code}"
            );
            assert_ne!(code, "123456");
        }
    }

    #[test]
    fn hashes_are_keyed_and_bound_to_the_email() {
        let policy = policy();
        let hash = policy.hash(&email("Jane@example.com"), "654321");
        assert_eq!(hash, policy.hash(&email("jane@example.com"), "654321"));
        assert_ne!(hash, policy.hash(&email("john@example.com"), "654321"));
        assert_ne!(hash.as_deref(), Some("654321"));
        let other = CodePolicy {
            secret: SecretString::from("other"),
            ..policy
        };
        assert_ne!(hash, other.hash(&email("jane@example.com"), "654321"));
    }
}
