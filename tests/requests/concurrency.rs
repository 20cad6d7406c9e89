//! Many writers on one database at once, as a busy server sees them: on SQLite
//! every one of them waits its turn for the write lock instead of failing.

use std::time::Duration;

use backend::models::_entities::{items, mails, sea_orm_active_enums::MailStatus, users};
use futures::future::join_all;
use loco_rs::config::WorkerMode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use super::prepare_data::{PASSWORD, admin_token, id_of, login};
use crate::support::request_configured;

const WRITERS: usize = 12;

#[tokio::test]
async fn concurrent_registrations_item_writes_and_mail_never_answer_5xx() {
    // The mail worker runs beside the requests, writing each delivery's status.
    let mail_in_the_background =
        |config: &mut loco_rs::config::Config| config.workers.mode = WorkerMode::BackgroundAsync;
    request_configured(mail_in_the_background, |server, ctx| async move {
        let admin = admin_token(&server).await;
        let item = server
            .post("/api/v1/items")
            .authorization_bearer(&admin)
            .json(&json!({ "name": "shared" }))
            .await;
        let item_id = id_of(&item.json::<Value>());
        let sessions = join_all((0..WRITERS).map(|_| {
            login(
                &server,
                super::prepare_data::ADMIN_EMAIL,
                super::prepare_data::ADMIN_PASSWORD,
            )
        }))
        .await;

        let registrations = (0..WRITERS).map(|n| {
            server
                .post("/api/v1/auth/register")
                .json(&json!({ "email": format!("user{n}@example.com"), "password": PASSWORD }))
        });
        let creates = (0..WRITERS).map(|n| {
            server
                .post("/api/v1/items")
                .authorization_bearer(&admin)
                .json(&json!({ "name": format!("item {n}") }))
        });
        let updates = (0..WRITERS).map(|n| {
            server
                .put(&format!("/api/v1/items/{item_id}"))
                .authorization_bearer(&admin)
                .json(&json!({ "description": format!("edit {n}") }))
        });
        let refreshes = sessions.iter().map(|session| {
            server
                .post("/api/v1/auth/refresh")
                .json(&session["refresh_token"])
        });
        let statuses: Vec<u16> = join_all(
            registrations
                .chain(creates)
                .chain(updates)
                .chain(refreshes)
                .map(|request| async move { request.await.status_code().as_u16() }),
        )
        .await;

        assert_eq!(statuses.len(), 4 * WRITERS);
        assert!(
            statuses.iter().all(|status| *status == 200),
            "every write succeeds: {statuses:?}"
        );
        let customers = users::Entity::find()
            .filter(users::Column::Email.like("user%@example.com"))
            .count(&ctx.db)
            .await
            .expect("count");
        assert_eq!(customers, WRITERS as u64);
        let created = items::Entity::find().count(&ctx.db).await.expect("count");
        assert_eq!(created, 1 + WRITERS as u64);
        let welcomes = mails::Entity::find().count(&ctx.db).await.expect("count");
        assert_eq!(
            welcomes, WRITERS as u64,
            "one welcome mail per registration"
        );
        let delivered = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let sent = mails::Entity::find()
                    .filter(mails::Column::Status.eq(MailStatus::Sent))
                    .count(&ctx.db)
                    .await
                    .expect("count");
                if sent == welcomes {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(delivered.is_ok(), "every welcome mail is delivered");
    })
    .await;
}
