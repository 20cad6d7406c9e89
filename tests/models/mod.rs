mod code_budgets;
mod file_deletions;
mod files;
mod items;
mod legacy_passwords;
mod passkeys;
mod sessions;
pub mod soft_passkey;
mod users;
