{#- `cargo loco generate scaffold`: the controller, in the shape of `items`
    (owner-scoped, admins manage everyone's, archiving, skip/limit paging, the
    contract's errors, documented), routed under /api/v1 and listed in the
    OpenAPI document through `controllers::all()`. Loco offers no template for
    a view: it is written as a section of the controller's file, which the
    binary moves to `src/views/<plural>.rs` after `generate`
    (`src/generators.rs`). -#}
{%- set plural = snake_plural -%}
{%- set pascal = pascal_singular -%}
{%- set snake = snake_singular -%}
{%- set upper = snake_singular | upper_case -%}
{%- set borrows = false -%}
{%- for field in fields -%}{%- if field.rust_type is containing("String") -%}{%- set_global borrows = true -%}{%- endif -%}{%- endfor -%}
{%- if borrows %}{% set response = pascal ~ "Response<'a>" %}{% set lifetime = "<'a>" %}{% else %}{% set response = pascal ~ "Response" %}{% set lifetime = "" %}{% endif -%}
to: "src/controllers/{{plural}}.rs"
skip_exists: true
message: "Controller for `{{pascal}}` added: /api/v1/{{plural}}, in the OpenAPI document at /api/v1/openapi.json. Run `cargo test`, then `cargo loco start`."
injections:
- into: "src/controllers/mod.rs"
  before: "inject-above: controller modules"
  skip_if: "(?m)^pub mod {{plural}};"
  content: "pub mod {{plural}};"
- into: "src/controllers/mod.rs"
  before: "inject-above: routes"
  skip_if: "{{plural}}::routes\\(\\),"
  content: "        {{plural}}::routes(),"
- into: "src/errors/msg.rs"
  before: "inject-above: messages"
  skip_if: "pub const {{upper}}_NOT_FOUND"
  content: "pub const {{upper}}_NOT_FOUND: &str = \"{{pascal}} not found\";"
- into: "assets/i18n/fr.json"
  after: "^\\{$"
  skip_if: "\"{{pascal}} not found\""
  content: "  \"{{pascal}} not found\": \"{{pascal}} introuvable\","
- into: "src/views/mod.rs"
  append: true
  skip_if: "(?m)^pub mod {{plural}};"
  content: |

    /// Written by `cargo loco generate`.
    pub mod {{plural}};
---
//! `/{{plural}}`: written by `cargo loco generate`, in the shape of `/items`.
//! Each user sees and changes their own; admins see and change everyone's.

use axum::{Json, response::IntoResponse};
use loco_rs::prelude::*;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, Caller, CurrentUser, Db, JsonBody, PathParams, QueryParams},
};
use crate::{
    errors::{ApiResult, Detail, ModelResultExt, ValidationDetail, msg},
    models::{
        access::OwnerParam,
        pagination::Pagination,
        users,
        {{plural}}::{self, Archived, {{pascal}}Create, {{pascal}}Update},
    },
    views::{self, {{plural}}::{{pascal}}Response},
};

fn render(row: &{{plural}}::Model) -> Response {
    Json({{pascal}}Response::from(row)).into_response()
}

/// The {{snake}} `id` with its caller, read in one query: 401 when the caller is
/// signed out, then 404 or 403 as `managed_by` rules.
async fn managed(
    db: &DatabaseConnection,
    caller: &Caller,
    id: Uuid,
    archived: Archived,
) -> ApiResult<{{plural}}::Model> {
    let (user, found) = caller
        .user_with::<{{plural}}::Entity>(db, {{plural}}::Model::picked(id, archived))
        .await?;
    {{plural}}::Model::managed_by(found, &user).or_not_found(msg::{{upper}}_NOT_FOUND)
}

