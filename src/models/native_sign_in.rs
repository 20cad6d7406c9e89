//! Native sign-in: the ID token a platform's own sheet handed the app (Sign
//! in with Apple's, Google's Credential Manager's), checked against the
//! provider's keys and taken once, for the profile it names.

use chrono::DateTime;
use loco_rs::model::ModelError;

use super::{
    _entities::sea_orm_active_enums::Provider,
    apple::{self, AppleClient},
    id_tokens::{Expected, IdTokenError, KeySet, truthy},
    provider_tokens,
    sealed::Sealer,
    spent_id_tokens,
    sso_providers::{self, ProviderProfile},
};

/// The issuers of Google's ID tokens: with and without the scheme.
pub const GOOGLE_ISSUERS: &[&str] = &["https://accounts.google.com", "accounts.google.com"];

#[derive(Debug, thiserror::Error)]
pub enum NativeSignInError {
    #[error(transparent)]
    Token(#[from] IdTokenError),
    #[error("the provider says the email address is not verified")]
    UnverifiedEmail,
    #[error("the token was traded before")]
    Spent,
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// What the app sends: the ID token, the raw nonce it made for it, and,
/// for Apple's first sign-in, the name the sheet gave it.
pub struct NativeToken<'a> {
    pub provider: Provider,
    pub id_token: &'a str,
    pub nonce: &'a str,
    pub names: Option<(String, String)>,
}

/// The verified profile of `token`, issued for one of `audiences`, which is
/// spent: the same token is refused next time.
///
/// # Errors
/// When a check fails, the token was traded before, or the keys cannot be
/// read.
pub async fn verify(
    db: &sea_orm::DatabaseConnection,
    (keys, http): (&KeySet, &reqwest::Client),
    audiences: &[&str],
    token: NativeToken<'_>,
) -> Result<(ProviderProfile, String), NativeSignInError> {
    let issuers = match token.provider {
        Provider::Apple => &[apple::ISSUER][..],
        _ => GOOGLE_ISSUERS,
    };
    let expected = Expected {
        issuers,
        audiences,
        nonce: Some(token.nonce),
        id_token: true,
    };
    let claims = keys.verify(http, token.id_token, &expected).await?;
    let verified = claims.email_verified.as_ref();
    if claims.email.is_some() && verified.is_some() && !truthy(verified) {
        return Err(NativeSignInError::UnverifiedEmail);
    }
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
    if !spent_id_tokens::spend(db, token.id_token, expires_at).await? {
        return Err(NativeSignInError::Spent);
    }
    let audience = claims.audience().unwrap_or_default().to_string();
    Ok((sso_providers::profile_of(&claims, token.names), audience))
}

/// Trades the authorization code Apple's sheet gave the app, issued to
/// `client_id`, for Apple's refresh token, and keeps it for `user_id`. The
/// ID token already proved who the user is: a code Apple refuses leaves the
/// sign-in as it is, with a warning.
pub async fn keep_apple_token(
    db: &sea_orm::DatabaseConnection,
    (apple, http, sealer): (&AppleClient, &reqwest::Client, &Sealer),
    user_id: uuid::Uuid,
    client_id: &str,
    code: &str,
) {
    let tokens = match apple.exchange(http, client_id, code, None).await {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(%error, "apple: the authorization code was not traded");
            return;
        }
    };
    let Some(token) = tokens.refresh_token else {
        return;
    };
    let issued = (Provider::Apple, client_id);
    if let Err(error) = provider_tokens::keep(db, sealer, user_id, issued, &token).await {
        tracing::warn!(%error, "apple: the refresh token was not kept");
    }
}
