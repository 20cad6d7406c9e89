//! What calls to sign-in providers share, built once at boot: one HTTP
//! client, each provider's published keys (kept between requests), Apple's
//! client-secret signer, and the sealer of the refresh tokens providers hand
//! out.

use secrecy::ExposeSecret;

use super::settings::{Settings, SettingsError};
use crate::models::{
    apple::AppleClient, id_tokens::KeySet, sealed::Sealer, sso_providers, users::Provider,
};

pub struct Identity {
    pub http: reqwest::Client,
    pub google_keys: KeySet,
    pub apple_keys: KeySet,
    pub apple: AppleClient,
    pub sealer: Sealer,
}

impl Identity {
    /// # Errors
    /// When `APPLE_PRIVATE_KEY` is set and is not a key, or TLS cannot be set
    /// up.
    pub fn build(settings: &Settings) -> Result<Self, SettingsError> {
        let sso = &settings.sso;
        let apple = AppleClient::new(&sso.apple)
            .map_err(|error| SettingsError::Apple(error.to_string()))?;
        let http = sso_providers::http_client(sso.apple.timeout_seconds)
            .map_err(|error| SettingsError::Apple(error.to_string()))?;
        Ok(Self {
            http,
            google_keys: KeySet::new(&sso.google_jwks_url),
            apple_keys: KeySet::new(&sso.apple.jwks_url),
            apple,
            sealer: Sealer::new(
                settings.secret_key.expose_secret(),
                b"provider refresh tokens",
            ),
        })
    }

    /// The published keys of `provider`'s ID tokens (Google's or Apple's).
    #[must_use]
    pub const fn keys_of(&self, provider: Provider) -> &KeySet {
        match provider {
            Provider::Apple => &self.apple_keys,
            _ => &self.google_keys,
        }
    }
}
