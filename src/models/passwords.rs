//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes), on a
//! fixed budget. As many hashes run at once as the machine has cores, each in
//! one of as many working buffers, reused for every hash and check while
//! sign-ins keep coming, and given back once none has run for a while.
//! Allocating 19 MiB per sign-in instead, many at once, left gigabytes in the
//! allocator's per-thread arenas for good.

use std::{
    num::NonZeroUsize,
    sync::{
        LazyLock, Mutex, OnceLock, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng},
};
use loco_rs::model::{ModelError, ModelResult};
use rand::Rng;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::legacy_passwords;

/// Whether `password` is hard enough to guess: zxcvbn's score of 2 or more
/// ("somewhat guessable" at worst), judged knowing `context` (the owner's
/// email and names), so that `jane2024` is weak for Jane.
#[must_use]
pub fn is_strong(password: &str, context: &[&str]) -> bool {
    // zxcvbn's work grows with the length; past 100 characters, length is strength.
    let judged: String = password.chars().take(100).collect();
    zxcvbn::zxcvbn(&judged, context).score() >= zxcvbn::Score::Two
}

/// Letters and digits that cannot be taken for one another.
const GENERATED_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// 20 of them: about 115 bits.
const GENERATED_LENGTH: usize = 20;

/// A password for an account an operator makes without one, from a CSPRNG.
#[must_use]
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_LENGTH)
        .map(|_| char::from(GENERATED_ALPHABET[rng.random_range(0..GENERATED_ALPHABET.len())]))
        .collect()
}

/// The working memory of one hash.
type Buffer = Box<[Block]>;

/// How long the buffers outlive the last hash.
const IDLE_RELEASE: Duration = Duration::from_secs(10);
/// How long a hash waits for a buffer before the request is turned away.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// More hashes are waiting than can run within `MAX_WAIT`: the server is
/// saturated (503), not broken.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct Saturated;

struct Budget {
    /// One permit per buffer: a hash waits here for a free one.
    permits: Semaphore,
    size: usize,
    buffers: Mutex<Vec<Buffer>>,
    /// Hashes done so far: tells a release whether another ran meanwhile.
    done: AtomicU64,
}

static BUDGET: LazyLock<Budget> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    Budget {
        permits: Semaphore::new(cores),
        size: cores,
        buffers: Mutex::new(Vec::with_capacity(cores)),
        done: AtomicU64::new(0),
    }
});

impl Budget {
    fn buffers(&self) -> std::sync::MutexGuard<'_, Vec<Buffer>> {
        self.buffers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `buffer` back. When no other hash is running, gives every buffer
    /// back to the system after `IDLE_RELEASE` unless a hash runs meanwhile.
    fn put_back(&'static self, buffer: Buffer) {
        self.buffers().push(buffer);
        let done = self.done.fetch_add(1, Ordering::AcqRel) + 1;
        // The caller still holds its permit.
        if self.permits.available_permits() + 1 == self.size {
            // A timer, not work: nothing is lost if the process stops first.
            tokio::spawn(async move {
                tokio::time::sleep(IDLE_RELEASE).await;
                if self.done.load(Ordering::Acquire) == done {
                    self.buffers().clear();
                }
            });
        }
    }
}

/// A hash of a password nobody has, checked when the email is unknown so that a
/// failed sign-in takes as long whether or not the account exists. Made on
/// first use, in a working buffer.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn new_buffer() -> Buffer {
    vec![Block::default(); Params::default().block_count()].into_boxed_slice()
}

fn hash_error(error: impl std::fmt::Display) -> ModelError {
    ModelError::Message(format!("password hashing failed: {error}"))
}

