//! Sign-in with a provider, against a stand-in provider served on a loopback
//! port inside the test.

use std::sync::{Arc, Mutex};

use axum::{
    Form, Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use backend::models::{tokens::TokenKind, users};
use sea_orm::IntoActiveModel;
use serde_json::{Value, json};

use super::prepare_data::{access_token, assert_detail, login, register, reset_token_mailed_to};
use crate::support::{app_state, email, request_with};

#[derive(Clone, Default)]
struct StandIn {
    base: Arc<Mutex<String>>,
    profile: Arc<Mutex<Value>>,
    /// What GitHub's `/user/emails` lists.
    emails: Arc<Mutex<Value>>,
    verifiers: Arc<Mutex<Vec<String>>>,
}

async fn token(
    State(provider): State<StandIn>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    if form.get("code").map(String::as_str) != Some("good-code") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        );
    }
    if let Some(verifier) = form.get("code_verifier") {
        provider
            .verifiers
            .lock()
            .expect("lock")
            .push(verifier.clone());
    }
    (
        StatusCode::OK,
        Json(json!({ "access_token": "provider-access", "token_type": "bearer" })),
    )
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some("Bearer provider-access")
}

async fn userinfo(
    State(provider): State<StandIn>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    (
        StatusCode::OK,
        Json(provider.profile.lock().expect("lock").clone()),
    )
}

async fn emails(State(provider): State<StandIn>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!([])));
    }
    (
        StatusCode::OK,
        Json(provider.emails.lock().expect("lock").clone()),
    )
}

/// Starts the stand-in; `settings` points the app's Google settings at it.
async fn stand_in(profile: Value) -> StandIn {
    let provider = StandIn::default();
    *provider.profile.lock().expect("lock") = profile;
    let app = Router::new()
        .route("/token", post(token))
        .route("/silent-token", post(std::future::pending::<()>))
        .route("/userinfo", get(userinfo))
        .route("/userinfo/emails", get(emails))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    *provider.base.lock().expect("lock") = base;
    provider
}

impl StandIn {
    /// Points the app's Google settings at the stand-in.
    fn settings(&self) -> impl FnOnce(&mut Value) + use<> {
        self.settings_for("google")
    }

    fn settings_for(&self, provider: &'static str) -> impl FnOnce(&mut Value) + use<> {
        let base = self.base.lock().expect("lock").clone();
        move |settings| {
            let config = &mut settings["sso"][provider];
            config["auth_url"] = json!(format!("{base}/authorize"));
            config["token_url"] = json!(format!("{base}/token"));
            config["userinfo_url"] = json!(format!("{base}/userinfo"));
        }
    }
}

fn google(id: &str, email: &str) -> Value {
    json!({ "sub": id, "email": email, "given_name": "Ann", "family_name": "Lee" })
}

fn query(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).expect("a URL");
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Runs Google's login and callback; returns the callback's response.
async fn sign_in(server: &axum_test::TestServer, code: &str) -> axum_test::TestResponse {
    sign_in_with(server, "google", code).await
}

async fn sign_in_with(
    server: &axum_test::TestServer,
    provider: &str,
    code: &str,
) -> axum_test::TestResponse {
    let login = server
        .get(&format!(
            "/api/v1/auth/{provider}/login?return_url=myapp://auth/done"
        ))
        .await;
    assert_eq!(login.status_code(), 307, "{}", login.text());
    let consent = login
        .header("location")
        .to_str()
        .expect("ascii")
        .to_string();
    let state = query(&consent, "state").expect("a state");
    server
        .get(&format!(
            "/api/v1/auth/{provider}/callback?code={code}&state={state}"
        ))
        .add_header("cookie", format!("sso_state={state}"))
        .await
}

fn confirmation_token(callback: &axum_test::TestResponse) -> String {
    let location = callback
        .header("location")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        location.starts_with("myapp://auth/done?token="),
        "{location}"
    );
    query(&location, "token").expect("a token")
}

