//! Sign in with Apple: the settings, the client secret (an ES256 JWT the
//! server signs with the team's key, made again shortly before it expires),
//! the code exchange and token revocation at Apple's endpoints, and Apple's
//! server-to-server notifications.

use tracing::Instrument;

use super::outgoing;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::id_tokens::{Expected, IdClaims, IdTokenError, KeySet};

/// The issuer of Apple's ID tokens, and the audience of client secrets.
pub const ISSUER: &str = "https://appleid.apple.com";
/// How long a client secret is good for, and how long before its end a new
/// one is made.
const SECRET_LIFETIME: Duration = Duration::from_secs(3600);
const SECRET_RENEW_BEFORE: Duration = Duration::from_secs(300);

/// `settings.sso.apple`.
#[derive(Debug, Clone, Deserialize)]
pub struct AppleConfig {
    /// `APPLE_TEAM_ID`.
    #[serde(default)]
    pub team_id: String,
    /// `APPLE_CLIENT_ID`: the Services ID of the web flow.
    #[serde(default)]
    pub client_id: String,
    /// `APPLE_KEY_ID`: the id of the Sign in with Apple key.
    #[serde(default)]
    pub key_id: String,
    /// `APPLE_PRIVATE_KEY`: the key's `.p8` PEM, or a path to it.
    #[serde(default = "no_key")]
    pub private_key: SecretString,
    /// `APPLE_CLIENT_IDS`, comma-separated: the apps' bundle ids, which native
    /// ID tokens are issued for.
    #[serde(default)]
    pub client_ids: String,
    pub auth_url: String,
    pub token_url: String,
    pub revoke_url: String,
    pub jwks_url: String,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn no_key() -> SecretString {
    SecretString::from("")
}

const fn default_timeout_seconds() -> u64 {
    15
}

#[derive(Debug, thiserror::Error)]
pub enum AppleError {
    #[error("APPLE_PRIVATE_KEY is not an EC private key in PEM (or a path to one): {0}")]
    Key(String),
    #[error("a client secret could not be signed: {0}")]
    Sign(String),
    #[error("Apple refused: {0}")]
    Refused(String),
    #[error("Apple did not answer: {0}")]
    NoAnswer(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl AppleConfig {
    /// The web flow is on when the team, the Services ID, the key id and the
    /// key are set.
    #[must_use]
    pub fn web_enabled(&self) -> bool {
        [&self.team_id, &self.client_id, &self.key_id]
            .iter()
            .all(|value| !value.trim().is_empty())
            && !self.private_key.expose_secret().trim().is_empty()
    }

    /// The client ids Apple's ID tokens may be issued for: the Services ID
    /// and the apps'. Native sign-in is on when there is one.
    #[must_use]
    pub fn audiences(&self) -> Vec<&str> {
        std::iter::once(self.client_id.as_str())
            .chain(self.client_ids.split(','))
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .collect()
    }

    /// The key client secrets are signed with; `None` when none is set.
    ///
    /// # Errors
    /// When the key (or the file it names) is not an EC private key in PEM.
    pub fn signing_key(&self) -> Result<Option<EncodingKey>, AppleError> {
        let value = self.private_key.expose_secret().trim();
        if value.is_empty() {
            return Ok(None);
        }
        let pem = if value.starts_with("-----BEGIN") {
            value.to_string()
        } else {
            std::fs::read_to_string(value).map_err(|error| AppleError::Key(error.to_string()))?
        };
        let der = pem_contents(&pem).ok_or_else(|| AppleError::Key("no PEM block".into()))?;
        // An EC key in PKCS#8, as Apple's `.p8` file holds it.
        let key = EncodingKey::from_ec_der(&der);
        let probe = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &(), &key);
        probe.map_err(|error| AppleError::Key(error.to_string()))?;
        Ok(Some(key))
    }
}

/// The bytes of a PEM block. A key passed in an environment variable
/// arrives with `\n` for its line breaks, or with them folded into spaces by
/// the YAML it is rendered into: whitespace is not looked at.
fn pem_contents(text: &str) -> Option<Vec<u8>> {
    let text = text.replace("\\n", "\n");
    let (_, rest) = text.split_once("-----BEGIN ")?;
    let (label, rest) = rest.split_once("-----")?;
    let (body, _) = rest.split_once(&format!("-----END {label}-----"))?;
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).ok()
}

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    iat: u64,
    exp: u64,
    aud: &'a str,
    sub: &'a str,
}

/// What Apple's token endpoint answers.
#[derive(Deserialize)]
pub struct AppleTokens {
    pub id_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// One of Apple's server-to-server notifications.
#[derive(Debug, Deserialize)]
pub struct AppleEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub sub: String,
}

impl AppleEvent {
    /// The event a notification's verified claims carry.
    #[must_use]
    pub fn of(claims: &IdClaims) -> Option<Self> {
        serde_json::from_str(claims.events.as_deref()?).ok()
    }

