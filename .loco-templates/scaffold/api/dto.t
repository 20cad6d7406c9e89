{#- `cargo loco generate scaffold`: request tests of the resource through the
    router, in the shape of `tests/requests/items.rs`: every route, its error
    answers, and the JSON as a snapshot. -#}
{%- set plural = snake_plural -%}
{%- set pascal = pascal_singular -%}
{%- set path = "/api/v1/" ~ snake_plural -%}
{%- set entries = ['"archived": false', '"archived_at": null', '"created_at": "[timestamp]"', '"id": "[uuid]"', '"owner_id": "[uuid]"', '"updated_at": "[timestamp]"'] -%}
{%- set has_nullable = false -%}
{%- set has_required = false -%}
{%- for field in fields -%}
{%- if field.rust_type is containing("String") %}{% set value = '"' ~ field.field_name ~ ' 0"' %}
{%- elif field.rust_type is containing("i64") %}{% set value = "0" %}
{%- elif field.rust_type is containing("bool") %}{% set value = "true" %}
{%- elif field.rust_type is containing("Uuid") %}{% set value = '"00000000-0000-4000-8000-000000000000"' %}
{%- elif field.rust_type is containing("DateTimeWithTimeZone") %}{% set value = '"2026-01-01T03:04:05Z"' %}
{%- elif field.rust_type is containing("Date") %}{% set value = '"2026-01-01"' %}
{%- else %}{% set value = "0.5" %}
{%- endif %}
{%- set_global entries = entries | concat(with='"' ~ field.field_name ~ '": ' ~ value) -%}
{%- if field.nullable %}{% set_global has_nullable = true %}{% else %}{% set_global has_required = true %}{% endif -%}
{%- endfor -%}
to: "tests/requests/{{plural}}.rs"
skip_exists: true
message: "Request tests for `/{{plural}}` added in tests/requests/{{plural}}.rs."
injections:
- into: "tests/requests/mod.rs"
  append: true
  skip_if: "(?m)^mod {{plural}};"
  content: "mod {{plural}};"
---
//! `{{path}}`: written by `cargo loco generate`, in the shape of
//! `tests/requests/items.rs`.

use axum_test::TestServer;
use serde_json::{Value, json};

use super::prepare_data::{admin_token, assert_redacted_snapshot, id_of, placeholder, register};
use crate::support::request;

/// The `n`th sample body: every field set, and different for each `n`.
fn body(n: u8) -> Value {
    json!({
{%- for field in fields %}
{%- if field.rust_type is containing("String") %}
        "{{field.field_name}}": format!("{{field.field_name}} {n}"),
{%- elif field.rust_type is containing("i64") %}
        "{{field.field_name}}": n,
{%- elif field.rust_type is containing("bool") %}
        "{{field.field_name}}": n.is_multiple_of(2),
{%- elif field.rust_type is containing("Uuid") %}
        "{{field.field_name}}": format!("00000000-0000-4000-8000-{n:012}"),
{%- elif field.rust_type is containing("DateTimeWithTimeZone") %}
        "{{field.field_name}}": format!("2026-01-{:02}T03:04:05Z", n + 1),
{%- elif field.rust_type is containing("Date") %}
        "{{field.field_name}}": format!("2026-01-{:02}", n + 1),
{%- else %}
        "{{field.field_name}}": f64::from(n) + 0.5,
{%- endif %}
{%- endfor %}
    })
}

async fn create(server: &TestServer, token: &str, body: Value) -> Value {
    let response = server
        .post("{{path}}")
        .authorization_bearer(token)
        .json(&body)
        .await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    response.json()
}

fn ids(response: &axum_test::TestResponse) -> Vec<String> {
    response
        .json::<Vec<Value>>()
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test]
async fn create_and_read_a_{{snake_singular}}() {
    request(|server, _ctx| async move {
        let (token, user) = register(&server, "jane@example.com").await;
        let created = create(&server, &token, body(0)).await;
        assert_eq!(created["owner_id"], user["id"]);
        assert_redacted_snapshot!(created.clone(), @r#"
        {
          {{ entries | sort | join(sep=",
          ") }}
        }
        "#);

        let shown = server
            .get(&format!("{{path}}/{}", id_of(&created)))
            .authorization_bearer(&token)
            .await;
        assert_eq!(shown.status_code(), 200);
        assert_eq!(shown.json::<Value>(), created);
    })
    .await;
}

#[tokio::test]
async fn {{plural}}_require_a_signed_in_user() {
    request(|server, _ctx| async move {
        let id = uuid::Uuid::new_v4();
        for request in [
            server.get("{{path}}"),
            server.post("{{path}}").json(&body(0)),
            server.get(&format!("{{path}}/{id}")),
            server.put(&format!("{{path}}/{id}")).json(&json!({})),
            server.delete(&format!("{{path}}/{id}")),
            server.delete(&format!("{{path}}/{id}/archive")),
            server.put(&format!("{{path}}/{id}/unarchive")),
            server
                .post(&format!("{{path}}/admin?user_id={id}"))
                .json(&body(0)),
        ] {
            let response = request.await;
            assert_eq!(response.status_code(), 401);
            assert_eq!(response.json::<Value>(), json!({ "detail": "Not authenticated" }));
        }
    })
    .await;
}

#[tokio::test]
async fn lists_are_per_owner_oldest_first_and_admins_see_all() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        let mut janes = Vec::new();
        for n in 0..3 {
            janes.push(id_of(&create(&server, &jane, body(n)).await));
        }
        let johns = create(&server, &john, body(3)).await;

        let mine = server.get("{{path}}").authorization_bearer(&jane).await;
        assert_eq!(ids(&mine), janes);
        let page = server
            .get("{{path}}?skip=1&limit=1")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(ids(&page), [janes[1].clone()]);
        let theirs = server.get("{{path}}").authorization_bearer(&john).await;
        assert_eq!(ids(&theirs), [id_of(&johns)]);
        let all = server.get("{{path}}").authorization_bearer(&admin).await;
        assert_eq!(all.json::<Vec<Value>>().len(), 4);

        let too_many = server
            .get("{{path}}?limit=1001")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(too_many.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn someone_elses_is_forbidden_a_missing_one_not_found_and_a_bad_id_422() {
    request(|server, _ctx| async move {
        let (jane, _) = register(&server, "jane@example.com").await;
        let (john, _) = register(&server, "john@example.com").await;
        let id = id_of(&create(&server, &jane, body(0)).await);
        for request in [
            server.get(&format!("{{path}}/{id}")),
            server.put(&format!("{{path}}/{id}")).json(&json!({})),
            server.delete(&format!("{{path}}/{id}")),
            server.delete(&format!("{{path}}/{id}/archive")),
            server.put(&format!("{{path}}/{id}/unarchive")),
        ] {
            let response = request.authorization_bearer(&john).await;
            assert_eq!(response.status_code(), 403);
            assert_eq!(
                response.json::<Value>(),
                json!({ "detail": "Current user do not have enough privilege" })
            );
        }

        let missing = format!("{{path}}/{}", uuid::Uuid::new_v4());
        let response = server.get(&missing).authorization_bearer(&jane).await;
        assert_eq!(response.status_code(), 404);
        assert_eq!(response.json::<Value>(), json!({ "detail": "{{pascal}} not found" }));
        server
            .put("/api/v1/users/me")
            .authorization_bearer(&jane)
            .json(&json!({ "language": "fr" }))
            .await
            .assert_status_ok();
        let french = server.get(&missing).authorization_bearer(&jane).await;
        assert_eq!(french.json::<Value>(), json!({ "detail": "{{pascal}} introuvable" }));

        let not_an_id = server
            .get("{{path}}/not-a-uuid")
            .authorization_bearer(&jane)
            .await;
        assert_eq!(not_an_id.status_code(), 422);
    })
    .await;
}

#[tokio::test]
async fn bad_bodies_are_422_and_store_nothing() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let mut bodies = vec![json!([]), json!("text")];
{%- if has_required %}
        bodies.push(json!({}));
{%- endif %}
{%- for field in fields %}
{%- if field.rust_type is containing("String") %}
        let mut too_long = body(0);
        too_long["{{field.field_name}}"] = json!("x".repeat({% if field.input_kind == "textarea" %}10_001{% else %}256{% endif %}));
        bodies.push(too_long);
{%- endif %}
{%- endfor %}
        for bad in bodies {
            let response = server
                .post("{{path}}")
                .authorization_bearer(&token)
                .json(&bad)
                .await;
            assert_eq!(response.status_code(), 422, "{bad}");
            assert!(response.json::<Value>()["detail"].is_array(), "{bad}");
        }
        let listed = server.get("{{path}}").authorization_bearer(&token).await;
        assert!(ids(&listed).is_empty());
    })
    .await;
}

#[tokio::test]
async fn update_changes_only_the_fields_sent() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let created = create(&server, &token, body(0)).await;
        let path = format!("{{path}}/{}", id_of(&created));
        let unchanged = server
            .put(&path)
            .authorization_bearer(&token)
            .json(&json!({}))
            .await;
        assert_eq!(unchanged.status_code(), 200);
        let unchanged: Value = unchanged.json();
{%- for field in fields %}
        assert_eq!(unchanged["{{field.field_name}}"], created["{{field.field_name}}"]);
{%- endfor %}

        let changed = server
            .put(&path)
            .authorization_bearer(&token)
            .json(&body(1))
            .await;
        assert_eq!(changed.status_code(), 200);
        let changed: Value = changed.json();
{%- for field in fields %}
        assert_eq!(changed["{{field.field_name}}"], body(1)["{{field.field_name}}"]);
{%- endfor %}
{%- if has_nullable %}

        let cleared = server
            .put(&path)
            .authorization_bearer(&token)
            .json(&json!({
{%- for field in fields %}{% if field.nullable %}
                "{{field.field_name}}": null,
{%- endif %}{% endfor %}
            }))
            .await;
        assert_eq!(cleared.status_code(), 200);
        let cleared: Value = cleared.json();
{%- for field in fields %}{% if field.nullable %}
        assert_eq!(cleared["{{field.field_name}}"], Value::Null);
{%- endif %}{% endfor %}
{%- endif %}
    })
    .await;
}

