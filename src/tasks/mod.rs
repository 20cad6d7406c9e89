pub mod deliver_mail;
pub mod import_legacy;
pub mod legacy_import;
pub mod mail_failed;
pub mod mail_preview;
pub mod operator;
pub mod purge_deleted_accounts;
pub mod purge_expired_tokens;
pub mod purge_orphan_files;
pub mod send_test_email;
pub mod user_archive;
pub mod user_create;
pub mod user_delete;
pub mod user_disable_2fa;
pub mod user_end_sessions;
pub mod user_export;
pub mod user_passkeys;
pub mod user_unarchive;

use loco_rs::{app::AppContext, task::Vars};

use crate::models::task_runs;

/// Whether this process does this run of `task`. The scheduler passes
/// `once_per:<seconds>` (its period): with several server processes, each
/// with its scheduler, one of them takes each run. An operator's run (no
/// `once_per`) always runs.
///
/// # Errors
/// When `once_per` is not a number, or on a database error.
pub async fn takes_this_run(ctx: &AppContext, vars: &Vars, task: &str) -> loco_rs::Result<bool> {
    let Some(period) = vars.cli.get("once_per") else {
        return Ok(true);
    };
    let period: u64 = period
        .parse()
        .map_err(|_| loco_rs::Error::string("once_per: a number of seconds"))?;
    let taken = task_runs::Model::claim(&ctx.db, task, period).await?;
    if !taken {
        println!("{task}: this run was taken by another process");
    }
    Ok(taken)
}
