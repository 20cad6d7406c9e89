//! `import_legacy`: the Python template's fixture database
//! (`tests/fixtures/legacy/legacy-db.sql`) moved over, twice, then signed in
//! to with its legacy passwords. Needs a PostgreSQL server for the legacy
//! database: `LEGACY_DATABASE_URL` at build time (`.ci/run` sets it).

use std::path::Path;

use axum_test::TestServer;
use backend::{
    models::_entities::{files, items, users},
    tasks::legacy_import::{self, LegacyFiles, Report, Tally, Target},
};
use loco_rs::app::AppContext;
use loco_rs::storage::{Storage, drivers};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::Value;
use uuid::Uuid;

use super::mail::run;
use crate::{
    requests::prepare_data::access_token,
    support::{
        StoreKind, TestDatabase, app_state, email, http_client, request, request_on, s3_endpoint,
    },
};

const FIXTURE: &str = include_str!("../fixtures/legacy/legacy-db.sql");
const BRUNO: &str = "a0000000-0000-4000-8000-000000000002";
/// Bruno's picture: its bytes are in the legacy folder; Mehdi's are not.
const BRUNO_PICTURE: &str = "profile_a0000000-0000-4000-8000-000000000002_9f1c2e.jpg";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00legacy bytes";

/// A legacy database loaded from the fixture, dropped after the test.
async fn legacy_database() -> (TestDatabase, DatabaseConnection) {
    let server = std::env::var("LEGACY_DATABASE_URL").expect("LEGACY_DATABASE_URL");
    let database = TestDatabase::create(&server).await;
    let legacy = sea_orm::Database::connect(database.uri())
        .await
        .expect("legacy");
    legacy
        .execute_unprepared(FIXTURE)
        .await
        .expect("the fixture loads");
    (database, legacy)
}

async fn import(ctx: &AppContext, legacy: &DatabaseConnection, folder: &Path) -> Report {
    let max_bytes = app_state(ctx).settings.files.max_bytes;
    import_at_most(ctx, legacy, folder, max_bytes).await
}

async fn import_at_most(
    ctx: &AppContext,
    legacy: &DatabaseConnection,
    folder: &Path,
    max_bytes: u64,
) -> Report {
    let state = app_state(ctx);
    let languages = state.translations.languages();
    let target = Target {
        db: &ctx.db,
        storage: ctx.storage.as_ref(),
        languages: &languages,
        files_from: Some(LegacyFiles {
            store: Storage::single(drivers::local::new_with_prefix(folder).expect("folder")),
            prefix: String::new(),
            place: folder.display().to_string(),
        }),
        max_bytes,
    };
    legacy_import::run(legacy, &target).await.expect("import")
}

/// Every imported row as it is, to see that a second run changes nothing.
async fn imported_rows(ctx: &AppContext) -> Vec<String> {
    let users = users::Entity::find()
        .order_by_asc(users::Column::Id)
        .all(&ctx.db);
    let items = items::Entity::find()
        .order_by_asc(items::Column::Id)
        .all(&ctx.db);
    let files = files::Entity::find()
        .order_by_asc(files::Column::Id)
        .all(&ctx.db);
    let mut rows: Vec<String> = users
        .await
        .expect("users")
        .iter()
        .map(|row| format!("{row:?}"))
        .collect();
    rows.extend(
        items
            .await
            .expect("items")
            .iter()
            .map(|row| format!("{row:?}")),
    );
    rows.extend(
        files
            .await
            .expect("files")
            .iter()
            .map(|row| format!("{row:?}")),
    );
    rows
}

async fn sign_in(server: &TestServer, username: &str, password: &str) -> axum_test::TestResponse {
    server
        .post("/api/v1/auth/login")
        .form(&[("username", username), ("password", password)])
        .await
}

