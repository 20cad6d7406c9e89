//! What clients send to make or change a user, with FastAPI's validation
//! messages.

use super::*;

/// `UserCreate`: a new account. The password is optional where the account can
/// sign in by one-time code instead. Not `Debug`: it holds a password.
#[derive(Clone, Deserialize, Validate, ToSchema)]
pub struct UserCreate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Email,
    #[validate(length(
        min = 8,
        code = "string_too_short",
        message = "String should have at least 8 characters"
    ))]
    #[schema(min_length = 8)]
    pub password: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "name_length"))]
    pub first_name: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "name_length"))]
    pub last_name: Option<String>,
    #[serde(default)]
    #[schema(example = "en")]
    pub language: Option<String>,
}

/// `UserUpdate`: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct UserUpdate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Option<Email>,
    #[validate(custom(function = "name_length"))]
    pub first_name: Option<String>,
    #[validate(custom(function = "name_length"))]
    pub last_name: Option<String>,
    pub language: Option<String>,
}

/// What an admin may change on any user: `UserUpdate` and the role. Its
/// fields are spelled out rather than flattened, so that a bad value is
/// named by its field.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct AdminUserUpdate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Option<Email>,
    #[validate(custom(function = "name_length"))]
    pub first_name: Option<String>,
    #[validate(custom(function = "name_length"))]
    pub last_name: Option<String>,
    pub language: Option<String>,
    pub role: Option<Role>,
}

impl UserUpdate {
    /// The email asked for, when it is not `current`.
    #[must_use]
    pub fn new_email(&self, current: &str) -> Option<&Email> {
        self.email
            .as_ref()
            .filter(|email| email.as_str() != current)
    }
}

impl AdminUserUpdate {
    /// The changes to the account, and the new role.
    #[must_use]
    pub fn split(self) -> (UserUpdate, Option<Role>) {
        let user = UserUpdate {
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            language: self.language,
        };
        (user, self.role)
    }
}

/// Names are at most 255 characters, as FastAPI words it.
pub(super) fn name_length(name: &str) -> Result<(), validator::ValidationError> {
    if name.chars().count() <= 255 {
        Ok(())
    } else {
        Err(validator::ValidationError::new("string_too_long")
            .with_message("String should have at most 255 characters".into()))
    }
}

pub(super) fn checked_language(
    language: Option<&str>,
    languages: &[&str],
) -> Result<String, UserError> {
    match language {
        Some(language) if !languages.contains(&language) => Err(UserError::UnsupportedLanguage),
        Some(language) => Ok(language.to_string()),
        None => Ok(DEFAULT_LANGUAGE.to_string()),
    }
}
