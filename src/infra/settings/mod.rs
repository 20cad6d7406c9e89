//! The application's own settings: the `settings:` block of `config/<env>.yaml`,
//! where every value comes from the environment variable the contract names.

mod data_rights;
mod files;
mod metrics;
mod passkeys;
mod rate_limits;
mod sso;

use chrono::Duration;
use loco_rs::environment::Environment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

pub use self::{
    data_rights::DataRightsSettings,
    files::FileSettings,
    metrics::{MetricsExposure, MetricsSettings},
    passkeys::PasskeySettings,
    rate_limits::{Limit, RateLimits},
    sso::SsoSettings,
};
use crate::models::{
    email::Email,
    one_time_passwords::CodePolicy,
    sso_providers::ProviderConfig,
    tokens::{SessionLifetimes, TokenSigner},
    two_factor::TwoFactorKeys,
    users::Provider,
};

/// Secrets that ship in this repository or in the Python template's `.env`
/// example; a production server signing tokens with one of them is forgeable.
pub const WELL_KNOWN_SECRETS: &[&str] = &[
    "changethis",
    "development-secret-key-change-me-in-production-0000",
    "test-secret-key-not-for-production-use-0000000000",
];

/// The shortest `SECRET_KEY` an environment other than development and test
/// takes: 256 bits, as HS256 wants.
pub const MIN_SECRET_BYTES: usize = 32;

/// Whether `env` may have the development conveniences: the persistent code,
/// codes in answers when mail is off, a weak secret. Only `development` and
/// `test` do: a `staging` or `prod` is treated as production.
#[must_use]
pub fn allows_conveniences(env: &Environment) -> bool {
    matches!(env, Environment::Development | Environment::Test)
}

/// Secrets are `SecretString`s: `Debug` prints them redacted.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(default = "no_secret", deserialize_with = "secret_or_empty")]
    pub secret_key: SecretString,
    pub project_name: String,
    /// Public base URL of this server, used in links to its own resources.
    pub server_host: String,
    /// Base URL of the web front end, used in links sent by mail.
    pub web_app_url: String,
    pub access_token_expires_seconds: i64,
    pub refresh_token_expires_seconds: i64,
    /// The admin created at start when missing; empty means none.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub first_superuser: String,
    #[serde(default = "no_secret", deserialize_with = "secret_or_empty")]
    pub first_superuser_password: SecretString,
    /// `ENABLE_EMAIL_SERVICE`; mail is sent only when this is on and both
    /// `SMTP_HOST` and `EMAILS_FROM_EMAIL` are set.
    #[serde(default = "enabled")]
    pub enable_email_service: bool,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub smtp_host: String,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub emails_from_email: String,
    #[serde(default, deserialize_with = "empty_if_null")]
    pub emails_from_name: String,
    /// The one colour of the mail templates (buttons, links, code).
    #[serde(default = "default_accent_color")]
    pub email_accent_color: String,
    /// How mails are signed; empty means "The <project name> team".
    #[serde(default, deserialize_with = "empty_if_null")]
    pub email_signature: String,
    #[serde(default = "default_reset_hours")]
    pub email_reset_token_expire_hours: i64,
    #[serde(default = "default_code_minutes")]
    pub verification_code_expiration_minutes: i64,
    /// Days a sent mail's row (address, template, times) is kept.
    #[serde(default = "default_sent_mail_days")]
    pub sent_mail_retention_days: i64,
    /// Days an account's security events are kept.
    #[serde(default = "default_security_event_days")]
    pub security_event_retention_days: i64,
    /// The development code that signs in any existing user; ignored in production.
    #[serde(default = "no_secret", deserialize_with = "secret_or_empty")]
    pub persistent_otp: SecretString,
    #[serde(default = "default_apple_email")]
    pub apple_review_team_email: String,
    #[serde(default = "default_apple_days")]
    pub apple_review_team_otp_expiration_days: i64,
    pub rate_limits: RateLimits,
    /// Sign-in providers; one is on when its client id and secret are set.
    pub sso: SsoSettings,
    /// Comma-separated prefixes a `return_url` must start with.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub sso_allowed_return_urls: String,
    /// Comma-separated addresses and networks of the proxies in front of the
    /// server, whose `X-Forwarded-For` names the client.
    #[serde(default, deserialize_with = "empty_if_null")]
    pub trusted_proxies: String,
    /// Counts rate limits in Redis, across processes, when set.
    #[serde(default = "no_secret", deserialize_with = "secret_or_empty")]
    pub redis_url: SecretString,
    pub files: FileSettings,
    pub passkeys: PasskeySettings,
    #[serde(default)]
    pub data_rights: DataRightsSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
}

