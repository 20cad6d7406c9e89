use crate::support::{app_state, request};
use backend::models::tokens::{TokenKind, TokenSigner};
use insta::assert_json_snapshot;
use serde_json::{Value, json};

use super::prepare_data::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, access_token, admin_token, assert_redacted_snapshot,
    id_of, login, placeholder, register,
};

#[tokio::test]
async fn register_creates_a_customer_and_signs_them_in() {
    request(|server, _ctx| async move {
        let response = server
            .post("/api/v1/auth/register")
            .json(&json!({
                "email": "Jane@Example.com",
                "password": PASSWORD,
                "first_name": "Jane",
                "language": "fr"
            }))
            .await;
        assert_eq!(response.status_code(), 200);
        let body: Value = response.json();
        assert_redacted_snapshot!(body.clone());

        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&body))
            .await;
        assert_eq!(me.status_code(), 200);
        assert_eq!(me.json::<Value>()["email"], "jane@example.com");
    })
    .await;
}

#[tokio::test]
async fn register_refuses_a_taken_email_whatever_its_case() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        let response = server
            .post("/api/v1/auth/register")
            .json(&json!({ "email": "JANE@example.com", "password": PASSWORD }))
            .await;
        assert_eq!(response.status_code(), 409);
        assert_json_snapshot!(response.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn register_lists_every_bad_field_at_once() {
    request(|server, _ctx| async move {
        let response = server
            .post("/api/v1/auth/register")
            .json(&json!({ "email": "not-an-email", "password": "short" }))
            .await;
        assert_eq!(response.status_code(), 422);
        let locations: Vec<Value> = response.json::<Value>()["detail"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|error| error["loc"].clone())
            .collect();
        assert_eq!(
            locations,
            vec![json!(["body", "email"]), json!(["body", "password"])]
        );
    })
    .await;
}

#[tokio::test]
async fn register_validates_its_input() {
    request(|server, _ctx| async move {
        let cases = [
            (
                "short password",
                json!({ "email": "a@example.com", "password": "short" }),
            ),
            (
                "bad email",
                json!({ "email": "not-an-email", "password": PASSWORD }),
            ),
            ("missing password", json!({ "email": "a@example.com" })),
            ("missing email", json!({ "password": PASSWORD })),
            ("wrong type", json!({ "email": 42, "password": PASSWORD })),
            (
                "unknown language",
                json!({ "email": "a@example.com", "password": PASSWORD, "language": "xx" }),
            ),
        ];
        let mut answers = Vec::new();
        for (case, body) in cases {
            let response = server.post("/api/v1/auth/register").json(&body).await;
            assert_eq!(response.status_code(), 422, "{case}");
            answers.push(json!({ "case": case, "body": response.json::<Value>() }));
        }
        assert_json_snapshot!(answers);
    })
    .await;
}

#[tokio::test]
async fn malformed_json_is_a_422_not_a_500() {
    request(|server, _ctx| async move {
        for raw in ["{\"email\": ", "not json", "", "{} trailing"] {
            let response = server
                .post("/api/v1/auth/register")
                .content_type("application/json")
                .text(raw)
                .await;
            assert_eq!(response.status_code(), 422, "{raw:?}");
            assert!(response.json::<Value>()["detail"].is_array());
        }
    })
    .await;
}

#[tokio::test]
async fn login_accepts_the_oauth2_password_form() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        let response = server
            .post("/api/v1/auth/login")
            .form(&[
                ("grant_type", "password"),
                ("username", "jane@example.com"),
                ("password", PASSWORD),
                ("scope", ""),
                ("client_id", "app"),
                ("client_secret", "ignored"),
            ])
            .await;
        assert_eq!(response.status_code(), 200);
        assert_redacted_snapshot!(response.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn login_refuses_wrong_passwords_and_unknown_emails_alike() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        for (email, password) in [
            ("jane@example.com", "wrong password"),
            ("nobody@example.com", PASSWORD),
        ] {
            let response = server
                .post("/api/v1/auth/login")
                .form(&[("username", email), ("password", password)])
                .await;
            assert_eq!(response.status_code(), 401);
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "Incorrect email, password, or OTP" })
            );
        }
        let missing = server
            .post("/api/v1/auth/login")
            .form(&[("username", "jane@example.com")])
            .await;
        assert_eq!(missing.status_code(), 422);
        assert_json_snapshot!(missing.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn archived_users_cannot_log_in_and_their_tokens_stop_working() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let archived = server
            .delete("/api/v1/users/me/archive")
            .authorization_bearer(&token)
            .await;
        assert_eq!(archived.status_code(), 200);

        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401);
        let login = server
            .post("/api/v1/auth/login")
            .form(&[("username", "jane@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(login.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn refresh_accepts_a_bare_string_or_an_object() {
    request(|server, _ctx| async move {
        let auth = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let mut refresh_token = auth["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_string();
        for wrapped in [false, true] {
            let body = if wrapped {
                json!({ "refresh_token": refresh_token })
            } else {
                json!(refresh_token)
            };
            let response = server.post("/api/v1/auth/refresh").json(&body).await;
            assert_eq!(response.status_code(), 200);
            let renewed: Value = response.json();
            assert_eq!(renewed["user"]["email"], ADMIN_EMAIL);
            let me = server
                .get("/api/v1/users/me")
                .authorization_bearer(access_token(&renewed))
                .await;
            assert_eq!(me.status_code(), 200);
            refresh_token = renewed["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_string();
        }
    })
    .await;
}

#[tokio::test]
async fn refresh_refuses_access_tokens_and_garbage() {
    request(|server, _ctx| async move {
        let token = admin_token(&server).await;
        for body in [json!(token), json!("garbage")] {
            let response = server.post("/api/v1/auth/refresh").json(&body).await;
            assert_eq!(response.status_code(), 401);
        }
        let response = server
            .post("/api/v1/auth/refresh")
            .json(&json!({ "token": token }))
            .await;
        assert_eq!(response.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn test_token_returns_the_caller() {
    request(|server, _ctx| async move {
        let token = admin_token(&server).await;
        let response = server
            .post("/api/v1/auth/login/test-token")
            .authorization_bearer(&token)
            .await;
        assert_eq!(response.status_code(), 200);
        assert_redacted_snapshot!(response.json::<Value>());
    })
    .await;
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_not_authenticated() {
    request(|server, _ctx| async move {
        let without = server.post("/api/v1/auth/login/test-token").await;
        assert_eq!(without.status_code(), 401);
        assert_eq!(without.header("www-authenticate"), "Bearer");
        assert_eq!(
            without.json::<Value>(),
            json!({ "detail": "Not authenticated" })
        );

        let basic = server
            .post("/api/v1/auth/login/test-token")
            .authorization("Basic YWRtaW46YWRtaW4=")
            .await;
        assert_eq!(basic.status_code(), 401);
        assert_eq!(
            basic.json::<Value>(),
            json!({ "detail": "Not authenticated" })
        );
    })
    .await;
}

#[tokio::test]
async fn fix_expired_foreign_and_wrong_kind_tokens_are_401_not_403() {
    request(|server, ctx| async move {
        let auth = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let admin_id = auth["user"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        let state = app_state(&ctx);
        let signer = &state.signer;
        let expired = signer
            .issue(admin_id, TokenKind::Access, -10)
            .expect("token")
            .token;
        let foreign = TokenSigner::new("some other secret")
            .issue(admin_id, TokenKind::Access, 600)
            .expect("token")
            .token;
        let refresh = auth["refresh_token"].as_str().expect("refresh").to_string();

        for token in [expired, foreign, refresh, "not.a.jwt".to_string()] {
            let response = server
                .get("/api/v1/users/me")
                .authorization_bearer(&token)
                .await;
            assert_eq!(response.status_code(), 401);
            assert_eq!(response.header("www-authenticate"), "Bearer");
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "Could not validate credentials" })
            );
        }
    })
    .await;
}

#[tokio::test]
async fn fix_tokens_of_deleted_users_are_401_not_404() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (token, user) = register(&server, "jane@example.com").await;
        let deleted = server
            .delete(&format!(
                "/api/v1/users/{}",
                user["id"].as_str().expect("id")
            ))
            .authorization_bearer(&admin)
            .await;
        assert_eq!(deleted.status_code(), 200);
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401);
    })
    .await;
}

/// The contract: reuse detection ends every earlier token of the user at
/// once, access tokens included.
#[tokio::test]
async fn fix_a_replayed_refresh_token_ends_every_token_of_the_user() {
    request(|server, ctx| async move {
        let first = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let other_login = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let stolen = first["refresh_token"].clone();
        let rotated = server.post("/api/v1/auth/refresh").json(&stolen).await;
        assert_eq!(rotated.status_code(), 200);
        let successor = rotated.json::<Value>()["refresh_token"].clone();

        let replay = server.post("/api/v1/auth/refresh").json(&stolen).await;
        assert_eq!(replay.status_code(), 401, "a used refresh token is refused");
        let notice = super::prepare_data::last_mail_to(&ctx, ADMIN_EMAIL);
        assert!(notice.contains("used twice"), "the owner is told: {notice}");
        let after_replay = server.post("/api/v1/auth/refresh").json(&successor).await;
        assert_eq!(
            after_replay.status_code(),
            401,
            "and its whole family dies with it"
        );

        let other_refresh = server
            .post("/api/v1/auth/refresh")
            .json(&other_login["refresh_token"])
            .await;
        assert_eq!(other_refresh.status_code(), 401, "other logins end too");
        for session in [&first, &other_login, &rotated.json::<Value>()] {
            let me = server
                .get("/api/v1/users/me")
                .authorization_bearer(access_token(session))
                .await;
            assert_eq!(me.status_code(), 401, "and their access tokens");
        }
        let fresh = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&fresh))
            .await;
        assert_eq!(me.status_code(), 200, "a new sign-in works");
    })
    .await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    request(|server, _ctx| async move {
        let session = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let token = access_token(&session);
        let out = server
            .post("/api/v1/auth/logout")
            .authorization_bearer(&token)
            .json(&json!({ "refresh_token": session["refresh_token"] }))
            .await;
        assert_eq!(out.status_code(), 204);
        let refreshed = server
            .post("/api/v1/auth/refresh")
            .json(&session["refresh_token"])
            .await;
        assert_eq!(refreshed.status_code(), 401);

        let (jane, _) = super::prepare_data::register(&server, "jane@example.com").await;
        let other = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let foreign = server
            .post("/api/v1/auth/logout")
            .authorization_bearer(&jane)
            .json(&other["refresh_token"])
            .await;
        assert_eq!(foreign.status_code(), 401, "nobody signs out someone else");
        let anonymous = server
            .post("/api/v1/auth/logout")
            .json(&other["refresh_token"])
            .await;
        assert_eq!(anonymous.status_code(), 401);

        // A signed-out token presented again (a shared device, say) is no
        // replay: the user's other sessions live on.
        let again = server
            .post("/api/v1/auth/refresh")
            .json(&session["refresh_token"])
            .await;
        assert_eq!(again.status_code(), 401);
        let still = server
            .post("/api/v1/auth/refresh")
            .json(&other["refresh_token"])
            .await;
        assert_eq!(still.status_code(), 200, "other sessions are untouched");
    })
    .await;
}

#[tokio::test]
async fn archiving_a_user_revokes_their_refresh_tokens() {
    request(|server, _ctx| async move {
        let (token, jane) = super::prepare_data::register(&server, "jane@example.com").await;
        let session = login(&server, "jane@example.com", PASSWORD).await;
        let archived = server
            .delete("/api/v1/users/me/archive")
            .authorization_bearer(&token)
            .await;
        assert_eq!(archived.status_code(), 200);
        // Back from the archive, the account works again; the tokens it had
        // before must not.
        let unarchived = server
            .put(&format!("/api/v1/users/{}/unarchive", id_of(&jane)))
            .authorization_bearer(admin_token(&server).await)
            .await;
        assert_eq!(unarchived.status_code(), 200);
        let refreshed = server
            .post("/api/v1/auth/refresh")
            .json(&session["refresh_token"])
            .await;
        assert_eq!(refreshed.status_code(), 401);
        let fresh = login(&server, "jane@example.com", PASSWORD).await;
        let refreshed = server
            .post("/api/v1/auth/refresh")
            .json(&fresh["refresh_token"])
            .await;
        assert_eq!(refreshed.status_code(), 200, "a new sign-in works");
    })
    .await;
}
