use axum_test::TestServer;
use image::ImageFormat;
use loco_rs::app::AppContext;
use serde_json::{Value, json};

use super::{
    prepare_data::{
        admin_token, assert_detail, assert_redacted_snapshot, id_of, placeholder, register,
    },
    uploads::{file_rows, image, stored, stored_keys, upload},
};
use crate::support::{StoreKind, request, request_on, request_with, store_kinds};

async fn upload_file(server: &TestServer, token: &str, name: &str, bytes: &[u8]) -> Value {
    let response = upload(
        server,
        "/api/v1/files",
        token,
        name,
        "application/octet-stream",
        bytes.to_vec(),
    )
    .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json()
}

/// Runs `test` once per store: the folder, and S3 when a server is named.
async fn on_each_store<F, Fut>(test: F)
where
    F: Fn(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    for kind in store_kinds() {
        request_on(kind, |_| {}, &test).await;
    }
}

#[tokio::test]
async fn upload_list_show_download_and_delete_a_file() {
    on_each_store(|server, ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let file = upload_file(&server, &token, "notes.txt", "café au lait\n".as_bytes()).await;
        assert_eq!(file["owner_id"], user["id"]);
        assert_eq!(
            file["url"],
            format!(
                "http://localhost:5150/api/v1/files/{}/download",
                id_of(&file)
            )
        );
        // The same answer from every store.
        insta::allow_duplicates! {
            assert_redacted_snapshot!(file.clone());
        }

        let listed = server
            .get("/api/v1/files/")
            .authorization_bearer(&token)
            .await;
        assert_eq!(listed.json::<Value>(), json!([file.clone()]));
        let shown = server
            .get(&format!("/api/v1/files/{}", id_of(&file)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(shown.json::<Value>(), file);

        let downloaded = server
            .get(&format!("/api/v1/files/{}/download", id_of(&file)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(downloaded.status_code(), 200);
        assert_eq!(downloaded.as_bytes().as_ref(), "café au lait\n".as_bytes());
        assert_eq!(
            downloaded.header("content-type"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(downloaded.header("content-length"), "14");
        assert_eq!(
            downloaded.header("content-disposition"),
            "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
        );
        assert_eq!(downloaded.header("x-content-type-options"), "nosniff");

        let key = file_rows(&ctx).await[0].storage_key.clone();
        assert!(key.starts_with("files/") && !key.contains("notes"), "{key}");
        assert!(stored(&ctx, &key).await);
        let deleted = server
            .delete(&format!("/api/v1/files/{}", id_of(&file)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(deleted.json::<Value>(), file);
        assert!(!stored(&ctx, &key).await, "the bytes are gone");
        for path in [
            format!("/api/v1/files/{}", id_of(&file)),
            format!("/api/v1/files/{}/download", id_of(&file)),
        ] {
            let gone = server.get(&path).authorization_bearer(&token).await;
            assert_detail(&gone, 404, "File not found");
        }
        assert!(file_rows(&ctx).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_not_the_name_or_the_header() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let png = image(4, 4, ImageFormat::Png);
        let response = upload(
            &server,
            "/api/v1/files",
            &token,
            "notes.txt",
            "text/plain",
            png,
        )
        .await;
        assert_eq!(response.json::<Value>()["mime_type"], "image/png");
        let html = b"<html><script>alert(1)</script></html>".to_vec();
        let response = upload(&server, "/api/v1/files", &token, "x.png", "image/png", html).await;
        let html = response.json::<Value>();
        assert_eq!(html["mime_type"], "text/html");
        // Never shown in the browser: an attachment, not to be sniffed, and
        // allowed to run nothing.
        let downloaded = server
            .get(&format!("/api/v1/files/{}/download", id_of(&html)))
            .authorization_bearer(&token)
            .await;
        let disposition = downloaded.header("content-disposition");
        assert!(
            disposition
                .to_str()
                .expect("ASCII")
                .starts_with("attachment;")
        );
        assert_eq!(downloaded.header("x-content-type-options"), "nosniff");
        assert_eq!(
            downloaded.header("content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'"
        );
        let text = b"plain words\n".to_vec();
        let response = upload(&server, "/api/v1/files", &token, "x.png", "image/png", text).await;
        assert_eq!(
            response.json::<Value>()["mime_type"],
            "text/plain; charset=utf-8"
        );
        let binary = vec![0u8, 159, 146, 150, 255, 0, 1];
        let response = upload(
            &server,
            "/api/v1/files",
            &token,
            "x.pdf",
            "application/pdf",
            binary,
        )
        .await;
        assert_eq!(
            response.json::<Value>()["mime_type"],
            "application/octet-stream"
        );
    })
    .await;
}

#[tokio::test]
async fn names_are_kept_without_folders_and_sent_back_safely() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let traversal = upload_file(&server, &token, "../../etc/passwd", b"root").await;
        assert_eq!(traversal["name"], "passwd");
        // Quotes and line breaks are checked where the header is made
        // (`views::files`): multipart clients escape them each their own way.
        let quoted = upload_file(&server, &token, "résumé; v2 (final).txt", b"cv").await;
        assert_eq!(quoted["name"], "résumé; v2 (final).txt");
        let downloaded = server
            .get(&format!("/api/v1/files/{}/download", id_of(&quoted)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(
            downloaded.header("content-disposition"),
            "attachment; filename=\"r_sum__ v2 (final).txt\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%3B%20v2%20%28final%29.txt"
        );
    })
    .await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_413_and_leaves_nothing() {
    on_each_store(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let limit = app_limit(&ctx);
        let response = upload(
            &server,
            "/api/v1/files",
            &token,
            "big.bin",
            "application/octet-stream",
            vec![7; usize::try_from(limit).expect("a size") + 1],
        )
        .await;
        assert_detail(&response, 413, "File too large");
        assert!(file_rows(&ctx).await.is_empty());
        assert!(stored_keys(&ctx).await.is_empty());
    })
    .await;
}

fn app_limit(ctx: &AppContext) -> u64 {
    crate::support::app_state(ctx).settings.files.max_bytes
}

#[tokio::test]
async fn a_file_at_the_limit_is_stored_whole() {
    request_with(
        |settings| settings["files"]["max_bytes"] = 300_000.into(),
        |server, ctx| async move {
            let (token, _) = register(&server, "jane@example.com").await;
            let bytes: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();
            let file = upload_file(&server, &token, "exact.bin", &bytes).await;
            assert_eq!(file["size"], 300_000);
            let downloaded = server
                .get(&format!("/api/v1/files/{}/download", id_of(&file)))
                .authorization_bearer(&token)
                .await;
            assert_eq!(downloaded.as_bytes().as_ref(), bytes.as_slice());
            let too_big = upload(
                &server,
                "/api/v1/files",
                &token,
                "b",
                "x/y",
                vec![1; 300_001],
            )
            .await;
            assert_detail(&too_big, 413, "File too large");
            assert_eq!(file_rows(&ctx).await.len(), 1);
            assert_eq!(stored_keys(&ctx).await.len(), 1);
        },
    )
    .await;
}

#[tokio::test]
async fn an_empty_file_or_a_missing_field_is_422() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let empty = upload(&server, "/api/v1/files", &token, "empty.txt", "text/plain", vec![]).await;
        assert_eq!(empty.status_code(), 422);
        insta::assert_json_snapshot!("empty_file", empty.json::<Value>());

        let no_field = server
            .post("/api/v1/files")
            .authorization_bearer(&token)
            .multipart(axum_test::multipart::MultipartForm::new().add_text("other", "x"))
            .await;
        assert_eq!(no_field.status_code(), 422);
        assert_eq!(
            no_field.json::<Value>(),
            json!({ "detail": [{ "loc": ["body", "file"], "msg": "Field required", "type": "missing" }] })
        );
        let json_body = server
            .post("/api/v1/files")
            .authorization_bearer(&token)
            .json(&json!({ "file": "aGVsbG8=" }))
            .await;
        assert_eq!(json_body.json::<Value>(), no_field.json::<Value>());
        let cut = server
            .post("/api/v1/files")
            .authorization_bearer(&token)
            .content_type("multipart/form-data; boundary=X")
            .bytes("--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc".into())
            .await;
        assert_eq!(cut.status_code(), 422, "{}", cut.text());
        assert!(file_rows(&ctx).await.is_empty());
        assert!(stored_keys(&ctx).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn someone_elses_file_is_403_and_an_admin_may_act_on_it() {
    request(|server, ctx| async move {
        let (owner, _) = register(&server, "owner@example.com").await;
        let (other, _) = register(&server, "other@example.com").await;
        let file = upload_file(&server, &owner, "secret.txt", b"mine").await;
        let id = id_of(&file);
        for response in [
            server
                .get(&format!("/api/v1/files/{id}"))
                .authorization_bearer(&other)
                .await,
            server
                .get(&format!("/api/v1/files/{id}/download"))
                .authorization_bearer(&other)
                .await,
            server
                .delete(&format!("/api/v1/files/{id}"))
                .authorization_bearer(&other)
                .await,
        ] {
            assert_detail(&response, 403, "Current user do not have enough privilege");
        }
        let french = server
            .put("/api/v1/users/me")
            .authorization_bearer(&other)
            .json(&json!({ "language": "fr" }))
            .await;
        assert_eq!(french.status_code(), 200);
        let refused = server
            .get(&format!("/api/v1/files/{id}"))
            .authorization_bearer(&other)
            .await;
        assert_detail(
            &refused,
            403,
            "L'utilisateur courant n'a pas assez de privilèges",
        );
        let listed = server
            .get("/api/v1/files")
            .authorization_bearer(&other)
            .await;
        assert_eq!(listed.json::<Value>(), json!([]));

        let admin = admin_token(&server).await;
        let everyone = server
            .get("/api/v1/files")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(everyone.json::<Value>(), json!([file.clone()]));
        let downloaded = server
            .get(&format!("/api/v1/files/{id}/download"))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(downloaded.as_bytes().as_ref(), b"mine");
        let deleted = server
            .delete(&format!("/api/v1/files/{id}"))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(deleted.status_code(), 200);
        assert!(stored_keys(&ctx).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn unknown_ids_are_404_and_ids_that_are_not_uuids_422() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let unknown = uuid::Uuid::new_v4();
        let response = server
            .get(&format!("/api/v1/files/{unknown}"))
            .authorization_bearer(&token)
            .await;
        assert_detail(&response, 404, "File not found");
        let french = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "language": "fr" }))
            .await;
        assert_eq!(french.status_code(), 200);
        let response = server
            .delete(&format!("/api/v1/files/{unknown}"))
            .authorization_bearer(&token)
            .await;
        assert_detail(&response, 404, "Fichier introuvable");
        let response = server
            .get("/api/v1/files/not-a-uuid/download")
            .authorization_bearer(&token)
            .await;
        assert_eq!(response.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn files_require_a_signed_in_user() {
    request(|server, _ctx| async move {
        let id = uuid::Uuid::new_v4();
        for request in [
            server.get("/api/v1/files"),
            server.post("/api/v1/files"),
            server.get(&format!("/api/v1/files/{id}")),
            server.get(&format!("/api/v1/files/{id}/download")),
            server.delete(&format!("/api/v1/files/{id}")),
        ] {
            assert_detail(&request.await, 401, "Not authenticated");
        }
    })
    .await;
}

#[tokio::test]
async fn lists_are_paged_oldest_first() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        for name in ["a", "b", "c"] {
            upload_file(&server, &token, name, name.as_bytes()).await;
        }
        let page = server
            .get("/api/v1/files?skip=1&limit=1")
            .authorization_bearer(&token)
            .await;
        let names: Vec<Value> = page
            .json::<Vec<Value>>()
            .iter()
            .map(|f| f["name"].clone())
            .collect();
        assert_eq!(names, vec![json!("b")]);
        let over = server
            .get("/api/v1/files?limit=1001")
            .authorization_bearer(&token)
            .await;
        assert_eq!(over.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_user_deletes_their_files_and_picture_bytes() {
    on_each_store(|server, ctx| async move {
        let (token, user) = register(&server, "leaving@example.com").await;
        let (kept, _) = register(&server, "staying@example.com").await;
        upload_file(&server, &token, "a.txt", b"a").await;
        upload_file(&server, &kept, "b.txt", b"b").await;
        let picture = upload(
            &server,
            "/api/v1/users/me/profile-picture",
            &token,
            "me.png",
            "image/png",
            image(8, 8, ImageFormat::Png),
        )
        .await;
        assert_eq!(picture.status_code(), 200, "{}", picture.text());
        assert_eq!(stored_keys(&ctx).await.len(), 3);

        let admin = admin_token(&server).await;
        let deleted = server
            .delete(&format!("/api/v1/users/{}", id_of(&user)))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(deleted.status_code(), 200);
        let rows = file_rows(&ctx).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(stored_keys(&ctx).await, vec![rows[0].storage_key.clone()]);
    })
    .await;
}

#[tokio::test]
async fn uploads_on_s3_stream_in_parts() {
    if !store_kinds().contains(&StoreKind::S3) {
        eprintln!("TEST_S3_ENDPOINT not set: S3 multipart upload not tested");
        return;
    }
    // Past opendal's 5 MiB part size, so the upload is a multipart one.
    let size = 12 * 1024 * 1024 + 17;
    request_on(
        StoreKind::S3,
        |_| {},
        |server, _ctx| async move {
            let (token, _) = register(&server, "jane@example.com").await;
            let bytes: Vec<u8> = (0..size).map(|n| (n % 253) as u8).collect();
            let file = upload_file(&server, &token, "big.bin", &bytes).await;
            let downloaded = server
                .get(&format!("/api/v1/files/{}/download", id_of(&file)))
                .authorization_bearer(&token)
                .await;
            assert_eq!(downloaded.header("content-length"), size.to_string());
            assert!(downloaded.as_bytes().as_ref() == bytes.as_slice());
        },
    )
    .await;
}

/// A quota of two files and 1000 bytes.
fn small_quota(settings: &mut Value) {
    settings["files"]["quota_bytes"] = 1000.into();
    settings["files"]["quota_count"] = 2.into();
}

/// An account is free: without a quota, one could fill the store. Past
/// either quota an upload is 413 and leaves nothing; a deleted file gives its
/// room back; the usage route says where the caller stands.
#[tokio::test]
async fn uploads_past_the_quota_are_413_and_leave_nothing() {
    request_with(small_quota, |server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let first = upload_file(&server, &token, "a.bin", &[1; 600]).await;
        let over_bytes = upload(&server, "/api/v1/files", &token, "b", "x/y", vec![2; 401]).await;
        assert_detail(&over_bytes, 413, "File storage quota exceeded");
        upload_file(&server, &token, "b.bin", &[2; 400]).await;
        let usage = server
            .get("/api/v1/files/usage")
            .authorization_bearer(&token)
            .await;
        assert_eq!(usage.status_code(), 200);
        assert_redacted_snapshot!(usage.json::<Value>());
        let over_count = upload(&server, "/api/v1/files", &token, "c", "x/y", vec![3; 1]).await;
        assert_detail(&over_count, 413, "File storage quota exceeded");
        assert_eq!(file_rows(&ctx).await.len(), 2);
        assert_eq!(stored_keys(&ctx).await.len(), 2);

        let deleted = server
            .delete(&format!("/api/v1/files/{}", id_of(&first)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(deleted.status_code(), 200);
        upload_file(&server, &token, "c.bin", &[3; 600]).await;
        let usage: Value = server
            .get("/api/v1/files/usage")
            .authorization_bearer(&token)
            .await
            .json();
        assert_eq!(
            (usage["bytes"].clone(), usage["count"].clone()),
            (json!(1000), json!(2))
        );
    })
    .await;
}

/// Another user's files do not count against the caller's quota, and admins
/// have none.
#[tokio::test]
async fn quotas_are_per_user_and_admins_have_none() {
    request_with(small_quota, |server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        upload_file(&server, &jane, "a.bin", &[1; 1000]).await;
        upload_file(&server, &john, "a.bin", &[1; 1000]).await;
        let admin = admin_token(&server).await;
        for name in ["a", "b", "c"] {
            upload_file(&server, &admin, name, &[1; 1000]).await;
        }
        let usage = server
            .get("/api/v1/files/usage")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(
            usage.json::<Value>(),
            json!({ "bytes": 3000, "count": 3, "quota_bytes": null, "quota_count": null })
        );
        let anonymous = server.get("/api/v1/files/usage").await;
        assert_detail(&anonymous, 401, "Not authenticated");
    })
    .await;
}

/// Uploads are rate limited per user (and per address): the limit's next
/// upload is 429 with Retry-After, before its body is stored; profile
/// pictures count too.
#[tokio::test]
async fn uploads_are_rate_limited_per_user() {
    request_with(
        |settings| {
            settings["rate_limits"]["upload"] =
                json!({ "per_ip": 100, "per_user": 2, "period_seconds": 600 });
        },
        |server, ctx| async move {
            let (jane, _) = register(&server, "jane@example.com").await;
            let (john, _) = register(&server, "john@example.com").await;
            upload_file(&server, &jane, "a", b"a").await;
            upload_file(&server, &jane, "b", b"b").await;
            let third = upload(&server, "/api/v1/files", &jane, "c", "x/y", b"c".to_vec()).await;
            assert_detail(&third, 429, "Too many requests");
            assert!(third.headers().contains_key("retry-after"));
            let picture = upload(
                &server,
                "/api/v1/users/me/profile-picture",
                &jane,
                "me.png",
                "image/png",
                image(8, 8, ImageFormat::Png),
            )
            .await;
            assert_detail(&picture, 429, "Too many requests");
            upload_file(&server, &john, "a", b"a").await;
            assert_eq!(file_rows(&ctx).await.len(), 3);
        },
    )
    .await;
}