fn default_apple_email() -> String {
    "review@apple.com".to_string()
}

const fn default_apple_days() -> i64 {
    15
}

const fn enabled() -> bool {
    true
}

fn default_accent_color() -> String {
    "#4f46e5".to_string()
}

const fn default_reset_hours() -> i64 {
    48
}

const fn default_sent_mail_days() -> i64 {
    7
}

const fn default_security_event_days() -> i64 {
    365
}

const fn default_code_minutes() -> i64 {
    10
}

/// The values of a comma-separated setting.
fn listed(values: &str) -> Vec<&str> {
    values
        .split(',')
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .collect()
}

/// An unset variable renders as an empty YAML value, which YAML reads as null.
fn empty_if_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Option::<String>::deserialize(deserializer).map(Option::unwrap_or_default)
}

fn secret_or_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<SecretString, D::Error> {
    empty_if_null(deserializer).map(SecretString::from)
}

fn no_secret() -> SecretString {
    SecretString::from("")
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the `settings:` block is missing from the configuration")]
    Missing,
    #[error("the `settings:` block is invalid: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error(
        "SECRET_KEY is missing, shorter than 32 bytes, or a well-known default; set SECRET_KEY to a long random string (for example `openssl rand -hex 32`)"
    )]
    WeakSecret,
    #[error("file storage: {0}")]
    FileStorage(String),
    #[error("{name} is not an email address: {value:?}")]
    InvalidEmail { name: &'static str, value: String },
    #[error("SSO_ALLOWED_RETURN_URLS: {value:?} is not a URL")]
    InvalidReturnUrl { value: String },
    #[error("passkeys (PASSKEYS_ENABLED is on): {0}")]
    Passkeys(String),
    #[error("Sign in with Apple: {0}")]
    Apple(String),
    #[error("metrics: {0}")]
    Metrics(String),
}

impl Settings {
    /// Reads and checks the settings of a freshly built context.
    ///
    /// # Errors
    /// When the block is absent or malformed, or when an environment other
    /// than development and test would sign tokens with a weak secret.
    pub fn load(
        config: &loco_rs::config::Config,
        env: &Environment,
    ) -> Result<Self, SettingsError> {
        let settings = Self::deserialize(config.settings.as_ref().ok_or(SettingsError::Missing)?)?;
        if !allows_conveniences(env) && settings.has_weak_secret() {
            return Err(SettingsError::WeakSecret);
        }
        // A listed URL that does not parse would refuse every return silently.
        if let Some(value) = settings
            .listed_return_urls()
            .find_map(|(value, url)| url.is_none().then_some(value))
        {
            return Err(SettingsError::InvalidReturnUrl {
                value: value.to_string(),
            });
        }
        Ok(settings)
    }

    /// How one-time codes are hashed and which special codes count; the
    /// persistent code counts in development and tests only.
    ///
    /// # Errors
    /// When the Apple review team's email is not one.
    pub fn code_policy(&self, env: &Environment) -> Result<CodePolicy, SettingsError> {
        let persistent = self.persistent_otp.expose_secret().trim();
        Ok(CodePolicy {
            secret: self.secret_key.clone(),
            persistent_code: (allows_conveniences(env) && !persistent.is_empty())
                .then(|| SecretString::from(persistent)),
            apple_review_email: Email::parse(&self.apple_review_team_email).map_err(|_| {
                SettingsError::InvalidEmail {
                    name: "APPLE_REVIEW_TEAM_EMAIL",
                    value: self.apple_review_team_email.clone(),
                }
            })?,
            lifetime: Duration::minutes(self.verification_code_expiration_minutes),
            apple_review_lifetime: Duration::days(self.apple_review_team_otp_expiration_days),
        })
    }

