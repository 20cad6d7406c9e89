{#- The controller's request tests: each route answers, and is documented. -#}
{%- set plural = name | plural | snake_case -%}
to: "tests/requests/{{plural}}.rs"
skip_exists: true
message: "Request tests for `/{{plural}}` added in tests/requests/{{plural}}.rs."
injections:
- into: "tests/requests/mod.rs"
  append: true
  skip_if: "(?m)^mod {{plural}};"
  content: "mod {{plural}};"
---
//! `/api/v1/{{plural}}`: written by `cargo loco generate controller`.

use serde_json::Value;
{%- if auth %}

use super::prepare_data::admin_token;
{%- endif %}
use crate::support::request;

#[tokio::test]
async fn each_route_answers_and_is_documented() {
    request(|server, _ctx| async move {
{%- if auth %}
        let token = admin_token(&server).await;
{%- endif %}
        for (method, path) in [
            ("get", "/api/v1/{{plural}}"),
{%- for action in actions %}
            ("{{action.verb}}", "/api/v1/{{plural}}/{{action.name}}"),
{%- endfor %}
        ] {
            let call = |server: &axum_test::TestServer| match method {
                "post" => server.post(path),
                "put" => server.put(path),
                "delete" => server.delete(path),
                _ => server.get(path),
            };
{%- if auth %}
            assert_eq!(call(&server).await.status_code(), 401, "{method} {path}");
            let response = call(&server).authorization_bearer(&token).await;
{%- else %}
            let response = call(&server).await;
{%- endif %}
            assert_eq!(response.status_code(), 200, "{method} {path}");
            let document: Value = server.get("/api/v1/openapi.json").await.json();
            assert!(document["paths"][path][method].is_object(), "{method} {path}");
        }
    })
    .await;
}
