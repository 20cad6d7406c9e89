use backend::models::files::{self, FileError, Quota, Usage};
use bytes::Bytes;
use futures::{StreamExt, stream};

use crate::{
    requests::uploads::{file_rows, stored_keys},
    support::{boot_on, store_kinds},
};

/// A body of `chunks` chunks of 64 KiB (binary), arriving one by one as from a
/// client that sent no length, then `end`.
fn body(
    chunks: usize,
    end: Option<FileError>,
) -> futures::stream::BoxStream<'static, Result<Bytes, FileError>> {
    let chunk = Bytes::from(vec![0u8; 64 * 1024]);
    stream::iter((0..chunks).map(move |_| Ok(chunk.clone())))
        .chain(stream::iter(end.map(Err)))
        .boxed()
}

async fn first_admin(ctx: &loco_rs::app::AppContext) -> backend::models::users::Model {
    backend::models::users::Model::find_by_email(
        &ctx.db,
        &crate::support::email("admin@example.com"),
    )
    .await
    .expect("the first admin")
}

#[tokio::test]
async fn a_stream_past_its_limit_or_cut_off_leaves_no_row_and_no_object() {
    for kind in store_kinds() {
        let booted = boot_on(kind, &loco_rs::environment::Environment::Test, |_| {}).await;
        let ctx = &booted.app_context;
        let owner = first_admin(ctx).await;
        let limit = 200 * 1024;
        let over = files::Model::upload(
            &ctx.db,
            &ctx.storage,
            owner.id,
            "big".into(),
            (limit, Quota::NONE),
            body(100, None),
        )
        .await;
        assert!(
            matches!(over, Err(FileError::TooLarge(l)) if l == limit),
            "{kind:?}: {over:?}"
        );
        let cut = files::Model::upload(
            &ctx.db,
            &ctx.storage,
            owner.id,
            "cut".into(),
            (limit, Quota::NONE),
            body(2, Some(FileError::Unreadable("connection reset".into()))),
        )
        .await;
        assert!(matches!(cut, Err(FileError::Unreadable(_))), "{cut:?}");
        assert!(file_rows(ctx).await.is_empty());
        assert!(stored_keys(ctx).await.is_empty(), "{kind:?}");

        let whole = files::Model::upload(
            &ctx.db,
            &ctx.storage,
            owner.id,
            "ok".into(),
            (limit, Quota::NONE),
            body(3, None),
        )
        .await
        .expect("stored");
        assert_eq!(whole.size, 3 * 64 * 1024);
        assert_eq!(whole.mime_type, "application/octet-stream");
        assert_eq!(stored_keys(ctx).await, vec![whole.storage_key.clone()]);
    }
}

/// Uploads that would pass the owner's quota together: each fits alone, they
/// end at once, and only one is kept; the other leaves nothing behind. One
/// that passes the quota midway is cut there.
#[tokio::test]
async fn uploads_at_once_cannot_pass_the_quota_together() {
    for kind in store_kinds() {
        let booted = boot_on(kind, &loco_rs::environment::Environment::Test, |_| {}).await;
        let ctx = &booted.app_context;
        let owner = first_admin(ctx).await;
        let limit = 1024 * 1024;
        let quota = Quota {
            bytes: Some(5 * 64 * 1024),
            count: Some(10),
        };
        let upload = |name: &'static str| {
            files::Model::upload(
                &ctx.db,
                &ctx.storage,
                owner.id,
                name.into(),
                (limit, quota),
                body(3, None),
            )
        };
        let (first, second) = tokio::join!(upload("first"), upload("second"));
        let kept = [&first, &second]
            .iter()
            .filter(|upload| upload.is_ok())
            .count();
        assert_eq!(kept, 1, "{kind:?}: {first:?} {second:?}");
        assert!(
            [&first, &second]
                .iter()
                .any(|upload| matches!(upload, Err(FileError::OverQuota))),
            "{kind:?}: {first:?} {second:?}"
        );
        let usage = Usage::of(&ctx.db, owner.id).await.expect("usage");
        assert_eq!(
            usage,
            Usage {
                bytes: 3 * 64 * 1024,
                count: 1
            }
        );
        assert_eq!(file_rows(ctx).await.len(), 1);
        assert_eq!(stored_keys(ctx).await.len(), 1, "{kind:?}");

        let midway = upload("midway").await;
        assert!(
            matches!(midway, Err(FileError::OverQuota)),
            "{kind:?}: {midway:?}"
        );
        assert_eq!(stored_keys(ctx).await.len(), 1, "{kind:?}");
    }
}