    /// Signs and checks tokens with `SECRET_KEY`, sessions living as configured.
    #[must_use]
    pub fn token_signer(&self) -> TokenSigner {
        TokenSigner::new(self.secret_key.expose_secret()).with_session_lifetimes(SessionLifetimes {
            access_seconds: self.access_token_expires_seconds,
            refresh_seconds: self.refresh_token_expires_seconds,
        })
    }

    /// Seals two-factor secrets under `SECRET_KEY`; apps show `PROJECT_NAME`.
    #[must_use]
    pub fn two_factor_keys(&self) -> TwoFactorKeys {
        TwoFactorKeys::new(self.secret_key.expose_secret(), self.project_name.trim())
    }

    /// The first admin to create at start, when one is configured.
    ///
    /// # Errors
    /// When `FIRST_SUPERUSER` is set and is not an email address.
    pub fn first_superuser(&self) -> Result<Option<Email>, SettingsError> {
        let raw = self.first_superuser.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        Email::parse(raw)
            .map(Some)
            .map_err(|_| SettingsError::InvalidEmail {
                name: "FIRST_SUPERUSER",
                value: raw.to_string(),
            })
    }

    /// `REDIS_URL`, when set.
    #[must_use]
    pub fn redis_url(&self) -> Option<&str> {
        Some(self.redis_url.expose_secret().trim()).filter(|url| !url.is_empty())
    }

    /// `return_url`, normalised, when it points inside one of
    /// `SSO_ALLOWED_RETURN_URLS`. Both sides are parsed as URLs, not compared
    /// as text (`https://app.example.com.evil.net/` and
    /// `https://app.example.com@evil.net/` start with `https://app.example.com`):
    /// the same scheme, host and port, no user info, no fragment (the token is
    /// added to the query), and a path at or below the allowed one, by whole
    /// segments.
    #[must_use]
    pub fn allowed_return_url(&self, return_url: &str) -> Option<String> {
        let url = Url::parse(return_url).ok()?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return None;
        }
        self.listed_return_urls()
            .filter_map(|(_, allowed)| allowed)
            .any(|allowed| {
                allowed.scheme() == url.scheme()
                    && allowed.host_str() == url.host_str()
                    && allowed.port_or_known_default() == url.port_or_known_default()
                    && path_within(allowed.path(), url.path())
            })
            .then(|| url.to_string())
    }

    /// Whether mail goes out at all.
    #[must_use]
    pub fn emails_enabled(&self) -> bool {
        self.enable_email_service
            && !self.smtp_host.trim().is_empty()
            && !self.emails_from_email.trim().is_empty()
    }

    /// The `From` mailbox: `EMAILS_FROM_NAME <EMAILS_FROM_EMAIL>`, quoted as needed.
    #[must_use]
    pub fn from_mailbox(&self) -> String {
        let name = if self.emails_from_name.trim().is_empty() {
            self.project_name.trim()
        } else {
            self.emails_from_name.trim()
        };
        let email = self.emails_from_email.trim();
        match email.parse::<lettre::Address>() {
            Ok(address) => {
                lettre::message::Mailbox::new(Some(name.to_string()), address).to_string()
            }
            Err(_) => email.to_string(),
        }
    }

    #[must_use]
    pub fn signature(&self) -> String {
        if self.email_signature.trim().is_empty() {
            format!("The {} team", self.project_name)
        } else {
            self.email_signature.clone()
        }
    }

    /// Each entry of `SSO_ALLOWED_RETURN_URLS`, with its URL when it is one.
    fn listed_return_urls(&self) -> impl Iterator<Item = (&str, Option<Url>)> {
        self.sso_allowed_return_urls
            .split(',')
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(|value| (value, Url::parse(value).ok()))
    }

    /// Shorter than `MIN_SECRET_BYTES`, or published (in this repository).
    fn has_weak_secret(&self) -> bool {
        let secret = self.secret_key.expose_secret().trim();
        secret.len() < MIN_SECRET_BYTES || WELL_KNOWN_SECRETS.contains(&secret)
    }
}