    /// The event of a notification's `payload`, a JWS Apple signed for one of
    /// `audiences`.
    ///
    /// # Errors
    /// When the payload fails a check, or carries no event.
    pub async fn verify(
        (keys, http): (&KeySet, &reqwest::Client),
        audiences: &[&str],
        payload: &str,
    ) -> Result<Self, IdTokenError> {
        let expected = Expected {
            issuers: &[ISSUER],
            audiences,
            nonce: None,
            id_token: false,
        };
        let claims = keys.verify(http, payload, &expected).await?;
        Self::of(&claims).ok_or_else(|| IdTokenError::Invalid("no event".into()))
    }

    /// Whether the user took back their consent or deleted their Apple
    /// account: their sessions end.
    #[must_use]
    pub fn ends_sessions(&self) -> bool {
        matches!(self.kind.as_str(), "consent-revoked" | "account-delete")
    }
}

/// Talks to Apple's endpoints with client secrets it signs, and keeps each
/// client id's secret until shortly before it expires.
pub struct AppleClient {
    config: AppleConfig,
    key: Option<EncodingKey>,
    secrets: Mutex<HashMap<String, (String, SystemTime)>>,
}

impl AppleClient {
    /// # Errors
    /// When the configured key is not one.
    pub fn new(config: &AppleConfig) -> Result<Self, AppleError> {
        Ok(Self {
            key: config.signing_key()?,
            config: config.clone(),
            secrets: Mutex::new(HashMap::new()),
        })
    }

    #[must_use]
    pub const fn config(&self) -> &AppleConfig {
        &self.config
    }

    /// The client secret for `client_id`: kept, or signed anew.
    ///
    /// # Errors
    /// When no key is set or signing fails.
    pub fn client_secret(&self, client_id: &str) -> Result<String, AppleError> {
        let now = SystemTime::now();
        let mut secrets = self
            .secrets
            .lock()
            .map_err(|_| AppleError::Sign("the secret cache is poisoned".into()))?;
        if let Some((secret, expires)) = secrets.get(client_id)
            && now + SECRET_RENEW_BEFORE < *expires
        {
            return Ok(secret.clone());
        }
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| AppleError::Sign("APPLE_PRIVATE_KEY is not set".into()))?;
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = SecretClaims {
            iss: &self.config.team_id,
            iat,
            exp: iat + SECRET_LIFETIME.as_secs(),
            aud: ISSUER,
            sub: client_id,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.config.key_id.clone());
        let secret = jsonwebtoken::encode(&header, &claims, key)
            .map_err(|error| AppleError::Sign(error.to_string()))?;
        secrets.insert(
            client_id.to_string(),
            (secret.clone(), now + SECRET_LIFETIME),
        );
        Ok(secret)
    }

    /// Trades an authorization code, issued to `client_id`, for Apple's
    /// tokens.
    ///
    /// # Errors
    /// When Apple refuses the code or does not answer.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<AppleTokens, AppleError> {
        let secret = self.client_secret(client_id)?;
        let mut form = vec![
            ("client_id", client_id),
            ("client_secret", secret.as_str()),
            ("code", code),
            ("grant_type", "authorization_code"),
        ];
        if let Some(redirect_uri) = redirect_uri {
            form.push(("redirect_uri", redirect_uri));
        }
        let response = self.post(http, &self.config.token_url, &form).await?;
        response
            .json()
            .await
            .map_err(|error| AppleError::Refused(error.to_string()))
    }

    /// Revokes a refresh token Apple issued to `client_id`.
    ///
    /// # Errors
    /// When Apple refuses or does not answer.
    pub async fn revoke(
        &self,
        http: &reqwest::Client,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<(), AppleError> {
        let secret = self.client_secret(client_id)?;
        let form = [
            ("client_id", client_id),
            ("client_secret", secret.as_str()),
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        self.post(http, &self.config.revoke_url, &form).await?;
        Ok(())
    }

    async fn post(
        &self,
        http: &reqwest::Client,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, AppleError> {
        let failed = |error: reqwest::Error| {
            if error.is_timeout() || error.is_connect() {
                AppleError::NoAnswer(error.to_string())
            } else {
                AppleError::Refused(error.to_string())
            }
        };
        let body = serde_urlencoded::to_string(form)
            .map_err(|error| AppleError::Refused(error.to_string()))?;
        http.post(url)
            .timeout(Duration::from_secs(self.config.timeout_seconds))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .instrument(outgoing::call("POST", url))
            .await
            .map_err(failed)?
            .error_for_status()
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_is_read_with_escaped_or_folded_line_breaks() {
        let pem = "-----BEGIN PRIVATE KEY-----\nAAAA\nBBBB\n-----END PRIVATE KEY-----\n";
        let bytes = Some(vec![0, 0, 0, 4, 16, 65]);
        assert_eq!(pem_contents(pem), bytes);
        assert_eq!(pem_contents(&pem.replace('\n', "\\n")), bytes);
        assert_eq!(pem_contents(&pem.replace('\n', " ")), bytes);
        assert_eq!(pem_contents("not a key"), None);
    }
}
