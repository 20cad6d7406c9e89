//! The keys of two-factor sign-in, derived from `SECRET_KEY`: TOTP secrets
//! sealed at rest (`sealed`), recovery codes hashed, and the codes an authenticator
//! app shows.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use super::*;

/// Seals TOTP secrets and hashes recovery codes, with keys derived from
/// `SECRET_KEY`; built once at boot. Changing `SECRET_KEY` voids every
/// secret and recovery code.
pub struct TwoFactorKeys {
    secrets: Sealer,
    recovery: RecoveryKey,
    /// The name authenticator apps show beside the account.
    issuer: String,
}

/// What an authenticator app needs, shown once, at setup.
pub struct Setup {
    /// The secret, in base32.
    pub secret: String,
    pub otpauth_url: String,
}

impl TwoFactorKeys {
    #[must_use]
    pub fn new(secret_key: &str, issuer: &str) -> Self {
        Self {
            secrets: Sealer::new(secret_key, b"two-factor secrets"),
            recovery: RecoveryKey::new(derive_key(secret_key, b"recovery codes")),
            // A colon would end the issuer's part of the otpauth label.
            issuer: issuer.replace(':', ""),
        }
    }

    pub(super) fn seal(&self, secret: &[u8]) -> Option<String> {
        self.secrets.seal(secret)
    }

    /// `None` for what was not sealed under this `SECRET_KEY`.
    pub(super) fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        self.secrets.open(sealed)
    }

    pub(super) fn totp(&self, secret: Vec<u8>, account: &str) -> TOTP {
        let (issuer, account) = (Some(self.issuer.clone()), account.to_string());
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            SKEW,
            STEP_SECONDS,
            secret,
            issuer,
            account,
        )
    }

    /// The step whose code `code` is, within `SKEW` steps of `now`.
    pub(super) fn matching_step(
        &self,
        secret: Vec<u8>,
        code: &str,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        let totp = self.totp(secret, "");
        let current = now.timestamp().div_euclid(STEP_SECONDS.cast_signed());
        let skew = i64::from(SKEW);
        (current - skew..=current + skew).find(|&step| {
            let time = u64::try_from(step).unwrap_or_default() * STEP_SECONDS;
            bool::from(totp.generate(time).as_bytes().ct_eq(code.as_bytes()))
        })
    }

    /// The key recovery codes are hashed with.
    #[must_use]
    pub const fn recovery(&self) -> &RecoveryKey {
        &self.recovery
    }

    /// The code of `secret` at `time`, for tests and tools that play the
    /// authenticator app.
    #[must_use]
    pub fn code_at(&self, secret_base32: &str, time: DateTime<Utc>) -> Option<String> {
        let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
            .to_bytes()
            .ok()?;
        let time = u64::try_from(time.timestamp()).ok()?;
        Some(self.totp(secret, "").generate(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_one_either_side_only() {
        let keys = TwoFactorKeys::new("a secret key", "Backend");
        // RFC 6238's SHA-1 test secret; its 8-digit code at 59 s is 94287082.
        let secret = b"12345678901234567890".to_vec();
        let at = |seconds| DateTime::from_timestamp(seconds, 0).expect("time");
        assert_eq!(keys.totp(secret.clone(), "").generate(59), "287082");
        let code = "287082"; // step 1 (30..59 s)
        assert_eq!(keys.matching_step(secret.clone(), code, at(45)), Some(1));
        assert_eq!(keys.matching_step(secret.clone(), code, at(75)), Some(1));
        assert_eq!(keys.matching_step(secret.clone(), code, at(15)), Some(1));
        assert_eq!(keys.matching_step(secret.clone(), code, at(95)), None);
        assert_eq!(keys.matching_step(secret, "000000", at(45)), None);
    }

    #[test]
    fn the_otpauth_url_is_what_authenticator_apps_read() {
        let keys = TwoFactorKeys::new("a secret key", "My:App");
        let url = keys
            .totp(vec![7; SECRET_BYTES], "jane@example.com")
            .get_url();
        assert!(
            url.starts_with("otpauth://totp/MyApp:jane%40example.com?secret="),
            "{url}"
        );
        assert!(url.contains("issuer=MyApp"), "{url}");
    }
}
