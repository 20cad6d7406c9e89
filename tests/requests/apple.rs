//! Sign in with Apple's web flow (its callback is a form Apple's page posts),
//! the revocation of Apple's tokens when an account is deleted, and Apple's
//! server-to-server notifications, against the stand-in provider.

use axum_test::{TestResponse, TestServer};
use backend::models::_entities::provider_tokens;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use super::{
    identity_provider::{
        self as idp, APPLE_ISSUER, BUNDLE_ID, KEYS, Provider, SERVICES_ID, claims, sign,
    },
    prepare_data::{access_token, admin_token, assert_detail, deleted_by_an_admin, id_of},
};
use crate::support::{request, request_with};

const RELAY: &str = "x7k2@privaterelay.appleid.com";

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn location(response: &TestResponse) -> String {
    response
        .header("location")
        .to_str()
        .expect("ascii")
        .to_string()
}

/// Starts a sign-in; returns Apple's consent page and the state cookie.
async fn login(server: &TestServer) -> (String, String) {
    let login = server
        .get("/api/v1/auth/apple/login?return_url=myapp://auth/done")
        .await;
    assert_eq!(login.status_code(), 307, "{}", login.text());
    let cookie = login
        .header("set-cookie")
        .to_str()
        .expect("ascii")
        .to_string();
    (location(&login), cookie)
}

/// Runs the flow: Apple's ID token says `email` (when it does), and the form
/// carries the name when `named`.
async fn sign_in(
    server: &TestServer,
    apple: &Provider,
    sub: &str,
    email: Option<&str>,
    named: bool,
) -> TestResponse {
    let (consent, _) = login(server).await;
    let state = query(&consent, "state").expect("a state");
    let nonce = query(&consent, "nonce").expect("a nonce");
    let mut id = claims(APPLE_ISSUER, SERVICES_ID, sub, &nonce);
    if let Some(email) = email {
        id["email"] = json!(email);
        id["email_verified"] = json!("true");
        id["is_private_email"] = json!("true");
    }
    apple.answer_with(id);
    let mut form = vec![("code", "good-code".to_string()), ("state", state.clone())];
    if named {
        let user = json!({ "name": { "firstName": "Ann", "lastName": "Lee" }, "email": email });
        form.push(("user", user.to_string()));
    }
    server
        .post("/api/v1/auth/apple/callback")
        .add_header("cookie", format!("sso_state={state}"))
        .form(&form)
        .await
}

/// Ann's first sign-in, as `a-1`, with her relay email and her name.
async fn first_sign_in(server: &TestServer, apple: &Provider) -> Value {
    confirm(
        server,
        &sign_in(server, apple, "a-1", Some(RELAY), true).await,
    )
    .await
}

async fn confirm(server: &TestServer, callback: &TestResponse) -> Value {
    assert_eq!(callback.status_code(), 303, "{}", callback.text());
    let location = location(callback);
    assert!(
        location.starts_with("myapp://auth/done?token="),
        "{location}"
    );
    let confirmed = server
        .post("/api/v1/auth/sso/confirm")
        .json(&json!(query(&location, "token").expect("a token")))
        .await;
    assert_eq!(confirmed.status_code(), 200, "{}", confirmed.text());
    confirmed.json()
}

