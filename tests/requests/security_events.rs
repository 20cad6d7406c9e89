//! The account's security log, as its owner and admins see it.

use serde_json::{Value, json};

use super::prepare_data::{
    PASSWORD, access_token, admin_token, assert_detail, id_of, last_mail_to, login, register,
};
use crate::support::request;

fn kinds(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .expect("a list")
        .iter()
        .map(|event| event["kind"].as_str().expect("a kind"))
        .collect()
}

async fn events(
    server: &axum_test::TestServer,
    token: &str,
    path: &str,
) -> axum_test::TestResponse {
    server.get(path).authorization_bearer(token).await
}

#[tokio::test]
async fn the_log_records_sign_ins_failures_changes_and_sign_outs_newest_first() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let wrong = server
            .post("/api/v1/auth/login")
            .add_header("user-agent", "curious-agent/1.0")
            .form(&[("username", "jane@example.com"), ("password", "not her password")])
            .await;
        assert_eq!(wrong.status_code(), 401);
        let session = login(&server, "jane@example.com", PASSWORD).await;
        let changed = server
            .post("/api/v1/users/me/password")
            .authorization_bearer(access_token(&session))
            .json(&json!({ "current_password": PASSWORD, "new_password": "purple elephant umbrella" }))
            .await;
        assert_eq!(changed.status_code(), 200);
        let fresh: Value = changed.json();
        let out = server
            .post("/api/v1/auth/logout")
            .authorization_bearer(access_token(&fresh))
            .json(&fresh["refresh_token"])
            .await;
        assert_eq!(out.status_code(), 204);

        let later = login(&server, "jane@example.com", "purple elephant umbrella").await;
        let listed = events(&server, &access_token(&later), "/api/v1/users/me/security-events").await;
        assert_eq!(listed.status_code(), 200);
        let listed: Value = listed.json();
        assert_eq!(
            kinds(&listed),
            ["sign_in", "signed_out", "password_changed", "sign_in", "sign_in_failed", "sign_in"]
        );
        let failed = &listed[4];
        assert_eq!(failed["user_agent"], "curious-agent/1.0");
        insta::assert_json_snapshot!(failed, {
            ".id" => "[id]",
            ".created_at" => "[timestamp]",
        });
        assert!(last_mail_to(&ctx, "jane@example.com").contains("password was changed"));

        let page = events(&server, &access_token(&later), "/api/v1/users/me/security-events?skip=1&limit=2").await;
        assert_eq!(kinds(&page.json::<Value>()), ["signed_out", "password_changed"]);
    })
    .await;
}

#[tokio::test]
async fn admins_read_anyones_log_and_users_only_their_own() {
    request(|server, _ctx| async move {
        let (jane, jane_user) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        let path = format!("/api/v1/users/{}/security-events", id_of(&jane_user));

        let admin = admin_token(&server).await;
        let archived = server
            .delete(&format!("/api/v1/users/{}/archive", id_of(&jane_user)))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(archived.status_code(), 200);
        let listed = events(&server, &admin, &path).await;
        assert_eq!(listed.status_code(), 200);
        let listed: Value = listed.json();
        assert_eq!(kinds(&listed), ["archived", "sign_in"]);
        assert_eq!(listed[0]["detail"], "by an admin");

        assert_detail(
            &events(&server, &john, &path).await,
            403,
            "Current user do not have enough privilege",
        );
        let mine: Value = events(&server, &john, "/api/v1/users/me/security-events")
            .await
            .json();
        assert_eq!(kinds(&mine), ["sign_in"], "john sees his own log only");
        let unknown = format!("/api/v1/users/{}/security-events", uuid::Uuid::new_v4());
        assert_detail(
            &events(&server, &admin, &unknown).await,
            404,
            "User not found",
        );
        assert_eq!(
            events(&server, &jane, "/api/v1/users/me/security-events")
                .await
                .status_code(),
            401
        );
        let admin_log: Value = events(&server, &admin, "/api/v1/users/me/security-events")
            .await
            .json();
        assert!(
            kinds(&admin_log).iter().all(|kind| *kind == "sign_in"),
            "{admin_log}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_replayed_refresh_token_and_an_email_change_are_in_the_log() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let first = login(&server, "jane@example.com", PASSWORD).await;
        let rotated = server
            .post("/api/v1/auth/refresh")
            .json(&first["refresh_token"])
            .await;
        assert_eq!(rotated.status_code(), 200);
        let replay = server
            .post("/api/v1/auth/refresh")
            .json(&first["refresh_token"])
            .await;
        assert_eq!(replay.status_code(), 401);

        let session = login(&server, "jane@example.com", PASSWORD).await;
        let token = access_token(&session);
        let asked = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "email": "jane.new@example.com" }))
            .await;
        assert_eq!(asked.status_code(), 200);
        let code = super::prepare_data::code_mailed_to(&ctx, "jane.new@example.com");
        let confirmed = server
            .post("/api/v1/users/me/email/confirm")
            .authorization_bearer(&token)
            .json(&json!({ "code": code }))
            .await;
        assert_eq!(confirmed.status_code(), 200);
        let listed: Value = events(
            &server,
            &access_token(&confirmed.json::<Value>()),
            "/api/v1/users/me/security-events",
        )
        .await
        .json();
        assert_eq!(
            kinds(&listed),
            [
                "email_changed",
                "email_change_requested",
                "sign_in",
                "refresh_token_reused",
                "sign_in",
                "sign_in"
            ]
        );
        assert_eq!(listed[0]["detail"], "jane.new@example.com");
    })
    .await;
}

/// Anyone can fail a sign-in as anyone, and the log is kept a year: an
/// account's log takes five failures an hour at most, the fifth saying that
/// later ones are not recorded.
#[tokio::test]
async fn fix_failed_sign_ins_are_recorded_five_an_hour_at_most() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        for _ in 0..8 {
            let refused = server
                .post("/api/v1/auth/login")
                .form(&[
                    ("username", "jane@example.com"),
                    ("password", "not her password"),
                ])
                .await;
            assert_eq!(refused.status_code(), 401);
        }
        let logged: Value = events(&server, &token, "/api/v1/users/me/security-events")
            .await
            .json();
        let failures: Vec<&Value> = logged
            .as_array()
            .expect("a list")
            .iter()
            .filter(|event| event["kind"] == "sign_in_failed")
            .collect();
        assert_eq!(failures.len(), 5, "{logged}");
        assert_eq!(
            failures[0]["detail"],
            "later failures within the hour are not recorded"
        );
        assert_eq!(failures[1]["detail"], Value::Null);
    })
    .await;
}
