//! Signed tokens (JWT, HS256). Every token names its kind, and a token is only
//! accepted where its kind is expected: a refresh token is not an access token.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use loco_rs::model::{ModelError, ModelResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
    SsoConfirmation,
    PasswordReset,
    /// What a sign-in with two-factor on answers, to trade with a code.
    TwoFactorChallenge,
    /// What the mail of a scheduled account deletion carries, to cancel it.
    DeletionCancel,
}

impl TokenKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::SsoConfirmation => "sso_confirmation",
            Self::PasswordReset => "password_reset",
            Self::TwoFactorChallenge => "two_factor_challenge",
            Self::DeletionCancel => "deletion_cancel",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    pub kind: TokenKind,
    pub iat: i64,
    pub exp: i64,
    /// Unique per token, so that a token can be recorded and revoked.
    pub jti: Uuid,
    /// The user's `token_version` when it was signed: an access token of an
    /// older version is void. (Absent from tokens signed before versions.)
    #[serde(default)]
    pub ver: i32,
    /// When the user signed in (Unix seconds), kept through refreshes: what
    /// asks for a recent sign-in reads this, not `iat`. 0 when unknown.
    #[serde(default)]
    pub auth_time: i64,
    /// The session an access or refresh token belongs to; an access token
    /// without one (signed before sessions) is void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// What a session's tokens carry besides their kind: the user's
/// `token_version`, and when they signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStamp {
    pub version: i32,
    pub auth_time: i64,
    pub session_id: Option<Uuid>,
}

/// A signed token and what it says. Not `Debug`: the token is a secret.
#[derive(Clone)]
pub struct IssuedToken {
    pub token: String,
    pub claims: Claims,
}

impl IssuedToken {
    #[must_use]
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.claims.exp, 0).unwrap_or_default()
    }
}

/// Signs and checks tokens with the server's `SECRET_KEY`; built once at boot.
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetimes: SessionLifetimes,
}

/// Seconds the tokens of a session live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    pub access_seconds: i64,
    pub refresh_seconds: i64,
}

impl Default for SessionLifetimes {
    fn default() -> Self {
        Self {
            access_seconds: 60 * 60,
            refresh_seconds: 30 * 24 * 60 * 60,
        }
    }
}

impl TokenSigner {
    #[must_use]
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // The same server signs and checks, so there is no clock skew to allow for.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            lifetimes: SessionLifetimes::default(),
        }
    }

    #[must_use]
    pub const fn with_session_lifetimes(mut self, lifetimes: SessionLifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    #[must_use]
    pub const fn session_lifetimes(&self) -> SessionLifetimes {
        self.lifetimes
    }

    /// A token outside any session (single-use tokens, which are revoked by
    /// their rows).
    ///
    /// # Errors
    /// When the token cannot be encoded.
    pub fn issue(
        &self,
        user_id: Uuid,
        kind: TokenKind,
        lifetime_seconds: i64,
    ) -> ModelResult<IssuedToken> {
        let stamp = SessionStamp {
            version: 0,
            auth_time: 0,
            session_id: None,
        };
        self.issue_stamped(user_id, kind, lifetime_seconds, stamp)
    }

    /// A token of a session.
    ///
    /// # Errors
    /// When the token cannot be encoded.
    pub fn issue_stamped(
        &self,
        user_id: Uuid,
        kind: TokenKind,
        lifetime_seconds: i64,
        stamp: SessionStamp,
    ) -> ModelResult<IssuedToken> {
        let now = Utc::now();
        let claims = Claims {
            sub: user_id,
            kind,
            iat: now.timestamp(),
            exp: (now + Duration::seconds(lifetime_seconds)).timestamp(),
            jti: Uuid::new_v4(),
            ver: stamp.version,
            auth_time: stamp.auth_time,
            sid: stamp.session_id,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| ModelError::Any(error.into()))?;
        Ok(IssuedToken { token, claims })
    }

    /// The claims of a well-signed, unexpired token of the expected kind.
    #[must_use]
    pub fn verify(&self, token: &str, kind: TokenKind) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
            .filter(|claims| claims.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_its_own_token_of_the_expected_kind_only() {
        let signer = TokenSigner::new("secret");
        let user = Uuid::new_v4();
        let issued = signer.issue(user, TokenKind::Refresh, 60).expect("issue");
        let claims = signer
            .verify(&issued.token, TokenKind::Refresh)
            .expect("valid");
        assert_eq!(claims.sub, user);
        assert!(signer.verify(&issued.token, TokenKind::Access).is_none());
    }

    #[test]
    fn refuses_expired_and_foreign_tokens() {
        let signer = TokenSigner::new("secret");
        let expired = signer
            .issue(Uuid::new_v4(), TokenKind::Access, -1)
            .expect("issue");
        assert!(signer.verify(&expired.token, TokenKind::Access).is_none());

        let other = TokenSigner::new("another secret");
        let foreign = other
            .issue(Uuid::new_v4(), TokenKind::Access, 60)
            .expect("issue");
        assert!(signer.verify(&foreign.token, TokenKind::Access).is_none());
        assert!(signer.verify("not a token", TokenKind::Access).is_none());
    }
}