#[tokio::test]
async fn login_redirects_to_the_provider_with_state_and_pkce() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    request_with(provider.settings(), |server, _ctx| async move {
        let login = server
            .get("/api/v1/auth/google/login?return_url=myapp://auth/done")
            .await;
        assert_eq!(login.status_code(), 307);
        let consent = login
            .header("location")
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(consent.contains("/authorize?"));
        assert_eq!(
            query(&consent, "client_id").as_deref(),
            Some("google-client")
        );
        assert_eq!(query(&consent, "response_type").as_deref(), Some("code"));
        assert_eq!(
            query(&consent, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert!(query(&consent, "code_challenge").is_some());
        assert_eq!(
            query(&consent, "redirect_uri").as_deref(),
            Some("http://localhost:5150/api/v1/auth/google/callback")
        );
        let state = query(&consent, "state").expect("state");
        let cookie = login
            .header("set-cookie")
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(cookie.starts_with(&format!("sso_state={state};")));
        assert!(cookie.contains("HttpOnly"));
    })
    .await;
}

#[tokio::test]
async fn a_provider_sign_in_creates_the_user_and_confirms_once() {
    let provider = stand_in(google("g-1", "Ann@Example.com")).await;
    request_with(provider.settings(), |server, _ctx| async move {
        let callback = sign_in(&server, "good-code").await;
        assert_eq!(callback.status_code(), 307, "{}", callback.text());
        assert_eq!(
            provider.verifiers.lock().expect("lock").len(),
            1,
            "PKCE verifier sent"
        );
        let token = confirmation_token(&callback);

        let confirmed = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(token))
            .await;
        assert_eq!(confirmed.status_code(), 200, "{}", confirmed.text());
        let auth: Value = confirmed.json();
        assert_eq!(auth["user"]["email"], "ann@example.com");
        assert_eq!(auth["user"]["provider"], "google");
        assert_eq!(auth["user"]["first_name"], "Ann");
        assert_eq!(auth["user"]["confirmed"], true);
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(access_token(&auth))
            .await;
        assert_eq!(me.status_code(), 200);

        let again = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!({ "sso_confirmation_token": token }))
            .await;
        assert_eq!(again.status_code(), 401, "a confirmation token works once");

        // Signing in again finds the same account by its provider id.
        let second = sign_in(&server, "good-code").await;
        let second = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!({ "sso_confirmation_token": confirmation_token(&second) }))
            .await;
        assert_eq!(second.json::<Value>()["user"]["id"], auth["user"]["id"]);
    })
    .await;
}

#[tokio::test]
async fn an_email_of_another_account_is_a_conflict() {
    let provider = stand_in(google("g-2", "ann@example.com")).await;
    request_with(provider.settings(), |server, _ctx| async move {
        register(&server, "ann@example.com").await;
        let callback = sign_in(&server, "good-code").await;
        assert_eq!(callback.status_code(), 409);
    })
    .await;
}

#[tokio::test]
async fn a_refused_code_is_a_bad_request() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    request_with(provider.settings(), |server, _ctx| async move {
        let callback = sign_in(&server, "bad-code").await;
        assert_detail(&callback, 400, "Sign-in with the provider failed");
    })
    .await;
}

#[tokio::test]
async fn a_provider_that_does_not_answer_is_a_504_within_its_timeout() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    let configure = provider.settings();
    let silent = |settings: &mut Value| {
        configure(settings);
        let google = &mut settings["sso"]["google"];
        let token_url = google["token_url"]
            .as_str()
            .expect("a URL")
            .replace("/token", "/silent-token");
        google["token_url"] = json!(token_url);
        google["timeout_seconds"] = json!(1);
    };
    request_with(silent, |server, _ctx| async move {
        let callback = sign_in(&server, "good-code").await;
        assert_detail(
            &callback,
            504,
            "The provider did not answer, try again later",
        );
    })
    .await;
}

