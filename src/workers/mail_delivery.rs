//! Delivers mails from the outbox over SMTP.

use loco_rs::{app::AppContext, bgworker::BackgroundWorker};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    infra::state::AppState,
    models::mails::{self, Delivery},
};

pub struct MailDeliveryWorker {
    pub ctx: AppContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailDeliveryArgs {
    pub mail_id: Uuid,
}

/// Mails taken in one sweep at most.
const SWEEP_BATCH: u64 = 100;

/// Delivers one mail and logs the outcome.
///
/// # Errors
/// On a database error, or when no mailer is configured.
pub async fn deliver(ctx: &AppContext, mail_id: Uuid) -> loco_rs::Result<Delivery> {
    let sender = ctx
        .mailer
        .as_ref()
        .ok_or_else(|| loco_rs::Error::string("no mailer configured (mailer.smtp in config)"))?;
    let state = AppState::from_context(ctx)?;
    let _in_flight = state.mail_in_flight.read().await;
    let from = state.settings.from_mailbox();
    let outcome = mails::Model::deliver(&ctx.db, sender, &from, mail_id).await?;
    match &outcome {
        Delivery::Sent => tracing::info!(%mail_id, "mail sent"),
        Delivery::WillRetry(error) => tracing::warn!(%mail_id, error, "mail not sent, will retry"),
        Delivery::GaveUp(error) => tracing::error!(%mail_id, error, "mail failed for good"),
        Delivery::Skipped => tracing::debug!(%mail_id, "mail not due or taken elsewhere"),
    }
    Ok(outcome)
}

/// Delivers every mail that is due: retries whose wait is over, and mails whose
/// delivery died half-way. Returns how many were sent.
///
/// # Errors
/// On a database error, or when no mailer is configured.
pub async fn deliver_due(ctx: &AppContext) -> loco_rs::Result<usize> {
    let mut sent = 0;
    for mail_id in mails::Model::due(&ctx.db, SWEEP_BATCH).await? {
        if deliver(ctx, mail_id).await? == Delivery::Sent {
            sent += 1;
        }
    }
    Ok(sent)
}

#[async_trait::async_trait]
impl BackgroundWorker<MailDeliveryArgs> for MailDeliveryWorker {
    fn build(ctx: &AppContext) -> Self {
        Self { ctx: ctx.clone() }
    }

    async fn perform(&self, args: MailDeliveryArgs) -> loco_rs::Result<()> {
        // A refused delivery is recorded on the mail and retried from there,
        // so the job itself succeeds.
        deliver(&self.ctx, args.mail_id).await.map(|_| ())
    }
}
