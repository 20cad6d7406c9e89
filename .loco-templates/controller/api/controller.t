{#- `cargo loco generate controller <name> [actions...] [--auth]`: handlers
    under /api/v1/<plural>, documented for OpenAPI and registered in
    `controllers::all()`, answering JSON; with `--auth`, for signed-in users. -#}
{%- set plural = name | plural | snake_case -%}
{%- set pascal = name | pascal_case -%}
to: "src/controllers/{{plural}}.rs"
skip_exists: true
message: "Controller `{{plural}}` added: /api/v1/{{plural}}{% if auth %}, for signed-in users{% endif %}."
injections:
- into: "src/controllers/mod.rs"
  before: "inject-above: controller modules"
  skip_if: "(?m)^pub mod {{plural}};"
  content: "pub mod {{plural}};"
- into: "src/controllers/mod.rs"
  before: "inject-above: routes"
  skip_if: "{{plural}}::routes\\(\\),"
  content: "        {{plural}}::routes(),"
---
//! `/{{plural}}`: written by `cargo loco generate controller`. Business
//! rules belong in a model; a handler reads the request, calls it, answers.

use axum::Json;
use loco_rs::prelude::*;
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::docs::ApiRoutes;
{%- if auth %}
use super::extractors::CurrentUser;
use crate::errors::{ApiResult, Detail};
{%- else %}
use crate::errors::ApiResult;
{%- endif %}

/// `GET /api/v1/{{plural}}`.
#[utoipa::path(get, path = "/api/v1/{{plural}}", tag = "{{plural}}",
{%- if auth %} security(("bearer" = [])),{% endif %}
    responses(
        (status = 200, description = "{{pascal}}"),
{%- if auth %}
        (status = 401, body = Detail),
{%- endif %}
    ))]
#[debug_handler(state = AppContext)]
pub async fn index({% if auth %}CurrentUser(_user): CurrentUser{% endif %}) -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}
{% for action in actions %}
/// `{{action.verb | upper_case}} /api/v1/{{plural}}/{{action.name}}`.
#[utoipa::path({{action.verb}}, path = "/api/v1/{{plural}}/{{action.name}}", tag = "{{plural}}",
{%- if auth %} security(("bearer" = [])),{% endif %}
    responses(
        (status = 200, description = "{{action.name}}"),
{%- if auth %}
        (status = 401, body = Detail),
{%- endif %}
    ))]
#[debug_handler(state = AppContext)]
pub async fn {{action.name}}({% if auth %}CurrentUser(_user): CurrentUser{% endif %}) -> ApiResult<Json<Value>> {
    Ok(Json(json!({})))
}
{% endfor %}
pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(index))
{%- for action in actions %}
        .route(routes!({{action.name}}))
{%- endfor %}
}
