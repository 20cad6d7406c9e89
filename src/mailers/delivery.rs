//! The job that delivers a mail from the outbox, as Loco's own mailer has
//! one: the mailer queues it for each mail it writes, the mail-recovery
//! initializer for mail left from an earlier run. Delivery itself is the
//! outbox's (`mails::Model::deliver`).

use loco_rs::{app::AppContext, bgworker::BackgroundWorker};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    infra::{metrics::MailOutcome, state::AppState},
    models::mails::{self, Delivery},
};

pub struct MailDeliveryWorker {
    pub ctx: AppContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailDeliveryArgs {
    pub mail_id: Uuid,
}

#[async_trait::async_trait]
impl BackgroundWorker<MailDeliveryArgs> for MailDeliveryWorker {
    fn build(ctx: &AppContext) -> Self {
        Self { ctx: ctx.clone() }
    }

    async fn perform(&self, args: MailDeliveryArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        let outbox = state.outbox(&self.ctx)?;
        // A refused delivery is recorded on the mail and retried from there,
        // so the job itself succeeds.
        let delivery = mails::Model::deliver(&self.ctx.db, &outbox, args.mail_id);
        let outcome = match state.metrics.job("mail_delivery", delivery).await? {
            Delivery::Sent => MailOutcome::Sent,
            Delivery::WillRetry(_) => MailOutcome::Retried,
            Delivery::GaveUp(_) => MailOutcome::Failed,
            Delivery::Skipped => return Ok(()),
        };
        state.metrics.mail_delivered(outcome);
        Ok(())
    }
}