/// The caller's {{plural}} (everyone's for an admin), oldest first.
#[utoipa::path(get, path = "/api/v1/{{plural}}", tag = "{{plural}}",
    security(("bearer" = [])), params(Pagination),
    responses(
        (status = 200, body = [{{pascal}}Response], headers(("x-next-cursor" = String,
            description = "On a full page: the cursor of the page after"))), (status = 401, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn list(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    QueryParams(page): QueryParams<Pagination>,
) -> ApiResult<Response> {
    let rows = {{plural}}::Model::list_for(&db, &user, &page).await?;
    let next = page.next(&rows, |row| (row.created_at, row.id));
    Ok(views::page::render(rows.iter().map({{pascal}}Response::from).collect(), next))
}

/// Creates a {{snake}} owned by the caller.
#[utoipa::path(post, path = "/api/v1/{{plural}}", tag = "{{plural}}",
    security(("bearer" = [])), request_body = {{pascal}}Create,
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 409, description = "A unique field's value is taken", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn create(
    State(Db(db)): State<Db>,
    CurrentUser(user): CurrentUser,
    JsonBody(params): JsonBody<{{pascal}}Create>,
) -> ApiResult<Response> {
    let row = {{plural}}::Model::create(&db, user.id, &params).await?;
    Ok(render(&row))
}

/// Creates a {{snake}} for another user.
#[utoipa::path(post, path = "/api/v1/{{plural}}/admin", tag = "{{plural}}",
    security(("bearer" = [])), params(OwnerParam), request_body = {{pascal}}Create,
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, description = "User not found", body = Detail),
        (status = 409, description = "A unique field's value is taken", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn create_for_user(
    State(Db(db)): State<Db>,
    AdminUser(_admin): AdminUser,
    QueryParams(owner): QueryParams<OwnerParam>,
    JsonBody(params): JsonBody<{{pascal}}Create>,
) -> ApiResult<Response> {
    let owner = users::Model::find_by_id(&db, owner.user_id)
        .await
        .or_not_found(msg::USER_NOT_FOUND)?;
    let row = {{plural}}::Model::create(&db, owner.id, &params).await?;
    Ok(render(&row))
}

/// One {{snake}}.
#[utoipa::path(get, path = "/api/v1/{{plural}}/{id}", tag = "{{plural}}",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn show(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let row = managed(&db, &caller, id, Archived::Excluded).await?;
    Ok(render(&row))
}

/// Changes the fields present in the body.
#[utoipa::path(put, path = "/api/v1/{{plural}}/{id}", tag = "{{plural}}",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = {{pascal}}Update,
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 409, description = "A unique field's value is taken", body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn update(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<{{pascal}}Update>,
) -> ApiResult<Response> {
    let row = managed(&db, &caller, id, Archived::Excluded).await?;
    let row = row.into_active_model().apply_update(&db, &changes).await?;
    Ok(render(&row))
}

/// Deletes a {{snake}} for good and returns what it was.
#[utoipa::path(delete, path = "/api/v1/{{plural}}/{id}", tag = "{{plural}}",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn destroy(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let row = managed(&db, &caller, id, Archived::Included).await?;
    let row = row.destroy(&db).await?;
    Ok(render(&row))
}

/// Archives (hides) a {{snake}}.
#[utoipa::path(delete, path = "/api/v1/{{plural}}/{id}/archive", tag = "{{plural}}",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn archive(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let row = managed(&db, &caller, id, Archived::Included).await?;
    let row = row.into_active_model().archive(&db).await?;
    Ok(render(&row))
}

/// Brings an archived {{snake}} back.
#[utoipa::path(put, path = "/api/v1/{{plural}}/{id}/unarchive", tag = "{{plural}}",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = {{pascal}}Response), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 404, body = Detail),
        (status = 422, body = ValidationDetail),
    ))]
#[debug_handler(state = AppContext)]
pub async fn unarchive(
    State(Db(db)): State<Db>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> ApiResult<Response> {
    let row = managed(&db, &caller, id, Archived::Included).await?;
    let row = row.into_active_model().unarchive(&db).await?;
    Ok(render(&row))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .route(routes!(list, create))
        .route(routes!(create_for_user))
        .route(routes!(show, update, destroy))
        .route(routes!(archive))
        .route(routes!(unarchive))
}
// @generated-file src/views/{{plural}}.rs
//! `{{pascal}}`, as answered. Written by `cargo loco generate`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::{{plural}};

/// `{{pascal}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct {{response}} {
    pub id: Uuid,
{%- for field in fields %}
{%- if field.rust_type == "String" %}
    pub {{field.field_name}}: &'a str,
{%- elif field.rust_type == "Option<String>" %}
    pub {{field.field_name}}: Option<&'a str>,
{%- elif field.rust_type is containing("DateTimeWithTimeZone") %}
    pub {{field.field_name}}: {% if field.nullable %}Option<DateTime<Utc>>{% else %}DateTime<Utc>{% endif %},
{%- elif field.rust_type is containing("Date") %}
    pub {{field.field_name}}: {% if field.nullable %}Option<chrono::NaiveDate>{% else %}chrono::NaiveDate{% endif %},
{%- else %}
    pub {{field.field_name}}: {{field.rust_type}},
{%- endif %}
{%- endfor %}
    pub owner_id: Uuid,
    pub archived: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl{{lifetime}} From<&{% if borrows %}'a {% endif %}{{plural}}::Model> for {{response}} {
    fn from(row: &{% if borrows %}'a {% endif %}{{plural}}::Model) -> Self {
        Self {
            id: row.id,
{%- for field in fields %}
{%- if field.rust_type == "String" %}
            {{field.field_name}}: &row.{{field.field_name}},
{%- elif field.rust_type == "Option<String>" %}
            {{field.field_name}}: row.{{field.field_name}}.as_deref(),
{%- elif field.rust_type is containing("DateTimeWithTimeZone") %}
            {{field.field_name}}: row.{{field.field_name}}{% if field.nullable %}.map(Into::into){% else %}.into(){% endif %},
{%- else %}
            {{field.field_name}}: row.{{field.field_name}},
{%- endif %}
{%- endfor %}
            owner_id: row.owner_id,
            archived: row.is_archived(),
            archived_at: row.archived_at.map(Into::into),
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}
// @end-generated-file