#[tokio::test]
async fn the_login_asks_apple_for_a_posted_answer_with_a_nonce() {
    let apple = idp::start().await;
    request_with(apple.settings(), |server, _ctx| async move {
        let (consent, cookie) = login(&server).await;
        assert!(
            consent.starts_with(&format!("{}/authorize?", apple.base)),
            "{consent}"
        );
        assert_eq!(query(&consent, "client_id").as_deref(), Some(SERVICES_ID));
        assert_eq!(
            query(&consent, "response_mode").as_deref(),
            Some("form_post")
        );
        assert_eq!(query(&consent, "scope").as_deref(), Some("name email"));
        assert!(query(&consent, "nonce").is_some_and(|nonce| nonce.len() >= 20));
        assert_eq!(
            query(&consent, "redirect_uri").as_deref(),
            Some("http://localhost:5150/api/v1/auth/apple/callback")
        );
        // Apple posts cross-site: only a SameSite=None cookie comes along.
        let state = query(&consent, "state").expect("a state");
        assert!(
            cookie.starts_with(&format!("sso_state={state};")),
            "{cookie}"
        );
        assert!(
            cookie.contains("SameSite=None") && cookie.contains("Secure"),
            "{cookie}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_first_sign_in_keeps_the_name_and_later_ones_find_the_user_by_subject() {
    let apple = idp::start().await;
    request_with(apple.settings(), |server, ctx| async move {
        let first = sign_in(&server, &apple, "a-1", Some(RELAY), true).await;
        let auth = confirm(&server, &first).await;
        let user = &auth["user"];
        assert_eq!(
            (
                &user["email"],
                &user["first_name"],
                &user["provider"],
                &user["confirmed"]
            ),
            (&json!(RELAY), &json!("Ann"), &json!("apple"), &json!(true))
        );
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&auth))
            .await;
        assert_eq!(me.status_code(), 200);

        let later = sign_in(&server, &apple, "a-1", None, false).await;
        let again = confirm(&server, &later).await;
        assert_eq!(again["user"]["id"], user["id"]);
        assert_eq!(again["user"]["first_name"], "Ann", "the first name is kept");

        // Apple's refresh token is kept sealed, the latest one only.
        let kept = provider_tokens::Entity::find()
            .all(&ctx.db)
            .await
            .expect("rows");
        assert_eq!(kept.len(), 1);
        assert!(!kept[0].sealed_refresh_token.contains("apple-refresh"));
        assert_eq!(kept[0].client_id, SERVICES_ID);
    })
    .await;
}

#[tokio::test]
async fn a_callback_without_its_cookie_or_with_a_wrong_nonce_is_refused() {
    let apple = idp::start().await;
    request_with(apple.settings(), |server, _ctx| async move {
        let (consent, _) = login(&server).await;
        let state = query(&consent, "state").expect("a state");
        let no_cookie = server
            .post("/api/v1/auth/apple/callback")
            .form(&[("code", "good-code"), ("state", state.as_str())])
            .await;
        assert_detail(&no_cookie, 400, "Invalid state");

        // An ID token minted for another sign-in (its nonce) is refused.
        apple.answer_with(claims(APPLE_ISSUER, SERVICES_ID, "a-1", "another-nonce"));
        let (consent, _) = login(&server).await;
        let state = query(&consent, "state").expect("a state");
        let wrong_nonce = server
            .post("/api/v1/auth/apple/callback")
            .add_header("cookie", format!("sso_state={state}"))
            .form(&[("code", "good-code"), ("state", state.as_str())])
            .await;
        assert_detail(&wrong_nonce, 400, "Sign-in with the provider failed");

        // The user cancelled on Apple's page.
        let (consent, _) = login(&server).await;
        let state = query(&consent, "state").expect("a state");
        let cancelled = server
            .post("/api/v1/auth/apple/callback")
            .add_header("cookie", format!("sso_state={state}"))
            .form(&[
                ("error", "user_cancelled_authorize"),
                ("state", state.as_str()),
            ])
            .await;
        assert_detail(&cancelled, 400, "Invalid state");
    })
    .await;
}

#[tokio::test]
async fn apple_off_is_a_403() {
    request(|server, _ctx| async move {
        let login = server
            .get("/api/v1/auth/apple/login?return_url=myapp://auth/done")
            .await;
        assert_eq!(login.status_code(), 403, "{}", login.text());
        let notification = server
            .post("/api/v1/auth/apple/notifications")
            .json(&json!({ "payload": "x" }))
            .await;
        assert_detail(
            &notification,
            403,
            "Sign in with Apple is not enabled for this application",
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_an_account_revokes_its_apple_token_first() {
    let apple = idp::start().await;
    request_with(apple.settings(), |server, ctx| async move {
        let auth = first_sign_in(&server, &apple).await;
        let deleted = deleted_by_an_admin(&server, &auth).await;
        assert_eq!(deleted.status_code(), 200, "{}", deleted.text());
        assert_eq!(
            apple.revoked(),
            vec![("apple-refresh-0".to_string(), SERVICES_ID.to_string())]
        );
        let kept = provider_tokens::Entity::find()
            .all(&ctx.db)
            .await
            .expect("rows");
        assert!(kept.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_deletion_apple_refuses_to_revoke_deletes_nothing() {
    let apple = idp::start().await;
    let configure = apple.settings();
    let refusing = |settings: &mut Value| {
        configure(settings);
        let base = settings["sso"]["apple"]["token_url"]
            .as_str()
            .expect("a URL")
            .replace("/token", "/nowhere");
        settings["sso"]["apple"]["revoke_url"] = json!(base);
    };
    request_with(refusing, |server, _ctx| async move {
        let auth = first_sign_in(&server, &apple).await;
        let refused = deleted_by_an_admin(&server, &auth).await;
        assert_eq!(refused.status_code(), 503, "{}", refused.text());
        let still = server
            .get(&format!("/api/v1/users/{}", id_of(&auth["user"])))
            .authorization_bearer(admin_token(&server).await)
            .await;
        assert_eq!(still.status_code(), 200, "nothing was deleted");
    })
    .await;
}

fn notification(sub: &str, kind: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let events = json!({ "type": kind, "sub": sub, "event_time": now }).to_string();
    sign(
        &KEYS.rsa,
        &json!({
            "iss": APPLE_ISSUER, "aud": BUNDLE_ID, "iat": now, "jti": "j-1", "events": events,
        }),
    )
}

#[tokio::test]
async fn a_consent_revoked_notification_ends_the_users_sessions() {
    let apple = idp::start().await;
    request_with(apple.settings(), |server, _ctx| async move {
        let auth = first_sign_in(&server, &apple).await;
        let token = access_token(&auth);
        let notify = |payload: String| {
            server
                .post("/api/v1/auth/apple/notifications")
                .json(&json!({ "payload": payload }))
        };
        let noted = notify(notification("a-1", "email-disabled")).await;
        assert_eq!(noted.status_code(), 200, "{}", noted.text());
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 200, "an email notice leaves the sessions");

        let revoked = notify(notification("a-1", "consent-revoked")).await;
        assert_eq!(revoked.status_code(), 200, "{}", revoked.text());
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 401, "the sessions ended");
        let refresh = server
            .post("/api/v1/auth/refresh")
            .json(&auth["refresh_token"])
            .await;
        assert_eq!(refresh.status_code(), 401);

        // Both are in the user's security log.
        let again = confirm(&server, &sign_in(&server, &apple, "a-1", None, false).await).await;
        let events = server
            .get("/api/v1/users/me/security-events")
            .authorization_bearer(access_token(&again))
            .await
            .json::<Value>();
        let notices: Vec<&Value> = events
            .as_array()
            .expect("a list")
            .iter()
            .filter(|event| event["kind"] == "apple_notification")
            .map(|event| &event["detail"])
            .collect();
        assert_eq!(notices.len(), 2, "{events}");

        // One for no account here is acknowledged; a forged one is refused.
        let unknown = notify(notification("someone-else", "account-delete")).await;
        assert_eq!(unknown.status_code(), 200);
        let mut forged = notification("a-1", "account-delete");
        forged = forged.replace(forged.split('.').nth(2).expect("a signature"), "AAAA");
        assert_detail(&notify(forged).await, 401, "Invalid ID token");
    })
    .await;
}
