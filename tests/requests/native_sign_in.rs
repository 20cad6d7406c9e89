//! `POST /auth/{provider}/token`: an app's native ID token (Google's, Apple's)
//! traded for tokens, against the stand-in provider.

use axum_test::{TestResponse, TestServer};
use backend::models::users;
use loco_rs::app::AppContext;
use sea_orm::{ActiveModelTrait, ActiveValue, IntoActiveModel};
use serde_json::{Value, json};

use super::{
    identity_provider::{
        self as idp, APPLE_ISSUER, BUNDLE_ID, GOOGLE_APP_ID, GOOGLE_ISSUER, KEYS, SERVICES_ID,
        claims, hashed, sign,
    },
    prepare_data::{
        access_token, assert_detail, assert_redacted_snapshot, deleted_by_an_admin, placeholder,
        register,
    },
};
use crate::support::{request, request_with};

const NONCE: &str = "a-fresh-nonce-from-the-app";

fn google_token(sub: &str, email: &str) -> String {
    let mut claims = claims(GOOGLE_ISSUER, GOOGLE_APP_ID, sub, NONCE);
    claims["email"] = json!(email);
    claims["email_verified"] = json!(true);
    claims["given_name"] = json!("Ann");
    claims["family_name"] = json!("Lee");
    sign(&KEYS.rsa, &claims)
}

/// What Apple's sheet gives: the nonce's SHA-256, and the email only at
/// the first sign-in.
fn apple_token(sub: &str, email: Option<&str>) -> String {
    let mut claims = claims(APPLE_ISSUER, BUNDLE_ID, sub, &hashed(NONCE));
    if let Some(email) = email {
        claims["email"] = json!(email);
        claims["email_verified"] = json!("true");
        claims["is_private_email"] = json!("true");
    }
    sign(&KEYS.rsa, &claims)
}

async fn trade(server: &TestServer, provider: &str, body: Value) -> TestResponse {
    server
        .post(&format!("/api/v1/auth/{provider}/token"))
        .json(&body)
        .await
}

async fn google(server: &TestServer, id_token: &str) -> TestResponse {
    trade(
        server,
        "google",
        json!({ "id_token": id_token, "nonce": NONCE }),
    )
    .await
}

#[tokio::test]
async fn a_google_token_signs_up_then_in() {
    let provider = idp::start().await;
    request_with(provider.settings(), |server, _ctx| async move {
        let first = google(&server, &google_token("g-1", "Ann@Example.com")).await;
        assert_eq!(first.status_code(), 200, "{}", first.text());
        let auth: Value = first.json();
        assert_redacted_snapshot!(auth.clone());
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&auth))
            .await;
        assert_eq!(me.status_code(), 200);

        let again = google(&server, &google_token("g-1", "ann@example.com")).await;
        assert_eq!(again.status_code(), 200, "{}", again.text());
        assert_eq!(again.json::<Value>()["user"]["id"], auth["user"]["id"]);
    })
    .await;
}

#[tokio::test]
async fn an_apple_token_keeps_the_first_name_and_finds_the_user_by_subject() {
    let provider = idp::start().await;
    request_with(provider.settings(), |server, _ctx| async move {
        let relay = "x7k2@privaterelay.appleid.com";
        let first = trade(
            &server,
            "apple",
            json!({
                "id_token": apple_token("a-1", Some(relay)), "nonce": NONCE,
                "first_name": "Ann", "last_name": "Lee",
            }),
        )
        .await;
        assert_eq!(first.status_code(), 200, "{}", first.text());
        let user = first.json::<Value>()["user"].clone();
        assert_eq!(
            (
                &user["email"],
                &user["first_name"],
                &user["last_name"],
                &user["provider"]
            ),
            (&json!(relay), &json!("Ann"), &json!("Lee"), &json!("apple"))
        );

        // Later sign-ins carry the subject only.
        let later = trade(
            &server,
            "apple",
            json!({
                "id_token": apple_token("a-1", None), "nonce": NONCE,
            }),
        )
        .await;
        assert_eq!(later.status_code(), 200, "{}", later.text());
        let again = later.json::<Value>()["user"].clone();
        assert_eq!(
            (&again["id"], &again["first_name"]),
            (&user["id"], &json!("Ann"))
        );

        // A first sign-in without an email cannot make an account.
        let nobody = trade(
            &server,
            "apple",
            json!({
                "id_token": apple_token("a-2", None), "nonce": NONCE,
            }),
        )
        .await;
        assert_detail(
            &nobody,
            400,
            "The provider did not share a verified email address",
        );
    })
    .await;
}

