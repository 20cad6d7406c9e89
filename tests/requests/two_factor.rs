//! Two-factor sign-in: setting it up, every sign-in path's challenge, codes
//! that work once, recovery codes, and turning it off.

use axum_test::{TestResponse, TestServer};
use backend::models::{email::Email, recovery_codes, single_use_tokens, tokens::TokenKind, users};
use base64::Engine;
use loco_rs::app::AppContext;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};

use super::prepare_data::{
    PASSWORD, access_token, assert_detail, assert_redacted_snapshot, behind_a_proxy,
    each_spent_a_budget, id_of, last_mail_to, login, placeholder, register, request_code,
    reset_token_mailed_to, retry_after, session_signed_in, verify_code, verify_code_from,
    wrong_codes_from,
};
use crate::{
    models::soft_passkey::SoftPasskey,
    support::{app_state, request, request_with},
};

const JANE: &str = "jane@example.com";

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> TestResponse {
    server
        .post(&format!("/api/v1/auth/2fa/{path}"))
        .authorization_bearer(token)
        .json(&body)
        .await
}

/// The code Jane's authenticator app shows now, as a device that has not
/// shown it yet: the step last accepted is forgotten first, so that tests
/// can sign in more than once within one 30-second step.
async fn next_code(ctx: &AppContext, secret: &str) -> String {
    let user = user(ctx).await;
    let mut user = user.into_active_model();
    user.two_factor_last_step = ActiveValue::Set(None);
    user.update(&ctx.db).await.expect("update");
    app_state(ctx)
        .two_factor
        .code_at(secret, chrono::Utc::now())
        .expect("a code")
}

async fn user(ctx: &AppContext) -> users::Model {
    let email = Email::parse(JANE).expect("email");
    users::Model::find_by_email(&ctx.db, &email)
        .await
        .expect("Jane")
}

/// Registers Jane, who has proven her address, and turns two-factor sign-in
/// on; returns her access token, TOTP secret and recovery codes.
async fn jane_with_two_factor(
    server: &TestServer,
    ctx: &AppContext,
) -> (String, String, Vec<String>) {
    let jane = unconfirmed_with_two_factor(server, ctx).await;
    user(ctx)
        .await
        .into_active_model()
        .confirm(&ctx.db)
        .await
        .expect("confirmed");
    jane
}

