use std::path::Path;

use backend::models::{file_deletions, files};
use bytes::Bytes;
use chrono::{Duration, Utc};
use loco_rs::app::AppContext;
use sea_orm::{EntityTrait, PaginatorTrait};
use uuid::{NoContext, Timestamp, Uuid};

use super::mail::run;
use crate::support::{boot_on, store_kinds};

/// A key as an upload made `age` ago would have.
fn key_made(prefix: &str, age: Duration) -> String {
    let at = Utc::now() - age;
    let seconds = u64::try_from(at.timestamp()).expect("after 1970");
    let stamp = Timestamp::from_unix(NoContext, seconds, at.timestamp_subsec_nanos());
    format!("{prefix}{}", Uuid::new_v7(stamp))
}

async fn put(ctx: &AppContext, key: &str) {
    ctx.storage
        .upload(Path::new(key), &Bytes::from_static(b"bytes"))
        .await
        .expect("stored");
}

async fn exists(ctx: &AppContext, key: &str) -> bool {
    ctx.storage
        .exists(Path::new(key))
        .await
        .expect("the store answers")
}

#[tokio::test]
async fn the_purge_removes_orphans_and_recorded_deletions_only() {
    for kind in store_kinds() {
        let booted = boot_on(kind, &loco_rs::environment::Environment::Test, |_| {}).await;
        let ctx = &booted.app_context;
        let old = Duration::hours(2);
        let orphan = key_made(files::FILES_PREFIX, old);
        let orphan_picture = key_made(files::PICTURES_PREFIX, old);
        let under_way = key_made(files::FILES_PREFIX, Duration::minutes(5));
        let recorded = key_made(files::FILES_PREFIX, Duration::minutes(1));
        let foreign = "files/readme.txt".to_string();
        for key in [&orphan, &orphan_picture, &under_way, &recorded, &foreign] {
            put(ctx, key).await;
        }
        let user = backend::models::users::Model::find_by_email(
            &ctx.db,
            &crate::support::email("admin@example.com"),
        )
        .await
        .expect("the first admin");
        let referenced = files::NewFile {
            owner_id: user.id,
            name: "kept.txt".to_string(),
            mime_type: "text/plain",
            size: 5,
            storage_key: key_made(files::FILES_PREFIX, old),
            purpose: files::Purpose::File,
        }
        .insert(&ctx.db)
        .await
        .expect("a row");
        put(ctx, &referenced.storage_key).await;
        file_deletions::record(&ctx.db, std::slice::from_ref(&recorded))
            .await
            .expect("recorded");

        run(ctx, "purge_orphan_files", &[])
            .await
            .expect("the purge runs");
        assert!(!exists(ctx, &orphan).await, "{kind:?}");
        assert!(!exists(ctx, &orphan_picture).await);
        assert!(!exists(ctx, &recorded).await);
        assert!(
            exists(ctx, &under_way).await,
            "an upload under way is spared"
        );
        assert!(
            exists(ctx, &foreign).await,
            "what this app did not name is spared"
        );
        assert!(exists(ctx, &referenced.storage_key).await);
        let records = file_deletions::Entity::find()
            .count(&ctx.db)
            .await
            .expect("count");
        assert_eq!(records, 0);
    }
}

#[tokio::test]
async fn the_purge_of_an_empty_store_does_nothing() {
    let booted = crate::support::boot().await;
    let purged = file_deletions::purge(&booted.app_context.db, &booted.app_context.storage)
        .await
        .expect("purged");
    assert_eq!(purged, file_deletions::Purged::default());
}
