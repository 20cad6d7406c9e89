//! `/users/me/export`: the archive of everything the service holds about
//! the caller, compared with what the API itself answers; its owner's only;
//! one at a time; gone when it expires.

use std::collections::BTreeMap;

use axum_test::{TestResponse, TestServer};
use backend::{models::data_exports, workers::account_deletion};
use chrono::{Duration, Utc};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    prepare_data::{
        PASSWORD, assert_detail, assert_redacted_snapshot, id_of, last_mail_to, login, placeholder,
        register, retry_after,
    },
    uploads::{stored, upload},
};
use crate::support::{app_state, request, request_on, store_kinds};

const JANE: &str = "jane@example.com";

async fn get(server: &TestServer, path: &str, token: &str) -> TestResponse {
    server.get(path).authorization_bearer(token).await
}

async fn ask_export(server: &TestServer, token: &str) -> TestResponse {
    server
        .post("/api/v1/users/me/export")
        .authorization_bearer(token)
        .await
}

/// The archive's entries, by name.
async fn unzipped(bytes: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let zip = async_zip::base::read::mem::ZipFileReader::new(bytes)
        .await
        .expect("a zip archive");
    let mut entries = BTreeMap::new();
    for index in 0..zip.file().entries().len() {
        let mut reader = zip.reader_with_entry(index).await.expect("an entry");
        let name = reader
            .entry()
            .filename()
            .as_str()
            .expect("a name")
            .to_string();
        let mut content = Vec::new();
        reader
            .read_to_end_checked(&mut content)
            .await
            .expect("its CRC matches");
        entries.insert(name, content);
    }
    entries
}

/// Jane with two items (one archived), two files and two sessions; her token.
async fn jane_with_data(server: &TestServer) -> String {
    let (token, _) = register(server, JANE).await;
    for name in ["first", "second"] {
        let item = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": name, "description": "of Jane's" }))
            .await;
        assert_eq!(item.status_code(), 200, "{}", item.text());
        if name == "second" {
            let archived = server
                .delete(&format!("/api/v1/items/{}/archive", id_of(&item.json())))
                .authorization_bearer(&token)
                .await;
            assert_eq!(archived.status_code(), 200);
        }
    }
    for (name, bytes) in [
        ("notes.txt", b"hello".to_vec()),
        ("data.bin", vec![7u8; 70_000]),
    ] {
        let file = upload(server, "/api/v1/files", &token, name, "text/plain", bytes).await;
        assert_eq!(file.status_code(), 200, "{}", file.text());
    }
    login(server, JANE, PASSWORD).await;
    token
}

