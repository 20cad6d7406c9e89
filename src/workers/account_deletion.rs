//! Deleting accounts for good, away from the request: the job a request
//! queues when a deletion is due at once, and the sweep the scheduler runs
//! (`purge_deleted_accounts`) for those whose grace period has ended. Both
//! delete every account that is due, so the job's arguments name no one and
//! the queue keeps nothing of the user.

use chrono::{DateTime, Utc};
use loco_rs::{app::AppContext, bgworker::BackgroundWorker, model::ModelResult};
use serde::{Deserialize, Serialize};

use crate::{
    infra::state::AppState,
    mailers::data_rights::DataRightsMailer,
    models::{
        data_exports,
        deleted_accounts::RequestedBy,
        file_deletions,
        security_events::{self, EventKind, Origin},
        users::{self, EraseError, ScheduledDeletion},
    },
};

pub struct AccountDeletionWorker {
    pub ctx: AppContext,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountDeletionArgs {}

#[async_trait::async_trait]
impl BackgroundWorker<AccountDeletionArgs> for AccountDeletionWorker {
    fn build(ctx: &AppContext) -> Self {
        Self { ctx: ctx.clone() }
    }

    async fn perform(&self, args: AccountDeletionArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        state.metrics.job("account_deletion", self.run(args)).await
    }
}

impl AccountDeletionWorker {
    async fn run(&self, _args: AccountDeletionArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        sweep(&self.ctx, &state, Utc::now()).await?;
        Ok(())
    }
}

/// What follows a deletion scheduled: the security log says so (`detail`:
/// by whom, if not the user), and the user is mailed the link that cancels
/// it; one due at once is deleted now.
///
/// # Errors
/// When the job cannot be queued (the sweep deletes the account then).
pub async fn scheduled(
    ctx: &AppContext,
    state: &AppState,
    scheduled: &ScheduledDeletion,
    (origin, detail): (&Origin, Option<&str>),
) -> loco_rs::Result<()> {
    let (user, kind) = (&scheduled.user, EventKind::DeletionRequested);
    security_events::Model::note(&ctx.db, user.id, kind, origin, detail).await;
    match &scheduled.cancel {
        Some(cancel) => {
            let (settings, due) = (&state.settings, (scheduled.deletes_at, cancel));
            DataRightsMailer::deletion_scheduled(ctx, settings, user, due).await;
        }
        None => {
            AccountDeletionWorker::perform_later(ctx, AccountDeletionArgs::default()).await?;
        }
    }
    Ok(())
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Accounts deleted.
    pub deleted: usize,
    /// Accounts due whose deletion failed (a provider did not revoke): the
    /// next sweep tries again.
    pub failed: usize,
    /// Stored objects of earlier deletions removed now.
    pub removed: usize,
    /// Export archives past their time, removed.
    pub exports_expired: usize,
}

/// Deletes every account whose deletion is due at `now`, removes the stored
/// objects earlier deletions left behind (their process stopped), and the
/// export archives past their time.
///
/// # Errors
/// On a database error.
pub async fn sweep(ctx: &AppContext, state: &AppState, now: DateTime<Utc>) -> ModelResult<Swept> {
    let mut swept = Swept::default();
    for user in users::Model::due_for_deletion(&ctx.db, now).await? {
        match erase(ctx, state, user, RequestedBy::Owner).await {
            Ok(()) => swept.deleted += 1,
            Err(error) => {
                tracing::warn!(%error, "account deletion failed: the next sweep tries again");
                swept.failed += 1;
            }
        }
    }
    swept.removed = file_deletions::carry_out_recorded(&ctx.db, &ctx.storage)
        .await?
        .retried;
    swept.exports_expired = data_exports::Model::purge_expired(&ctx.db, &ctx.storage, now).await?;
    Ok(swept)
}

/// Deletes `user` for good (`users::Model::erase`), and mails them that it
/// is done.
///
/// # Errors
/// When the provider does not revoke its token, or on a database error:
/// nothing was deleted.
pub async fn erase(
    ctx: &AppContext,
    state: &AppState,
    user: users::Model,
    requested_by: RequestedBy,
) -> Result<(), EraseError> {
    let farewell =
        DataRightsMailer::farewell(&state.settings, &user.email).unwrap_or_else(|error| {
            tracing::error!(%error, "farewell mail not rendered");
            None
        });
    let identity = &state.identity;
    let revoker = (&identity.sealer, &identity.apple, &identity.http);
    let store = (&ctx.db, ctx.storage.as_ref());
    let farewell = user.erase(store, revoker, requested_by, farewell).await?;
    tracing::info!(requested_by = requested_by.as_str(), "account deleted");
    if let Some(mail_id) = farewell
        && let Err(error) = DataRightsMailer::deliver(ctx, mail_id).await
    {
        tracing::warn!(%error, "farewell mail left to the mail sweep");
    }
    Ok(())
}