/// `jane_with_two_factor`, by whoever registered Jane's address: it stays
/// unconfirmed until its owner proves it.
async fn unconfirmed_with_two_factor(
    server: &TestServer,
    ctx: &AppContext,
) -> (String, String, Vec<String>) {
    let (token, _) = register(server, JANE).await;
    let setup = post(server, "setup", &token, json!(null)).await;
    assert_eq!(setup.status_code(), 200, "{}", setup.text());
    let secret = setup.json::<Value>()["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let code = next_code(ctx, &secret).await;
    let enabled = post(server, "enable", &token, json!({ "code": code })).await;
    assert_eq!(enabled.status_code(), 200, "{}", enabled.text());
    let codes = enabled.json::<Value>()["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|code| code.as_str().expect("a code").to_string())
        .collect();
    (token, secret, codes)
}

/// The challenge token of a sign-in's answer, which must be one.
fn challenge(response: &TestResponse) -> String {
    assert_eq!(response.status_code(), 200, "{}", response.text());
    let body: Value = response.json();
    assert_eq!(body["two_factor_required"], true, "{body}");
    assert!(
        body.get("access_token").is_none(),
        "no tokens before the code"
    );
    body["challenge_token"]
        .as_str()
        .expect("a challenge")
        .to_string()
}

async fn password_sign_in(server: &TestServer) -> TestResponse {
    server
        .post("/api/v1/auth/login")
        .form(&[("username", JANE), ("password", PASSWORD)])
        .await
}

async fn verify(server: &TestServer, challenge: &str, code: &str) -> TestResponse {
    server
        .post("/api/v1/auth/2fa/verify")
        .json(&json!({ "challenge_token": challenge, "code": code }))
        .await
}

async fn me(server: &TestServer, token: &str) -> Value {
    let response = server
        .get("/api/v1/users/me")
        .authorization_bearer(token)
        .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json()
}

#[tokio::test]
async fn setting_up_enabling_and_signing_in_with_a_code() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, JANE).await;
        let setup = post(&server, "setup", &token, json!(null)).await;
        assert_eq!(setup.status_code(), 200);
        let setup: Value = setup.json();
        insta::assert_json_snapshot!(setup, {
            ".secret" => "[secret]",
            ".otpauth_url" => "[otpauth url]",
        });
        let secret = setup["secret"].as_str().expect("secret").to_string();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let url = setup["otpauth_url"].as_str().expect("url");
        assert!(
            url.starts_with("otpauth://totp/Backend:jane%40example.com?"),
            "{url}"
        );
        assert!(url.contains(&format!("secret={secret}")), "{url}");
        assert_eq!(me(&server, &token).await["two_factor_enabled"], false);
        // Not in force until enabled.
        assert!(password_sign_in(&server).await.json::<Value>()["access_token"].is_string());

        let wrong = post(&server, "enable", &token, json!({ "code": "000000" })).await;
        assert_detail(&wrong, 401, "Invalid or expired authentication code");
        let code = next_code(&ctx, &secret).await;
        let enabled = post(&server, "enable", &token, json!({ "code": code })).await;
        assert_eq!(enabled.status_code(), 200, "{}", enabled.text());
        let codes = enabled.json::<Value>()["recovery_codes"].clone();
        insta::assert_json_snapshot!(enabled.json::<Value>(), {
            ".recovery_codes[]" => "[recovery code]",
        });
        assert_eq!(codes.as_array().expect("codes").len(), 10);
        assert_eq!(me(&server, &token).await["two_factor_enabled"], true);
        let again = post(&server, "setup", &token, json!(null)).await;
        assert_detail(&again, 409, "Two-factor sign-in is already on");
        let twice = post(&server, "enable", &token, json!({ "code": code })).await;
        assert_detail(&twice, 409, "Two-factor sign-in is already on");

        let signed_in = password_sign_in(&server).await;
        insta::assert_json_snapshot!(signed_in.json::<Value>(), {
            ".challenge_token" => placeholder("[token]"),
        });
        let challenge = challenge(&signed_in);
        let verified = verify(&server, &challenge, &next_code(&ctx, &secret).await).await;
        assert_eq!(verified.status_code(), 200, "{}", verified.text());
        let auth: Value = verified.json();
        assert_redacted_snapshot!(auth.clone());
        assert_eq!(me(&server, &access_token(&auth)).await["email"], JANE);
        let reused = verify(&server, &challenge, &next_code(&ctx, &secret).await).await;
        assert_detail(&reused, 401, "Invalid token");
    })
    .await;
}

#[tokio::test]
async fn the_secret_is_stored_sealed_and_never_shown_again() {
    request(|server, ctx| async move {
        let (token, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let stored = user(&ctx).await.two_factor_secret.expect("stored");
        assert!(!stored.contains(&secret));
        // Stored neither as the secret nor as its bytes, in plain or in base64.
        let raw = totp_rs::Secret::Encoded(secret.clone())
            .to_bytes()
            .expect("bytes");
        let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&stored)
            .expect("base64");
        assert!(!decoded.windows(raw.len()).any(|window| window == raw));
        let shown = me(&server, &token).await.to_string();
        assert!(!shown.contains(&secret) && !shown.contains(&stored));
    })
    .await;
}

