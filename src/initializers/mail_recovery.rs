//! At start, hands the delivery worker every mail still waiting: mail queued
//! while the process was down, or whose delivery stopped with it.

use async_trait::async_trait;
use loco_rs::{
    Result,
    app::{AppContext, Initializer},
    bgworker::BackgroundWorker,
};

use crate::{
    mailers::delivery::{MailDeliveryArgs, MailDeliveryWorker},
    models::mails,
};

pub struct MailRecovery;

/// Mails handed over at start at the most; the scheduler takes the rest.
const RECOVERY_BATCH: u64 = 1000;

#[async_trait]
impl Initializer for MailRecovery {
    fn name(&self) -> String {
        "mail-recovery".to_string()
    }

    async fn before_run(&self, ctx: &AppContext) -> Result<()> {
        let waiting = mails::Model::due(&ctx.db, RECOVERY_BATCH).await?;
        if !waiting.is_empty() {
            tracing::info!(
                count = waiting.len(),
                "delivering mail left from an earlier run"
            );
        }
        for mail_id in waiting {
            MailDeliveryWorker::perform_later(ctx, MailDeliveryArgs { mail_id }).await?;
        }
        Ok(())
    }
}