#[tokio::test]
async fn the_archive_holds_what_the_api_shows() {
    for kind in store_kinds() {
        request_on(
            kind,
            |_| {},
            |server, ctx| async move {
                let token = jane_with_data(&server).await;
                let none = get(&server, "/api/v1/users/me/export", &token).await;
                assert_detail(&none, 404, "Data export not found");

                let asked = ask_export(&server, &token).await;
                assert_eq!(asked.status_code(), 202, "{}", asked.text());
                insta::allow_duplicates! {
                    assert_redacted_snapshot!(asked.json::<Value>(), @r#"
                {
                  "expires_at": "[timestamp]",
                  "requested_at": "[timestamp]",
                  "state": "ready"
                }
                "#);
                }
                let state = get(&server, "/api/v1/users/me/export", &token).await;
                assert_eq!(state.json::<Value>()["state"], "ready");
                assert!(last_mail_to(&ctx, JANE).contains("data export is ready"));

                let download = get(&server, "/api/v1/users/me/export/download", &token).await;
                assert_eq!(download.status_code(), 200, "{kind:?}: {}", download.text());
                assert_eq!(download.header("content-type"), "application/zip");
                let disposition = download.header("content-disposition");
                assert!(
                    disposition
                        .to_str()
                        .expect("ASCII")
                        .starts_with("attachment; filename=\"Backend-data-")
                );
                let entries = unzipped(download.as_bytes().to_vec()).await;
                let account: Value =
                    serde_json::from_slice(&entries["account.json"]).expect("account.json is JSON");
                assert!(String::from_utf8_lossy(&entries["README.txt"]).contains("account.json"));

                let me = get(&server, "/api/v1/users/me", &token)
                    .await
                    .json::<Value>();
                assert_eq!(account["user"], me);
                let mut items = Vec::new();
                for item in account["items"].as_array().expect("items") {
                    let shown =
                        get(&server, &format!("/api/v1/items/{}", id_of(item)), &token).await;
                    if item["archived"] == true {
                        assert_eq!(shown.status_code(), 404, "archived items are not served");
                    } else {
                        assert_eq!(&shown.json::<Value>(), item);
                    }
                    items.push(item["name"].clone());
                }
                assert_eq!(items, [json!("first"), json!("second")]);
                let files = get(&server, "/api/v1/files", &token).await.json::<Value>();
                assert_eq!(account["files"], files);
                for file in files.as_array().expect("files") {
                    let name = format!(
                        "files/{}-{}",
                        id_of(file),
                        file["name"].as_str().expect("name")
                    );
                    let bytes = get(
                        &server,
                        &format!("/api/v1/files/{}/download", id_of(file)),
                        &token,
                    )
                    .await;
                    assert_eq!(entries[&name], bytes.as_bytes().to_vec(), "{name}");
                }
                assert_eq!(entries.len(), 2 + 2, "README, account.json and the files");
                let mut sessions = get(&server, "/api/v1/auth/sessions", &token)
                    .await
                    .json::<Value>();
                for session in sessions.as_array_mut().expect("sessions") {
                    session["current"] = false.into();
                }
                assert_eq!(account["sessions"], sessions);
                let events = get(&server, "/api/v1/users/me/security-events", &token)
                    .await
                    .json::<Value>();
                // The export's own event, asked for after the archive was written, is its newest.
                assert_eq!(events[0]["kind"], "export_requested");
                assert_eq!(account["security_events"][0]["kind"], "export_requested");
                assert_eq!(account["security_events"], events);
            },
        )
        .await;
    }
}

#[tokio::test]
async fn another_users_export_is_never_served() {
    request(|server, _ctx| async move {
        let jane = jane_with_data(&server).await;
        assert_eq!(ask_export(&server, &jane).await.status_code(), 202);
        let (bob, _) = register(&server, "bob@example.com").await;
        let state = get(&server, "/api/v1/users/me/export", &bob).await;
        assert_detail(&state, 404, "Data export not found");
        let download = get(&server, "/api/v1/users/me/export/download", &bob).await;
        assert_detail(&download, 404, "Data export not found");
        let anonymous = server.get("/api/v1/users/me/export/download").await;
        assert_eq!(anonymous.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn one_export_at_a_time_and_not_twice_in_ten_minutes() {
    request(|server, ctx| async move {
        let (token, user) = register(&server, JANE).await;
        let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
        // One being written (its job not run yet).
        data_exports::Model::request((&ctx.db, &ctx.storage), id)
            .await
            .expect("pending");
        let pending = get(&server, "/api/v1/users/me/export", &token).await;
        assert_eq!(pending.json::<Value>()["state"], "pending");
        let download = get(&server, "/api/v1/users/me/export/download", &token).await;
        assert_detail(&download, 409, "The data export is not ready");
        let second = ask_export(&server, &token).await;
        assert_detail(&second, 409, "A data export is being prepared");

        // Written now; another one only after ten minutes.
        data_exports::Entity::delete_many()
            .exec(&ctx.db)
            .await
            .expect("cleared");
        assert_eq!(ask_export(&server, &token).await.status_code(), 202);
        let again = ask_export(&server, &token).await;
        assert_eq!(again.status_code(), 429, "{}", again.text());
        let wait = retry_after(&again);
        assert!(wait > 500 && wait <= 601, "{wait}");
    })
    .await;
}

#[tokio::test]
async fn an_expired_export_is_refused_then_removed_by_the_sweep() {
    for kind in store_kinds() {
        request_on(
            kind,
            |_| {},
            |server, ctx| async move {
                let (token, user) = register(&server, JANE).await;
                assert_eq!(ask_export(&server, &token).await.status_code(), 202);
                let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
                let keys = data_exports::Model::keys_of(&ctx.db, id)
                    .await
                    .expect("keys");
                assert_eq!(keys.len(), 1);
                assert!(stored(&ctx, &keys[0]).await);

                let state = app_state(&ctx);
                let before = account_deletion::sweep(&ctx, &state, Utc::now())
                    .await
                    .expect("sweep");
                assert_eq!(before.exports_expired, 0);
                let later = Utc::now() + Duration::hours(48) + Duration::minutes(1);
                let swept = account_deletion::sweep(&ctx, &state, later)
                    .await
                    .expect("sweep");
                assert_eq!(swept.exports_expired, 1, "{kind:?}");
                assert!(
                    !stored(&ctx, &keys[0]).await,
                    "{kind:?}: the archive is gone"
                );
                let expired = get(&server, "/api/v1/users/me/export", &token).await;
                insta::allow_duplicates! {
                    assert_redacted_snapshot!(expired.json::<Value>(), @r#"
                {
                  "expires_at": "[timestamp]",
                  "requested_at": "[timestamp]",
                  "state": "expired"
                }
                "#);
                }
                let download = get(&server, "/api/v1/users/me/export/download", &token).await;
                assert_detail(&download, 404, "Data export not found");
            },
        )
        .await;
    }
}

#[tokio::test]
async fn exports_asked_for_at_once_start_one() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, JANE).await;
        let (first, second) =
            tokio::join!(ask_export(&server, &token), ask_export(&server, &token));
        let mut statuses = [first.status_code().as_u16(), second.status_code().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses[0], 202, "{statuses:?}");
        assert!(matches!(statuses[1], 409 | 429), "{statuses:?}");
    })
    .await;
}