#[tokio::test]
async fn archived_ones_disappear_until_unarchived() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let id = id_of(&create(&server, &token, body(0)).await);

        let archived = server
            .delete(&format!("{{path}}/{id}/archive"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(archived.status_code(), 200);
        assert_eq!(archived.json::<Value>()["archived"], true);
        let hidden = server
            .get(&format!("{{path}}/{id}"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(hidden.status_code(), 404);
        let listed = server.get("{{path}}").authorization_bearer(&token).await;
        assert!(ids(&listed).is_empty());

        let back = server
            .put(&format!("{{path}}/{id}/unarchive"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(back.status_code(), 200);
        assert_eq!(back.json::<Value>()["archived"], false);
        let listed = server.get("{{path}}").authorization_bearer(&token).await;
        assert_eq!(ids(&listed), [id]);
    })
    .await;
}

#[tokio::test]
async fn delete_removes_it_and_returns_it() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let created = create(&server, &token, body(0)).await;
        let path = format!("{{path}}/{}", id_of(&created));
        let deleted = server.delete(&path).authorization_bearer(&token).await;
        assert_eq!(deleted.status_code(), 200);
        assert_eq!(deleted.json::<Value>(), created);
        let gone = server.get(&path).authorization_bearer(&token).await;
        assert_eq!(gone.status_code(), 404);
    })
    .await;
}

