//! `settings.passkeys`: the WebAuthn relying party passkeys are bound to.

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use super::*;

#[derive(Debug, Clone, Deserialize)]
pub struct PasskeySettings {
    /// `PASSKEYS_ENABLED`.
    #[serde(default)]
    pub enabled: bool,
    /// `WEBAUTHN_RP_ID`: the domain passkeys are bound to. It cannot change
    /// later without losing every passkey made under it.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub rp_id: String,
    /// `WEBAUTHN_RP_ORIGINS`, comma-separated: the web front end's origin
    /// and the apps' (`android:apk-key-hash:...`).
    #[serde(default, deserialize_with = "empty_if_null")]
    pub rp_origins: String,
    /// `APPLE_APP_IDS`, comma-separated `<team id>.<bundle id>`: the iOS apps
    /// whose passkeys are this site's (`apple-app-site-association`).
    #[serde(default, deserialize_with = "empty_if_null")]
    pub apple_app_ids: String,
    /// `ANDROID_PACKAGE_NAME` and `ANDROID_CERT_FINGERPRINTS` (SHA-256,
    /// comma-separated): the Android app whose passkeys are this site's
    /// (`assetlinks.json`).
    #[serde(default, deserialize_with = "empty_if_null")]
    pub android_package_name: String,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub android_cert_fingerprints: String,
}

impl PasskeySettings {
    /// `/.well-known/apple-app-site-association`, when iOS apps are set.
    #[must_use]
    pub fn apple_app_site_association(&self) -> Option<serde_json::Value> {
        let apps = listed(&self.apple_app_ids);
        (!apps.is_empty()).then(|| serde_json::json!({ "webcredentials": { "apps": apps } }))
    }

    /// `/.well-known/assetlinks.json`, when the Android app is set.
    #[must_use]
    pub fn asset_links(&self) -> Option<serde_json::Value> {
        let package = self.android_package_name.trim();
        let fingerprints = listed(&self.android_cert_fingerprints);
        (!package.is_empty() && !fingerprints.is_empty()).then(|| {
            serde_json::json!([{
                "relation": ["delegate_permission/common.get_login_creds"],
                "target": {
                    "namespace": "android_app",
                    "package_name": package,
                    "sha256_cert_fingerprints": fingerprints,
                },
            }])
        })
    }
}

impl Settings {
    /// The relying party, when passkeys are on. Development and test take
    /// `SERVER_HOST`'s host and origin when the two are not set; anywhere
    /// else, missing is an error at start.
    ///
    /// # Errors
    /// When passkeys are on and the relying party is missing or invalid.
    pub fn relying_party(&self, env: &Environment) -> Result<Option<Webauthn>, SettingsError> {
        let passkeys = &self.passkeys;
        if !passkeys.enabled {
            return Ok(None);
        }
        let invalid = |why: &str| SettingsError::Passkeys(why.to_string());
        let server = Url::parse(&self.server_host).ok();
        let defaults = allows_conveniences(env).then_some(server).flatten();
        let rp_id = match passkeys.rp_id.trim() {
            "" => defaults
                .as_ref()
                .and_then(|server| server.host_str().map(str::to_string))
                .ok_or_else(|| invalid("WEBAUTHN_RP_ID is not set"))?,
            rp_id => rp_id.to_string(),
        };
        let mut origins = passkeys
            .rp_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                Url::parse(origin).map_err(|_| {
                    invalid(&format!("WEBAUTHN_RP_ORIGINS: {origin:?} is not an origin"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            origins.extend(defaults);
        }
        let (first, others) = origins
            .split_first()
            .ok_or_else(|| invalid("WEBAUTHN_RP_ORIGINS is not set"))?;
        let refused = |error: webauthn_rs::prelude::WebauthnError| invalid(&error.to_string());
        let mut builder = WebauthnBuilder::new(&rp_id, first)
            .map_err(refused)?
            .rp_name(self.project_name.trim());
        for origin in others {
            builder = builder.append_allowed_origin(origin);
        }
        builder.build().map(Some).map_err(refused)
    }
}
