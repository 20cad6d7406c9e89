use backend::models::tokens::TokenKind;
use serde_json::{Value, json};

use super::prepare_data::{
    PASSWORD, access_token, last_mail_to, login, register, reset_token_mailed_to,
};
use crate::support::{app_state, request};

async fn reset(
    server: &axum_test::TestServer,
    token: &str,
    password: &str,
) -> axum_test::TestResponse {
    server
        .post("/api/v1/auth/reset-password")
        .json(&json!({ "token": token, "new_password": password }))
        .await
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let response = server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await;
        assert_eq!(response.status_code(), 200);
        assert_eq!(
            response.json::<Value>(),
            json!({ "msg": "Password recovery email sent" })
        );
        let mail = last_mail_to(&ctx, "jane@example.com");
        assert!(mail.contains("Subject: Reset your Backend password"));
        assert!(mail.contains("http://localhost:3000/reset-password?token="));

        let token = reset_token_mailed_to(&ctx, "jane@example.com");
        let updated = reset(&server, &token, "a brand new password").await;
        assert_eq!(updated.status_code(), 200);
        assert_eq!(
            updated.json::<Value>(),
            json!({ "msg": "Password updated successfully" })
        );
        login(&server, "jane@example.com", "a brand new password").await;
        let old = server
            .post("/api/v1/auth/login")
            .form(&[("username", "jane@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(old.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn reset_validates_the_new_password() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await
            .assert_status_ok();
        let token = reset_token_mailed_to(&ctx, "jane@example.com");
        let short = reset(&server, &token, "short").await;
        assert_eq!(short.status_code(), 422);
        assert_eq!(
            short.json::<Value>()["detail"][0]["loc"],
            json!(["body", "new_password"])
        );
        let common = reset(&server, &token, "qwerty123").await;
        assert_eq!(common.status_code(), 422);
        assert_eq!(
            common.json::<Value>()["detail"][0]["msg"],
            "Password is too common or too easy to guess"
        );
        assert_eq!(
            reset(&server, &token, "long enough now")
                .await
                .status_code(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn fix_password_recovery_does_not_reveal_which_emails_have_accounts() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let known = server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await;
        let unknown = server
            .post("/api/v1/auth/password-recovery/nobody@example.com")
            .await;
        assert_eq!(known.status_code(), unknown.status_code());
        assert_eq!(known.json::<Value>(), unknown.json::<Value>());
        let messages = ctx.mailer.as_ref().expect("stub").deliveries().messages;
        assert!(
            messages
                .iter()
                .all(|message| !message.contains("To: nobody@example.com"))
        );
    })
    .await;
}

#[tokio::test]
async fn fix_a_reset_token_works_once() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await
            .assert_status_ok();
        let token = reset_token_mailed_to(&ctx, "jane@example.com");
        assert_eq!(
            reset(&server, &token, "first new password")
                .await
                .status_code(),
            200
        );
        let again = reset(&server, &token, "second new password").await;
        assert_eq!(again.status_code(), 401);
        assert_eq!(again.json::<Value>(), json!({ "detail": "Invalid token" }));
    })
    .await;
}

#[tokio::test]
async fn fix_a_reset_token_expires_and_only_reset_tokens_reset() {
    request(|server, ctx| async move {
        let auth = login(&server, "admin@example.com", "Password1234").await;
        let admin_id = auth["user"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        let state = app_state(&ctx);
        let signer = &state.signer;
        let expired = signer
            .issue(admin_id, TokenKind::PasswordReset, -1)
            .expect("token")
            .token;
        let never_sent = signer
            .issue(admin_id, TokenKind::PasswordReset, 600)
            .expect("token")
            .token;
        let access = auth["access_token"].as_str().expect("access").to_string();
        for token in [expired, never_sent, access, "garbage".to_string()] {
            let response = reset(&server, &token, "a new password").await;
            assert_eq!(response.status_code(), 401);
        }
        login(&server, "admin@example.com", "Password1234").await;
    })
    .await;
}

#[tokio::test]
async fn fix_a_reset_signs_the_user_out_everywhere() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let session = login(&server, "jane@example.com", PASSWORD).await;
        server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await
            .assert_status_ok();
        let token = reset_token_mailed_to(&ctx, "jane@example.com");
        assert_eq!(
            reset(&server, &token, "a brand new password")
                .await
                .status_code(),
            200
        );
        let refreshed = server
            .post("/api/v1/auth/refresh")
            .json(&session["refresh_token"])
            .await;
        assert_eq!(
            refreshed.status_code(),
            401,
            "refresh tokens died with the old password"
        );
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&session))
            .await;
        assert_eq!(me.status_code(), 401, "and so did access tokens");
        let fresh = login(&server, "jane@example.com", "a brand new password").await;
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&fresh))
            .await;
        assert_eq!(me.status_code(), 200);
    })
    .await;
}

#[tokio::test]
async fn fix_a_reset_voids_every_other_reset_link() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await
            .assert_status_ok();
        let older = reset_token_mailed_to(&ctx, "jane@example.com");
        server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await
            .assert_status_ok();
        let newer = reset_token_mailed_to(&ctx, "jane@example.com");
        assert_ne!(older, newer);
        assert_eq!(
            reset(&server, &newer, "a brand new password")
                .await
                .status_code(),
            200
        );
        assert_eq!(
            reset(&server, &older, "another new password")
                .await
                .status_code(),
            401
        );
    })
    .await;
}

#[tokio::test]
async fn the_recovery_job_decides_what_the_request_does_not_tell() {
    use backend::workers::password_recovery::{PasswordRecoveryArgs, PasswordRecoveryWorker};
    use loco_rs::bgworker::BackgroundWorker;

    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let worker = PasswordRecoveryWorker::build(&ctx);
        for email in ["nobody@example.com", "jane@example.com"] {
            let args = PasswordRecoveryArgs {
                email: crate::support::email(email),
            };
            worker.perform(args).await.expect("the job runs");
        }
        let messages = ctx.mailer.as_ref().expect("stub").deliveries().messages;
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.contains("To: jane@example.com"))
                .count(),
            2,
            "welcome and reset"
        );
        assert!(
            messages
                .iter()
                .all(|m| !m.contains("To: nobody@example.com"))
        );
    })
    .await;
}
