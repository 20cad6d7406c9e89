//! Stored objects whose rows are gone: recorded in the transaction that
//! deletes the rows, removed from the store after it commits, and tried again
//! by the hourly `purge_orphan_files` when the store failed. Bytes never
//! outlive their row for long, and a failing store never undoes a deletion.

use std::{collections::HashSet, path::Path};

use chrono::{DateTime, Duration, Utc};
use loco_rs::{prelude::*, storage::Storage};
use sea_orm::QuerySelect;

pub use super::_entities::file_deletions::{ActiveModel, Column, Entity, Model};
use super::{
    _entities::{data_exports, files},
    timestamps,
};

timestamps::stamped_model!();

/// Where uploaded files are kept in the store.
pub const FILES_PREFIX: &str = "files/";
/// Where profile pictures are kept in the store.
pub const PICTURES_PREFIX: &str = "pictures/";
/// Where data export archives are kept in the store.
pub const EXPORTS_PREFIX: &str = "exports/";
/// Where uploads and archives are kept in the store, each under its own
/// generated key: a prefix and a UUIDv7, so that the purge can tell an
/// upload under way from an orphan without asking the store.
pub const PREFIXES: [&str; 3] = [FILES_PREFIX, PICTURES_PREFIX, EXPORTS_PREFIX];

/// When the object under `key` was created, for keys under `PREFIXES`.
#[must_use]
pub fn key_created_at(key: &str) -> Option<DateTime<Utc>> {
    let id = PREFIXES
        .iter()
        .find_map(|prefix| key.strip_prefix(prefix))?;
    let (seconds, nanos) = Uuid::try_parse(id).ok()?.get_timestamp()?.to_unix();
    DateTime::from_timestamp(i64::try_from(seconds).ok()?, nanos)
}

/// An object younger than this may belong to an upload whose row is not
/// written yet: the purge leaves it alone.
const UPLOAD_GRACE: Duration = Duration::hours(1);

/// How many keys one query checks against the rows.
const BATCH: usize = 500;

/// What a purge did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Recorded deletions carried out now.
    pub retried: usize,
    /// Objects no row referenced, removed.
    pub orphans: usize,
    /// Removals the store refused; tried again next time.
    pub failed: usize,
}

/// Records, inside the transaction that deletes their rows, that these
/// objects are to be removed.
///
/// # Errors
/// On a database error.
pub async fn record<C: ConnectionTrait>(db: &C, keys: &[String]) -> ModelResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let now = timestamps::now();
    let rows = keys.iter().map(|key| ActiveModel {
        id: ActiveValue::Set(Uuid::new_v4()),
        storage_key: ActiveValue::Set(key.clone()),
        created_at: ActiveValue::Set(now),
        updated_at: ActiveValue::Set(now),
    });
    Entity::insert_many(rows)
        .on_conflict_do_nothing_on([Column::StorageKey])
        .exec(db)
        .await?;
    Ok(())
}

/// Removes these recorded objects from the store, and the record of each one
/// removed. A failure is logged and left for the purge.
pub async fn carry_out(db: &DatabaseConnection, storage: &Storage, keys: &[String]) -> usize {
    let mut removed = Vec::with_capacity(keys.len());
    for key in keys {
        match remove_object(storage, key).await {
            Ok(()) => removed.push(key.clone()),
            Err(error) => {
                tracing::warn!(key, %error, "stored object not removed: the purge tries again");
            }
        }
    }
    if !removed.is_empty()
        && let Err(error) = Entity::delete_many()
            .filter(Column::StorageKey.is_in(removed.iter().cloned()))
            .exec(db)
            .await
    {
        tracing::warn!(%error, "removed objects still recorded: the purge forgets them");
    }
    keys.len() - removed.len()
}