#[tokio::test]
async fn the_authorization_code_of_apples_sheet_is_kept_to_be_revoked() {
    let provider = idp::start().await;
    let app = provider.clone();
    request_with(provider.settings(), |server, _ctx| async move {
        let signed_in = trade(
            &server,
            "apple",
            json!({
                "id_token": apple_token("a-1", Some("ann@example.com")), "nonce": NONCE,
                "authorization_code": "good-code",
            }),
        )
        .await;
        assert_eq!(signed_in.status_code(), 200, "{}", signed_in.text());
        let deleted = deleted_by_an_admin(&server, &signed_in.json()).await;
        assert_eq!(deleted.status_code(), 200, "{}", deleted.text());
        // Issued to the app, so revoked as the app.
        assert_eq!(
            app.revoked(),
            vec![("apple-refresh-0".to_string(), BUNDLE_ID.to_string())]
        );
    })
    .await;
}

/// Every way a token can be wrong ends in the same 401.
#[tokio::test]
async fn a_token_that_fails_any_check_is_refused() {
    let provider = idp::start().await;
    request_with(provider.settings(), |server, _ctx| async move {
        let base = || {
            let mut claims = claims(GOOGLE_ISSUER, GOOGLE_APP_ID, "g-1", NONCE);
            claims["email"] = json!("ann@example.com");
            claims["email_verified"] = json!(true);
            claims
        };
        let with = |field: &str, value: Value| {
            let mut claims = base();
            claims[field] = value;
            sign(&KEYS.rsa, &claims)
        };
        let now = chrono::Utc::now().timestamp();
        let none_header = idp::b64_json(&json!({ "alg": "none", "kid": idp::RSA_KID }));
        let refused = [
            ("another audience", with("aud", json!(SERVICES_ID))),
            ("expired beyond the leeway", with("exp", json!(now - 120))),
            (
                "another issuer",
                with("iss", json!("https://evil.example.com")),
            ),
            ("another nonce", with("nonce", json!("someone-elses"))),
            ("an unverified email", with("email_verified", json!(false))),
            ("a key not published", sign(&KEYS.forged, &base())),
            (
                "alg none",
                format!("{none_header}.{}.", idp::b64_json(&base())),
            ),
            ("not a JWT", "not-a-token".to_string()),
        ];
        for (why, token) in refused {
            let answer = google(&server, &token).await;
            assert_eq!(answer.status_code(), 401, "{why}: {}", answer.text());
            assert_detail(&answer, 401, "Invalid ID token");
        }
        // Within the 60 s of leeway, an expiry just passed is taken.
        let late = google(&server, &with("exp", json!(now - 30))).await;
        assert_eq!(late.status_code(), 200, "{}", late.text());
    })
    .await;
}

#[tokio::test]
async fn a_token_is_taken_once() {
    let provider = idp::start().await;
    request_with(provider.settings(), |server, _ctx| async move {
        let token = google_token("g-1", "ann@example.com");
        assert_eq!(google(&server, &token).await.status_code(), 200);
        let replayed = google(&server, &token).await;
        assert_detail(&replayed, 401, "Invalid ID token");
    })
    .await;
}

