//! `cargo loco task purge_orphan_files`: removes from the file store what no
//! row references: objects whose deletion failed when their row went, and
//! objects an interrupted upload left (older than an hour, so that uploads
//! under way are spared). The scheduler runs it hourly.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::models::file_deletions;

pub struct PurgeOrphanFiles;

#[async_trait::async_trait]
impl Task for PurgeOrphanFiles {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "purge_orphan_files".to_string(),
            detail: "Remove stored files that no row references".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        super::run_scheduled(ctx, vars, &self.task().name, async {
            let purged = file_deletions::purge(&ctx.db, &ctx.storage).await?;
            tracing::info!(?purged, "orphan files purged");
            println!(
                "removed {} recorded deletion(s) and {} orphan object(s); {} left for the next run",
                purged.retried, purged.orphans, purged.failed
            );
            Ok(())
        })
        .await
    }
}
