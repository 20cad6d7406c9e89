use backend::models::{one_time_passwords, users};
use serde_json::{Value, json};

use super::prepare_data::{
    admin_token, assert_redacted_snapshot, behind_a_proxy, code_mailed_to, each_spent_a_budget,
    last_mail_to, placeholder, register, request_code, retry_after, verify_code, verify_code_from,
    wrong_code, wrong_codes_from,
};
use crate::support::{app_state, boot_in, email, request, request_with};

#[tokio::test]
async fn a_code_by_mail_signs_in_an_existing_user() {
    request(|server, ctx| async move {
        register(&server, "jane@example.com").await;
        let response = server
            .post("/api/v1/auth/otp/request")
            .json(&json!({ "email": "Jane@example.com" }))
            .await;
        assert_eq!(response.status_code(), 200);
        assert_eq!(
            response.json::<Value>(),
            json!({ "msg": "If an account exists, a verification code has been sent" })
        );
        let code = code_mailed_to(&ctx, "jane@example.com");
        assert_eq!(code.len(), 6);

        let signed_in = verify_code(&server, "jane@example.com", &code).await;
        assert_eq!(signed_in.status_code(), 200);
        assert_redacted_snapshot!(signed_in.json::<Value>());

        let again = verify_code(&server, "jane@example.com", &code).await;
        assert_eq!(again.status_code(), 401, "a code is consumed by its use");
        assert_eq!(
            again.json::<Value>(),
            json!({ "detail": "Invalid or expired authentication code" })
        );
    })
    .await;
}

#[tokio::test]
async fn a_code_registers_an_unknown_email() {
    request(|server, ctx| async move {
        let code = request_code(&server, &ctx, "new@example.com").await;
        let response = verify_code(&server, "new@example.com", &code).await;
        assert_eq!(response.status_code(), 200);
        let user = &response.json::<Value>()["user"];
        assert_eq!(user["email"], "new@example.com");
        assert_eq!(user["confirmed"], true);
        assert_eq!(user["role"], "customer");
        let welcome = super::prepare_data::last_mail_to(&ctx, "new@example.com");
        assert!(welcome.contains("Subject: Welcome to Backend"));
    })
    .await;
}