/// One user's slow file uploads hold two places at most: a third is turned
/// away at once (before its body is read or stored), while another user's
/// upload goes through; a place is given back when its upload ends.
#[tokio::test]
async fn one_user_holds_two_file_upload_places_at_most() {
    let booted = boot_on(
        store_kinds()[0],
        &loco_rs::environment::Environment::Test,
        |_| {},
    )
    .await;
    let ctx = booted.app_context.clone();
    let owner = first_admin(&ctx).await;
    let upload = |owner_id, body| {
        let ctx = ctx.clone();
        async move {
            files::Model::upload(
                &ctx.db,
                &ctx.storage,
                owner_id,
                "slow".into(),
                (1024 * 1024, Quota::NONE),
                body,
            )
            .await
        }
    };
    let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
    let held: Vec<_> = (0..files::PER_USER)
        .map(|_| tokio::spawn(upload(owner.id, stalled(started.clone()))))
        .collect();
    for _ in 0..files::PER_USER {
        starts.recv().await.expect("an upload under way");
    }
    let third = upload(owner.id, stalled(started.clone())).await;
    assert!(matches!(third, Err(FileError::TooManyAtOnce)), "{third:?}");
    let other = backend::models::users::Model::find_or_register_by_code(
        &ctx.db,
        &crate::support::email("other@example.com"),
    )
    .await
    .expect("another user");
    upload(other.user.id, body(1, None))
        .await
        .expect("another user's upload");
    for task in held {
        task.abort();
        assert!(task.await.is_err_and(|error| error.is_cancelled()));
    }
    let stored = upload(owner.id, body(1, None))
        .await
        .expect("places given back");
    assert_eq!(stored.size, 64 * 1024);
}

/// An upload that starts, says so, and never sends a byte.
fn stalled(
    started: tokio::sync::mpsc::UnboundedSender<()>,
) -> stream::BoxStream<'static, Result<Bytes, FileError>> {
    stream::once(async move {
        let _ = started.send(());
        std::future::pending::<Result<Bytes, FileError>>().await
    })
    .boxed()
}

/// One user's slow picture uploads hold two places at most: a third is
/// turned away at once, while another user's picture goes through; a place
/// is given back when its upload ends.
#[tokio::test]
async fn one_user_holds_two_picture_places_at_most() {
    use backend::models::profile_pictures::{PER_USER, Picture};

    let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
    let slow = uuid::Uuid::new_v4();
    let held: Vec<_> = (0..PER_USER)
        .map(|_| tokio::spawn(Picture::prepare(slow, stalled(started.clone()))))
        .collect();
    for _ in 0..PER_USER {
        starts.recv().await.expect("an upload under way");
    }
    let third = Picture::prepare(slow, stalled(started.clone())).await;
    assert!(matches!(third, Err(FileError::TooManyAtOnce)), "{third:?}");

    let picture = crate::requests::uploads::image(600, 400, image::ImageFormat::Png);
    let other = Picture::prepare(
        uuid::Uuid::new_v4(),
        stream::iter([Ok(Bytes::from(picture.clone()))]),
    )
    .await
    .expect("another user's picture");
    assert_eq!(other.width, 512);

    held[0].abort();
    assert!(
        held.into_iter()
            .next()
            .expect("a task")
            .await
            .is_err_and(|error| error.is_cancelled())
    );
    Picture::prepare(slow, stream::iter([Ok(Bytes::from(picture))]))
        .await
        .expect("a place was given back");
}

#[tokio::test]
async fn file_lists_are_read_from_their_index_whatever_the_data() {
    let boot = crate::support::boot().await;
    let db = &boot.app_context.db;
    let admin = first_admin(&boot.app_context).await;
    let customer = backend::models::users::Model {
        role: backend::models::users::Role::Customer,
        ..admin.clone()
    };
    let page = backend::models::pagination::Pagination::default();
    let theirs = files::Model::listed(&customer, &page);
    crate::support::assert_served_by(db, theirs, "idx-files-purpose-owner_id-created_at-id").await;
    let everyones = files::Model::listed(&admin, &page);
    crate::support::assert_served_by(db, everyones, "idx-files-purpose-created_at-id").await;
}
