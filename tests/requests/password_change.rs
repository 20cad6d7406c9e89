//! `POST /users/me/password`, and the strength rule every new password meets.

use backend::models::single_use_tokens;
use serde_json::{Value, json};

use super::prepare_data::{
    PASSWORD, access_token, assert_detail, id_of, last_mail_to, login, register, request_code,
    session_signed_in, verify_code,
};
use crate::support::{app_state, request};

const NEW_PASSWORD: &str = "purple elephant umbrella";

async fn change(
    server: &axum_test::TestServer,
    token: &str,
    body: Value,
) -> axum_test::TestResponse {
    server
        .post("/api/v1/users/me/password")
        .authorization_bearer(token)
        .json(&body)
        .await
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_other_sessions() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let other_device = login(&server, "jane@example.com", PASSWORD).await;
        let auth = login(&server, "jane@example.com", PASSWORD).await;
        let token = access_token(&auth);

        let wrong = change(
            &server,
            &token,
            json!({ "current_password": "not it at all", "new_password": NEW_PASSWORD }),
        )
        .await;
        assert_detail(&wrong, 401, "Incorrect password");
        let missing = change(&server, &token, json!({ "new_password": NEW_PASSWORD })).await;
        assert_detail(&missing, 401, "Incorrect password");

        let changed = change(
            &server,
            &token,
            json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
        assert_eq!(changed.status_code(), 200, "{}", changed.text());
        let fresh: Value = changed.json();
        assert!(last_mail_to(&ctx, "jane@example.com").contains("password was changed"));

        for old in [&token, &access_token(&other_device)] {
            let me = server
                .get("/api/v1/users/me")
                .authorization_bearer(old)
                .await;
            assert_eq!(me.status_code(), 401, "earlier access tokens are void");
        }
        let refresh = server
            .post("/api/v1/auth/refresh")
            .json(&other_device["refresh_token"])
            .await;
        assert_eq!(refresh.status_code(), 401);
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&fresh))
            .await;
        assert_eq!(
            me.status_code(),
            200,
            "the fresh session survives the others"
        );

        let old = server
            .post("/api/v1/auth/login")
            .form(&[("username", "jane@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(old.status_code(), 401);
        login(&server, "jane@example.com", NEW_PASSWORD).await;
    })
    .await;
}

#[tokio::test]
async fn common_passwords_are_refused_wherever_a_password_is_set() {
    request(|server, _ctx| async move {
        for weak in ["password1", "qwerty123", "jane@example.com"] {
            let registered = server
                .post("/api/v1/auth/register")
                .json(&json!({ "email": "jane@example.com", "password": weak }))
                .await;
            assert_eq!(registered.status_code(), 422, "{weak}");
        }
        let (token, _) = register(&server, "jane@example.com").await;
        let weak = change(
            &server,
            &token,
            json!({ "current_password": PASSWORD, "new_password": "qwerty123" }),
        )
        .await;
        assert_eq!(weak.status_code(), 422);
        insta::assert_json_snapshot!(weak.json::<Value>());
        let short = change(
            &server,
            &token,
            json!({ "current_password": PASSWORD, "new_password": "x7#Q" }),
        )
        .await;
        assert_eq!(short.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn an_account_without_a_password_sets_one_only_after_a_fresh_sign_in() {
    request(|server, ctx| async move {
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let auth: Value = verify_code(&server, "jane@example.com", &code).await.json();
        let user_id = id_of(&auth["user"]).parse().expect("uuid");

        // Signed in eleven minutes ago; a refresh since does not make it recent.
        let old = session_signed_in(&ctx, user_id, 11).await;
        let refreshed = server
            .post("/api/v1/auth/refresh")
            .json(&json!(old.refresh.token))
            .await;
        assert_eq!(refreshed.status_code(), 200);
        let stale = access_token(&refreshed.json::<Value>());
        let late = change(&server, &stale, json!({ "new_password": NEW_PASSWORD })).await;
        assert_detail(&late, 401, "This needs a recent sign-in: sign in again");

        let guessed = change(
            &server,
            &access_token(&auth),
            json!({ "current_password": "anything", "new_password": NEW_PASSWORD }),
        )
        .await;
        assert_detail(&guessed, 401, "Incorrect password");
        let set = change(
            &server,
            &access_token(&auth),
            json!({ "new_password": NEW_PASSWORD }),
        )
        .await;
        assert_eq!(set.status_code(), 200, "{}", set.text());
        login(&server, "jane@example.com", NEW_PASSWORD).await;
    })
    .await;
}

#[tokio::test]
async fn fix_ending_sessions_spends_provider_confirmations_too() {
    request(|server, ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let user_id = id_of(&user).parse().expect("uuid");
        let confirmation = single_use_tokens::Model::issue_sso_confirmation(
            &ctx.db,
            &app_state(&ctx).signer,
            user_id,
        )
        .await
        .expect("confirmation");
        let changed = change(
            &server,
            &token,
            json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
        assert_eq!(changed.status_code(), 200);
        let redeemed = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(confirmation.token))
            .await;
        assert_eq!(redeemed.status_code(), 401);
    })
    .await;
}

/// A stolen access token and a known password are no fresh sign-in: the
/// session a change starts is as old as the caller's, so that it cannot then
/// move the account to another email (which asks for a recent sign-in).
#[tokio::test]
async fn fix_a_password_change_is_no_fresh_sign_in() {
    request(|server, ctx| async move {
        let (_, user) = register(&server, "jane@example.com").await;
        let stolen = session_signed_in(&ctx, id_of(&user).parse().expect("uuid"), 11).await;
        let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
        let changed = change(&server, &stolen.access.token, body).await;
        assert_eq!(changed.status_code(), 200, "{}", changed.text());
        let token = access_token(&changed.json());
        let moved = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "email": "mallory@example.com" }))
            .await;
        assert_detail(&moved, 401, "This needs a recent sign-in: sign in again");
    })
    .await;
}