#[tokio::test]
async fn an_unknown_key_id_fetches_the_keys_once_more_then_is_refused() {
    let provider = idp::start().await;
    let keys = provider.clone();
    request_with(provider.settings(), |server, _ctx| async move {
        assert_eq!(
            google(&server, &google_token("g-1", "a@example.com"))
                .await
                .status_code(),
            200
        );
        assert_eq!(keys.fetches(), 1);
        assert_eq!(
            google(&server, &google_token("g-2", "b@example.com"))
                .await
                .status_code(),
            200
        );
        assert_eq!(keys.fetches(), 1, "the keys are kept");

        let mut claims = claims(GOOGLE_ISSUER, GOOGLE_APP_ID, "g-3", NONCE);
        claims["email"] = json!("c@example.com");
        claims["email_verified"] = json!(true);
        let rotated = sign(&KEYS.ec, &claims);
        assert_detail(&google(&server, &rotated).await, 401, "Invalid ID token");
        assert_eq!(keys.fetches(), 2, "one fetch for the unknown key id");

        // The provider publishes its new key: the next fetch finds it.
        keys.rotated
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let rotated = sign(&KEYS.ec, &claims);
        let answer = google(&server, &rotated).await;
        assert_eq!(answer.status_code(), 200, "{}", answer.text());
        assert_eq!(keys.fetches(), 3);
    })
    .await;
}

/// Anyone can send tokens under made-up key ids: they get six fetches of the
/// keys a minute between them, not one each.
#[tokio::test]
async fn made_up_key_ids_do_not_fetch_the_keys_each_time() {
    let provider = idp::start().await;
    let keys = provider.clone();
    request_with(provider.settings(), |server, _ctx| async move {
        let good = google(&server, &google_token("g-1", "a@example.com")).await;
        assert_eq!(good.status_code(), 200);
        for n in 0..10 {
            let claims = claims(GOOGLE_ISSUER, GOOGLE_APP_ID, "g-2", NONCE);
            let made_up = idp::sign_as(&KEYS.rsa, &format!("made-up-{n}"), &claims);
            assert_detail(&google(&server, &made_up).await, 401, "Invalid ID token");
        }
        assert_eq!(keys.fetches(), 1 + 6);
    })
    .await;
}

#[tokio::test]
async fn an_account_with_two_factor_gets_the_challenge() {
    let provider = idp::start().await;
    request_with(provider.settings(), |server, ctx| async move {
        let first = google(&server, &google_token("g-1", "ann@example.com")).await;
        assert_eq!(first.status_code(), 200);
        turn_on_two_factor(&ctx, "ann@example.com").await;
        let second = google(&server, &google_token("g-1", "ann@example.com")).await;
        assert_eq!(second.status_code(), 200, "{}", second.text());
        let body: Value = second.json();
        assert_eq!(body["two_factor_required"], true);
        assert!(body.get("access_token").is_none());
    })
    .await;
}

async fn turn_on_two_factor(ctx: &AppContext, email: &str) {
    let email = backend::models::email::Email::parse(email).expect("email");
    let mut user = users::Model::find_by_email(&ctx.db, &email)
        .await
        .expect("user")
        .into_active_model();
    user.two_factor_enabled = ActiveValue::Set(true);
    user.update(&ctx.db).await.expect("updated");
}

#[tokio::test]
async fn an_email_of_another_account_is_a_conflict() {
    let provider = idp::start().await;
    request_with(provider.settings(), |server, _ctx| async move {
        register(&server, "ann@example.com").await;
        let answer = google(&server, &google_token("g-1", "ann@example.com")).await;
        assert_eq!(answer.status_code(), 409, "{}", answer.text());
    })
    .await;
}

#[tokio::test]
async fn providers_without_native_sign_in_are_refused() {
    request(|server, _ctx| async move {
        let off = trade(
            &server,
            "apple",
            json!({
                "id_token": apple_token("a-1", Some("ann@example.com")), "nonce": NONCE,
            }),
        )
        .await;
        assert_detail(
            &off,
            403,
            "Native sign-in with 'apple' is not enabled for this application",
        );
        let github = trade(&server, "github", json!({ "id_token": "x", "nonce": "n" })).await;
        assert_eq!(github.status_code(), 422, "{}", github.text());
        let empty = trade(&server, "google", json!({ "id_token": "", "nonce": "" })).await;
        assert_eq!(empty.status_code(), 422, "{}", empty.text());
    })
    .await;
}