#[tokio::test]
#[cfg_attr(
    not(legacy_tests),
    ignore = "set LEGACY_DATABASE_URL to a PostgreSQL server to run it"
)]
async fn the_legacy_data_comes_over_once_and_its_passwords_still_sign_in() {
    let (_database, legacy) = legacy_database().await;
    let folder = tempfile_folder();
    std::fs::write(folder.join(BRUNO_PICTURE), JPEG).expect("legacy bytes");
    request(|server, ctx| async move {
        let report = import(&ctx, &legacy, &folder).await;
        let tally = |imported, present, skipped| Tally {
            imported,
            present,
            skipped,
        };
        assert_eq!(report.users, tally(7, 0, 0));
        assert_eq!(report.items, tally(10, 0, 1));
        assert_eq!(report.files, tally(1, 0, 1));
        assert_eq!(
            report.skipped,
            [
                "item b0000000-0000-4000-8000-000000000011: it has no owner",
                "file c0000000-0000-4000-8000-000000000002: its bytes are not among the legacy files",
            ]
        );

        let chloe = users::Entity::find_by_id(
            Uuid::parse_str("a0000000-0000-4000-8000-000000000003").expect("id"),
        )
        .one(&ctx.db)
        .await
        .expect("query")
        .expect("Chloé");
        assert_eq!(
            chloe.email, "chloe.dubois@example.com",
            "addresses are kept lower-case here"
        );
        assert_eq!(chloe.first_name, "Chloé");
        let grace = backend::models::users::Model::find_by_email(
            &ctx.db,
            &email("dev.ghuser@users.example.com"),
        )
        .await
        .expect("Grace");
        assert_eq!(grace.provider, backend::models::users::Provider::Github);
        assert_eq!(grace.provider_id.as_deref(), Some("58312094"));
        let olivia = backend::models::users::Model::find_by_email(
            &ctx.db,
            &email("old.account@example.net"),
        )
        .await
        .expect("Olivia");
        assert!(olivia.archived_at.is_some());
        let sam =
            backend::models::users::Model::find_by_email(&ctx.db, &email("sam.otp@example.org"))
                .await
                .expect("Sam");
        assert_eq!(
            sam.created_at.to_rfc3339(),
            "2025-11-05T07:44:20.515873+00:00"
        );
        assert_eq!(sam.hashed_password, None);

        let before = imported_rows(&ctx).await;
        let again = import(&ctx, &legacy, &folder).await;
        assert_eq!(again.users, tally(0, 7, 0));
        assert_eq!(again.items, tally(0, 10, 1));
        assert_eq!(again.files, tally(0, 1, 1));
        assert_eq!(
            imported_rows(&ctx).await,
            before,
            "a second run changes nothing"
        );

        // Legacy passwords sign in, and are replaced by argon2id on the way.
        for (address, password) in [
            ("bruno.keller@example.ch", "pässwörd"),
            ("Mehdi.Haddad@acme-legacy.example", "it's"),
        ] {
            assert_eq!(
                sign_in(&server, address, "wrong password")
                    .await
                    .status_code(),
                401
            );
            let response = sign_in(&server, address, password).await;
            assert_eq!(
                response.status_code(),
                200,
                "{address}: {}",
                response.text()
            );
            let user = backend::models::users::Model::find_by_email(&ctx.db, &email(address))
                .await
                .expect("user");
            let hash = user.hashed_password.expect("a password");
            assert!(hash.starts_with("$argon2id$"), "{address}: {hash}");
            assert_eq!(sign_in(&server, address, password).await.status_code(), 200);
        }
        assert_eq!(
            sign_in(&server, "old.account@example.net", "back\\slash")
                .await
                .status_code(),
            401,
            "archived users stay out"
        );

        // Bruno's file, and its bytes, are his.
        let bruno: Value = sign_in(&server, "bruno.keller@example.ch", "pässwörd")
            .await
            .json();
        let token = access_token(&bruno);
        let listed: Value = server
            .get("/api/v1/files")
            .authorization_bearer(&token)
            .await
            .json();
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        assert_eq!(listed[0]["name"], "avatar.jpg");
        assert_eq!(listed[0]["mime_type"], "image/jpeg");
        assert_eq!(listed[0]["owner_id"], BRUNO);
        let download = server
            .get("/api/v1/files/c0000000-0000-4000-8000-000000000001/download")
            .authorization_bearer(&token)
            .await;
        assert_eq!(download.status_code(), 200);
        assert_eq!(download.as_bytes().as_ref(), JPEG);
    })
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(legacy_tests),
    ignore = "set LEGACY_DATABASE_URL to a PostgreSQL server to run it"
)]
async fn a_database_at_another_revision_or_not_legacy_is_refused() {
    let (database, legacy) = legacy_database().await;
    legacy
        .execute_unprepared("UPDATE alembic_version SET version_num = '2301b4592945'")
        .await
        .expect("an older revision");
    let (empty, _) = (
        TestDatabase::create(&std::env::var("LEGACY_DATABASE_URL").expect("url")).await,
        (),
    );
    request(|_server, ctx| async move {
        let refused = run(&ctx, "import_legacy", &[("from", database.uri())]).await;
        let message = refused.expect_err("another revision").to_string();
        assert!(
            message.contains("2301b4592945") && message.contains("alembic upgrade head"),
            "{message}"
        );
        let refused = run(&ctx, "import_legacy", &[("from", empty.uri())]).await;
        let message = refused.expect_err("not legacy").to_string();
        assert!(message.contains("alembic_version"), "{message}");
        let unreachable = "postgres://postgres@127.0.0.1:1/legacy";
        assert!(
            run(&ctx, "import_legacy", &[("from", unreachable)])
                .await
                .is_err()
        );
        let usage = run(&ctx, "import_legacy", &[]).await.expect_err("no from");
        assert!(
            usage.to_string().contains("usage: import_legacy"),
            "{usage}"
        );
        let users = users::Entity::find().all(&ctx.db).await.expect("users");
        assert_eq!(
            users.len(),
            1,
            "nothing came over: only the development admin"
        );
    })
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(legacy_tests),
    ignore = "set LEGACY_DATABASE_URL to a PostgreSQL server to run it"
)]
async fn files_named_outside_their_folder_or_over_the_limit_stay_behind() {
    let (_database, legacy) = legacy_database().await;
    let folder = tempfile_folder();
    std::fs::write(folder.join(BRUNO_PICTURE), JPEG).expect("legacy bytes");
    let outside = folder.with_extension("secret");
    std::fs::write(&outside, b"not the legacy app's").expect("a file beside the folder");
    let escape = format!(
        "../{}",
        outside
            .file_name()
            .and_then(|name| name.to_str())
            .expect("name")
    );
    legacy
        .execute_unprepared(&format!(
            "UPDATE file SET filename = '{escape}' WHERE id = 'c0000000-0000-4000-8000-000000000002'"
        ))
        .await
        .expect("a name that climbs out");
    request(|_server, ctx| async move {
        let report = import_at_most(&ctx, &legacy, &folder, JPEG.len() as u64 - 1).await;
        assert_eq!(
            report.files,
            Tally {
                imported: 0,
                present: 0,
                skipped: 2
            }
        );
        assert_eq!(
            report.skipped,
            [
                "item b0000000-0000-4000-8000-000000000011: it has no owner",
                "file c0000000-0000-4000-8000-000000000001: it is larger than FILE_MAX_BYTES",
                "file c0000000-0000-4000-8000-000000000002: its filename is not a plain file name",
            ]
        );
        assert!(
            files::Entity::find()
                .all(&ctx.db)
                .await
                .expect("files")
                .is_empty()
        );
        let _ = std::fs::remove_file(&outside);
    })
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(legacy_tests),
    ignore = "set LEGACY_DATABASE_URL to a PostgreSQL server to run it"
)]
async fn the_files_can_come_from_a_bucket_they_were_copied_to() {
    let Some(endpoint) = s3_endpoint() else {
        eprintln!("TEST_S3_ENDPOINT is not set: a legacy bucket is not tried");
        return;
    };
    let (database, _legacy) = legacy_database().await;
    let bucket = format!("legacy-{}", Uuid::new_v4().simple());
    let client = http_client();
    for (url, body) in [
        (format!("{endpoint}/{bucket}"), &b""[..]),
        (format!("{endpoint}/{bucket}/uploads/{BRUNO_PICTURE}"), JPEG),
    ] {
        let put = client.put(url).body(body).send().await.expect("S3 answers");
        assert!(put.status().is_success(), "{put:?}");
    }
    request_on(
        StoreKind::S3,
        |_| {},
        |_server, ctx| async move {
            let from = ("from", database.uri());
            for (files, refusal) in [
                (
                    "s3://no-such-bucket/uploads",
                    "cannot read the legacy files from s3://no-such-bucket/uploads",
                ),
                (
                    "/no/such/folder",
                    "files: \"/no/such/folder\" is not a folder",
                ),
                ("s3://", "files: \"s3://\" names no bucket"),
            ] {
                let refused = run(&ctx, "import_legacy", &[from, ("files", files)]).await;
                let message = refused.expect_err(files).to_string();
                assert!(message.contains(refusal), "{message}");
            }
            assert_eq!(
                users::Entity::find()
                    .all(&ctx.db)
                    .await
                    .expect("users")
                    .len(),
                1,
                "a store that cannot be read stops the import before it starts"
            );

            let files = format!("s3://{bucket}/uploads/");
            run(&ctx, "import_legacy", &[from, ("files", &files)])
                .await
                .expect("imported");
            let imported = files::Entity::find().all(&ctx.db).await.expect("files");
            assert_eq!(imported.len(), 1, "Mehdi's bytes were not copied");
            let bytes: Vec<u8> = ctx
                .storage
                .download(Path::new(&imported[0].storage_key))
                .await
                .expect("the bytes came over");
            assert_eq!(bytes, JPEG);
        },
    )
    .await;
}

fn tempfile_folder() -> std::path::PathBuf {
    let folder = std::env::temp_dir().join(format!("legacy_files_{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).expect("folder");
    folder
}
