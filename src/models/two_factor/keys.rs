//! The keys of two-factor sign-in, derived from `SECRET_KEY`: TOTP secrets
//! sealed at rest, recovery codes hashed, and the codes an authenticator
//! app shows.

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use super::*;

/// Seals TOTP secrets and hashes recovery codes, with keys derived from
/// `SECRET_KEY`; built once at boot. Changing `SECRET_KEY` voids every
/// secret and recovery code.
pub struct TwoFactorKeys {
    cipher: XChaCha20Poly1305,
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

/// HMAC-SHA256 of `purpose` under `secret`: a key of its own for each use.
pub(super) fn derive_key(secret: &str, purpose: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

impl TwoFactorKeys {
    #[must_use]
    pub fn new(secret_key: &str, issuer: &str) -> Self {
        let cipher_key = derive_key(secret_key, b"two-factor secrets");
        Self {
            cipher: XChaCha20Poly1305::new(&cipher_key.into()),
            recovery: RecoveryKey::new(derive_key(secret_key, b"recovery codes")),
            // A colon would end the issuer's part of the otpauth label.
            issuer: issuer.replace(':', ""),
        }
    }

    /// `nonce ‖ ciphertext`, in base64.
    pub(super) fn seal(&self, secret: &[u8]) -> Option<String> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self.cipher.encrypt(&XNonce::from(nonce), secret).ok()?;
        Some(STANDARD_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// `None` for what was not sealed under this `SECRET_KEY`.
    pub(super) fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD_NO_PAD.decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_BYTES)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.cipher.decrypt(&XNonce::from(nonce), ciphertext).ok()
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
    fn secrets_open_under_their_own_key_only() {
        let keys = TwoFactorKeys::new("a secret key", "Backend");
        let sealed = keys.seal(b"twenty bytes secret!").expect("sealed");
        assert_eq!(
            keys.open(&sealed).as_deref(),
            Some(&b"twenty bytes secret!"[..])
        );
        assert_ne!(
            keys.seal(b"twenty bytes secret!"),
            Some(sealed.clone()),
            "fresh nonce"
        );
        let other = TwoFactorKeys::new("another key", "Backend");
        assert_eq!(other.open(&sealed), None);
        assert_eq!(keys.open("not sealed"), None);
        assert_eq!(keys.open(""), None);
    }

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
