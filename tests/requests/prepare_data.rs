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

/// An admin deletes the user of `auth` (a sign-in's answer) for good.
pub async fn deleted_by_an_admin(server: &TestServer, auth: &Value) -> axum_test::TestResponse {
    let admin = admin_token(server).await;
    server
        .delete(&format!("/api/v1/users/{}", id_of(&auth["user"])))
        .authorization_bearer(&admin)
        .await
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
            ".**.deletes_at" => placeholder("[timestamp]"),
            ".**.requested_at" => placeholder("[timestamp]"),
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

/// The test server's peer (loopback, or unspecified without connection
/// info) as a trusted proxy: a request names its client, its source, in
/// `X-Forwarded-For`.
pub fn behind_a_proxy(settings: &mut Value) {
    settings["trusted_proxies"] = json!("127.0.0.0/8, ::1, 0.0.0.0");
}

/// Signs in with a code sent from `source` (with `behind_a_proxy`).
pub async fn verify_code_from(
    server: &TestServer,
    source: &str,
    email: &str,
    code: &str,
) -> axum_test::TestResponse {
    server
        .post("/api/v1/auth/otp/verify")
        .add_header("x-forwarded-for", source)
        .json(&json!({ "email": email, "code": code }))
        .await
}

/// A code other than `code`.
pub fn wrong_code(code: &str) -> &'static str {
    if code == "111111" { "222222" } else { "111111" }
}

/// Wrong codes for `email` from each of `sources` (with `behind_a_proxy`),
/// as many as a source's budget, on fresh codes; returns the statuses,
/// source by source.
pub async fn wrong_codes_from(
    server: &TestServer,
    ctx: &loco_rs::app::AppContext,
    email: &str,
    sources: &[&str],
) -> Vec<Vec<u16>> {
    use backend::models::{code_budgets::SOURCE_FAILURES, one_time_passwords::MAX_ATTEMPTS};
    let mut statuses = Vec::new();
    for source in sources {
        let mut of_source = Vec::new();
        let mut code = String::new();
        for tried in 0..SOURCE_FAILURES {
            // A code takes five tries; past them, tries no longer count.
            if tried % MAX_ATTEMPTS == 0 {
                code = request_code(server, ctx, email).await;
            }
            let response = verify_code_from(server, source, email, wrong_code(&code)).await;
            of_source.push(response.status_code().as_u16());
        }
        statuses.push(of_source);
    }
    statuses
}

/// Whether each source's wrong codes were refused as wrong (401) but the
/// last, which spent a budget (429).
pub fn each_spent_a_budget(statuses: &[Vec<u16>]) -> bool {
    statuses
        .iter()
        .all(|of_source| match of_source.split_last() {
            Some((429, before)) => before.iter().all(|status| *status == 401),
            _ => false,
        })
}

/// The seconds a 429 says to wait.
pub fn retry_after(response: &axum_test::TestResponse) -> u64 {
    assert_eq!(response.status_code(), 429, "{}", response.text());
    response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .expect("a Retry-After in seconds")
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

/// The kinds of the security events of `user` (a `User`), newest first.
pub async fn event_kinds(ctx: &loco_rs::app::AppContext, user: &Value) -> Vec<String> {
    let id = id_of(user).parse().expect("a uuid");
    let page = backend::models::pagination::Pagination::default();
    backend::models::security_events::Model::list_for(&ctx.db, id, &page)
        .await
        .expect("events")
        .into_iter()
        .map(|event| event.kind)
        .collect()
}
