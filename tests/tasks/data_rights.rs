//! `user_delete`, `user_export` and `purge_deleted_accounts`: the operator's
//! side of the user's data rights.

use backend::models::{deleted_accounts, users};
use sea_orm::{ActiveModelTrait, ActiveValue, EntityTrait, IntoActiveModel};
use serde_json::json;
use uuid::Uuid;

use super::mail::run;
use crate::{
    requests::prepare_data::{id_of, last_mail_to, register},
    support::{assert_forgotten, email, request},
};

const JANE: &str = "jane@example.com";

#[tokio::test]
async fn user_delete_schedules_or_deletes_at_once() {
    request(|server, ctx| async move {
        let (token, user) = register(&server, JANE).await;
        run(&ctx, "user_delete", &[("email", JANE)])
            .await
            .expect("task");
        let jane = users::Model::find_by_email(&ctx.db, &email(JANE))
            .await
            .expect("kept for now");
        assert!(jane.deletes_at.is_some());
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401, "signed out");
        assert!(last_mail_to(&ctx, JANE).contains("cancel-deletion?token="));

        for args in [vec![("email", JANE), ("now", "soon")], vec![]] {
            assert!(run(&ctx, "user_delete", &args).await.is_err(), "{args:?}");
        }
        run(&ctx, "user_delete", &[("email", JANE), ("now", "true")])
            .await
            .expect("task");
        let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
        assert_forgotten(&ctx.db, id, JANE, "operator").await;
        assert!(
            run(&ctx, "user_delete", &[("email", JANE)]).await.is_err(),
            "no such user now"
        );
    })
    .await;
}

#[tokio::test]
async fn user_export_writes_the_archive_to_a_file() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, JANE).await;
        let item = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "kept" }))
            .await;
        assert_eq!(item.status_code(), 200);
        let path = std::env::temp_dir().join(format!("export-{}.zip", Uuid::new_v4()));
        let target = path.display().to_string();
        run(&ctx, "user_export", &[("email", JANE), ("path", &target)])
            .await
            .expect("task");
        let bytes = std::fs::read(&path).expect("written");
        // An existing file is not overwritten.
        let again = run(&ctx, "user_export", &[("email", JANE), ("path", &target)]).await;
        assert!(again.is_err());
        std::fs::remove_file(&path).expect("removed");
        let zip = async_zip::base::read::mem::ZipFileReader::new(bytes)
            .await
            .expect("a zip");
        let index = zip
            .file()
            .entries()
            .iter()
            .position(|entry| entry.filename().as_str().ok() == Some("account.json"))
            .expect("account.json");
        let mut json = String::new();
        let mut reader = zip.reader_with_entry(index).await.expect("entry");
        reader
            .read_to_string_checked(&mut json)
            .await
            .expect("read");
        let account: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(account["user"]["email"], JANE);
        assert_eq!(account["items"][0]["name"], "kept");
    })
    .await;
}

#[tokio::test]
async fn purge_deleted_accounts_deletes_the_accounts_that_are_due() {
    request(|server, ctx| async move {
        register(&server, JANE).await;
        register(&server, "bob@example.com").await;
        for address in [JANE, "bob@example.com"] {
            run(&ctx, "user_delete", &[("email", address)])
                .await
                .expect("scheduled");
        }
        // Jane's grace period is over; Bob's is not.
        let jane = users::Model::find_by_email(&ctx.db, &email(JANE))
            .await
            .expect("Jane");
        let mut due = jane.into_active_model();
        due.deletes_at = ActiveValue::Set(Some(
            (chrono::Utc::now() - chrono::Duration::minutes(1)).into(),
        ));
        due.update(&ctx.db).await.expect("moved");

        run(&ctx, "purge_deleted_accounts", &[("once_per", "600")])
            .await
            .expect("task");
        assert!(
            users::Model::find_by_email(&ctx.db, &email(JANE))
                .await
                .is_err()
        );
        assert!(
            users::Model::find_by_email(&ctx.db, &email("bob@example.com"))
                .await
                .is_ok()
        );
        assert_eq!(
            deleted_accounts::Entity::find()
                .all(&ctx.db)
                .await
                .expect("records")
                .len(),
            1
        );
    })
    .await;
}
