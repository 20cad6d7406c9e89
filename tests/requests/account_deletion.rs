//! `POST /users/me/deletion` and `POST /auth/deletion/cancel`: an owner
//! deletes their account after a grace period they may cancel in; the
//! deletion leaves nothing of them in any table or in the store.

use axum_test::{TestResponse, TestServer};
use backend::{
    models::{deleted_accounts::RequestedBy, file_deletions, users},
    workers::account_deletion,
};
use chrono::{Duration, Utc};
use loco_rs::app::AppContext;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    prepare_data::{
        PASSWORD, access_token, assert_detail, assert_redacted_snapshot, event_kinds, id_of,
        last_mail_to, login, placeholder, register, request_code, session_signed_in, verify_code,
    },
    uploads::{file_rows, stored, upload},
};
use crate::support::{
    app_state, assert_forgotten, email, request, request_on, request_with, store_kinds,
    tables_holding,
};

const JANE: &str = "jane@example.com";
const SCHEDULED: &str =
    "This account is scheduled for deletion; the link mailed to it cancels the deletion";

async fn ask_deletion(server: &TestServer, token: &str, body: Value) -> TestResponse {
    server
        .post("/api/v1/users/me/deletion")
        .authorization_bearer(token)
        .json(&body)
        .await
}

async fn cancel(server: &TestServer, token: &str) -> TestResponse {
    server
        .post("/api/v1/auth/deletion/cancel")
        .json(&json!({ "token": token }))
        .await
}

/// The token of the last cancel link mailed to `to`.
fn cancel_token_mailed_to(ctx: &AppContext, to: &str) -> String {
    let mail = last_mail_to(ctx, to);
    let start = mail.find("cancel-deletion?token=").expect("a cancel link")
        + "cancel-deletion?token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

async fn jane(ctx: &AppContext) -> Option<users::Model> {
    users::Model::find_by_email(&ctx.db, &email(JANE))
        .await
        .ok()
}

#[tokio::test]
async fn a_deletion_signs_out_refuses_every_sign_in_and_is_mailed() {
    request(|server, ctx| async move {
        let (token, user) = register(&server, JANE).await;
        let asked = ask_deletion(&server, &token, json!({ "password": PASSWORD })).await;
        assert_eq!(asked.status_code(), 202, "{}", asked.text());
        let body: Value = asked.json();
        assert_redacted_snapshot!(body, @r#"
        {
          "deletes_at": "[timestamp]"
        }
        "#);
        let deletes_at: chrono::DateTime<Utc> =
            serde_json::from_value(body["deletes_at"].clone()).expect("a time");
        let grace = deletes_at - Utc::now();
        assert!(grace > Duration::days(7) - Duration::minutes(1) && grace <= Duration::days(7));

        let mail = last_mail_to(&ctx, JANE);
        assert!(mail.contains("will be deleted"), "{mail}");
        assert!(mail.contains("/cancel-deletion?token="), "{mail}");

        // The sessions ended with it.
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401);
        // Every way in is refused, and says why.
        let by_password = server
            .post("/api/v1/auth/login")
            .form(&[("username", JANE), ("password", PASSWORD)])
            .await;
        assert_detail(&by_password, 403, SCHEDULED);
        let code = request_code(&server, &ctx, JANE).await;
        let by_code = verify_code(&server, JANE, &code).await;
        assert_detail(&by_code, 403, SCHEDULED);
        assert!(
            event_kinds(&ctx, &user)
                .await
                .contains(&"deletion_requested".to_string())
        );
    })
    .await;
}

#[tokio::test]
async fn the_password_a_second_factor_or_a_recent_sign_in_is_asked_for() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, JANE).await;
        for body in [json!({}), json!({ "password": "not the password" })] {
            let refused = ask_deletion(&server, &token, body).await;
            assert_detail(&refused, 401, "Incorrect password");
        }
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 200, "nothing changed");
        assert!(jane(&ctx).await.expect("Jane").deletes_at.is_none());

        // An account without a password: a sign-in of the last minutes.
        let bob = "bob@example.com";
        let code = request_code(&server, &ctx, bob).await;
        let signed_in = verify_code(&server, bob, &code).await;
        let bob_id = Uuid::parse_str(&id_of(&signed_in.json::<Value>()["user"])).expect("id");
        let old = session_signed_in(&ctx, bob_id, 30).await;
        let late = ask_deletion(&server, &old.access.token, json!({})).await;
        assert_detail(&late, 401, "This needs a recent sign-in: sign in again");
        let fresh = access_token(&signed_in.json());
        let asked = ask_deletion(&server, &fresh, json!({})).await;
        assert_eq!(asked.status_code(), 202, "{}", asked.text());
    })
    .await;
}