/// config/test.yaml allows `myapp://auth` and `https://app.example.com/`.
#[tokio::test]
async fn fix_a_return_url_must_lie_within_an_allowed_one_as_a_url() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    request_with(provider.settings(), |server, _ctx| async move {
        let attacks = [
            // Prefixes of the text, other places entirely.
            "myapp://authx/done",
            "myapp://auth.evil.net/done",
            "myapp://auth@evil.net/done",
            "https://app.example.com@evil.net/",
            "https://app.example.com.evil.net/",
            // The same host, another scheme or port.
            "http://app.example.com/",
            "https://app.example.com:8443/",
            // A fragment would swallow the token; not a URL at all.
            "https://app.example.com/done#x",
            "app.example.com/done",
        ];
        for attack in attacks {
            let login = server
                .get("/api/v1/auth/google/login")
                .add_query_param("return_url", attack)
                .await;
            assert_eq!(login.status_code(), 422, "{attack}");
        }
        for (allowed, stored) in [
            ("myapp://auth/done", "myapp://auth/done"),
            (
                "https://app.example.com/done?x=1",
                "https://app.example.com/done?x=1",
            ),
            (
                "https://APP.example.com:443/a/../done",
                "https://app.example.com/done",
            ),
        ] {
            let login = server
                .get("/api/v1/auth/google/login")
                .add_query_param("return_url", allowed)
                .await;
            assert_eq!(login.status_code(), 307, "{allowed}");
            let consent = login
                .header("location")
                .to_str()
                .expect("ascii")
                .to_string();
            let state = query(&consent, "state").expect("a state");
            let callback = server
                .get(&format!(
                    "/api/v1/auth/google/callback?code=good-code&state={state}"
                ))
                .add_header("cookie", format!("sso_state={state}"))
                .await;
            let location = callback
                .header("location")
                .to_str()
                .expect("ascii")
                .to_string();
            assert!(location.starts_with(stored), "{location}");
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_disabled_and_unlisted_are_refused() {
    let facebook_off =
        |settings: &mut Value| settings["sso"]["facebook"]["client_secret"] = json!("");
    request_with(facebook_off, |server, _ctx| async move {
        let unknown = server.get("/api/v1/auth/myspace/login?return_url=myapp://auth").await;
        assert_eq!(unknown.status_code(), 422);

        let disabled = server.get("/api/v1/auth/facebook/login?return_url=myapp://auth").await;
        assert_eq!(disabled.status_code(), 403);
        assert_eq!(
            disabled.json::<Value>(),
            json!({ "detail": "SSO provider 'facebook' is not enabled or not available for this application" })
        );

        let unlisted = server.get("/api/v1/auth/google/login?return_url=https://evil.example.com/").await;
        assert_eq!(unlisted.status_code(), 422);
        assert_eq!(unlisted.json::<Value>()["detail"][0]["loc"], json!(["query", "return_url"]));
        let missing = server.get("/api/v1/auth/google/login").await;
        assert_eq!(missing.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn fix_the_callback_refuses_a_forged_or_replayed_state() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    request_with(provider.settings(), |server, _ctx| async move {
        let login = server
            .get("/api/v1/auth/google/login?return_url=myapp://auth")
            .await;
        let consent = login
            .header("location")
            .to_str()
            .expect("ascii")
            .to_string();
        let state = query(&consent, "state").expect("state");
        let callback = |state: String, cookie: Option<String>| {
            let mut request = server.get(&format!(
                "/api/v1/auth/google/callback?code=good-code&state={state}"
            ));
            if let Some(cookie) = cookie {
                request = request.add_header("cookie", format!("sso_state={cookie}"));
            }
            request
        };
        let forged = callback("forged".to_string(), Some("forged".to_string())).await;
        assert_eq!(forged.status_code(), 400);
        assert_eq!(forged.json::<Value>(), json!({ "detail": "Invalid state" }));
        let without_cookie = callback(state.clone(), None).await;
        assert_eq!(
            without_cookie.status_code(),
            400,
            "the state must come from this browser"
        );
        assert_eq!(
            callback(state.clone(), Some(state.clone()))
                .await
                .status_code(),
            307
        );
        let replayed = callback(state.clone(), Some(state)).await;
        assert_eq!(replayed.status_code(), 400, "a state works once");
    })
    .await;
}

#[tokio::test]
async fn a_confirmation_for_an_account_archived_since_is_refused() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    request_with(provider.settings(), |server, ctx| async move {
        let token = confirmation_token(&sign_in(&server, "good-code").await);
        users::Model::find_by_email(&ctx.db, &email("ann@example.com"))
            .await
            .expect("made by the sign-in")
            .into_active_model()
            .archive(&ctx.db)
            .await
            .expect("archived");
        let refused = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(token))
            .await;
        assert_eq!(refused.status_code(), 401);
        assert_eq!(
            refused.json::<Value>(),
            json!({ "detail": "Could not validate credentials" })
        );
    })
    .await;
}

#[tokio::test]
async fn fix_a_confirmation_token_is_not_an_access_token_and_expires() {
    let provider = stand_in(google("g-1", "ann@example.com")).await;
    request_with(provider.settings(), |server, ctx| async move {
        let token = confirmation_token(&sign_in(&server, "good-code").await);
        let as_access = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(as_access.status_code(), 401);

        let auth = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(token))
            .await;
        let user_id = auth.json::<Value>()["user"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        let state = app_state(&ctx);
        let signer = &state.signer;
        let expired = signer
            .issue(user_id, TokenKind::SsoConfirmation, -1)
            .expect("token")
            .token;
        let refused = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(expired))
            .await;
        assert_eq!(refused.status_code(), 401);
        let access = access_token(&auth.json::<Value>());
        let wrong_kind = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(access))
            .await;
        assert_eq!(wrong_kind.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn an_address_google_did_not_verify_signs_nobody_in() {
    let mut profile = google("g-9", "ann@example.com");
    profile["email_verified"] = json!(false);
    let provider = stand_in(profile).await;
    request_with(provider.settings(), |server, _ctx| async move {
        let callback = sign_in(&server, "good-code").await;
        assert_eq!(callback.status_code(), 400);
    })
    .await;
}

/// `/user` shows GitHub's public email, which GitHub never checked: only the
/// verified primary address of `/user/emails` signs anyone in.
#[tokio::test]
async fn fix_github_signs_in_with_its_verified_primary_email_only() {
    let provider =
        stand_in(json!({ "id": 7, "name": "Ann Lee", "email": "victim@example.com" })).await;
    *provider.emails.lock().expect("lock") = json!([
        { "email": "victim@example.com", "primary": true, "verified": false },
        { "email": "other@example.com", "primary": false, "verified": true },
    ]);
    request_with(provider.settings_for("github"), |server, _ctx| async move {
        let refused = sign_in_with(&server, "github", "good-code").await;
        assert_eq!(refused.status_code(), 400, "no verified primary address");

        *provider.emails.lock().expect("lock") =
            json!([{ "email": "ann@example.com", "primary": true, "verified": true }]);
        let callback = sign_in_with(&server, "github", "good-code").await;
        let confirmed = server
            .post("/api/v1/auth/sso/confirm")
            .json(&json!(confirmation_token(&callback)))
            .await;
        let user = &confirmed.json::<Value>()["user"];
        assert_eq!(user["email"], "ann@example.com");
        assert_eq!(user["confirmed"], true);
    })
    .await;
}

/// The profile a Facebook account gives under someone else's address.
fn facebook_claiming_the_victim() -> Value {
    json!({ "id": "f-1", "email": "victim@example.com", "first_name": "Eve", "last_name": "" })
}

/// Signs in through Facebook as `facebook_claiming_the_victim`; returns the
/// maker's tokens, of an account still unconfirmed.
async fn made_through_facebook(server: &axum_test::TestServer) -> Value {
    let callback = sign_in_with(server, "facebook", "good-code").await;
    let maker = server
        .post("/api/v1/auth/sso/confirm")
        .json(&json!(confirmation_token(&callback)))
        .await
        .json::<Value>();
    assert_eq!(maker["user"]["confirmed"], false);
    maker
}

/// The account's owner, once they proved the address: the maker's session
/// ended, and their Facebook account no longer opens it.
async fn assert_the_maker_is_out(server: &axum_test::TestServer, maker: &Value, owner: &Value) {
    assert_eq!(owner["user"]["confirmed"], true);
    assert_eq!(owner["user"]["provider"], "email");
    let refreshed = server
        .post("/api/v1/auth/refresh")
        .json(&maker["refresh_token"])
        .await;
    assert_eq!(refreshed.status_code(), 401, "the maker's session ended");
    let again = sign_in_with(server, "facebook", "good-code").await;
    assert_eq!(
        again.status_code(),
        409,
        "the Facebook account no longer opens it"
    );
}

/// Facebook does not say it checked an address: its accounts start
/// unconfirmed, and when the address's owner proves it with a code the
/// Facebook account that claimed it is unlinked.
#[tokio::test]
async fn fix_a_facebook_email_is_unconfirmed_until_its_owner_proves_it() {
    let provider = stand_in(facebook_claiming_the_victim()).await;
    request_with(
        provider.settings_for("facebook"),
        |server, ctx| async move {
            let maker = made_through_facebook(&server).await;
            let code = super::prepare_data::request_code(&server, &ctx, "victim@example.com").await;
            let owner =
                super::prepare_data::verify_code(&server, "victim@example.com", &code).await;
            assert_eq!(owner.status_code(), 200);
            assert_the_maker_is_out(&server, &maker, &owner.json()).await;
        },
    )
    .await;
}

/// The owner of an address a Facebook sign-in claimed takes the account
/// back with a reset link (their registration answers 409): the link proves
/// the address as a code does, so the Facebook account no longer opens it.
#[tokio::test]
async fn fix_a_reset_link_takes_a_facebook_made_account_from_its_maker() {
    let provider = stand_in(facebook_claiming_the_victim()).await;
    request_with(
        provider.settings_for("facebook"),
        |server, ctx| async move {
            let maker = made_through_facebook(&server).await;
            let password = "the owner's own password";
            let body = json!({ "email": "victim@example.com", "password": password });
            let registered = server.post("/api/v1/auth/register").json(&body).await;
            assert_eq!(registered.status_code(), 409);
            server
                .post("/api/v1/auth/password-recovery/victim@example.com")
                .await;
            let token = reset_token_mailed_to(&ctx, "victim@example.com");
            let reset = server
                .post("/api/v1/auth/reset-password")
                .json(&json!({ "token": token, "new_password": password }))
                .await;
            assert_eq!(reset.status_code(), 200, "{}", reset.text());

            let owner = login(&server, "victim@example.com", password).await;
            assert_the_maker_is_out(&server, &maker, &owner).await;
            let events: Value = server
                .get("/api/v1/users/me/security-events")
                .authorization_bearer(access_token(&owner))
                .await
                .json();
            let claim = events
                .as_array()
                .expect("events")
                .iter()
                .find(|event| event["kind"] == "account_claimed")
                .expect("the claim is in the owner's log");
            assert_eq!(claim["detail"], "by a reset link");
        },
    )
    .await;
}
