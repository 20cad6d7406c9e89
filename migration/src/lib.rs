#![allow(elided_lifetimes_in_paths)]
#![allow(clippy::wildcard_imports)]
pub use sea_orm_migration::prelude::*;
mod m20250101_000001_users;
mod m20250101_000002_items;
mod m20250101_000003_mails;
mod m20250101_000004_auth_tokens;
mod m20251125_000005_task_runs;
mod m20251125_000006_users_token_version;
mod m20251126_000007_email_change_and_code_budgets;
mod m20251126_000008_security_events;
mod m20251201_000009_sessions;
mod m20251201_000010_two_factor;
mod m20251202_000011_files;
mod m20251205_000012_code_budgets_per_factor;
mod m20251207_000013_list_indexes;
mod m20251207_000014_passkeys;
mod m20251207_000015_apple_sign_in;
mod m20251208_000016_data_rights;
mod m20251209_000017_task_run_outcomes;
mod m20251209_000018_mails_updated_at;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250101_000001_users::Migration),
            Box::new(m20250101_000002_items::Migration),
            Box::new(m20250101_000003_mails::Migration),
            Box::new(m20250101_000004_auth_tokens::Migration),
            Box::new(m20251125_000005_task_runs::Migration),
            Box::new(m20251125_000006_users_token_version::Migration),
            Box::new(m20251126_000007_email_change_and_code_budgets::Migration),
            Box::new(m20251126_000008_security_events::Migration),
            Box::new(m20251201_000009_sessions::Migration),
            Box::new(m20251201_000010_two_factor::Migration),
            Box::new(m20251202_000011_files::Migration),
            Box::new(m20251205_000012_code_budgets_per_factor::Migration),
            Box::new(m20251207_000013_list_indexes::Migration),
            Box::new(m20251207_000014_passkeys::Migration),
            Box::new(m20251207_000015_apple_sign_in::Migration),
            Box::new(m20251208_000016_data_rights::Migration),
            Box::new(m20251209_000017_task_run_outcomes::Migration),
            Box::new(m20251209_000018_mails_updated_at::Migration),
            // inject-above (do not remove this comment)
        ]
    }
}
