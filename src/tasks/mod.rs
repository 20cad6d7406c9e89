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

use std::time::Instant;

use loco_rs::{app::AppContext, task::Vars};

use crate::models::task_runs;

/// Runs `work`, once across processes when the scheduler asks. The
/// scheduler passes `once_per:<seconds>` (its period): with several server
/// processes, each with its scheduler, one of them takes each run, and
/// records how it ended and how long it took (the metrics read it). An
/// operator's run (no `once_per`) always runs, unrecorded.
///
/// # Errors
/// When `once_per` is not a number, on a database error, or `work`'s.
pub async fn run_scheduled(
    ctx: &AppContext,
    vars: &Vars,
    task: &str,
    work: impl Future<Output = loco_rs::Result<()>>,
) -> loco_rs::Result<()> {
    let Some(period) = vars.cli.get("once_per") else {
        return work.await;
    };
    let period: u64 = period
        .parse()
        .map_err(|_| loco_rs::Error::string("once_per: a number of seconds"))?;
    let Some(slot) = task_runs::Model::claim(&ctx.db, task, period).await? else {
        println!("{task}: this run was taken by another process");
        return Ok(());
    };
    let started = Instant::now();
    let outcome = work.await;
    task_runs::Model::finish(&ctx.db, (task, slot), outcome.is_ok(), started.elapsed()).await?;
    outcome
}
