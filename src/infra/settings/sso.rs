//! `settings.sso`: the sign-in providers.

use super::*;

#[derive(Debug, Clone, Deserialize)]
pub struct SsoSettings {
    pub google: ProviderConfig,
    pub github: ProviderConfig,
    pub facebook: ProviderConfig,
}

impl SsoSettings {
    #[must_use]
    pub const fn of(&self, provider: Provider) -> Option<&ProviderConfig> {
        match provider {
            Provider::Google => Some(&self.google),
            Provider::Github => Some(&self.github),
            Provider::Facebook => Some(&self.facebook),
            Provider::Email => None,
        }
    }
}
