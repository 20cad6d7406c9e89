//! Deleting an account for good. Its owner asks (`schedule_deletion`): the
//! sessions end at once, every sign-in is refused, and the account goes
//! when the grace period ends, unless the owner cancels with the token
//! mailed to them. An admin or an operator deletes at once. The deletion
//! itself (`erase`) is one transaction over the rows, then the stored
//! objects: run again after a crash, it finishes what is left.

use chrono::Duration;
use sea_orm::QueryOrder;

use super::*;
use crate::models::{
    apple::AppleError,
    code_budgets, data_exports,
    deleted_accounts::{self, RequestedBy},
    mails::{self, NewMail},
    provider_tokens::Revoker,
};

/// Accounts the sweep deletes in one run at most; the next run takes the rest.
const SWEEP_BATCH: u64 = 100;

/// A sign-in of an account whose deletion is scheduled: refused until the
/// owner cancels it.
#[derive(Debug, thiserror::Error)]
#[error("account scheduled for deletion")]
pub struct ScheduledForDeletion;

/// Why a deletion did not happen; nothing of the account was deleted.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The provider refused to revoke its token, or did not answer.
    #[error(transparent)]
    Provider(#[from] AppleError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A deletion scheduled: the user as they are now, when they go, and the
/// token that cancels it (none when the deletion is due at once).
pub struct ScheduledDeletion {
    pub user: Model,
    pub deletes_at: DateTime<Utc>,
    pub cancel: Option<IssuedToken>,
}

impl Model {
    #[must_use]
    pub const fn is_deletion_scheduled(&self) -> bool {
        self.deletes_at.is_some()
    }

    /// Refuses a sign-in of an account whose deletion is scheduled.
    ///
    /// # Errors
    /// `ScheduledForDeletion`, as a model error.
    pub fn may_sign_in(&self) -> ModelResult<()> {
        if self.is_deletion_scheduled() {
            return Err(ModelError::Any(ScheduledForDeletion.into()));
        }
        Ok(())
    }

    /// Schedules the deletion `grace` from now, ends every session and
    /// token of the account, and issues the token that cancels it (valid
    /// through the grace period).
    ///
    /// # Errors
    /// On a database error, or when the token cannot be signed.
    pub async fn schedule_deletion(
        self,
        db: &DatabaseConnection,
        signer: &TokenSigner,
        grace: Duration,
    ) -> ModelResult<ScheduledDeletion> {
        let deletes_at = timestamps::now() + grace;
        let txn = write_transaction::begin(db).await?;
        Entity::update_many()
            .col_expr(Column::DeletesAt, Expr::value(deletes_at))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(Column::Id.eq(self.id))
            .exec(&txn)
            .await?;
        let user = Self::end_sessions(&txn, self.id).await?;
        let cancel = if grace > Duration::zero() {
            let (kind, lifetime) = (TokenKind::DeletionCancel, grace.num_seconds());
            Some(single_use_tokens::Model::issue(&txn, signer, user.id, kind, lifetime).await?)
        } else {
            None
        };
        txn.commit().await?;
        Ok(ScheduledDeletion {
            user,
            deletes_at: deletes_at.to_utc(),
            cancel,
        })
    }

    /// Cancels the scheduled deletion `token` names, once, while it is not
    /// carried out; the user signs in again as before. `None` when the token
    /// is not live or the account is not scheduled for deletion.
    ///
    /// # Errors
    /// On a database error.
    pub async fn cancel_deletion(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        token: &str,
    ) -> ModelResult<Option<Self>> {
        let Some(claims) = signer.verify(token, TokenKind::DeletionCancel) else {
            return Ok(None);
        };
        let txn = write_transaction::begin(db).await?;
        if !single_use_tokens::Model::use_once(&txn, &claims).await? {
            return Ok(None);
        }
        let now = timestamps::now();
        let cancelled = Entity::update_many()
            .col_expr(Column::DeletesAt, Expr::value(None::<DateTimeWithTimeZone>))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(claims.sub))
            .filter(Column::DeletesAt.gt(now))
            .exec(&txn)
            .await?;
        if cancelled.rows_affected == 0 {
            return Ok(None);
        }
        let user = Self::find_by_id(&txn, claims.sub).await?;
        txn.commit().await?;
        Ok(Some(user))
    }

    /// The accounts whose deletion is due at `now`, soonest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn due_for_deletion(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> ModelResult<Vec<Self>> {
        Ok(Entity::find()
            .filter(Column::DeletesAt.lte(now))
            .order_by_asc(Column::DeletesAt)
            .limit(SWEEP_BATCH)
            .all(db)
            .await?)
    }

    /// Deletes the account for good: revokes the provider's token, then, in
    /// one transaction, every row of the user, with `farewell` (the mail
    /// that tells them) queued in the same transaction; then removes their
    /// stored objects. Returns the farewell's mail id when one was queued.
    /// Safe to run again after a crash at any point: what is done stays
    /// done, and objects not removed are left to the purge.
    ///
    /// # Errors
    /// When the provider refuses to revoke or does not answer (nothing is
    /// deleted), or on a database error.
    pub async fn erase(
        self,
        (db, storage): (&DatabaseConnection, &Storage),
        revoker: Revoker<'_>,
        requested_by: RequestedBy,
        farewell: Option<NewMail>,
    ) -> Result<Option<Uuid>, EraseError> {
        provider_tokens::revoke(db, revoker, self.id).await?;
        let (keys, farewell) = self.forget(db, requested_by, farewell).await?;
        file_deletions::carry_out(db, storage, &keys).await;
        Ok(farewell)
    }

    /// The rows of `erase`, in one transaction; returns the stored objects
    /// to remove (recorded for the purge, in case the removal does not
    /// come) and the farewell's mail id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn forget(
        &self,
        db: &DatabaseConnection,
        requested_by: RequestedBy,
        farewell: Option<NewMail>,
    ) -> ModelResult<(Vec<String>, Option<Uuid>)> {
        let id = self.id.to_string();
        let mut names = vec![self.email.as_str(), id.as_str()];
        names.extend(self.pending_email.as_deref());
        let txn = write_transaction::begin(db).await?;
        let mut keys = files::Model::keys_of_owner(&txn, self.id).await?;
        keys.extend(data_exports::Model::keys_of(&txn, self.id).await?);
        file_deletions::record(&txn, &keys).await?;
        mails::Model::forget_addresses(&txn, &names).await?;
        one_time_passwords::Model::forget_keys(&txn, &names).await?;
        code_budgets::Model::forget_accounts(&txn, &names).await?;
        // The rest of the user's rows go with theirs (foreign keys cascade).
        Entity::delete_by_id(self.id).exec(&txn).await?;
        deleted_accounts::record(&txn, requested_by).await?;
        let farewell = match farewell {
            Some(mail) => Some(mails::Model::enqueue(&txn, mail).await?.id),
            None => None,
        };
        txn.commit().await?;
        Ok((keys, farewell))
    }
}