#[tokio::test]
async fn the_cancel_link_works_once_and_the_owner_signs_in_again() {
    request(|server, ctx| async move {
        let (token, user) = register(&server, JANE).await;
        let asked = ask_deletion(&server, &token, json!({ "password": PASSWORD })).await;
        assert_eq!(asked.status_code(), 202);
        let link = cancel_token_mailed_to(&ctx, JANE);

        let cancelled = cancel(&server, &link).await;
        assert_eq!(cancelled.status_code(), 200, "{}", cancelled.text());
        assert_eq!(
            cancelled.json::<Value>(),
            json!({ "msg": "Account deletion cancelled" })
        );
        login(&server, JANE, PASSWORD).await;
        assert!(jane(&ctx).await.expect("kept").deletes_at.is_none());
        assert!(
            event_kinds(&ctx, &user)
                .await
                .contains(&"deletion_cancelled".to_string())
        );

        // Once only; a made-up token is no cancel either.
        for token in [link.as_str(), "not-a-token"] {
            assert_detail(&cancel(&server, token).await, 401, "Invalid token");
        }
        // The sweep leaves a cancelled account alone.
        let state = app_state(&ctx);
        let later = Utc::now() + Duration::days(30);
        let swept = account_deletion::sweep(&ctx, &state, later)
            .await
            .expect("sweep");
        assert_eq!(swept.deleted, 0);
        assert!(jane(&ctx).await.is_some());
    })
    .await;
}