/// Removes an object; one already gone counts as removed.
///
/// # Errors
/// When the store refuses.
pub async fn remove_object(
    storage: &Storage,
    key: &str,
) -> Result<(), loco_rs::storage::StorageError> {
    match storage.delete(Path::new(key)).await {
        Ok(()) => Ok(()),
        Err(error) if !storage.exists(Path::new(key)).await.unwrap_or(true) => {
            tracing::debug!(key, %error, "object already gone");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Removes an object an upload left behind without a row, or records it for
/// the purge when the store refuses.
pub async fn discard(db: &DatabaseConnection, storage: &Storage, key: &str) {
    if let Err(error) = remove_object(storage, key).await {
        tracing::warn!(key, %error, "partial upload not removed: recorded for the purge");
        leave_to_purge(db, key).await;
    }
}

/// Records an object a failed write may have left, without asking the store
/// that just failed: asking again would wait out its retries once more,
/// inside the request.
pub async fn leave_to_purge(db: &DatabaseConnection, key: &str) {
    if let Err(error) = record(db, &[key.to_string()]).await {
        tracing::error!(key, %error, "partial upload neither removed nor recorded");
    }
}

/// Carries out every recorded deletion: those whose process stopped before
/// it removed the objects, and those the store refused.
///
/// # Errors
/// On a database error.
pub async fn carry_out_recorded(db: &DatabaseConnection, storage: &Storage) -> ModelResult<Purged> {
    let recorded: Vec<String> = Entity::find()
        .select_only()
        .column(Column::StorageKey)
        .into_tuple()
        .all(db)
        .await?;
    let failed = carry_out(db, storage, &recorded).await;
    Ok(Purged {
        retried: recorded.len() - failed,
        failed,
        ..Purged::default()
    })
}

/// Carries out every recorded deletion (`carry_out_recorded`), then removes the objects under the
/// upload prefixes that no row references and that are older than an hour.
///
/// # Errors
/// On a database error, or when the store cannot be listed.
pub async fn purge(db: &DatabaseConnection, storage: &Storage) -> ModelResult<Purged> {
    let mut purged = carry_out_recorded(db, storage).await?;
    let cutoff = Utc::now() - UPLOAD_GRACE;
    for prefix in PREFIXES {
        let listed = storage
            .list(Path::new(prefix), true)
            .await
            .map_err(|error| ModelError::Any(error.into()))?;
        let candidates: Vec<String> = listed
            .into_iter()
            .filter(|entry| !entry.is_dir)
            .map(|entry| entry.path)
            .filter(|key| key_created_at(key).is_some_and(|created| created < cutoff))
            .collect();
        for batch in candidates.chunks(BATCH) {
            let mut referenced: HashSet<String> = files::Entity::find()
                .select_only()
                .column(files::Column::StorageKey)
                .filter(files::Column::StorageKey.is_in(batch.iter().cloned()))
                .into_tuple()
                .all(db)
                .await?
                .into_iter()
                .collect();
            let archives: Vec<Option<String>> = data_exports::Entity::find()
                .select_only()
                .column(data_exports::Column::StorageKey)
                .filter(data_exports::Column::StorageKey.is_in(batch.iter().cloned()))
                .into_tuple()
                .all(db)
                .await?;
            referenced.extend(archives.into_iter().flatten());
            for key in batch.iter().filter(|key| !referenced.contains(*key)) {
                match remove_object(storage, key).await {
                    Ok(()) => purged.orphans += 1,
                    Err(error) => {
                        tracing::warn!(key, %error, "orphan object not removed");
                        purged.failed += 1;
                    }
                }
            }
        }
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_when_they_were_made() {
        let key = format!("{FILES_PREFIX}{}", Uuid::now_v7());
        let made = key_created_at(&key).expect("a time");
        assert!((Utc::now() - made).num_seconds().abs() < 5);
        assert!(key_created_at("files/not-a-uuid").is_none());
        assert!(key_created_at("elsewhere/0190c8a0-0000-7000-8000-000000000000").is_none());
        assert!(key_created_at(&format!("files/{}", Uuid::new_v4())).is_none());
    }
}
