//! `cargo loco task purge_deleted_accounts`: deletes the accounts whose
//! grace period has ended, removes the stored files deletions left behind,
//! and the data export archives past their time. The scheduler runs it
//! every 10 minutes.

use chrono::Utc;
use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::{infra::state::AppState, workers::account_deletion};

pub struct PurgeDeletedAccounts;

#[async_trait::async_trait]
impl Task for PurgeDeletedAccounts {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "purge_deleted_accounts".to_string(),
            detail: "Delete the accounts whose deletion is due, and expired data exports"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        super::run_scheduled(ctx, vars, &self.task().name, async {
            let state = AppState::from_context(ctx)?;
            let swept = account_deletion::sweep(ctx, &state, Utc::now()).await?;
            tracing::info!(?swept, "deleted accounts purged");
            println!(
                "deleted {} account(s) ({} failed, tried again next run); removed {} stored \
             file(s) left behind and {} expired export(s)",
                swept.deleted, swept.failed, swept.removed, swept.exports_expired
            );
            Ok(())
        })
        .await
    }
}
