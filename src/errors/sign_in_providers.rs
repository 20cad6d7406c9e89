//! The errors of sign-in with a provider, as HTTP.

use super::{ApiError, msg};
use crate::models::{
    apple::AppleError, id_tokens::IdTokenError, native_sign_in::NativeSignInError,
    sso_providers::SsoError,
};

impl From<SsoError> for ApiError {
    fn from(error: SsoError) -> Self {
        match error {
            SsoError::InvalidState => Self::BadRequest(msg::INVALID_STATE.into()),
            SsoError::Model(error) => Self::Model(error),
            SsoError::Url(_) => Self::Internal(error.to_string()),
            SsoError::Exchange(_) | SsoError::Profile(_) | SsoError::NoEmail => {
                Self::BadRequest(msg::SSO_FAILED.into())
            }
            SsoError::NoAnswer(_) => {
                tracing::warn!(error = %error, "provider sign-in: no answer");
                Self::GatewayTimeout(msg::SSO_NO_ANSWER.into())
            }
        }
    }
}

impl From<IdTokenError> for ApiError {
    fn from(error: IdTokenError) -> Self {
        if let IdTokenError::NoAnswer(_) | IdTokenError::Keys(_) = error {
            tracing::warn!(error = %error, "the provider's keys could not be read");
            return Self::GatewayTimeout(msg::SSO_NO_ANSWER.into());
        }
        tracing::info!(error = %error, "an ID token was refused");
        Self::Unauthorized(msg::INVALID_ID_TOKEN.into())
    }
}

impl From<NativeSignInError> for ApiError {
    fn from(error: NativeSignInError) -> Self {
        match error {
            NativeSignInError::Token(error) => error.into(),
            NativeSignInError::Model(error) => Self::Model(error),
            NativeSignInError::UnverifiedEmail | NativeSignInError::Spent => {
                tracing::info!(error = %error, "native sign-in refused");
                Self::Unauthorized(msg::INVALID_ID_TOKEN.into())
            }
        }
    }
}

/// Revoking Apple's token before a deletion: the deletion waits for it.
impl From<AppleError> for ApiError {
    fn from(error: AppleError) -> Self {
        tracing::warn!(error = %error, "apple: revocation failed");
        match error {
            AppleError::Db(error) => Self::Db(error),
            AppleError::NoAnswer(_) => Self::GatewayTimeout(msg::APPLE_REVOKE_FAILED.into()),
            AppleError::Key(_) | AppleError::Sign(_) | AppleError::Refused(_) => {
                Self::Unavailable(msg::APPLE_REVOKE_FAILED.into())
            }
        }
    }
}
