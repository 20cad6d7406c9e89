//! Changing one's email: only with the code sent to the new address.

use serde_json::{Value, json};

use super::prepare_data::{
    ADMIN_EMAIL, PASSWORD, access_token, admin_token, assert_detail, assert_redacted_snapshot,
    behind_a_proxy, code_mailed_to, each_spent_a_budget, id_of, last_mail_to, login, placeholder,
    register, request_code, retry_after, session_signed_in, verify_code, wrong_code,
};
use crate::support::{request, request_with};

async fn confirm(
    server: &axum_test::TestServer,
    token: &str,
    code: &str,
) -> axum_test::TestResponse {
    server
        .post("/api/v1/users/me/email/confirm")
        .authorization_bearer(token)
        .json(&json!({ "code": code }))
        .await
}

/// `PUT /users/me` with `body`.
async fn update_me(
    server: &axum_test::TestServer,
    token: &str,
    body: Value,
) -> axum_test::TestResponse {
    server
        .put("/api/v1/users/me")
        .authorization_bearer(token)
        .json(&body)
        .await
}

#[tokio::test]
async fn fix_a_new_email_waits_for_the_code_sent_to_it() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let auth = login(&server, "jane@example.com", PASSWORD).await;
        let token = access_token(&auth);
        let asked = update_me(
            &server,
            &token,
            json!({ "email": "Jane.New@example.com", "first_name": "Jane" }),
        )
        .await;
        assert_eq!(asked.status_code(), 200);
        let user: Value = asked.json();
        assert_eq!(user["email"], "jane@example.com", "not changed yet");
        assert_eq!(user["pending_email"], "jane.new@example.com");
        assert_eq!(user["first_name"], "Jane", "the other fields change");
        assert_redacted_snapshot!(user);
        assert!(
            last_mail_to(&ctx, "jane@example.com").contains("jane.new@example.com"),
            "the old address hears of it"
        );

        // Not the new address's yet: no sign-in with it.
        let early = server
            .post("/api/v1/auth/login")
            .form(&[("username", "jane.new@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(early.status_code(), 401);

        let code = code_mailed_to(&ctx, "jane.new@example.com");
        let wrong = if code == "111111" { "222222" } else { "111111" };
        assert_detail(
            &confirm(&server, &token, wrong).await,
            401,
            "Invalid or expired authentication code",
        );
        let confirmed = confirm(&server, &token, &code).await;
        assert_eq!(confirmed.status_code(), 200, "{}", confirmed.text());
        let fresh: Value = confirmed.json();
        assert_eq!(fresh["user"]["email"], "jane.new@example.com");
        assert_eq!(fresh["user"]["pending_email"], Value::Null);
        assert_eq!(fresh["user"]["confirmed"], true);
        assert!(last_mail_to(&ctx, "jane@example.com").contains("no longer signs in"));

        // Every earlier token is void; the fresh ones work.
        let old_access = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(old_access.status_code(), 401);
        let old_refresh = server
            .post("/api/v1/auth/refresh")
            .json(&auth["refresh_token"])
            .await;
        assert_eq!(old_refresh.status_code(), 401);
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&fresh))
            .await;
        assert_eq!(me.status_code(), 200);
        assert_eq!(
            confirm(&server, &access_token(&fresh), &code)
                .await
                .status_code(),
            401
        );
        login(&server, "jane.new@example.com", PASSWORD).await;
    })
    .await;
}

#[tokio::test]
async fn fix_setting_someone_elses_email_does_not_take_their_account() {
    request(|server, ctx| async move {
        let (attacker, _) = register(&server, "mallory@example.com").await;
        let asked = update_me(&server, &attacker, json!({ "email": "victim@example.com" })).await;
        assert_eq!(asked.status_code(), 200);
        assert_eq!(asked.json::<Value>()["email"], "mallory@example.com");

        // The owner of the address signs in with a code: a new account of
        // their own, not the attacker's.
        let code = request_code(&server, &ctx, "victim@example.com").await;
        let victim = verify_code(&server, "victim@example.com", &code).await;
        assert_eq!(victim.status_code(), 200);
        let victim: Value = victim.json();
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&attacker)
            .await;
        assert_ne!(id_of(&victim["user"]), id_of(&me.json::<Value>()));

        // And the attacker, without the code, cannot finish the change.
        for guess in ["123456", "654321"] {
            assert_eq!(confirm(&server, &attacker, guess).await.status_code(), 401);
        }
    })
    .await;
}

#[tokio::test]
async fn an_address_taken_before_or_during_the_change_is_a_conflict() {
    request(|server, ctx| async move {
        register(&server, "taken@example.com").await;
        let (token, _) = register(&server, "jane@example.com").await;
        let taken = update_me(
            &server,
            &token,
            json!({ "email": "taken@example.com", "first_name": "Changed" }),
        )
        .await;
        assert_detail(
            &taken,
            409,
            "The user with this email already exists in the system",
        );
        let me: Value = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await
            .json();
        assert_eq!(me["first_name"], "", "a refused change changes nothing");
        assert_eq!(me["pending_email"], Value::Null);

        let asked = update_me(&server, &token, json!({ "email": "new@example.com" })).await;
        assert_eq!(asked.status_code(), 200);
        let code = code_mailed_to(&ctx, "new@example.com");
        register(&server, "new@example.com").await;
        assert_detail(
            &confirm(&server, &token, &code).await,
            409,
            "The user with this email already exists in the system",
        );
    })
    .await;
}

