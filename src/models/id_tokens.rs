//! OpenID Connect ID tokens, as Google and Apple sign them, checked against
//! the provider's published keys (its JWKS). The keys are kept as long as the
//! provider's `Cache-Control` says, and fetched again, once, for a key id they
//! do not hold: the provider rotated its keys. One fetch runs at a time; the
//! requests that wait for it use what it brought. Tokens under made-up key
//! ids (anyone can send them, to the notifications route too) get
//! `REFETCHES_PER_MINUTE` fetches between them, not one each.

use tracing::Instrument;

use super::outgoing;
use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::hex;

/// How far a token's `exp` may be behind the clock.
const LEEWAY_SECONDS: u64 = 60;
/// How long keys are kept when the provider does not say, and the bounds of
/// what it may say.
const DEFAULT_KEEP: Duration = Duration::from_secs(3600);
const MIN_KEEP: Duration = Duration::from_secs(60);
const MAX_KEEP: Duration = Duration::from_secs(86_400);
/// Fetches for key ids the fresh keys do not hold, in any minute.
const REFETCHES_PER_MINUTE: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    #[error("not a JWT signed with RS256 or ES256 under a key id")]
    Malformed,
    #[error("no published key has the token's key id")]
    UnknownKey,
    #[error("the token failed a check: {0}")]
    Invalid(String),
    #[error("the token's nonce is not the one sent")]
    Nonce,
    #[error("the provider's keys could not be read: {0}")]
    Keys(String),
    #[error("the provider did not answer: {0}")]
    NoAnswer(String),
}

/// What an ID token is to say to be taken.
pub struct Expected<'a> {
    pub issuers: &'a [&'a str],
    pub audiences: &'a [&'a str],
    /// The raw nonce the client made: the token holds it, or its SHA-256 in
    /// hex (as Apple's native sheet sends it). `None`: the token's nonce is
    /// not looked at (Apple's notifications have none).
    pub nonce: Option<&'a str>,
    /// An ID token carries a subject and an expiry; Apple's notifications
    /// carry neither.
    pub id_token: bool,
}

/// The claims of an ID token this app reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    #[serde(default)]
    pub sub: String,
    pub aud: Value,
    #[serde(default)]
    pub exp: i64,
    #[serde(default)]
    pub email: Option<String>,
    /// A boolean from Google, a boolean or `"true"` from Apple.
    #[serde(default)]
    pub email_verified: Option<Value>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    /// Apple's notifications: the event, as a JSON string.
    #[serde(default)]
    pub events: Option<String>,
}

/// `true` or `"true"`.
#[must_use]
pub fn truthy(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true))) || value.and_then(Value::as_str) == Some("true")
}

impl IdClaims {
    /// The one audience the token was issued for (the client id).
    #[must_use]
    pub fn audience(&self) -> Option<&str> {
        match &self.aud {
            Value::String(audience) => Some(audience),
            Value::Array(audiences) => audiences.first().and_then(Value::as_str),
            _ => None,
        }
    }
}

struct Fetched {
    keys: Arc<JwkSet>,
    until: Instant,
    /// Counts fetches, so that a request that waited for another's fetch
    /// knows it happened.
    generation: u64,
}

/// A provider's published keys, kept between requests.
pub struct KeySet {
    url: String,
    fetched: RwLock<Option<Fetched>>,
    /// Held by the one fetch under way; counts the refetches of the minute
    /// that began at its instant.
    fetching: tokio::sync::Mutex<(Instant, u32)>,
}

