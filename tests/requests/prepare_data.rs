//! What request tests share: signing in, and making snapshots deterministic.

use axum_test::TestServer;
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "Password1234";
pub const PASSWORD: &str = "correct horse battery";

/// Signs in with the password form and returns the whole `AuthResponse`.
pub async fn login(server: &TestServer, email: &str, password: &str) -> Value {
    let response = server
        .post("/api/v1/auth/login")
        .form(&[("username", email), ("password", password)])
        .await;
    assert_eq!(response.status_code(), 200, "login: {}", response.text());
    response.json()
}

/// An access token for the development admin every test database starts with.
pub async fn admin_token(server: &TestServer) -> String {
    access_token(&login(server, ADMIN_EMAIL, ADMIN_PASSWORD).await)
}

/// Registers a customer; returns their access token and `User`.
pub async fn register(server: &TestServer, email: &str) -> (String, Value) {
    let response = server
        .post("/api/v1/auth/register")
        .json(&json!({ "email": email, "password": PASSWORD }))
        .await;
    assert_eq!(response.status_code(), 200, "register: {}", response.text());
    let body: Value = response.json();
    (access_token(&body), body["user"].clone())
}

/// An error answer: its status, and the contract's `{"detail": ...}` body.
pub fn assert_detail(response: &axum_test::TestResponse, status: u16, detail: &str) {
    assert_eq!(response.status_code(), status, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!({ "detail": detail }));
}

pub fn access_token(auth: &Value) -> String {
    auth["access_token"]
        .as_str()
        .expect("access_token in the response")
        .to_string()
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// Replaces a value that changes from run to run with `text`; a `null` stays
/// `null`, so snapshots still show what is unset.
pub fn placeholder(text: &'static str) -> insta::internals::Redaction {
    insta::dynamic_redaction(
        move |value, _path| {
            if value.is_nil() { value } else { text.into() }
        },
    )
}

/// `assert_json_snapshot!` with ids, tokens, codes and timestamps redacted;
/// `@"…"` after the value for an inline snapshot.
macro_rules! assert_redacted_snapshot {
    ($value:expr $(, @$snapshot:literal)?) => {
        insta::assert_json_snapshot!($value, {
            ".**.id" => placeholder("[uuid]"),
            ".**.owner_id" => placeholder("[uuid]"),
            ".**.user_id" => placeholder("[uuid]"),
            ".**.url" => placeholder("[url]"),
            ".**.profile_picture_url" => placeholder("[url]"),
            ".**.access_token" => placeholder("[token]"),
            ".**.refresh_token" => placeholder("[token]"),
            ".**.verification_code" => placeholder("[code]"),
            ".**.created_at" => placeholder("[timestamp]"),
            ".**.updated_at" => placeholder("[timestamp]"),
            ".**.archived_at" => placeholder("[timestamp]"),
            ".**.expires_at" => placeholder("[timestamp]"),
            ".**.access_token_expiration_date" => placeholder("[timestamp]"),
            ".**.refresh_token_expiration_date" => placeholder("[timestamp]"),
        } $(, @$snapshot)?)
    };
}
pub(crate) use assert_redacted_snapshot;

/// The last mail the stub mailer recorded for `to`, with quoted-printable
/// soft line breaks and `=3D` undone.
pub fn last_mail_to(ctx: &loco_rs::app::AppContext, to: &str) -> String {
    let messages = ctx
        .mailer
        .as_ref()
        .expect("stub mailer")
        .deliveries()
        .messages;
    let message = messages
        .iter()
        .rev()
        .find(|message| message.contains(&format!("To: {to}")))
        .unwrap_or_else(|| panic!("no mail to {to}"));
    message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The reset token of the last reset mail to `to`.
pub fn reset_token_mailed_to(ctx: &loco_rs::app::AppContext, to: &str) -> String {
    let mail = last_mail_to(ctx, to);
    let start =
        mail.find("reset-password?token=").expect("a reset link") + "reset-password?token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// The sign-in code of the last code mail to `to`.
pub fn code_mailed_to(ctx: &loco_rs::app::AppContext, to: &str) -> String {
    let mail = last_mail_to(ctx, to);
    let subject = mail
        .lines()
        .find_map(|line| line.strip_prefix("Subject: "))
        .expect("a subject");
    subject
        .split_whitespace()
        .next()
        .expect("the code opens the subject")
        .to_string()
}

/// Requests a sign-in code for `email` and returns it, read from the mail.
pub async fn request_code(
    server: &TestServer,
    ctx: &loco_rs::app::AppContext,
    email: &str,
) -> String {
    let response = server
        .post("/api/v1/auth/otp/request")
        .json(&json!({ "email": email }))
        .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    code_mailed_to(ctx, email)
}

/// Signs in with a code; returns the response.
pub async fn verify_code(server: &TestServer, email: &str, code: &str) -> axum_test::TestResponse {
    server
        .post("/api/v1/auth/otp/verify")
        .json(&json!({ "email": email, "code": code }))
        .await
}

/// A session of `user_id` whose sign-in was `minutes_ago`, as a refresh
/// keeps it: the access and refresh tokens both carry that sign-in time.
pub async fn session_signed_in(
    ctx: &loco_rs::app::AppContext,
    user_id: uuid::Uuid,
    minutes_ago: i64,
) -> backend::models::refresh_tokens::Session {
    let user = backend::models::users::Model::find_by_id(&ctx.db, user_id)
        .await
        .expect("user");
    let lineage = backend::models::refresh_tokens::Lineage {
        family_id: uuid::Uuid::new_v4(),
        auth_time: chrono::Utc::now().timestamp() - minutes_ago * 60,
    };
    let signer = &crate::support::app_state(ctx).signer;
    let session =
        backend::models::refresh_tokens::Model::next_in_session(&ctx.db, signer, &user, lineage)
            .await
            .expect("session");
    let origin = backend::models::security_events::Origin {
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        user_agent: String::new(),
    };
    backend::models::sessions::Model::open(
        &ctx.db,
        lineage.family_id,
        user_id,
        &origin,
        &session.refresh,
    )
    .await
    .expect("session row");
    session
}
