use std::collections::BTreeSet;

use backend::{
    app::App,
    controllers::{self, docs},
};
use loco_rs::app::Hooks;

use crate::support::{request, request_configured, request_with};
use serde_json::{Value, json};

use super::prepare_data::admin_token;

#[tokio::test]
async fn unknown_routes_are_404_with_a_detail() {
    request(|server, _ctx| async move {
        for path in [
            "/nothing",
            "/api/v1/nothing",
            "/api/v1/nothing/",
            "/api/v1/items/a/b/c",
        ] {
            let response = server.get(path).await;
            assert_eq!(response.status_code(), 404, "{path}");
            assert_eq!(response.json::<Value>(), json!({ "detail": "Not Found" }));
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_a_detail() {
    request(|server, _ctx| async move {
        for path in ["/api/v1/items", "/api/v1/items/"] {
            let response = server.patch(path).await;
            assert_eq!(response.status_code(), 405, "{path}");
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "Method Not Allowed" })
            );
        }
    })
    .await;
}

#[tokio::test]
async fn every_path_answers_with_and_without_its_trailing_slash() {
    request(|server, _ctx| async move {
        let token = admin_token(&server).await;
        for path in [
            "/api/v1/items",
            "/api/v1/items/",
            "/api/v1/users/me",
            "/api/v1/users/me/",
            "/api/v1/users?limit=1",
            "/api/v1/users/?limit=1",
        ] {
            let response = server.get(path).authorization_bearer(&token).await;
            assert_eq!(response.status_code(), 200, "{path}");
        }
        let created = server
            .post("/api/v1/items/")
            .authorization_bearer(&token)
            .json(&json!({ "name": "slash" }))
            .await;
        assert_eq!(created.status_code(), 200);
    })
    .await;
}

#[tokio::test]
async fn errors_follow_the_callers_accept_language() {
    request(|server, _ctx| async move {
        let french = server
            .get("/api/v1/users/me")
            .add_header("accept-language", "fr-CH, fr;q=0.9, en;q=0.8")
            .await;
        assert_eq!(french.status_code(), 401);
        assert_eq!(
            french.json::<Value>(),
            json!({ "detail": "Non authentifié" })
        );

        let unknown = server
            .get("/api/v1/users/me")
            .add_header("accept-language", "de")
            .await;
        assert_eq!(
            unknown.json::<Value>(),
            json!({ "detail": "Not authenticated" })
        );
    })
    .await;
}

/// The routes the app serves, every one documented.
const SERVED_ROUTES: &[&str] = &[
    "DELETE /api/v1/auth/delete-apple-review-team-otp",
    "DELETE /api/v1/auth/sessions/{id}",
    "DELETE /api/v1/files/{id}",
    "DELETE /api/v1/items/{id}",
    "DELETE /api/v1/items/{id}/archive",
    "DELETE /api/v1/users/me/archive",
    "DELETE /api/v1/users/{user_id}",
    "DELETE /api/v1/users/{user_id}/archive",
    "DELETE /api/v1/users/{user_id}/sessions",
    "GET /_health",
    "GET /_ping",
    "GET /.well-known/apple-app-site-association",
    "GET /.well-known/assetlinks.json",
    "GET /api/v1/users/me/passkeys",
    "PATCH /api/v1/users/me/passkeys/{id}",
    "DELETE /api/v1/users/me/passkeys/{id}",
    "POST /api/v1/users/me/passkeys/registration",
    "POST /api/v1/users/me/passkeys/registration/finish",
    "POST /api/v1/auth/passkey/options",
    "POST /api/v1/auth/passkey",
    "POST /api/v1/auth/2fa/passkey/options",
    "GET /api/v1/auth/apple-review-team-otp",
    "GET /api/v1/auth/sessions",
    "GET /api/v1/auth/{provider}/callback",
    "GET /api/v1/auth/{provider}/login",
    "POST /api/v1/auth/apple/callback",
    "POST /api/v1/auth/apple/notifications",
    "POST /api/v1/auth/{provider}/token",
    "GET /api/v1/files",
    "GET /api/v1/files/usage",
    "GET /api/v1/files/{id}",
    "GET /api/v1/files/{id}/download",
    "GET /api/v1/items",
    "GET /api/v1/items/{id}",
    "GET /api/v1/users",
    "GET /api/v1/users/me",
    "GET /api/v1/users/me/security-events",
    "GET /api/v1/users/{user_id}",
    "GET /api/v1/users/{user_id}/profile-picture/{file_id}",
    "GET /api/v1/users/{user_id}/security-events",
    "GET /api/v1/users/{user_id}/sessions",
    "POST /api/v1/auth/2fa/disable",
    "POST /api/v1/auth/2fa/enable",
    "POST /api/v1/auth/2fa/recovery-codes",
    "POST /api/v1/auth/2fa/setup",
    "POST /api/v1/auth/2fa/verify",
    "POST /api/v1/auth/generate-apple-review-team-otp",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/login/test-token",
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/otp/request",
    "POST /api/v1/auth/otp/verify",
    "POST /api/v1/auth/password-recovery/{email}",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/reset-password",
    "POST /api/v1/auth/sessions/end-others",
    "POST /api/v1/auth/sso/confirm",
    "POST /api/v1/files",
    "POST /api/v1/items",
    "POST /api/v1/items/admin",
    "POST /api/v1/users",
    "POST /api/v1/users/me/email/confirm",
    "POST /api/v1/users/me/password",
    "POST /api/v1/users/me/profile-picture",
    "POST /api/v1/utils/test-email",
    "PUT /api/v1/items/{id}",
    "PUT /api/v1/items/{id}/unarchive",
    "PUT /api/v1/users/me",
    "PUT /api/v1/users/{user_id}",
    "PUT /api/v1/users/{user_id}/unarchive",
];

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    request(|server, ctx| async move {
        let response = server.get("/api/v1/openapi.json").await;
        assert_eq!(response.status_code(), 200);
        let document: Value = response.json();
        assert_eq!(document["openapi"], "3.1.0");
        assert!(document["components"]["securitySchemes"]["bearer"].is_object());

        let mut documented = BTreeSet::new();
        for (path, operations) in document["paths"].as_object().expect("paths") {
            for method in operations.as_object().expect("operations").keys() {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
        let mut served = BTreeSet::new();
        for route in App::routes(&ctx).collect() {
            for method in &route.actions {
                served.insert(format!("{method} {}", route.uri));
            }
        }
        assert_eq!(documented, served);
        // The paths themselves are the contract: a changed or lost one shows
        // here. A resource added to the app adds routes without breaking it.
        let lost: Vec<_> = SERVED_ROUTES
            .iter()
            .filter(|route| !served.contains(**route))
            .collect();
        assert!(lost.is_empty(), "routes no longer served: {lost:?}");
        let listed = &document["paths"]["/api/v1/items"]["get"]["responses"]["200"];
        assert!(listed["headers"]["x-next-cursor"].is_object(), "{listed}");
        assert_eq!(
            docs::openapi(controllers::all(), "Backend")
                .paths
                .paths
                .len(),
            document["paths"]
                .as_object()
                .map_or(0, serde_json::Map::len)
        );
    })
    .await;
}

#[tokio::test]
async fn swagger_ui_is_served_at_docs() {
    request(|server, _ctx| async move {
        for path in ["/docs", "/docs/"] {
            let page = server.get(path).await;
            assert_eq!(page.status_code(), 200, "{path}");
            let content_type = page.headers()["content-type"].to_str().expect("ascii");
            assert!(content_type.starts_with("text/html"), "{content_type}");
            // Its files are named relatively, and resolve under /docs/.
            assert!(page.text().contains(r#"<base href="/docs/">"#), "{path}");
            assert!(page.text().contains(r#"src="./swagger-initializer.js""#));
        }
        let initializer = server.get("/docs/swagger-initializer.js").await;
        assert_eq!(initializer.status_code(), 200);
        assert!(initializer.text().contains("/api/v1/openapi.json"));
        let styles = server.get("/docs/swagger-ui.css").await;
        assert_eq!(styles.headers()["content-type"], "text/css");
        assert_eq!(server.get("/docs/nothing.js").await.status_code(), 404);

        let document = server.get("/api/v1/openapi.json").await;
        assert_eq!(document.headers()["content-type"], "application/json");
        assert_eq!(document.json::<Value>()["openapi"], "3.1.0");
    })
    .await;
}

/// What FastAPI's /docs gives a browser user: the project's name as the
/// title, and an Authorize dialog that signs in with an email and password.
#[tokio::test]
async fn the_docs_are_titled_and_sign_in_with_the_password_form() {
    let named = |settings: &mut Value| settings["project_name"] = json!("Acme <Shop>");
    request_with(named, |server, _ctx| async move {
        for path in ["/docs", "/docs/", "/docs/index.html"] {
            let page = server.get(path).await.text();
            assert!(
                page.contains("<title>Acme &lt;Shop&gt; - Swagger UI</title>"),
                "{path}: {page}"
            );
        }
        let document = server.get("/api/v1/openapi.json").await.json::<Value>();
        assert_eq!(document["info"]["title"], "Acme <Shop>");
        assert_eq!(
            document["components"]["securitySchemes"]["OAuth2PasswordBearer"],
            json!({
                "type": "oauth2",
                "flows": { "password": { "tokenUrl": "/api/v1/auth/login", "scopes": {} } }
            })
        );
        assert_eq!(
            document["paths"]["/api/v1/users/me"]["get"]["security"],
            json!([{ "bearer": [] }, { "OAuth2PasswordBearer": [] }])
        );
        assert!(
            document["paths"]["/api/v1/auth/register"]["post"]
                .get("security")
                .is_none(),
            "open routes ask for nothing"
        );
        // The form Swagger UI sends with what the dialog is given.
        let token = server
            .post("/api/v1/auth/login")
            .form(&[
                ("grant_type", "password"),
                ("username", "admin@example.com"),
                ("password", "Password1234"),
                ("scope", ""),
            ])
            .await;
        assert_eq!(token.status_code(), 200);
        assert_eq!(token.json::<Value>()["token_type"], "bearer");
    })
    .await;
}

#[tokio::test]
async fn input_that_no_database_takes_is_a_422() {
    request(|server, _ctx| async move {
        let token = admin_token(&server).await;
        let nul_body = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "a\u{0}b" }))
            .await;
        assert_eq!(nul_body.status_code(), 422);
        let nul_form = server
            .post("/api/v1/auth/login")
            .content_type("application/x-www-form-urlencoded")
            .text("username=a%00b&password=x")
            .await;
        assert_eq!(nul_form.status_code(), 422);
        let nul_query = server
            .get("/api/v1/items?limit=1%00")
            .authorization_bearer(&token)
            .await;
        assert_eq!(nul_query.status_code(), 422);
        let nul_path = server
            .post("/api/v1/auth/password-recovery/a%00b@example.com")
            .await;
        assert_eq!(nul_path.status_code(), 422);
        let huge_skip = server
            .get("/api/v1/items?skip=9223372036854775808")
            .authorization_bearer(&token)
            .await;
        assert_eq!(huge_skip.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn every_answer_carries_the_hardening_headers() {
    request(|server, _ctx| async move {
        for path in ["/_ping", "/api/v1/users/me", "/api/v1/nothing"] {
            let response = server.get(path).await;
            let headers = response.headers();
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
            assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(
                headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
                "{path}"
            );
            assert!(
                !headers.contains_key("strict-transport-security"),
                "HSTS is for production, behind TLS"
            );
            assert!(!headers.contains_key("x-powered-by"), "{path}: no banner");
            assert!(!headers.contains_key("server"), "{path}: no banner");
        }
        let docs = server.get("/docs/").await;
        let policy = docs.headers()["content-security-policy"]
            .to_str()
            .expect("ascii");
        assert!(
            policy.contains("script-src 'self' 'unsafe-inline'"),
            "{policy}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_json_array_is_not_an_object() {
    request(|server, _ctx| async move {
        let response = server
            .post("/api/v1/auth/register")
            .json(&json!(["jane@example.com", "correct horse battery"]))
            .await;
        assert_eq!(response.status_code(), 422);
        assert_eq!(
            response.json::<Value>()["detail"][0]["type"],
            "model_attributes_type"
        );
    })
    .await;
}

#[tokio::test]
async fn a_body_over_a_megabyte_is_413() {
    request(|server, _ctx| async move {
        let token = admin_token(&server).await;
        let response = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "big", "description": "x".repeat(1024 * 1024) }))
            .await;
        assert_eq!(response.status_code(), 413);
    })
    .await;
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_at_once_and_recovers() {
    let one_connection = |config: &mut loco_rs::config::Config| {
        config.database.min_connections = 1;
        config.database.max_connections = 1;
        config.database.acquire_timeout = Some(200);
    };
    request_configured(one_connection, |server, ctx| async move {
        use sea_orm::TransactionTrait;
        let token = admin_token(&server).await;
        let held = ctx.db.begin().await.expect("the only connection");
        let refused = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(refused.status_code(), 503);
        assert_eq!(refused.headers()["retry-after"], "1");
        assert_eq!(
            refused.json::<Value>(),
            json!({ "detail": "Service temporarily unavailable" })
        );
        held.rollback().await.expect("released");
        let served = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(served.status_code(), 200);
    })
    .await;
}

/// `cargo loco start` builds more than one context from one configuration.
#[tokio::test]
async fn a_context_builds_again_from_the_configuration_it_leaves() {
    request(|_server, ctx| async move {
        App::after_context(ctx.clone())
            .await
            .expect("the settings are still there");
    })
    .await;
}

#[tokio::test]
async fn a_request_past_its_time_is_408_with_a_detail() {
    let one_millisecond = |config: &mut loco_rs::config::Config| {
        let timeout = serde_json::from_value(json!({ "enable": true, "timeout": 1 }));
        config.server.middlewares.timeout_request = Some(timeout.expect("a timeout"));
    };
    request_configured(one_millisecond, |server, _ctx| async move {
        // A password check alone takes longer than a millisecond.
        let response = server
            .post("/api/v1/auth/login")
            .form(&[
                ("username", "admin@example.com"),
                ("password", "Password1234"),
            ])
            .await;
        assert_eq!(response.status_code(), 408);
        assert_eq!(
            response.json::<Value>(),
            json!({ "detail": "Request timed out" })
        );
    })
    .await;
}