impl KeySet {
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            fetched: RwLock::new(None),
            fetching: tokio::sync::Mutex::new((Instant::now(), 0)),
        }
    }

    /// Verifies `token`'s signature under the provider's keys, then its
    /// issuer, audience, expiry and nonce.
    ///
    /// # Errors
    /// When any check fails, or the keys cannot be fetched.
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<IdClaims, IdTokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| IdTokenError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(IdTokenError::Malformed);
        }
        let kid = header.kid.ok_or(IdTokenError::Malformed)?;
        let key = self.key(http, &kid).await?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(expected.issuers);
        validation.set_audience(expected.audiences);
        if expected.id_token {
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        } else {
            validation.set_required_spec_claims(&["iss", "aud"]);
            validation.validate_exp = false;
        }
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|error| IdTokenError::Invalid(error.to_string()))?
            .claims;
        if let Some(raw) = expected.nonce
            && !nonce_matches(claims.nonce.as_deref().unwrap_or_default(), raw)
        {
            return Err(IdTokenError::Nonce);
        }
        Ok(claims)
    }

    /// The key `kid`: from the keys kept while they are fresh, else from a
    /// fetch (or from the fetch another request made meanwhile).
    async fn key(&self, http: &reqwest::Client, kid: &str) -> Result<DecodingKey, IdTokenError> {
        let seen = match self.lookup(kid) {
            Lookup::Found(key) => return Ok(key),
            Lookup::Missing { generation, .. } => generation,
        };
        let mut refetches = self.fetching.lock().await;
        match self.lookup(kid) {
            Lookup::Found(key) => return Ok(key),
            Lookup::Missing { generation, .. } if generation != seen => {
                return Err(IdTokenError::UnknownKey);
            }
            Lookup::Missing { fresh: true, .. } => {
                let (minute, count) = &mut *refetches;
                if minute.elapsed() >= Duration::from_secs(60) {
                    (*minute, *count) = (Instant::now(), 0);
                }
                if *count >= REFETCHES_PER_MINUTE {
                    return Err(IdTokenError::UnknownKey);
                }
                *count += 1;
            }
            Lookup::Missing { fresh: false, .. } => {}
        }
        let (keys, keep) = fetch(http, &self.url).await?;
        let found = find(&keys, kid);
        if let Ok(mut fetched) = self.fetched.write() {
            let generation = fetched.as_ref().map_or(1, |last| last.generation + 1);
            *fetched = Some(Fetched {
                keys: Arc::new(keys),
                until: Instant::now() + keep,
                generation,
            });
        }
        found.ok_or(IdTokenError::UnknownKey)
    }

    fn lookup(&self, kid: &str) -> Lookup {
        let missing = |generation, fresh| Lookup::Missing { generation, fresh };
        let Ok(fetched) = self.fetched.read() else {
            return missing(0, false);
        };
        match fetched.as_ref() {
            Some(fetched) if fetched.until > Instant::now() => {
                find(&fetched.keys, kid).map_or(missing(fetched.generation, true), Lookup::Found)
            }
            Some(stale) => missing(stale.generation, false),
            None => missing(0, false),
        }
    }
}

enum Lookup {
    Found(DecodingKey),
    /// Not among the keys of fetch `generation`, which are still `fresh`
    /// or not.
    Missing {
        generation: u64,
        fresh: bool,
    },
}

fn find(keys: &JwkSet, kid: &str) -> Option<DecodingKey> {
    DecodingKey::from_jwk(keys.find(kid)?).ok()
}

fn nonce_matches(claimed: &str, raw: &str) -> bool {
    let hashed = hex(&Sha256::digest(raw.as_bytes()));
    let plain = claimed.as_bytes().ct_eq(raw.as_bytes());
    let digest = claimed.as_bytes().ct_eq(hashed.as_bytes());
    !raw.is_empty() && bool::from(plain | digest)
}

/// The keys at `url`, and how long they may be kept.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<(JwkSet, Duration), IdTokenError> {
    let failed = |error: reqwest::Error| {
        if error.is_timeout() || error.is_connect() {
            IdTokenError::NoAnswer(error.to_string())
        } else {
            IdTokenError::Keys(error.to_string())
        }
    };
    let response = http
        .get(url)
        .send()
        .instrument(outgoing::call("GET", url))
        .await
        .map_err(failed)?
        .error_for_status()
        .map_err(failed)?;
    let keep = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .and_then(max_age)
        .map_or(DEFAULT_KEEP, |keep| keep.clamp(MIN_KEEP, MAX_KEEP));
    let keys = response.json::<JwkSet>().await.map_err(failed)?;
    Ok((keys, keep))
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let seconds = directive.trim().strip_prefix("max-age=")?;
        seconds.trim().parse().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_matches_as_sent_or_hashed() {
        let raw = "a-nonce";
        assert!(nonce_matches(raw, raw));
        assert!(nonce_matches(&hex(&Sha256::digest(raw)), raw));
        assert!(!nonce_matches("another", raw));
        assert!(!nonce_matches("", ""));
    }

    #[test]
    fn max_age_is_read_among_directives() {
        assert_eq!(
            max_age("public, max-age=21600, must-revalidate"),
            Some(Duration::from_secs(21_600))
        );
        assert_eq!(max_age("no-cache"), None);
    }
}