#[tokio::test]
async fn every_sign_in_path_asks_for_the_second_factor() {
    request(|server, ctx| async move {
        let (_, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let answer = |challenge: String| {
            let (server, ctx, secret) = (&server, &ctx, &secret);
            async move {
                let verified = verify(server, &challenge, &next_code(ctx, secret).await).await;
                assert_eq!(verified.status_code(), 200, "{}", verified.text());
            }
        };
        answer(challenge(&password_sign_in(&server).await)).await;

        let state = app_state(&ctx);
        let jane = user(&ctx).await;
        let confirmation =
            single_use_tokens::Model::issue_sso_confirmation(&ctx.db, &state.signer, jane.id)
                .await
                .expect("confirmation");
        let provider = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(confirmation.token))
            .await;
        answer(challenge(&provider)).await;

        let code = request_code(&server, &ctx, JANE).await;
        let by_code = server
            .post("/api/v1/auth/otp/verify")
            .json(&json!({ "email": JANE, "code": code }))
            .await;
        answer(challenge(&by_code)).await;

        let code = request_code(&server, &ctx, JANE).await;
        let form = server
            .post("/api/v1/auth/login")
            .form(&[("username", JANE), ("password", code.as_str())])
            .await;
        answer(challenge(&form)).await;
    })
    .await;
}

