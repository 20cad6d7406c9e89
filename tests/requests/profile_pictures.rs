use axum_test::{TestResponse, TestServer};
use image::{GenericImageView, ImageFormat};
use serde_json::Value;

use super::{
    prepare_data::{
        admin_token, assert_detail, assert_redacted_snapshot, id_of, placeholder, register,
    },
    uploads::{
        GPS_MARK, fake_png, file_rows, image, jpeg_with_gps, png_bomb, stored, stored_keys, upload,
    },
};
use crate::support::{request, request_with};

const PATH: &str = "/api/v1/users/me/profile-picture";

async fn set_picture(server: &TestServer, token: &str, bytes: Vec<u8>) -> TestResponse {
    upload(
        server,
        PATH,
        token,
        "me.img",
        "application/octet-stream",
        bytes,
    )
    .await
}

/// The path of `profile_picture_url`, which begins with `SERVER_HOST`.
fn picture_path(user: &Value) -> String {
    let url = user["profile_picture_url"].as_str().expect("a picture URL");
    url.strip_prefix("http://localhost:5150")
        .expect("on SERVER_HOST")
        .to_string()
}

#[tokio::test]
async fn a_picture_is_resized_and_served_with_caching_headers() {
    request(|server, ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let response = set_picture(&server, &token, image(1024, 600, ImageFormat::Png)).await;
        assert_eq!(response.status_code(), 200, "{}", response.text());
        let updated: Value = response.json();
        let file_id = file_rows(&ctx).await[0].id;
        assert_eq!(
            picture_path(&updated),
            format!("/api/v1/users/{}/profile-picture/{file_id}", id_of(&user))
        );
        assert_redacted_snapshot!(updated.clone());
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(
            me.json::<Value>()["profile_picture_url"],
            updated["profile_picture_url"]
        );

        // Anyone may fetch it, without a token.
        let served = server.get(&picture_path(&updated)).await;
        assert_eq!(served.status_code(), 200);
        assert_eq!(served.header("content-type"), "image/png");
        assert_eq!(
            served.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        let etag = served.header("etag");
        let picture = image::load_from_memory(served.as_bytes()).expect("a picture");
        assert_eq!(picture.dimensions(), (512, 300));

        let cached = server
            .get(&picture_path(&updated))
            .add_header("if-none-match", etag.to_str().expect("ASCII"))
            .await;
        assert_eq!(cached.status_code(), 304);
        assert!(cached.as_bytes().is_empty());
        // Pictures are not files of the `/files` routes.
        let listed = server
            .get("/api/v1/files")
            .authorization_bearer(&token)
            .await;
        assert_eq!(listed.json::<Value>(), serde_json::json!([]));
    })
    .await;
}

#[tokio::test]
async fn a_new_picture_replaces_the_old_one_and_its_bytes() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let first: Value = set_picture(&server, &token, image(40, 40, ImageFormat::Gif))
            .await
            .json();
        let old_key = file_rows(&ctx).await[0].storage_key.clone();
        let second: Value = set_picture(&server, &token, image(30, 20, ImageFormat::WebP))
            .await
            .json();
        assert_ne!(first["profile_picture_url"], second["profile_picture_url"]);
        assert_detail(
            &server.get(&picture_path(&first)).await,
            404,
            "File not found",
        );
        let served = server.get(&picture_path(&second)).await;
        assert_eq!(served.status_code(), 200);
        // WebP and GIF are stored as PNG.
        assert_eq!(served.header("content-type"), "image/png");
        assert!(!stored(&ctx, &old_key).await);
        assert_eq!(stored_keys(&ctx).await.len(), 1);
        assert_eq!(file_rows(&ctx).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn pictures_uploaded_at_once_replace_one_another() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let uploads =
            (0..2).map(|n| set_picture(&server, &token, image(10 + n, 10, ImageFormat::Png)));
        for response in futures::future::join_all(uploads).await {
            assert_eq!(response.status_code(), 200, "{}", response.text());
        }
        let rows = file_rows(&ctx).await;
        assert_eq!(rows.len(), 1, "one picture is left");
        assert_eq!(stored_keys(&ctx).await, vec![rows[0].storage_key.clone()]);
        let me: Value = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await
            .json();
        assert!(picture_path(&me).ends_with(&rows[0].id.to_string()));
    })
    .await;
}

