//! Deletions of stored bytes when the store refuses them.

use backend::models::file_deletions;
use loco_rs::storage::{Storage, drivers};
use sea_orm::{EntityTrait, QueryOrder};

use crate::support::boot;

async fn recorded(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    file_deletions::Entity::find()
        .order_by_asc(file_deletions::Column::StorageKey)
        .all(db)
        .await
        .expect("query")
        .into_iter()
        .map(|deletion| deletion.storage_key)
        .collect()
}

/// A store that refuses every removal: what an upload left is recorded for
/// the purge; deletions carried out count as failed and stay recorded, so
/// that the next purge tries them again.
#[tokio::test]
async fn a_store_that_refuses_leaves_its_objects_recorded_for_the_purge() {
    let booted = boot().await;
    let db = &booted.app_context.db;
    let refusing = Storage::single(drivers::null::new());
    file_deletions::discard(db, &refusing, "files/left-by-an-upload").await;
    assert_eq!(recorded(db).await, ["files/left-by-an-upload"]);

    let keys = ["files/a".to_string(), "pictures/b".to_string()];
    file_deletions::record(db, &keys).await.expect("recorded");
    let failed = file_deletions::carry_out(db, &refusing, &keys).await;
    assert_eq!(failed, 2);
    assert_eq!(
        recorded(db).await,
        ["files/a", "files/left-by-an-upload", "pictures/b"]
    );
    let purged = file_deletions::purge(db, &refusing).await;
    assert!(purged.is_err(), "a store that cannot be listed: {purged:?}");
    assert_eq!(recorded(db).await.len(), 3, "nothing forgotten");
}
