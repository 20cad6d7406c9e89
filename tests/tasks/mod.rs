mod data_rights;
mod import_legacy;
pub mod mail;
mod operators;
mod purge_expired_tokens;
mod purge_orphan_files;
mod user_disable_2fa;