/// Whether `path` is `allowed` or below it, by whole segments: `/app` allows
/// `/app` and `/app/done`, not `/application`.
fn path_within(allowed: &str, path: &str) -> bool {
    let allowed = allowed.trim_end_matches('/');
    allowed.is_empty()
        || path == allowed
        || path
            .strip_prefix(allowed)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use loco_rs::config::Config;

    use super::*;

    fn config_with_secret(secret: &str) -> Config {
        let mut config = Config::new(&Environment::Test).expect("test config");
        let mut settings = config.settings.clone().expect("settings");
        settings["secret_key"] = serde_json::Value::String(secret.to_string());
        config.settings = Some(settings);
        config
    }

    #[test]
    fn outside_development_and_test_weak_secrets_are_refused() {
        let short = "x".repeat(MIN_SECRET_BYTES - 1);
        for env in [
            Environment::Production,
            Environment::Any("staging".to_string()),
            Environment::Any("prod".to_string()),
        ] {
            for secret in [
                "",
                "  ",
                "changethis",
                WELL_KNOWN_SECRETS[1],
                short.as_str(),
            ] {
                let result = Settings::load(&config_with_secret(secret), &env);
                assert!(
                    matches!(result, Err(SettingsError::WeakSecret)),
                    "{secret:?} must be refused in {env}"
                );
            }
            let own = Settings::load(&config_with_secret(&"x".repeat(MIN_SECRET_BYTES)), &env);
            assert!(own.is_ok(), "{env}");
        }
        let development = Settings::load(&config_with_secret("short"), &Environment::Development);
        assert!(development.is_ok());
    }

    #[test]
    fn the_persistent_code_counts_in_development_and_test_only() {
        let settings = Settings::load(
            &config_with_secret(&"x".repeat(MIN_SECRET_BYTES)),
            &Environment::Test,
        )
        .expect("settings");
        let persistent = |env: Environment| {
            settings
                .code_policy(&env)
                .expect("a policy")
                .persistent_code
                .is_some()
        };
        assert!(persistent(Environment::Test));
        assert!(persistent(Environment::Development));
        assert!(!persistent(Environment::Production));
        assert!(!persistent(Environment::Any("staging".to_string())));
    }

    #[test]
    fn a_listed_return_url_that_is_not_a_url_stops_the_start() {
        let mut config = Config::new(&Environment::Test).expect("test config");
        let mut settings = config.settings.clone().expect("settings");
        settings["sso_allowed_return_urls"] =
            serde_json::Value::String("https://app.example.com, app.example.com/done".to_string());
        config.settings = Some(settings);
        assert!(matches!(
            Settings::load(&config, &Environment::Test),
            Err(SettingsError::InvalidReturnUrl { value }) if value == "app.example.com/done"
        ));
    }

    #[test]
    fn the_first_superuser_is_optional_but_must_be_an_address() {
        let with = |value: &str| {
            let mut config = Config::new(&Environment::Test).expect("test config");
            let mut settings = config.settings.clone().expect("settings");
            settings["first_superuser"] = serde_json::Value::String(value.to_string());
            config.settings = Some(settings);
            Settings::load(&config, &Environment::Test).expect("settings")
        };
        assert_eq!(with("").first_superuser().expect("valid"), None);
        assert_eq!(
            with(" Admin@Example.com ")
                .first_superuser()
                .expect("valid")
                .map(|email| email.to_string()),
            Some("admin@example.com".to_string())
        );
        assert!(matches!(
            with("admin").first_superuser(),
            Err(SettingsError::InvalidEmail { .. })
        ));
    }

    #[test]
    fn other_environments_accept_the_development_secret() {
        let result = Settings::load(
            &config_with_secret(WELL_KNOWN_SECRETS[1]),
            &Environment::Development,
        );
        assert!(result.is_ok());
    }
}
