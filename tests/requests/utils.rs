use backend::{mailers::account::AccountMailer, models::mails};
use serde_json::{Value, json};

use super::prepare_data::{admin_token, register};
use crate::support::{app_state, email, request, request_with};

fn delivered(ctx: &loco_rs::app::AppContext) -> Vec<String> {
    ctx.mailer
        .as_ref()
        .expect("stub mailer")
        .deliveries()
        .messages
}

#[tokio::test]
async fn test_email_is_sent_to_the_given_address() {
    request(|server, ctx| async move {
        let admin = admin_token(&server).await;
        let response = server
            .post("/api/v1/utils/test-email?email_to=ops@example.com")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(response.status_code(), 201);
        assert_eq!(
            response.json::<Value>(),
            json!({ "msg": "Test email sent" })
        );
        let messages = delivered(&ctx);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("To: ops@example.com"));
        assert!(messages[0].contains("Subject: Test email from Backend"));
    })
    .await;
}

#[tokio::test]
async fn test_email_refuses_bad_addresses_and_non_admins() {
    request(|server, ctx| async move {
        let admin = admin_token(&server).await;
        for query in ["?email_to=not-an-address", ""] {
            let response = server
                .post(&format!("/api/v1/utils/test-email{query}"))
                .authorization_bearer(&admin)
                .await;
            assert_eq!(response.status_code(), 422, "{query}");
            assert_eq!(
                response.json::<Value>()["detail"][0]["loc"],
                json!(["query", "email_to"])
            );
        }
        let (customer, _) = register(&server, "jane@example.com").await;
        let before = delivered(&ctx).len();
        let response = server
            .post("/api/v1/utils/test-email?email_to=ops@example.com")
            .authorization_bearer(&customer)
            .await;
        assert_eq!(response.status_code(), 403);
        assert_eq!(delivered(&ctx).len(), before, "nothing sent");
    })
    .await;
}

#[tokio::test]
async fn registering_and_admin_creation_send_the_welcome_mail() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let admin = admin_token(&server).await;
        let created = server
            .post("/api/v1/users")
            .authorization_bearer(&admin)
            .json(&json!({ "email": "john@example.com" }))
            .await;
        assert_eq!(created.status_code(), 200);

        let messages = delivered(&ctx);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].contains("To: jane@example.com"));
        assert!(messages[1].contains("To: john@example.com"));
        for message in &messages {
            assert!(message.contains("Subject: Welcome to Backend"));
        }
        let taken = server
            .post("/api/v1/auth/register")
            .json(&json!({ "email": "jane@example.com", "password": "long enough" }))
            .await;
        assert_eq!(taken.status_code(), 409);
        assert_eq!(
            delivered(&ctx).len(),
            2,
            "no welcome for a refused registration"
        );
    })
    .await;
}

#[tokio::test]
async fn with_email_disabled_nothing_is_queued_or_sent() {
    let without_mail = |settings: &mut Value| settings["enable_email_service"] = json!(false);
    request_with(without_mail, |_server, ctx| async move {
        let settings = &app_state(&ctx).settings;
        let queued = AccountMailer::send_test(&ctx, settings, &email("ops@example.com"))
            .await
            .expect("no error");
        assert_eq!(queued, None);
        assert!(delivered(&ctx).is_empty());
        assert!(
            mails::Model::due(&ctx.db, 10)
                .await
                .expect("query")
                .is_empty()
        );
    })
    .await;
}
