//! The operator tasks on accounts: `user_create`, `user_archive`,
//! `user_unarchive` and `user_end_sessions`, checked through the API they
//! change.

use backend::models::{security_events, users};
use serde_json::Value;

use crate::{
    requests::prepare_data::{PASSWORD, access_token, login, register},
    support::{email, request},
};

use super::mail::run;

#[tokio::test]
async fn user_create_makes_a_confirmed_account_that_can_sign_in() {
    request(|server, ctx| async move {
        let args = [
            ("email", "Ops@Example.com"),
            ("password", "correct horse battery"),
            ("role", "moderator"),
        ];
        run(&ctx, "user_create", &args).await.expect("task");
        let user = users::Model::find_by_email(&ctx.db, &email("ops@example.com"))
            .await
            .expect("created");
        assert!(user.confirmed, "the operator vouches for the address");
        assert_eq!(user.role, users::Role::Moderator);
        let signed_in = login(&server, "ops@example.com", "correct horse battery").await;
        assert_eq!(signed_in["user"]["role"], "moderator");

        // Taken email, weak or short password, unknown role, no email: refused.
        for args in [
            vec![("email", "ops@example.com")],
            vec![("email", "weak@example.com"), ("password", "password")],
            vec![("email", "short@example.com"), ("password", "abc")],
            vec![("email", "role@example.com"), ("role", "root")],
            vec![("email", "not an email")],
            vec![],
        ] {
            assert!(run(&ctx, "user_create", &args).await.is_err(), "{args:?}");
        }
        for refused in ["weak", "short", "role"] {
            let address = email(&format!("{refused}@example.com"));
            assert!(
                users::Model::find_by_email(&ctx.db, &address)
                    .await
                    .is_err()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn user_create_without_a_password_generates_a_strong_one() {
    request(|_server, ctx| async move {
        run(
            &ctx,
            "user_create",
            &[("email", "gen@example.com"), ("role", "admin")],
        )
        .await
        .expect("task");
        let user = users::Model::find_by_email(&ctx.db, &email("gen@example.com"))
            .await
            .expect("created");
        assert_eq!(user.role, users::Role::Admin);
        let hash = user.hashed_password.expect("a password was set");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let generated = backend::models::passwords::generate();
        assert_eq!(generated.chars().count(), 20);
        assert!(generated.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(generated, backend::models::passwords::generate());
        assert!(backend::models::passwords::is_strong(&generated, &[]));
    })
    .await;
}

#[tokio::test]
async fn user_archive_signs_out_and_unarchive_lets_back_in() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        run(&ctx, "user_archive", &[("email", "jane@example.com")])
            .await
            .expect("archive");
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401, "{}", me.text());
        assert!(
            run(&ctx, "user_archive", &[("email", "jane@example.com")])
                .await
                .is_err(),
            "already archived"
        );

        run(&ctx, "user_unarchive", &[("email", "jane@example.com")])
            .await
            .expect("unarchive");
        let signed_in = login(&server, "jane@example.com", PASSWORD).await;
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&signed_in))
            .await;
        assert_eq!(me.status_code(), 200, "{}", me.text());
        assert!(
            run(&ctx, "user_unarchive", &[("email", "jane@example.com")])
                .await
                .is_err(),
            "not archived"
        );

        let user = users::Model::find_by_email(&ctx.db, &email("jane@example.com"))
            .await
            .expect("jane");
        let events = security_events::Model::list_for(&ctx.db, user.id, &Default::default())
            .await
            .expect("events");
        let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
        assert!(
            kinds.contains(&"archived") && kinds.contains(&"unarchived"),
            "{kinds:?}"
        );
        assert!(
            events
                .iter()
                .any(|event| event.detail.as_deref() == Some("by an operator"))
        );

        for task in ["user_archive", "user_unarchive", "user_end_sessions"] {
            for args in [
                vec![("email", "nobody@example.com")],
                vec![("email", "nope")],
                vec![],
            ] {
                assert!(run(&ctx, task, &args).await.is_err(), "{task} {args:?}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn user_end_sessions_voids_access_and_refresh_tokens() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let signed_in: Value = login(&server, "jane@example.com", PASSWORD).await;
        run(&ctx, "user_end_sessions", &[("email", "jane@example.com")])
            .await
            .expect("task");
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&signed_in))
            .await;
        assert_eq!(me.status_code(), 401, "{}", me.text());
        let refresh = server
            .post("/api/v1/auth/refresh")
            .json(&serde_json::json!({ "refresh_token": signed_in["refresh_token"] }))
            .await;
        assert_eq!(refresh.status_code(), 401, "{}", refresh.text());
        // The account itself is untouched: signing in again works.
        login(&server, "jane@example.com", PASSWORD).await;
    })
    .await;
}