#[tokio::test]
async fn a_refresh_is_not_a_sign_in_and_the_apple_review_account_is_excepted() {
    request(|server, ctx| async move {
        let (_, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let challenge = challenge(&password_sign_in(&server).await);
        let auth: Value = verify(&server, &challenge, &next_code(&ctx, &secret).await)
            .await
            .json();
        let renewed = server
            .post("/api/v1/auth/refresh")
            .json(&auth["refresh_token"])
            .await;
        assert_eq!(renewed.status_code(), 200);
        assert!(renewed.json::<Value>()["access_token"].is_string());

        // The review account signs in with its code alone: reviewers have no device.
        let admin = super::prepare_data::admin_token(&server).await;
        let issued = server
            .post("/api/v1/auth/generate-apple-review-team-otp")
            .authorization_bearer(&admin)
            .await;
        assert_eq!(issued.status_code(), 200, "{}", issued.text());
        let review_code = issued.json::<Value>()["verification_code"]
            .as_str()
            .expect("code")
            .to_string();
        let review_email = issued.json::<Value>()["email"]
            .as_str()
            .expect("email")
            .to_string();
        let reviewer =
            users::Model::find_by_email(&ctx.db, &Email::parse(&review_email).expect("email"))
                .await
                .expect("reviewer");
        let mut on = reviewer.into_active_model();
        on.two_factor_enabled = ActiveValue::Set(true);
        on.update(&ctx.db).await.expect("update");
        let review = server
            .post("/api/v1/auth/otp/verify")
            .json(&json!({ "email": review_email, "code": review_code }))
            .await;
        assert_eq!(review.status_code(), 200, "{}", review.text());
        assert!(review.json::<Value>()["access_token"].is_string());
    })
    .await;
}

#[tokio::test]
async fn fix_a_totp_code_is_accepted_once() {
    request(|server, ctx| async move {
        let (_, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let code = next_code(&ctx, &secret).await;
        let first = challenge(&password_sign_in(&server).await);
        assert_eq!(verify(&server, &first, &code).await.status_code(), 200);
        let second = challenge(&password_sign_in(&server).await);
        let replayed = verify(&server, &second, &code).await;
        assert_detail(&replayed, 401, "Invalid or expired authentication code");
        // Two answers with one code at once: one signs in.
        let (a, b) = (
            challenge(&password_sign_in(&server).await),
            challenge(&password_sign_in(&server).await),
        );
        let code = next_code(&ctx, &secret).await;
        let (a, b) = tokio::join!(verify(&server, &a, &code), verify(&server, &b, &code));
        let mut statuses = [a.status_code().as_u16(), b.status_code().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401]);
    })
    .await;
}

#[tokio::test]
async fn fix_a_recovery_code_works_once_and_regenerating_voids_the_old_ones() {
    request(|server, ctx| async move {
        let (token, secret, codes) = jane_with_two_factor(&server, &ctx).await;
        let first = challenge(&password_sign_in(&server).await);
        // Typed in capitals, without its dash: still the code.
        let typed = codes[0].replace('-', "").to_uppercase();
        assert_eq!(verify(&server, &first, &typed).await.status_code(), 200);
        let second = challenge(&password_sign_in(&server).await);
        let again = verify(&server, &second, &codes[0]).await;
        assert_detail(&again, 401, "Invalid or expired authentication code");

        let wrong = post(
            &server,
            "recovery-codes",
            &token,
            json!({ "code": "000000" }),
        )
        .await;
        assert_detail(&wrong, 401, "Invalid or expired authentication code");
        let code = next_code(&ctx, &secret).await;
        let fresh = post(&server, "recovery-codes", &token, json!({ "code": code })).await;
        assert_eq!(fresh.status_code(), 200, "{}", fresh.text());
        let fresh: Vec<String> =
            serde_json::from_value(fresh.json::<Value>()["recovery_codes"].clone()).expect("codes");
        assert_eq!(fresh.len(), 10);
        assert!(fresh.iter().all(|code| !codes.contains(code)));
        let third = challenge(&password_sign_in(&server).await);
        let old = verify(&server, &third, &codes[1]).await;
        assert_detail(&old, 401, "Invalid or expired authentication code");
        assert_eq!(verify(&server, &third, &fresh[1]).await.status_code(), 200);
    })
    .await;
}

#[tokio::test]
async fn fix_a_challenge_takes_five_answers_and_is_its_own_kind_of_token() {
    request(|server, ctx| async move {
        let (token, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let challenge = challenge(&password_sign_in(&server).await);
        for _ in 0..5 {
            let wrong = verify(&server, &challenge, "000000").await;
            assert_detail(&wrong, 401, "Invalid or expired authentication code");
        }
        let spent = verify(&server, &challenge, &next_code(&ctx, &secret).await).await;
        assert_detail(&spent, 401, "Invalid token");

        let state = app_state(&ctx);
        let jane = user(&ctx).await;
        let kind = TokenKind::TwoFactorChallenge;
        let expired = single_use_tokens::Model::issue(&ctx.db, &state.signer, jane.id, kind, -1)
            .await
            .expect("token");
        let sso = single_use_tokens::Model::issue_sso_confirmation(&ctx.db, &state.signer, jane.id)
            .await
            .expect("token");
        for other in [
            expired.token.as_str(),
            sso.token.as_str(),
            token.as_str(),
            "garbage",
        ] {
            let refused = verify(&server, other, &next_code(&ctx, &secret).await).await;
            assert_detail(&refused, 401, "Invalid token");
        }
        let long = verify(&server, "x", &"1".repeat(33)).await;
        assert_eq!(long.status_code(), 422);
        let events = server
            .get("/api/v1/users/me/security-events")
            .authorization_bearer(&token)
            .await
            .json::<Value>();
        assert_eq!(events[0]["kind"], "sign_in_failed");
        let detail = events[0]["detail"].as_str().expect("a detail");
        assert!(detail.starts_with("wrong two-factor code"), "{detail}");
    })
    .await;
}

#[tokio::test]
async fn fix_answers_sent_at_once_get_five_tries_between_them() {
    request(|server, ctx| async move {
        let (_, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let challenge = challenge(&password_sign_in(&server).await);
        let answers = (0..10).map(|_| verify(&server, &challenge, "000000"));
        let answers = futures::future::join_all(answers).await;
        let wrong_code = answers
            .iter()
            .filter(|answer| {
                answer.json::<Value>()["detail"] == "Invalid or expired authentication code"
            })
            .count();
        assert_eq!(wrong_code, 5, "the other five find the challenge spent");
        let spent = verify(&server, &challenge, &next_code(&ctx, &secret).await).await;
        assert_detail(&spent, 401, "Invalid token");
    })
    .await;
}

#[tokio::test]
async fn fix_enabling_with_a_code_of_a_secret_replaced_since_is_refused() {
    request(|server, ctx| async move {
        let (token, _) = register(&server, JANE).await;
        let first = post(&server, "setup", &token, json!(null)).await;
        let first = first.json::<Value>()["secret"]
            .as_str()
            .expect("secret")
            .to_string();
        // The enable read Jane with the first secret; a second setup lands
        // before it writes.
        let stale = user(&ctx).await;
        let code = next_code(&ctx, &first).await;
        assert_eq!(
            post(&server, "setup", &token, json!(null))
                .await
                .status_code(),
            200
        );
        let keys = &app_state(&ctx).two_factor;
        let enabled = stale
            .enable_two_factor(
                &ctx.db,
                keys,
                (&code, std::net::Ipv4Addr::LOCALHOST.into()),
                chrono::Utc::now(),
            )
            .await;
        assert!(
            matches!(
                enabled,
                Err(backend::models::two_factor::TwoFactorError::WrongCode)
            ),
            "not turned on with a secret the app does not have"
        );
        assert!(!user(&ctx).await.two_factor_enabled);
    })
    .await;
}

/// Anyone may send wrong emailed codes for Jane's address, until her
/// emailed codes are locked: her second factor is not.
#[tokio::test]
async fn fix_wrong_emailed_codes_never_lock_the_second_factor() {
    request_with(behind_a_proxy, |server, ctx| async move {
        let (_, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let sources = ["203.0.113.1", "203.0.113.2"];
        let statuses = wrong_codes_from(&server, &ctx, JANE, &sources).await;
        assert!(each_spent_a_budget(&statuses), "{statuses:?}");
        let code = request_code(&server, &ctx, JANE).await;
        let by_mail = verify_code_from(&server, "198.51.100.1", JANE, &code).await;
        assert_eq!(by_mail.status_code(), 429, "her emailed codes are locked");
        let challenge = challenge(&password_sign_in(&server).await);
        let right = verify(&server, &challenge, &next_code(&ctx, &secret).await).await;
        assert_eq!(right.status_code(), 200, "{}", right.text());
    })
    .await;
}

/// Wrong second factors have budgets of their own: a source is refused
/// after eight, the account after sixteen from any sources, for fifteen
/// minutes that `Retry-After` says, even with the right code; Jane is told.
#[tokio::test]
async fn fix_wrong_second_factors_lock_them_for_a_while() {
    use backend::models::code_budgets::SOURCE_FAILURES;

    request_with(behind_a_proxy, |server, ctx| async move {
        let (_, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let answer_from = |source: &'static str, challenge: String, code: String| {
            server
                .post("/api/v1/auth/2fa/verify")
                .add_header("x-forwarded-for", source)
                .json(&json!({ "challenge_token": challenge, "code": code }))
        };
        let mut statuses = Vec::new();
        for source in ["203.0.113.1", "203.0.113.2"] {
            let mut of_source = Vec::new();
            let mut open = String::new();
            for tried in 0..SOURCE_FAILURES {
                // A challenge takes five answers.
                if tried % 5 == 0 {
                    open = challenge(&password_sign_in(&server).await);
                }
                let wrong = answer_from(source, open.clone(), "000000".into()).await;
                of_source.push(wrong.status_code().as_u16());
            }
            statuses.push(of_source);
        }
        assert!(each_spent_a_budget(&statuses), "{statuses:?}");
        let notice = last_mail_to(&ctx, JANE);
        assert!(notice.contains("Too many wrong sign-in codes"), "{notice}");
        let open = challenge(&password_sign_in(&server).await);
        let right = answer_from("198.51.100.1", open, next_code(&ctx, &secret).await).await;
        let wait = retry_after(&right);
        assert!((890..=901).contains(&wait), "fifteen minutes: {wait}");
    })
    .await;
}

#[tokio::test]
async fn enabling_needs_a_recent_sign_in() {
    request(|server, ctx| async move {
        let (_, jane) = register(&server, JANE).await;
        let id = id_of(&jane).parse().expect("uuid");
        let old = session_signed_in(&ctx, id, 11).await;
        let setup = post(&server, "setup", &old.access.token, json!(null)).await;
        let secret = setup.json::<Value>()["secret"]
            .as_str()
            .expect("secret")
            .to_string();
        let code = next_code(&ctx, &secret).await;
        let enabled = post(
            &server,
            "enable",
            &old.access.token,
            json!({ "code": code }),
        )
        .await;
        assert_detail(&enabled, 401, "This needs a recent sign-in: sign in again");
        assert!(!user(&ctx).await.two_factor_enabled);
    })
    .await;
}

#[tokio::test]
async fn turning_it_off_takes_a_code_and_mails_the_user() {
    request(|server, ctx| async move {
        let (token, _secret, codes) = jane_with_two_factor(&server, &ctx).await;
        let wrong = post(&server, "disable", &token, json!({ "code": "abcde-fghjk" })).await;
        assert_detail(&wrong, 401, "Invalid or expired authentication code");
        let off = post(&server, "disable", &token, json!({ "code": codes[3] })).await;
        assert_eq!(off.status_code(), 200, "{}", off.text());
        assert_eq!(off.json::<Value>()["two_factor_enabled"], false);
        let jane = user(&ctx).await;
        assert_eq!(jane.two_factor_secret, None);
        assert!(last_mail_to(&ctx, JANE).contains("Two-factor sign-in was turned off"));
        let auth = login(&server, JANE, PASSWORD).await;
        assert!(auth["access_token"].is_string(), "a password alone again");
        let again = post(&server, "disable", &token, json!({ "code": codes[4] })).await;
        assert_detail(&again, 409, "Two-factor sign-in is not set up");
        let not_set_up = post(&server, "enable", &token, json!({ "code": "123456" })).await;
        assert_detail(&not_set_up, 409, "Two-factor sign-in is not set up");
        let kinds: Vec<String> = server
            .get("/api/v1/users/me/security-events")
            .authorization_bearer(&token)
            .await
            .json::<Vec<Value>>()
            .iter()
            .map(|event| event["kind"].as_str().expect("kind").to_string())
            .collect();
        assert!(
            kinds.contains(&"two_factor_disabled".to_string()),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&"two_factor_enabled".to_string()),
            "{kinds:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn its_routes_need_a_signed_in_caller() {
    request(|server, _ctx| async move {
        for path in ["setup", "enable", "disable", "recovery-codes"] {
            let response = server
                .post(&format!("/api/v1/auth/2fa/{path}"))
                .json(&json!({ "code": "123456" }))
                .await;
            assert_detail(&response, 401, "Not authenticated");
        }
        let (token, _) = register(&server, JANE).await;
        let off = post(
            &server,
            "recovery-codes",
            &token,
            json!({ "code": "123456" }),
        )
        .await;
        assert_detail(&off, 409, "Two-factor sign-in is not set up");
        let missing = post(&server, "enable", &token, json!({})).await;
        assert_eq!(missing.status_code(), 422);
    })
    .await;
}

/// Someone registers Jane's address before she does and turns on a second
/// factor of their own. When Jane proves the address, with a code or with a
/// reset link, that factor and its recovery codes go with the rest: she is
/// not asked for a code only the maker has.
#[tokio::test]
async fn fix_proving_the_email_clears_the_second_factor_its_maker_set() {
    for proof in ["code", "reset link"] {
        request(|server, ctx| async move {
            let (makers, _, _) = unconfirmed_with_two_factor(&server, &ctx).await;
            let signed_in: Value = if proof == "code" {
                let code = request_code(&server, &ctx, JANE).await;
                let verified = verify_code(&server, JANE, &code).await;
                assert_eq!(verified.status_code(), 200, "{}", verified.text());
                verified.json()
            } else {
                server
                    .post(&format!("/api/v1/auth/password-recovery/{JANE}"))
                    .await;
                let token = reset_token_mailed_to(&ctx, JANE);
                let reset = server
                    .post("/api/v1/auth/reset-password")
                    .json(&json!({ "token": token, "new_password": "Jane's very own password" }))
                    .await;
                assert_eq!(reset.status_code(), 200, "{}", reset.text());
                login(&server, JANE, "Jane's very own password").await
            };
            assert!(
                signed_in["access_token"].is_string(),
                "{proof}: tokens, not a challenge: {signed_in}"
            );
            assert_eq!(
                me(&server, &access_token(&signed_in)).await["two_factor_enabled"],
                false
            );
            let jane = user(&ctx).await;
            assert_eq!(jane.two_factor_secret, None, "{proof}");
            let codes = recovery_codes::Entity::find()
                .filter(recovery_codes::Column::UserId.eq(jane.id))
                .count(&ctx.db)
                .await
                .expect("count");
            assert_eq!(codes, 0, "{proof}: the maker's recovery codes are gone");
            let makers_me = server
                .get("/api/v1/users/me")
                .authorization_bearer(&makers)
                .await;
            assert_eq!(makers_me.status_code(), 401, "{proof}: the maker is out");
        })
        .await;
    }
}

#[tokio::test]
async fn a_passkey_answers_the_challenge_in_place_of_a_code() {
    request(|server, ctx| async move {
        let (token, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let mut phone = SoftPasskey::new("localhost", "http://localhost:5150");
        super::passkeys::add(&server, &token, &mut phone).await;

        let challenge_token = challenge(&password_sign_in(&server).await);
        let options = server
            .post("/api/v1/auth/2fa/passkey/options")
            .json(&json!({ "challenge_token": challenge_token }))
            .await;
        assert_eq!(options.status_code(), 200, "{}", options.text());
        let options = options.json::<Value>();
        let allowed = &options["options"]["publicKey"]["allowCredentials"];
        assert_eq!(
            allowed.as_array().map(Vec::len),
            Some(1),
            "Jane's passkey only"
        );
        let credential = phone.sign_in(&options["options"]);
        let code = next_code(&ctx, &secret).await;
        let both = json!({ "challenge_token": challenge_token, "code": code,
            "authentication_id": options["authentication_id"], "credential": credential });
        let refused = server.post("/api/v1/auth/2fa/verify").json(&both).await;
        assert_eq!(refused.status_code(), 422, "one answer, not two");
        let answer = json!({ "challenge_token": challenge_token,
            "authentication_id": options["authentication_id"], "credential": credential });
        let signed_in = server.post("/api/v1/auth/2fa/verify").json(&answer).await;
        assert_eq!(signed_in.status_code(), 200, "{}", signed_in.text());
        assert_eq!(
            me(&server, &access_token(&signed_in.json())).await["email"],
            JANE
        );
        let replayed = server.post("/api/v1/auth/2fa/verify").json(&answer).await;
        assert_detail(&replayed, 401, "Invalid token");

        // A passkey alone is both factors: no challenge.
        let alone = super::passkeys::answered(&server, &mut phone).await;
        let tokens = server.post("/api/v1/auth/passkey").json(&alone).await;
        assert_eq!(tokens.status_code(), 200, "{}", tokens.text());
        assert!(tokens.json::<Value>().get("access_token").is_some());
    })
    .await;
}

#[tokio::test]
async fn deleting_the_account_asks_for_the_second_factor_too() {
    request(|server, ctx| async move {
        let (token, secret, _) = jane_with_two_factor(&server, &ctx).await;
        let ask = |body: Value| {
            server
                .post("/api/v1/users/me/deletion")
                .authorization_bearer(&token)
                .json(&body)
        };
        let without = ask(json!({ "password": PASSWORD })).await;
        assert_detail(&without, 401, "Invalid or expired authentication code");
        let wrong = ask(json!({ "password": PASSWORD, "code": "000000" })).await;
        assert_detail(&wrong, 401, "Invalid or expired authentication code");
        assert!(user(&ctx).await.deletes_at.is_none());
        let code = next_code(&ctx, &secret).await;
        let asked = ask(json!({ "password": PASSWORD, "code": code })).await;
        assert_eq!(asked.status_code(), 202, "{}", asked.text());
        assert!(user(&ctx).await.deletes_at.is_some());
    })
    .await;
}