#[tokio::test]
async fn a_code_is_accepted_as_the_password_of_login() {
    request(|server, ctx| async move {
        let code = request_code(&server, &ctx, "new@example.com").await;
        let response = server
            .post("/api/v1/auth/login")
            .form(&[("username", "new@example.com"), ("password", code.as_str())])
            .await;
        assert_eq!(response.status_code(), 200);
        assert_eq!(response.json::<Value>()["user"]["email"], "new@example.com");

        let wrong = server
            .post("/api/v1/auth/login")
            .form(&[("username", "new@example.com"), ("password", code.as_str())])
            .await;
        assert_eq!(wrong.status_code(), 401);
        assert_eq!(
            wrong.json::<Value>(),
            json!({ "detail": "Incorrect email, password, or OTP" })
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_request_replaces_the_previous_code() {
    request(|server, ctx| async move {
        let first = request_code(&server, &ctx, "jane@example.com").await;
        let mut second = request_code(&server, &ctx, "jane@example.com").await;
        while second == first {
            second = request_code(&server, &ctx, "jane@example.com").await;
        }
        assert_eq!(
            verify_code(&server, "jane@example.com", &first)
                .await
                .status_code(),
            401
        );
        assert_eq!(
            verify_code(&server, "jane@example.com", &second)
                .await
                .status_code(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn codes_are_validated() {
    request(|server, _ctx| async move {
        for (body, field) in [
            (
                json!({ "email": "jane@example.com", "code": "12345" }),
                "code",
            ),
            (
                json!({ "email": "jane@example.com", "code": "12a456" }),
                "code",
            ),
            (json!({ "email": "nope", "code": "123456" }), "email"),
            (json!({ "email": "jane@example.com" }), "code"),
        ] {
            let response = server.post("/api/v1/auth/otp/verify").json(&body).await;
            assert_eq!(response.status_code(), 422, "{body}");
            assert_eq!(
                response.json::<Value>()["detail"][0]["loc"],
                json!(["body", field])
            );
        }
        let bad_request = server
            .post("/api/v1/auth/otp/request")
            .json(&json!({ "email": "nope" }))
            .await;
        assert_eq!(bad_request.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn without_mail_development_answers_with_the_code() {
    let without_mail = |settings: &mut Value| settings["enable_email_service"] = json!(false);
    request_with(without_mail, |server, _ctx| async move {
        let response = server
            .post("/api/v1/auth/otp/request")
            .json(&json!({ "email": "jane@example.com" }))
            .await;
        let message = response.json::<Value>()["msg"]
            .as_str()
            .expect("msg")
            .to_string();
        assert!(message.starts_with("Development mode: Your verification code is "));
        let code = message
            .rsplit(' ')
            .next()
            .expect("the code is the last word");
        assert_eq!(
            verify_code(&server, "jane@example.com", code)
                .await
                .status_code(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn the_persistent_code_signs_in_existing_users_and_registers_nobody() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        let existing = verify_code(&server, "jane@example.com", "123456").await;
        assert_eq!(existing.status_code(), 200);
        let login = server
            .post("/api/v1/auth/login")
            .form(&[("username", "jane@example.com"), ("password", "123456")])
            .await;
        assert_eq!(login.status_code(), 200);

        let unknown = verify_code(&server, "nobody@example.com", "123456").await;
        assert_eq!(unknown.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn the_persistent_code_does_nothing_in_production() {
    request(|_server, ctx| async move {
        let production = app_state(&ctx)
            .settings
            .code_policy(&loco_rs::environment::Environment::Production)
            .expect("policy");
        assert!(production.persistent_code.is_none());
        let jane = email("jane@example.com");
        users::Model::find_or_register_by_code(&ctx.db, &jane)
            .await
            .expect("user");
        let outcome = users::Model::sign_in_by_code(
            &ctx.db,
            &production,
            (&jane, std::net::Ipv4Addr::LOCALHOST.into()),
            "123456",
        )
        .await
        .expect("query");
        assert_eq!(outcome, users::CodeSignIn::Refused);
    })
    .await;
}

#[tokio::test]
async fn the_apple_review_code_signs_in_any_apple_email_until_deleted() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let generated = server
            .post("/api/v1/auth/generate-apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(generated.status_code(), 200);
        let otp: Value = generated.json();
        assert_redacted_snapshot!(otp.clone());
        let code = otp["verification_code"].as_str().expect("code").to_string();
        assert_eq!(code.len(), 6);

        for email in ["review@apple.com", "tester@apple.com", "review@apple.com"] {
            let response = verify_code(&server, email, &code).await;
            assert_eq!(response.status_code(), 200, "{email}: not consumed by use");
            assert_eq!(response.json::<Value>()["user"]["email"], "review@apple.com");
        }
        let login = server
            .post("/api/v1/auth/login")
            .form(&[("username", "someone@apple.com"), ("password", code.as_str())])
            .await;
        assert_eq!(login.status_code(), 200);
        let elsewhere = verify_code(&server, "someone@example.com", &code).await;
        assert_eq!(elsewhere.status_code(), 401);

        let refused = server
            .post("/api/v1/auth/otp/request")
            .json(&json!({ "email": "review@apple.com" }))
            .await;
        assert_eq!(
            refused.json::<Value>(),
            json!({ "msg": "Gracefully handled: Apple review team cannot request a verification code" })
        );

        let deleted = server
            .delete("/api/v1/auth/delete-apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(deleted.status_code(), 200);
        assert_eq!(deleted.json::<Value>()["id"], otp["id"]);
        assert_eq!(verify_code(&server, "review@apple.com", &code).await.status_code(), 401);
        let none = server
            .delete("/api/v1/auth/delete-apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(none.status_code(), 404);
        assert_eq!(none.json::<Value>(), json!({ "detail": "No Apple review team OTP found" }));
    })
    .await;
}

#[tokio::test]
async fn apple_review_endpoints_are_for_admins() {
    request(|server, _ctx| async move {
        let (customer, _) = register(&server, "jane@example.com").await;
        for request in [
            server.post("/api/v1/auth/generate-apple-review-team-otp"),
            server.get("/api/v1/auth/apple-review-team-otp"),
            server.delete("/api/v1/auth/delete-apple-review-team-otp"),
        ] {
            assert_eq!(
                request.authorization_bearer(&customer).await.status_code(),
                403
            );
        }
    })
    .await;
}

// One test per hole the Python template had (API.md, FIX notes).

#[tokio::test]
async fn fix_a_wrong_code_never_registers_an_account() {
    request(|server, ctx| async move {
        let response = verify_code(&server, "stranger@example.com", "987654").await;
        assert_eq!(response.status_code(), 401);
        request_code(&server, &ctx, "stranger@example.com").await;
        let wrong = verify_code(&server, "stranger@example.com", "987654").await;
        assert_eq!(wrong.status_code(), 401);
        assert!(
            users::Model::find_by_email(&ctx.db, &email("stranger@example.com"))
                .await
                .is_err(),
            "no account was made"
        );
    })
    .await;
}

#[tokio::test]
async fn fix_a_code_works_only_for_its_own_email() {
    request(|server, ctx| async move {
        register(&server, "victim@example.com").await;
        let attacker_code = request_code(&server, &ctx, "attacker@example.com").await;
        let response = verify_code(&server, "victim@example.com", &attacker_code).await;
        assert_eq!(response.status_code(), 401);
        assert_eq!(
            verify_code(&server, "attacker@example.com", &attacker_code)
                .await
                .status_code(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn fix_the_sixth_try_fails_even_with_the_right_code() {
    request(|server, ctx| async move {
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let wrong = if code == "111111" { "222222" } else { "111111" };
        for _ in 0..one_time_passwords::MAX_ATTEMPTS {
            assert_eq!(
                verify_code(&server, "jane@example.com", wrong)
                    .await
                    .status_code(),
                401
            );
        }
        let right = verify_code(&server, "jane@example.com", &code).await;
        assert_eq!(right.status_code(), 401, "five wrong tries void the code");

        let fresh = request_code(&server, &ctx, "jane@example.com").await;
        assert_eq!(
            verify_code(&server, "jane@example.com", &fresh)
                .await
                .status_code(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn fix_codes_are_stored_hashed() {
    request(|server, ctx| async move {
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let policy = &app_state(&ctx).code_policy;
        let stored = one_time_passwords::Model::find_for(
            &ctx.db,
            &email("jane@example.com"),
            one_time_passwords::Purpose::Login,
        )
        .await
        .expect("query")
        .expect("a code");
        assert!(!stored.code_hash.contains(&code));
        assert_eq!(
            Some(stored.code_hash),
            policy.hash(&email("jane@example.com"), &code)
        );
    })
    .await;
}

#[tokio::test]
async fn fix_an_expired_code_is_refused() {
    request(|server, ctx| async move {
        use sea_orm::{ActiveModelTrait, ActiveValue, IntoActiveModel};
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let stored = one_time_passwords::Model::find_for(
            &ctx.db,
            &email("jane@example.com"),
            one_time_passwords::Purpose::Login,
        )
        .await
        .expect("query")
        .expect("a code");
        let mut expired = stored.into_active_model();
        expired.expires_at =
            ActiveValue::Set((chrono::Utc::now() - chrono::Duration::seconds(1)).into());
        expired.update(&ctx.db).await.expect("updated");
        assert_eq!(
            verify_code(&server, "jane@example.com", &code)
                .await
                .status_code(),
            401
        );
    })
    .await;
}

#[tokio::test]
async fn fix_a_code_sign_in_takes_back_an_account_someone_else_registered() {
    request(|server, ctx| async move {
        // Someone registers the victim's address with a password they know.
        register(&server, "victim@example.com").await;
        let squatter = super::prepare_data::login(
            &server,
            "victim@example.com",
            super::prepare_data::PASSWORD,
        )
        .await;

        // The owner of the address signs in with a code sent to it.
        let code = request_code(&server, &ctx, "victim@example.com").await;
        let owner = verify_code(&server, "victim@example.com", &code).await;
        assert_eq!(owner.status_code(), 200);
        assert_eq!(owner.json::<Value>()["user"]["confirmed"], true);

        let password = server
            .post("/api/v1/auth/login")
            .form(&[
                ("username", "victim@example.com"),
                ("password", super::prepare_data::PASSWORD),
            ])
            .await;
        assert_eq!(
            password.status_code(),
            401,
            "the squatter's password is gone"
        );
        let refresh = server
            .post("/api/v1/auth/refresh")
            .json(&squatter["refresh_token"])
            .await;
        assert_eq!(
            refresh.status_code(),
            401,
            "and so are the squatter's sessions"
        );
        let access = server
            .get("/api/v1/users/me")
            .authorization_bearer(super::prepare_data::access_token(&squatter))
            .await;
        assert_eq!(access.status_code(), 401, "access tokens included");
    })
    .await;
}

#[tokio::test]
async fn an_apple_email_with_its_own_code_leaves_the_review_code_alone() {
    request(|server, ctx| async move {
        let admin = admin_token(&server).await;
        let generated = server
            .post("/api/v1/auth/generate-apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        let review_code = generated.json::<Value>()["verification_code"]
            .as_str()
            .expect("code")
            .to_string();
        request_code(&server, &ctx, "engineer@apple.com").await;
        for _ in 0..one_time_passwords::MAX_ATTEMPTS {
            let wrong = if review_code == "111111" {
                "222222"
            } else {
                "111111"
            };
            verify_code(&server, "engineer@apple.com", wrong).await;
        }
        assert_eq!(
            verify_code(&server, "tester@apple.com", &review_code)
                .await
                .status_code(),
            200
        );
    })
    .await;
}

/// An environment named anything but `development` or `test` (a `staging`, a
/// `prod`) is production: the test configuration's persistent code `123456`
/// signs nobody in, and with mail off no code is handed out in the answer.
#[tokio::test]
async fn fix_a_staging_environment_has_no_development_conveniences() {
    let staging = loco_rs::environment::Environment::Any("staging".to_string());
    // Kept whole: its database lives as long as it does.
    let booted = boot_in(&staging, |config| {
        let settings = config.settings.as_mut().expect("a settings block");
        settings["secret_key"] = json!("a-staging-secret-of-its-own-0123456789abcdef");
        settings["enable_email_service"] = json!(false);
    })
    .await;
    let server = &booted.server;
    let login = server
        .post("/api/v1/auth/login")
        .form(&[("username", "admin@example.com"), ("password", "123456")])
        .await;
    assert_eq!(login.status_code(), 401);
    assert_eq!(
        verify_code(server, "admin@example.com", "123456")
            .await
            .status_code(),
        401
    );
    let requested = server
        .post("/api/v1/auth/otp/request")
        .json(&json!({ "email": "jane@example.com" }))
        .await;
    assert_eq!(requested.status_code(), 200);
    assert_eq!(
        requested.json::<Value>(),
        json!({ "msg": backend::controllers::otp::CODE_SENT }),
        "no code in the answer"
    );
}

/// Wrong codes are budgeted per email and per source, across codes: a
/// source is refused after eight, before it can lock anyone out; an email
/// after sixteen from any sources, for fifteen minutes that `Retry-After` says,
/// even with the right code and through the password form; its owner is
/// told once; other emails go on; and the lock ends.
#[tokio::test]
async fn fix_wrong_codes_lock_a_source_then_an_email_for_a_while() {
    use backend::models::code_budgets;
    use sea_orm::{EntityTrait, sea_query::Expr};

    request_with(behind_a_proxy, |server, ctx| async move {
        register(&server, "jane@example.com").await;
        let one = wrong_codes_from(&server, &ctx, "jane@example.com", &["203.0.113.1"]).await;
        assert!(each_spent_a_budget(&one), "{one:?}");
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let again = verify_code_from(&server, "203.0.113.1", "jane@example.com", &code).await;
        assert!(retry_after(&again) > 800, "the source waits");
        let jane = verify_code_from(&server, "198.51.100.7", "jane@example.com", &code).await;
        assert_eq!(jane.status_code(), 200, "jane does not");

        let sources = ["203.0.113.2", "203.0.113.3"];
        let two = wrong_codes_from(&server, &ctx, "jane@example.com", &sources).await;
        assert!(each_spent_a_budget(&two), "{two:?}");
        let notice = last_mail_to(&ctx, "jane@example.com");
        assert!(notice.contains("Too many wrong sign-in codes"), "{notice}");
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let locked = verify_code_from(&server, "198.51.100.7", "jane@example.com", &code).await;
        let wait = retry_after(&locked);
        assert!((890..=901).contains(&wait), "fifteen minutes: {wait}");
        let form = server
            .post("/api/v1/auth/login")
            .add_header("x-forwarded-for", "198.51.100.7")
            .form(&[
                ("username", "jane@example.com"),
                ("password", code.as_str()),
            ])
            .await;
        assert_eq!(form.status_code(), 429, "through the password form too");

        let other = request_code(&server, &ctx, "john@example.com").await;
        let john = verify_code_from(&server, "198.51.100.7", "john@example.com", &other).await;
        assert_eq!(john.status_code(), 200, "other emails keep their budget");

        code_budgets::Entity::update_many()
            .col_expr(
                code_budgets::Column::LockedUntil,
                Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
            )
            .exec(&ctx.db)
            .await
            .expect("the locks end");
        let code = request_code(&server, &ctx, "jane@example.com").await;
        let signed_in = verify_code_from(&server, "198.51.100.7", "jane@example.com", &code).await;
        assert_eq!(signed_in.status_code(), 200);
    })
    .await;
}

/// Anyone may try the Apple review code, with any `@apple.com` email: wrong
/// tries are counted per source, which is refused for a while after eight,
/// long before the code's 500 wrong tries in all are spent; the admins see
/// where it stands. Once they are spent, the code is void for everyone.
#[tokio::test]
async fn fix_one_source_cannot_void_the_apple_review_code() {
    use backend::models::{
        code_budgets::SOURCE_FAILURES, one_time_passwords::APPLE_REVIEW_MAX_WRONG,
    };
    use sea_orm::{EntityTrait, sea_query::Expr};

    request_with(behind_a_proxy, |server, ctx| async move {
        let admin = admin_token(&server).await;
        let none = server
            .get("/api/v1/auth/apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(
            none.json::<Value>(),
            json!({ "detail": "No Apple review team OTP found" })
        );
        let generated = server
            .post("/api/v1/auth/generate-apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        let code = generated.json::<Value>()["verification_code"]
            .as_str()
            .expect("code")
            .to_string();
        let mut statuses = Vec::new();
        for n in 0..SOURCE_FAILURES + 2 {
            let email = format!("guesser{n}@apple.com");
            let guess = verify_code_from(&server, "203.0.113.1", &email, wrong_code(&code)).await;
            statuses.push(guess.status_code().as_u16());
        }
        let (refused, wrong) =
            statuses.split_at(usize::try_from(SOURCE_FAILURES).expect("a count") - 1);
        assert!(refused.iter().all(|status| *status == 401), "{statuses:?}");
        assert_eq!(wrong, [429, 429, 429]);
        let state = server
            .get("/api/v1/auth/apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(state.status_code(), 200);
        assert_redacted_snapshot!(state.json::<Value>());
        let reviewer = verify_code_from(&server, "198.51.100.1", "tester@apple.com", &code).await;
        assert_eq!(reviewer.status_code(), 200, "the reviewers still sign in");

        one_time_passwords::Entity::update_many()
            .col_expr(
                one_time_passwords::Column::Attempts,
                Expr::value(APPLE_REVIEW_MAX_WRONG - 1),
            )
            .exec(&ctx.db)
            .await
            .expect("all but one wrong try spent");
        let last =
            verify_code_from(&server, "198.51.100.2", "x@apple.com", wrong_code(&code)).await;
        assert_eq!(last.status_code(), 401);
        let void = verify_code_from(&server, "198.51.100.3", "tester@apple.com", &code).await;
        assert_eq!(void.status_code(), 401, "void for everyone");
        let state: Value = server
            .get("/api/v1/auth/apple-review-team-otp")
            .authorization_bearer(&admin)
            .await
            .json();
        assert_eq!(
            (state["wrong_tries"].clone(), state["usable"].clone()),
            (json!(500), json!(false))
        );
    })
    .await;
}