/// Jane with an item, an archived item, a file and a second session; the
/// keys of her stored objects.
async fn jane_with_data(server: &TestServer, ctx: &AppContext) -> (String, Value, Vec<String>) {
    let (token, user) = register(server, JANE).await;
    for name in ["kept", "archived"] {
        let item = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": name }))
            .await;
        assert_eq!(item.status_code(), 200, "{}", item.text());
        if name == "archived" {
            let id = id_of(&item.json());
            let archived = server
                .delete(&format!("/api/v1/items/{id}/archive"))
                .authorization_bearer(&token)
                .await;
            assert_eq!(archived.status_code(), 200, "{}", archived.text());
        }
    }
    let file = upload(
        server,
        "/api/v1/files",
        &token,
        "notes.txt",
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(file.status_code(), 200, "{}", file.text());
    login(server, JANE, PASSWORD).await;
    let keys = file_rows(ctx)
        .await
        .into_iter()
        .map(|file| file.storage_key)
        .collect();
    (token, user, keys)
}

#[tokio::test]
async fn after_the_grace_period_nothing_of_the_user_is_left() {
    for kind in store_kinds() {
        request_on(
            kind,
            |_| {},
            |server, ctx| async move {
                let (token, user, keys) = jane_with_data(&server, &ctx).await;
                let export = server
                    .post("/api/v1/users/me/export")
                    .authorization_bearer(&token)
                    .await;
                assert_eq!(export.status_code(), 202, "{}", export.text());
                let asked = ask_deletion(&server, &token, json!({ "password": PASSWORD })).await;
                assert_eq!(asked.status_code(), 202, "{}", asked.text());
                let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
                let mut all_keys = keys.clone();
                all_keys.extend(
                    backend::models::data_exports::Model::keys_of(&ctx.db, id)
                        .await
                        .expect("keys"),
                );
                assert_eq!(all_keys.len(), keys.len() + 1, "the export's archive too");

                // The check that nothing is left finds Jane while she is there.
                let traces = [id.to_string(), id.simple().to_string(), JANE.to_string()];
                let holding = tables_holding(&ctx.db, &traces).await;
                for table in ["users", "items", "files", "security_events", "data_exports"] {
                    assert!(
                        holding.iter().any(|held| held == table),
                        "{table} in {holding:?}"
                    );
                }

                // Not before its time.
                let state = app_state(&ctx);
                let swept = account_deletion::sweep(&ctx, &state, Utc::now())
                    .await
                    .expect("sweep");
                assert_eq!(swept.deleted, 0, "{kind:?}");
                assert!(jane(&ctx).await.is_some());

                let later = Utc::now() + Duration::days(7) + Duration::minutes(1);
                let swept = account_deletion::sweep(&ctx, &state, later)
                    .await
                    .expect("sweep");
                assert_eq!(swept.deleted, 1, "{kind:?}");
                for key in &all_keys {
                    assert!(!stored(&ctx, key).await, "{key} left in the {kind:?} store");
                }
                let farewell = last_mail_to(&ctx, JANE);
                assert!(farewell.contains("was deleted"), "{farewell}");
                assert_forgotten(&ctx.db, id, JANE, RequestedBy::Owner.as_str()).await;

                // The link died with the account.
                let link_after = cancel_token_mailed_to_any(&ctx);
                assert_detail(&cancel(&server, &link_after).await, 401, "Invalid token");
            },
        )
        .await;
    }
}

/// The cancel link of the deletion mail, which the farewell does not carry.
fn cancel_token_mailed_to_any(ctx: &AppContext) -> String {
    let messages = ctx.mailer.as_ref().expect("stub").deliveries().messages;
    let mail = messages
        .iter()
        .find(|message| message.contains("cancel-deletion?token"))
        .expect("the deletion mail")
        .replace("=\r\n", "")
        .replace("=3D", "=");
    let start = mail.find("cancel-deletion?token=").expect("link") + "cancel-deletion?token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

#[tokio::test]
async fn with_no_grace_the_account_goes_at_once() {
    let no_grace = |settings: &mut Value| {
        settings["data_rights"]["account_deletion_grace_days"] = 0.into();
    };
    request_with(no_grace, |server, ctx| async move {
        let (token, user, keys) = jane_with_data(&server, &ctx).await;
        let asked = ask_deletion(&server, &token, json!({ "password": PASSWORD })).await;
        assert_eq!(asked.status_code(), 202, "{}", asked.text());
        assert!(jane(&ctx).await.is_none(), "deleted before the answer");
        for key in &keys {
            assert!(!stored(&ctx, key).await);
        }
        let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
        assert_forgotten(&ctx.db, id, JANE, "owner").await;
        let mail = last_mail_to(&ctx, JANE);
        assert!(
            mail.contains("was deleted") && !mail.contains("cancel-deletion"),
            "{mail}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_deletion_stopped_after_its_rows_is_finished_by_the_next_sweep() {
    for kind in store_kinds() {
        request_on(
            kind,
            |_| {},
            |server, ctx| async move {
                let (_, user, keys) = jane_with_data(&server, &ctx).await;
                // The process stops right after the transaction: rows gone, bytes kept.
                let jane = jane(&ctx).await.expect("Jane");
                jane.forget(&ctx.db, RequestedBy::Admin, None)
                    .await
                    .expect("rows");
                for key in &keys {
                    assert!(stored(&ctx, key).await, "not removed yet");
                }
                let recorded = file_deletions::Entity::find()
                    .count(&ctx.db)
                    .await
                    .expect("count");
                assert_eq!(recorded, keys.len() as u64, "recorded for the next run");

                let state = app_state(&ctx);
                let swept = account_deletion::sweep(&ctx, &state, Utc::now())
                    .await
                    .expect("sweep");
                assert_eq!(swept.removed, keys.len());
                for key in &keys {
                    assert!(!stored(&ctx, key).await, "{kind:?}");
                }
                let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
                assert_forgotten(&ctx.db, id, JANE, "admin").await;
            },
        )
        .await;
    }
}

#[tokio::test]
async fn an_admin_deletion_is_the_same_deletion() {
    request(|server, ctx| async move {
        let (_, user, keys) = jane_with_data(&server, &ctx).await;
        let auth = json!({ "user": user });
        let deleted = super::prepare_data::deleted_by_an_admin(&server, &auth).await;
        assert_eq!(deleted.status_code(), 200, "{}", deleted.text());
        assert_eq!(deleted.json::<Value>()["email"], JANE);
        for key in &keys {
            assert!(!stored(&ctx, key).await);
        }
        let id = Uuid::parse_str(&id_of(&user)).expect("uuid");
        assert_forgotten(&ctx.db, id, JANE, "admin").await;
    })
    .await;
}
