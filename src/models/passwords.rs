//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes), on a
//! fixed budget. As many hashes run at once as the machine has cores, each in
//! one of as many working buffers, allocated once and reused for every hash
//! and check. Allocating 19 MiB per sign-in instead leaves that memory in the
//! allocator's per-thread arenas for good: a busy minute of sign-ins held
//! 1.4 GB.

use std::{
    num::NonZeroUsize,
    sync::{LazyLock, Mutex, PoisonError},
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng},
};
use loco_rs::model::{ModelError, ModelResult};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// The working memory of one hash.
type Buffer = Box<[Block]>;

struct Budget {
    /// One permit per buffer: a hash waits here for a free one.
    permits: Semaphore,
    buffers: Mutex<Vec<Buffer>>,
}

static BUDGET: LazyLock<Budget> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    Budget {
        permits: Semaphore::new(cores),
        buffers: Mutex::new(Vec::with_capacity(cores)),
    }
});

/// A hash of a password nobody has, checked when the email is unknown so that a
/// failed sign-in takes as long whether or not the account exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut buffer = new_buffer();
    hash_with(&mut buffer, "no account has this password").unwrap_or_default()
});

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn new_buffer() -> Buffer {
    vec![Block::default(); Params::default().block_count()].into_boxed_slice()
}

fn hash_error(error: impl std::fmt::Display) -> ModelError {
    ModelError::Message(format!("password hashing failed: {error}"))
}

/// Runs `work` with a working buffer, off the async threads, once one is free.
async fn with_buffer<T: Send + 'static>(
    work: impl FnOnce(&mut Buffer) -> T + Send + 'static,
) -> ModelResult<T> {
    let budget = &*BUDGET;
    let _permit = budget
        .permits
        .acquire()
        .await
        .map_err(|error| ModelError::Any(error.into()))?;
    let buffer = budget
        .buffers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop();
    let (result, buffer) = tokio::task::spawn_blocking(move || {
        let mut buffer = buffer.unwrap_or_else(new_buffer);
        let result = work(&mut buffer);
        (result, buffer)
    })
    .await
    .map_err(|error| ModelError::Any(error.into()))?;
    budget
        .buffers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(buffer);
    Ok(result)
}

fn hash_with(buffer: &mut Buffer, password: &str) -> ModelResult<String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(hash_error)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hasher()
        .hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut out, &mut buffer[..])
        .map_err(hash_error)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hash_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hash_error)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` gives `hashed`, a PHC string of any argon2 variant and
/// parameters. Hashes needing more memory than a buffer holds (made elsewhere,
/// with other parameters) get a buffer of their own.
fn verify_with(buffer: &mut Buffer, password: &str, hashed: &str) -> bool {
    let Ok(hash) = PasswordHash::new(hashed) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let version = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = if params.block_count() <= buffer.len() {
        argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut buffer[..params.block_count()],
        )
    } else {
        argon.hash_password_into(password.as_bytes(), salt, &mut out)
    };
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// An argon2id PHC string of `password`.
///
/// # Errors
/// When the hash cannot be computed.
pub async fn hash(password: String) -> ModelResult<String> {
    with_buffer(move |buffer| hash_with(buffer, &password)).await?
}

/// Whether `password` gives `hashed`; with no hash (no account, or one without
/// a password), checks a dummy one, so that the answer takes as long.
pub async fn verify(password: String, hashed: Option<String>) -> bool {
    let found = hashed.is_some();
    let hashed = hashed.unwrap_or_else(|| DUMMY_HASH.clone());
    let valid = with_buffer(move |buffer| verify_with(buffer, &password, &hashed)).await;
    found && matches!(valid, Ok(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let mut buffer = new_buffer();
        let hashed = hash_with(&mut buffer, "correct horse").expect("hash");
        assert!(
            hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hashed}"
        );
        assert!(verify_with(&mut buffer, "correct horse", &hashed));
        assert!(!verify_with(&mut buffer, "wrong horse", &hashed));
        assert!(!verify_with(&mut buffer, "correct horse", "not a hash"));
        assert_ne!(
            hashed,
            hash_with(&mut buffer, "correct horse").expect("hash")
        );
    }

    #[test]
    fn verifies_hashes_made_by_the_argon2_crate_with_other_parameters() {
        use argon2::PasswordHasher;
        let params = Params::new(32 * 1024, 3, 1, None).expect("params");
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"legacy", &salt)
            .expect("hash")
            .to_string();
        let mut buffer = new_buffer();
        assert!(verify_with(&mut buffer, "legacy", &other));
        assert!(!verify_with(&mut buffer, "other", &other));
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        assert!(!verify(String::new(), None).await);
        assert!(!verify("no account has this password".to_string(), None).await);
        let hashed = hash("pw-123456".to_string()).await.expect("hash");
        assert!(verify("pw-123456".to_string(), Some(hashed)).await);
    }
}
