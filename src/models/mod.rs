pub mod _entities;
pub mod access;
pub mod apple;
pub mod code_budgets;
pub mod data_exports;
pub mod deleted_accounts;
pub mod deletion_proof;
pub mod email;
pub mod file_deletions;
pub mod files;
pub mod id_tokens;
pub mod items;
pub mod legacy_passwords;
pub mod mails;
pub mod native_sign_in;
pub mod one_time_passwords;
pub mod outgoing;
pub mod pagination;
pub mod passkeys;
pub mod passwords;
pub mod patch;
pub mod profile_pictures;
pub mod provider_tokens;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod rendered;
pub mod sealed;
pub mod security_events;
pub mod sessions;
pub mod single_use_tokens;
pub mod spent_id_tokens;
pub mod sso_logins;
pub mod sso_providers;
pub mod task_runs;
pub mod timestamps;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod write_transaction;
// inject-above: models (cargo loco generate; keep this line)

/// What `Debug` prints in place of a secret (a token, a code, a hash).
pub const REDACTED: &str = "[redacted]";

/// Lowercase hex, the form digests are kept and compared in.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
