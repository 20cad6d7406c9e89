//! Secrets kept at rest sealed (XChaCha20-Poly1305), under a key derived
//! from `SECRET_KEY` for each purpose: TOTP secrets, a provider's refresh
//! tokens. Changing `SECRET_KEY` voids what was sealed under it.

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const NONCE_BYTES: usize = 24;

/// HMAC-SHA256 of `purpose` under `secret`: a key of its own for each use.
#[must_use]
pub fn derive_key(secret: &str, purpose: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

pub struct Sealer(XChaCha20Poly1305);

impl Sealer {
    #[must_use]
    pub fn new(secret_key: &str, purpose: &[u8]) -> Self {
        Self(XChaCha20Poly1305::new(
            &derive_key(secret_key, purpose).into(),
        ))
    }

    /// `nonce ‖ ciphertext`, in base64.
    #[must_use]
    pub fn seal(&self, secret: &[u8]) -> Option<String> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self.0.encrypt(&XNonce::from(nonce), secret).ok()?;
        Some(STANDARD_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// `None` for what was not sealed under this key.
    #[must_use]
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD_NO_PAD.decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_BYTES)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.0.decrypt(&XNonce::from(nonce), ciphertext).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_open_under_their_own_key_and_purpose_only() {
        let sealer = Sealer::new("a secret key", b"purpose");
        let sealed = sealer.seal(b"twenty bytes secret!").expect("sealed");
        assert_eq!(
            sealer.open(&sealed).as_deref(),
            Some(&b"twenty bytes secret!"[..])
        );
        assert_ne!(
            sealer.seal(b"twenty bytes secret!"),
            Some(sealed.clone()),
            "fresh nonce"
        );
        assert_eq!(Sealer::new("another key", b"purpose").open(&sealed), None);
        assert_eq!(Sealer::new("a secret key", b"another").open(&sealed), None);
        assert_eq!(sealer.open("not sealed"), None);
        assert_eq!(sealer.open(""), None);
    }
}