#[tokio::test]
async fn confirming_needs_a_pending_email_and_a_six_digit_code() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        assert_detail(
            &confirm(&server, &token, "123456").await,
            401,
            "Invalid or expired authentication code",
        );
        assert_eq!(confirm(&server, &token, "12345").await.status_code(), 422);
        let anonymous = server
            .post("/api/v1/users/me/email/confirm")
            .json(&json!({ "code": "123456" }))
            .await;
        assert_eq!(anonymous.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn an_admin_sets_an_email_at_once_and_ends_the_users_sessions() {
    request(|server, _ctx| async move {
        let (_, user) = register(&server, "jane@example.com").await;
        let session = login(&server, "jane@example.com", PASSWORD).await;
        let (token, refresh) = (access_token(&session), session["refresh_token"].clone());
        let admin = admin_token(&server).await;
        let changed = server
            .put(&format!("/api/v1/users/{}", id_of(&user)))
            .authorization_bearer(&admin)
            .json(&json!({ "email": "jane.doe@example.com" }))
            .await;
        assert_eq!(changed.status_code(), 200);
        let changed: Value = changed.json();
        assert_eq!(changed["email"], "jane.doe@example.com");
        assert_eq!(changed["confirmed"], false);
        let old = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(old.status_code(), 401);
        let old_refresh = server.post("/api/v1/auth/refresh").json(&refresh).await;
        assert_eq!(old_refresh.status_code(), 401, "refresh tokens too");
        login(&server, "jane.doe@example.com", PASSWORD).await;
        // The admin's own sessions are untouched.
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(me.json::<Value>()["email"], ADMIN_EMAIL);
    })
    .await;
}

/// Wrong codes proving a new address spend that address's budget of wrong
/// emailed codes, across codes, and the sender's: sixteen from two sources
/// lock the address for a while, even for the right code.
#[tokio::test]
async fn fix_wrong_email_change_codes_spend_the_new_addresss_budget() {
    use backend::models::{code_budgets::SOURCE_FAILURES, one_time_passwords::MAX_ATTEMPTS};

    request_with(behind_a_proxy, |server, ctx| async move {
        let (token, _) = register(&server, "mallory@example.com").await;
        let confirm_from = |source: &'static str, code: String| {
            server
                .post("/api/v1/users/me/email/confirm")
                .authorization_bearer(&token)
                .add_header("x-forwarded-for", source)
                .json(&json!({ "code": code }))
        };
        let mut statuses = Vec::new();
        for source in ["203.0.113.1", "203.0.113.2"] {
            let mut of_source = Vec::new();
            let mut code = String::new();
            for tried in 0..SOURCE_FAILURES {
                // New codes give no new tries against the address being proven.
                if tried % MAX_ATTEMPTS == 0 {
                    let asked =
                        update_me(&server, &token, json!({ "email": "victim@example.com" }));
                    assert_eq!(asked.await.status_code(), 200);
                    code = code_mailed_to(&ctx, "victim@example.com");
                }
                let wrong = confirm_from(source, wrong_code(&code).to_string()).await;
                of_source.push(wrong.status_code().as_u16());
            }
            statuses.push(of_source);
        }
        assert!(each_spent_a_budget(&statuses), "{statuses:?}");
        let asked = update_me(&server, &token, json!({ "email": "victim@example.com" })).await;
        assert_eq!(asked.status_code(), 200);
        let code = code_mailed_to(&ctx, "victim@example.com");
        let locked = confirm_from("198.51.100.1", code).await;
        assert!(retry_after(&locked) > 800);
        let me: Value = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await
            .json();
        assert_eq!(me["email"], "mallory@example.com");
    })
    .await;
}

#[tokio::test]
async fn fix_a_new_email_needs_a_recent_sign_in() {
    request(|server, ctx| async move {
        let (_, user) = register(&server, "jane@example.com").await;
        let old = session_signed_in(&ctx, id_of(&user).parse().expect("uuid"), 11).await;
        let token = old.access.token.clone();
        let asked = update_me(
            &server,
            &token,
            json!({ "email": "mallory@example.com", "first_name": "Jane" }),
        )
        .await;
        assert_detail(&asked, 401, "This needs a recent sign-in: sign in again");
        let names = update_me(&server, &token, json!({ "first_name": "Jane" })).await;
        assert_eq!(
            names.status_code(),
            200,
            "other fields need no fresh sign-in"
        );
        assert_eq!(names.json::<Value>()["pending_email"], Value::Null);
    })
    .await;
}
