//! `settings.sso`: the sign-in providers.

use std::borrow::Cow;

use super::*;
use crate::models::apple::AppleConfig;

#[derive(Debug, Clone, Deserialize)]
pub struct SsoSettings {
    pub google: ProviderConfig,
    pub github: ProviderConfig,
    pub facebook: ProviderConfig,
    pub apple: AppleConfig,
    /// `GOOGLE_CLIENT_IDS`, comma-separated: the apps' OAuth client ids,
    /// which native ID tokens are issued for.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub google_client_ids: String,
    /// `GOOGLE_JWKS_URL`: Google's signing keys.
    pub google_jwks_url: String,
}

impl SsoSettings {
    /// The settings of `provider`'s redirect sign-in, when it is on.
    #[must_use]
    pub fn web(&self, provider: Provider) -> Option<Cow<'_, ProviderConfig>> {
        let config = match provider {
            Provider::Google => &self.google,
            Provider::Github => &self.github,
            Provider::Facebook => &self.facebook,
            Provider::Apple => {
                return self.apple.web_enabled().then(|| {
                    Cow::Owned(ProviderConfig {
                        client_id: Some(self.apple.client_id.clone()),
                        client_secret: None,
                        auth_url: self.apple.auth_url.clone(),
                        token_url: self.apple.token_url.clone(),
                        userinfo_url: String::new(),
                        timeout_seconds: self.apple.timeout_seconds,
                    })
                });
            }
            Provider::Email => return None,
        };
        config.enabled().then_some(Cow::Borrowed(config))
    }

    /// The client ids `provider`'s ID tokens may be issued for: its web
    /// client's and the apps'. Native sign-in with it is on when there is
    /// one.
    #[must_use]
    pub fn audiences(&self, provider: Provider) -> Vec<&str> {
        match provider {
            Provider::Google => {
                let web = self.google.client_id.as_deref().unwrap_or_default();
                listed(web)
                    .into_iter()
                    .chain(listed(&self.google_client_ids))
                    .collect()
            }
            Provider::Apple => self.apple.audiences(),
            Provider::Github | Provider::Facebook | Provider::Email => Vec::new(),
        }
    }
}