#[tokio::test]
async fn exif_and_gps_are_dropped_from_jpegs() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let upload = jpeg_with_gps();
        assert!(
            upload
                .windows(GPS_MARK.len())
                .any(|window| window == GPS_MARK)
        );
        let user: Value = set_picture(&server, &token, upload).await.json();
        let served = server.get(&picture_path(&user)).await;
        assert_eq!(served.header("content-type"), "image/jpeg");
        let bytes = served.as_bytes();
        assert!(!bytes.windows(4).any(|window| window == b"Exif"));
        assert!(
            !bytes
                .windows(GPS_MARK.len())
                .any(|window| window == GPS_MARK)
        );
        assert_eq!(
            image::load_from_memory(bytes).expect("a JPEG").dimensions(),
            (64, 48)
        );
    })
    .await;
}

#[tokio::test]
async fn what_is_not_an_accepted_picture_is_refused_and_nothing_is_stored() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        for (bytes, status, detail) in [
            (
                b"%PDF-1.7\n".to_vec(),
                415,
                "Profile pictures must be JPEG, PNG, WebP or GIF images",
            ),
            (
                [b"BM".as_slice(), &[0; 60]].concat(),
                415,
                "Profile pictures must be JPEG, PNG, WebP or GIF images",
            ),
            (
                fake_png(),
                415,
                "Profile pictures must be JPEG, PNG, WebP or GIF images",
            ),
            (png_bomb(), 413, "Image dimensions are too large"),
        ] {
            let response = set_picture(&server, &token, bytes).await;
            assert_detail(&response, status, detail);
        }
        let empty = set_picture(&server, &token, vec![]).await;
        assert_eq!(empty.status_code(), 422);
        assert!(file_rows(&ctx).await.is_empty());
        assert!(stored_keys(&ctx).await.is_empty());
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.json::<Value>()["profile_picture_url"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn a_picture_over_its_limit_is_413() {
    request_with(
        |settings| settings["files"]["profile_picture_max_bytes"] = 1000.into(),
        |server, ctx| async move {
            let (token, _) = register(&server, "jane@example.com").await;
            let response = set_picture(&server, &token, image(300, 300, ImageFormat::Png)).await;
            assert_detail(&response, 413, "File too large");
            assert!(stored_keys(&ctx).await.is_empty());
        },
    )
    .await;
}

#[tokio::test]
async fn an_archived_users_picture_and_unknown_pictures_are_404() {
    request(|server, _ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let user_with_picture: Value = set_picture(&server, &token, image(8, 8, ImageFormat::Png))
            .await
            .json();
        let path = picture_path(&user_with_picture);
        let unknown = format!(
            "/api/v1/users/{}/profile-picture/{}",
            id_of(&user),
            uuid::Uuid::new_v4()
        );
        assert_detail(&server.get(&unknown).await, 404, "File not found");
        let (other, other_user) = register(&server, "other@example.com").await;
        let wrong_user = path.replace(&id_of(&user), &id_of(&other_user));
        assert_detail(&server.get(&wrong_user).await, 404, "File not found");
        let bad = server.get("/api/v1/users/x/profile-picture/y").await;
        assert_eq!(bad.status_code(), 422);
        drop(other);

        let admin = admin_token(&server).await;
        let archived = server
            .delete(&format!("/api/v1/users/{}/archive", id_of(&user)))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(archived.status_code(), 200);
        assert_detail(&server.get(&path).await, 404, "File not found");
        let upload = set_picture(&server, &token, image(8, 8, ImageFormat::Png)).await;
        assert_eq!(upload.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn setting_a_picture_requires_a_signed_in_user() {
    request(|server, _ctx| async move {
        let response = server.post(PATH).await;
        assert_detail(&response, 401, "Not authenticated");
    })
    .await;
}