#[tokio::test]
async fn admins_create_and_manage_those_of_other_users() {
    request(|server, _ctx| async move {
        let admin = admin_token(&server).await;
        let (token, user) = register(&server, "jane@example.com").await;
        let created = server
            .post(&format!("{{path}}/admin?user_id={}", id_of(&user)))
            .authorization_bearer(&admin)
            .json(&body(0))
            .await;
        assert_eq!(created.status_code(), 200);
        let created: Value = created.json();
        assert_eq!(created["owner_id"], user["id"]);
        let mine = server.get("{{path}}").authorization_bearer(&token).await;
        assert_eq!(ids(&mine), [id_of(&created)]);
        let edited = server
            .put(&format!("{{path}}/{}", id_of(&created)))
            .authorization_bearer(&admin)
            .json(&body(1))
            .await;
        assert_eq!(edited.status_code(), 200);

        let unknown = server
            .post(&format!("{{path}}/admin?user_id={}", uuid::Uuid::new_v4()))
            .authorization_bearer(&admin)
            .json(&body(0))
            .await;
        assert_eq!(unknown.status_code(), 404);
        assert_eq!(unknown.json::<Value>(), json!({ "detail": "User not found" }));
        let customer = server
            .post(&format!("{{path}}/admin?user_id={}", id_of(&user)))
            .authorization_bearer(&token)
            .json(&body(0))
            .await;
        assert_eq!(customer.status_code(), 403);
    })
    .await;
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    request(|server, _ctx| async move {
        let document: Value = server.get("/api/v1/openapi.json").await.json();
        for path in ["{{path}}", "{{path}}/admin", "{{path}}/{id}", "{{path}}/{id}/archive", "{{path}}/{id}/unarchive"] {
            assert!(document["paths"][path].is_object(), "{path}");
        }
        assert!(document["components"]["schemas"]["{{pascal}}Response"].is_object());
    })
    .await;
}