/// Runs `work` with a working buffer, off the async threads, once one is free
/// within `max_wait`.
async fn with_buffer<T: Send + 'static>(
    max_wait: Duration,
    work: impl FnOnce(&mut Buffer) -> T + Send + 'static,
) -> ModelResult<T> {
    let budget: &'static Budget = &BUDGET;
    let _permit = tokio::time::timeout(max_wait, budget.permits.acquire())
        .await
        .map_err(|_| ModelError::Any(Saturated.into()))?
        .map_err(|error| ModelError::Any(error.into()))?;
    let buffer = budget.buffers().pop();
    let (result, buffer) = tokio::task::spawn_blocking(move || {
        let mut buffer = buffer.unwrap_or_else(new_buffer);
        let result = work(&mut buffer);
        (result, buffer)
    })
    .await
    .map_err(|error| ModelError::Any(error.into()))?;
    budget.put_back(buffer);
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
/// parameters, or a hash the legacy import brought. Hashes needing more
/// memory than a buffer holds (made elsewhere, with other parameters) get a
/// buffer of their own.
fn verify_with(buffer: &mut Buffer, password: &str, hashed: &str) -> bool {
    if legacy_passwords::is_legacy(hashed) {
        return legacy_passwords::verify(password, hashed);
    }
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
/// `Saturated` when no buffer frees up in time; when the hash cannot be
/// computed.
pub async fn hash(password: String) -> ModelResult<String> {
    with_buffer(MAX_WAIT, move |buffer| hash_with(buffer, &password)).await?
}

/// Whether `password` gives `hashed`; with no hash (no account, or one without
/// a password), checks a dummy one, so that the answer takes as long.
///
/// # Errors
/// `Saturated` when no buffer frees up in time.
pub async fn verify(password: String, hashed: Option<String>) -> ModelResult<bool> {
    let found = hashed.is_some();
    let valid = with_buffer(MAX_WAIT, move |buffer| {
        let hashed = match &hashed {
            Some(hashed) => hashed.as_str(),
            None => DUMMY_HASH.get_or_init(|| {
                hash_with(buffer, "no account has this password").unwrap_or_default()
            }),
        };
        verify_with(buffer, &password, hashed)
    })
    .await?;
    Ok(found && valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_and_the_owners_own_words_are_weak() {
        let jane = ["jane.doe@example.com", "jane.doe", "Jane", "Doe"];
        for weak in [
            "password1",
            "qwerty123",
            "Password1234",
            "jane.doe@example.com",
            "jane.doe2024",
        ] {
            assert!(!is_strong(weak, &jane), "{weak}");
        }
        for strong in ["correct horse battery", "tq8#Vz!r0pL2"].iter().copied() {
            assert!(is_strong(strong, &jane), "{strong}");
        }
        // Judged on its first 100 characters: a long password costs no more.
        assert!(!is_strong(&"ab".repeat(100_000), &jane));
    }

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_hashes_share_at_most_one_buffer_per_core() {
        let mut hashes = tokio::task::JoinSet::new();
        for n in 0..(BUDGET.size * 3) {
            hashes.spawn(hash(format!("password-{n}")));
        }
        while let Some(hashed) = hashes.join_next().await {
            hashed.expect("joined").expect("hashed");
        }
        assert!(BUDGET.buffers().len() <= BUDGET.size);
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        let check = |password: &str, hashed| verify(password.to_string(), hashed);
        assert!(!check("", None).await.expect("checked"));
        assert!(
            !check("no account has this password", None)
                .await
                .expect("checked")
        );
        let hashed = hash("pw-123456".to_string()).await.expect("hash");
        assert!(check("pw-123456", Some(hashed)).await.expect("checked"));
    }

    #[tokio::test]
    async fn a_hash_that_waits_too_long_for_a_buffer_is_saturated() {
        let all = u32::try_from(BUDGET.size).expect("a few cores");
        let held = BUDGET
            .permits
            .acquire_many(all)
            .await
            .expect("every permit");
        let waited = with_buffer(Duration::from_millis(20), |_| ()).await;
        assert!(
            matches!(&waited, Err(ModelError::Any(error)) if error.is::<Saturated>()),
            "{waited:?}"
        );
        drop(held);
        with_buffer(Duration::from_millis(20), |_| ())
            .await
            .expect("a buffer once one is free");
    }
}
