//! The Python template's password hashes, as its import brings them: checked
//! at the user's next sign-in, then replaced by argon2id. A stored hash is 160
//! lowercase hex characters, a 16-byte salt then a 64-byte scrypt key
//! (N = 2^14, r = 8, p = 4). The template hashed not the password's bytes but
//! the text of Python's `repr` of them: `secret` went in as `b'secret'`.

use std::fmt::Write;

use subtle::ConstantTimeEq;

const SALT_BYTES: usize = 16;
const KEY_BYTES: usize = 64;
const LOG_N: u8 = 14;
const R: u32 = 8;
const P: u32 = 4;

/// Whether `stored` is a hash in the legacy format.
#[must_use]
pub fn is_legacy(stored: &str) -> bool {
    stored.len() == 2 * (SALT_BYTES + KEY_BYTES)
        && stored
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// Python's `repr` of `bytes`: `b'…'`, or `b"…"` when the bytes hold a `'`
/// and no `"`; a backslash, tab, newline and carriage return escaped, and any
/// other byte outside printable ASCII as `\xNN`.
#[must_use]
pub fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut text = String::with_capacity(bytes.len() + 3);
    text.push('b');
    text.push(quote);
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str("\\\\"),
            b'\t' => text.push_str("\\t"),
            b'\n' => text.push_str("\\n"),
            b'\r' => text.push_str("\\r"),
            b'\'' if quote == '\'' => text.push_str("\\'"),
            0x20..=0x7e => text.push(char::from(byte)),
            _ => {
                let _ = write!(text, "\\x{byte:02x}");
            }
        }
    }
    text.push(quote);
    text
}

/// Whether `password` gives the legacy hash `stored`, compared in constant
/// time. Costs 16 MiB and a scrypt run: callers run it off the async threads.
#[must_use]
pub fn verify(password: &str, stored: &str) -> bool {
    let Some(decoded) = decode_hex(stored).filter(|_| is_legacy(stored)) else {
        return false;
    };
    let (salt, expected) = decoded.split_at(SALT_BYTES);
    let Ok(params) = scrypt::Params::new(LOG_N, R, P, KEY_BYTES) else {
        return false;
    };
    let input = python_bytes_repr(password.as_bytes());
    let mut key = [0u8; KEY_BYTES];
    scrypt::scrypt(input.as_bytes(), salt, &params, &mut key).is_ok()
        && bool::from(key.as_slice().ct_eq(expected))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}
