//! A user's export of their data: asked for, written in the background as
//! one zip archive in the store, ready for `DATA_EXPORT_TTL_HOURS`, then
//! purged. One per user: a new one takes the place of the last, and none
//! is asked for while one is being written or within `EXPORT_INTERVAL` of
//! the last.

use chrono::{DateTime, Duration, Utc};
use loco_rs::{prelude::*, storage::Storage};
use sea_orm::{QuerySelect, sea_query::Expr};

pub use super::_entities::data_exports::{ActiveModel, Column, Entity, Model};
use super::{
    file_deletions::{self, EXPORTS_PREFIX},
    timestamps, write_transaction,
};

timestamps::stamped_model!();

/// The shortest time between two exports of a user: writing one reads
/// everything they have, files included.
pub const EXPORT_INTERVAL: Duration = Duration::minutes(10);

/// An export still pending this long after it was asked for counts as
/// failed: the process writing it stopped.
pub const LONGEST_WRITE: Duration = Duration::hours(1);

/// Where an export is. `Expired` is a ready one past its time, whether or
/// not the purge has removed it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    Pending,
    Ready,
    Expired,
    Failed,
}

impl ExportState {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    fn from_stored(stored: &str) -> Self {
        match stored {
            "pending" => Self::Pending,
            "ready" => Self::Ready,
            "expired" => Self::Expired,
            _ => Self::Failed,
        }
    }
}

/// Why an export was not started.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// One is being written.
    #[error("an export is being written")]
    Pending,
    /// The last one was asked for too recently: try again then.
    #[error("an export was asked for too recently")]
    TooSoon(DateTime<Utc>),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<DbErr> for ExportError {
    fn from(error: DbErr) -> Self {
        Self::Model(error.into())
    }
}

impl Model {
    /// Its state at `now`.
    #[must_use]
    pub fn state(&self, now: DateTime<Utc>) -> ExportState {
        match ExportState::from_stored(&self.state) {
            ExportState::Ready if self.expires_at.is_some_and(|at| at.to_utc() <= now) => {
                ExportState::Expired
            }
            ExportState::Pending if self.created_at.to_utc() + LONGEST_WRITE <= now => {
                ExportState::Failed
            }
            state => state,
        }
    }

    /// The user's export, if they asked for one.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_of(db: &DatabaseConnection, user_id: Uuid) -> ModelResult<Option<Self>> {
        Ok(Entity::find()
            .filter(Column::UserId.eq(user_id))
            .one(db)
            .await?)
    }

    /// # Errors
    /// `EntityNotFound` when there is no such export (its user was deleted).
    pub async fn find_by_id(db: &DatabaseConnection, id: Uuid) -> ModelResult<Self> {
        Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// A new export of `user_id`'s data, pending, in place of their last
    /// (whose archive is removed).
    ///
    /// # Errors
    /// `Pending` while one is being written, `TooSoon` within
    /// `EXPORT_INTERVAL` of the last; a database error.
    pub async fn request(
        (db, storage): (&DatabaseConnection, &Storage),
        user_id: Uuid,
    ) -> Result<Self, ExportError> {
        let txn = write_transaction::begin(db).await?;
        let last = Entity::find()
            .filter(Column::UserId.eq(user_id))
            .one(&txn)
            .await?;
        let mut replaced = None;
        if let Some(last) = last {
            if last.state(Utc::now()) == ExportState::Pending {
                return Err(ExportError::Pending);
            }
            let next = last.created_at.to_utc() + EXPORT_INTERVAL;
            if next > Utc::now() {
                return Err(ExportError::TooSoon(next));
            }
            replaced = last.storage_key.clone();
            file_deletions::record(&txn, replaced.as_slice()).await?;
            Entity::delete_by_id(last.id).exec(&txn).await?;
        }
        let export = ActiveModel {
            user_id: ActiveValue::Set(user_id),
            state: ActiveValue::Set(ExportState::Pending.as_str().to_string()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        file_deletions::carry_out(db, storage, replaced.as_slice()).await;
        Ok(export)
    }

    /// The archive is written, under `key`: ready until `ttl` from now.
    ///
    /// # Errors
    /// `EntityNotFound` when the export is gone (its user was deleted
    /// meanwhile: the caller removes the archive); a database error.
    pub async fn mark_ready(
        &self,
        db: &DatabaseConnection,
        key: &str,
        ttl: Duration,
    ) -> ModelResult<Self> {
        let now = timestamps::now();
        let updated = Entity::update_many()
            .col_expr(Column::State, Expr::value(ExportState::Ready.as_str()))
            .col_expr(Column::StorageKey, Expr::value(key))
            .col_expr(Column::ExpiresAt, Expr::value(now + ttl))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(self.id))
            .exec(db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(ModelError::EntityNotFound);
        }
        Self::find_by_id(db, self.id).await
    }

    /// Writing the archive failed; the user may ask again.
    ///
    /// # Errors
    /// On a database error.
    pub async fn mark_failed(&self, db: &DatabaseConnection) -> ModelResult<()> {
        Entity::update_many()
            .col_expr(Column::State, Expr::value(ExportState::Failed.as_str()))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(Column::Id.eq(self.id))
            .exec(db)
            .await?;
        Ok(())
    }

    /// The keys of `user_id`'s archives in the store.
    ///
    /// # Errors
    /// On a database error.
    pub async fn keys_of(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<Vec<String>> {
        let keys: Vec<Option<String>> = Entity::find()
            .select_only()
            .column(Column::StorageKey)
            .filter(Column::UserId.eq(user_id))
            .into_tuple()
            .all(db)
            .await?;
        Ok(keys.into_iter().flatten().collect())
    }

    /// Removes the archives past their time at `now`, and marks their
    /// exports expired; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(
        db: &DatabaseConnection,
        storage: &Storage,
        now: DateTime<Utc>,
    ) -> ModelResult<usize> {
        let txn = write_transaction::begin(db).await?;
        let expired = Entity::find()
            .filter(Column::State.eq(ExportState::Ready.as_str()))
            .filter(Column::ExpiresAt.lte(now))
            .all(&txn)
            .await?;
        let keys: Vec<String> = expired
            .iter()
            .filter_map(|export| export.storage_key.clone())
            .collect();
        file_deletions::record(&txn, &keys).await?;
        Entity::update_many()
            .col_expr(Column::State, Expr::value(ExportState::Expired.as_str()))
            .col_expr(Column::StorageKey, Expr::value(None::<String>))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(Column::Id.is_in(expired.iter().map(|export| export.id)))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        file_deletions::carry_out(db, storage, &keys).await;
        Ok(expired.len())
    }
}

/// A new key for an archive.
#[must_use]
pub fn new_key() -> String {
    format!("{EXPORTS_PREFIX}{}", Uuid::now_v7())
}
