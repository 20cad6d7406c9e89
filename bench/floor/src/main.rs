//! The same-work floor (a copy of ../shared/bench-floor whose item list sends the
//! API's statement of today, and names the next page as the API does): the API's hot routes with nothing but the work itself. Each route
//! checks the same HS256 access token, runs the statements the API sends to PostgreSQL
//! (text captured from the server's statement log), and answers the same JSON. What the
//! API spends beyond this is framework, middleware and ORM.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{
    FromRow, Row,
    postgres::{PgPool, PgPoolOptions, PgRow},
};
use std::sync::{Arc, LazyLock};
use uuid::Uuid;

// The statements, as the API sends them (SeaORM 2, PostgreSQL backend).
const USER_COLS: &str = r#""users"."created_at", "users"."updated_at", "users"."id", "users"."email", "users"."hashed_password", "users"."first_name", "users"."last_name", "users"."language", "users"."role", "users"."provider", "users"."provider_id", "users"."confirmed", "users"."archived_at", "users"."token_version", "users"."pending_email", "users"."two_factor_secret", "users"."two_factor_enabled", "users"."two_factor_last_step", "users"."profile_picture_id""#;
const USER_IN_SESSION: &str = r#" FROM "users" WHERE "users"."id" = $1 AND "users"."archived_at" IS NULL AND EXISTS(SELECT $2 FROM "sessions" WHERE "sessions"."id" = $3 AND "sessions"."user_id" = $4) LIMIT $5"#;
const USER_A_COLS: &str = r#""users"."created_at" AS "A_created_at", "users"."updated_at" AS "A_updated_at", "users"."id" AS "A_id", "users"."email" AS "A_email", "users"."hashed_password" AS "A_hashed_password", "users"."first_name" AS "A_first_name", "users"."last_name" AS "A_last_name", "users"."language" AS "A_language", "users"."role" AS "A_role", "users"."provider" AS "A_provider", "users"."provider_id" AS "A_provider_id", "users"."confirmed" AS "A_confirmed", "users"."archived_at" AS "A_archived_at", "users"."token_version" AS "A_token_version", "users"."pending_email" AS "A_pending_email", "users"."two_factor_secret" AS "A_two_factor_secret", "users"."two_factor_enabled" AS "A_two_factor_enabled", "users"."two_factor_last_step" AS "A_two_factor_last_step", "users"."profile_picture_id" AS "A_profile_picture_id""#;
const ITEM_B_COLS: &str = r#""items"."created_at" AS "B_created_at", "items"."updated_at" AS "B_updated_at", "items"."id" AS "B_id", "items"."name" AS "B_name", "items"."description" AS "B_description", "items"."owner_id" AS "B_owner_id", "items"."archived_at" AS "B_archived_at""#;
const USER_WITH_ITEM: &str = r#" FROM "users" LEFT JOIN "items" ON "items"."id" = $1 AND "items"."archived_at" IS NULL WHERE "users"."id" = $2 AND "users"."archived_at" IS NULL AND EXISTS(SELECT $3 FROM "sessions" WHERE "sessions"."id" = $4 AND "sessions"."user_id" = $5) LIMIT $6"#;
const ITEMS_OF_OWNER: &str = r#"SELECT "items"."created_at", "items"."updated_at", "items"."id", "items"."name", "items"."description", "items"."owner_id", "items"."archived_at" FROM "items" WHERE "items"."archived_at" IS NULL AND "items"."owner_id" BETWEEN $1 AND $2 ORDER BY "items"."owner_id" ASC, "items"."created_at" ASC, "items"."id" ASC LIMIT $3 OFFSET $4"#;
const INSERT_ITEM: &str = r#"INSERT INTO "items" ("created_at", "updated_at", "id", "name", "description", "owner_id") VALUES ($1, $2, $3, $4, $5, $6) RETURNING "created_at", "updated_at", "id", "name", "description", "owner_id", "archived_at""#;

/// Rendered once, like a prepared statement's text.
static ME_SQL: LazyLock<&'static str> =
    LazyLock::new(|| Box::leak(format!("SELECT {USER_COLS}{USER_IN_SESSION}").into_boxed_str()));
static SHOW_SQL: LazyLock<&'static str> = LazyLock::new(|| {
    Box::leak(format!("SELECT {USER_A_COLS}, {ITEM_B_COLS}{USER_WITH_ITEM}").into_boxed_str())
});

struct App {
    pool: PgPool,
    key: DecodingKey,
    validation: Validation,
    server_host: String,
}
type St = State<Arc<App>>;

#[derive(Deserialize)]
struct Claims {
    sub: Uuid,
    kind: String,
    #[serde(default)]
    ver: i32,
    #[serde(default)]
    sid: Option<Uuid>,
}

struct User {
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    id: Uuid,
    email: String,
    first_name: String,
    last_name: String,
    language: String,
    role: String,
    provider: String,
    confirmed: bool,
    archived_at: Option<DateTime<Utc>>,
    token_version: i32,
    pending_email: Option<String>,
    two_factor_enabled: bool,
    profile_picture_id: Option<Uuid>,
}

impl User {
    /// By position: the user's 19 columns, in the statements' order.
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            created_at: row.try_get(0)?,
            updated_at: row.try_get(1)?,
            id: row.try_get(2)?,
            email: row.try_get(3)?,
            first_name: row.try_get(5)?,
            last_name: row.try_get(6)?,
            language: row.try_get(7)?,
            role: row.try_get(8)?,
            provider: row.try_get(9)?,
            confirmed: row.try_get(11)?,
            archived_at: row.try_get(12)?,
            token_version: row.try_get(13)?,
            pending_email: row.try_get(14)?,
            two_factor_enabled: row.try_get(16)?,
            profile_picture_id: row.try_get(18)?,
        })
    }
}

#[derive(FromRow)]
struct Item {
    id: Uuid,
    name: Option<String>,
    description: Option<String>,
    owner_id: Uuid,
    archived_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The answer's shapes, serialized straight from the row (no intermediate JSON tree).
#[derive(Serialize)]
struct ItemOut<'a> {
    id: Uuid,
    name: Option<&'a str>,
    description: Option<&'a str>,
    owner_id: Uuid,
    archived: bool,
    archived_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl<'a> From<&'a Item> for ItemOut<'a> {
    fn from(i: &'a Item) -> Self {
        Self {
            id: i.id,
            name: i.name.as_deref(),
            description: i.description.as_deref(),
            owner_id: i.owner_id,
            archived: i.archived_at.is_some(),
            archived_at: i.archived_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Serialize)]
struct UserOut<'a> {
    id: Uuid,
    email: &'a str,
    pending_email: Option<&'a str>,
    first_name: &'a str,
    last_name: &'a str,
    language: &'a str,
    confirmed: bool,
    role: &'a str,
    provider: &'a str,
    is_admin: bool,
    is_moderator: bool,
    is_customer: bool,
    profile_picture_url: Option<String>,
    two_factor_enabled: bool,
    archived: bool,
    archived_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn user_out<'a>(u: &'a User, host: &str) -> UserOut<'a> {
    UserOut {
        id: u.id,
        email: &u.email,
        pending_email: u.pending_email.as_deref(),
        first_name: &u.first_name,
        last_name: &u.last_name,
        language: &u.language,
        confirmed: u.confirmed,
        role: &u.role,
        provider: &u.provider,
        is_admin: u.role == "admin",
        is_moderator: u.role == "moderator",
        is_customer: u.role == "customer",
        profile_picture_url: u
            .profile_picture_id
            .map(|f| format!("{host}/api/v1/users/{}/profile-picture/{f}", u.id)),
        two_factor_enabled: u.two_factor_enabled,
        archived: u.archived_at.is_some(),
        archived_at: u.archived_at,
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

fn status(code: StatusCode, detail: &str) -> Response {
    (code, Json(json!({ "detail": detail }))).into_response()
}
fn unauthorized() -> Response {
    status(StatusCode::UNAUTHORIZED, "Could not validate credentials")
}
fn internal(e: sqlx::Error) -> Response {
    status(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// The token's user and session, checked without the database.
fn caller(app: &App, headers: &HeaderMap) -> Result<(Uuid, Uuid, i32), Response> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = value
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(unauthorized)?;
    let claims = jsonwebtoken::decode::<Claims>(token, &app.key, &app.validation)
        .map_err(|_| unauthorized())?
        .claims;
    if claims.kind != "access" {
        return Err(unauthorized());
    }
    Ok((claims.sub, claims.sid.ok_or_else(unauthorized)?, claims.ver))
}

async fn current_user(app: &App, headers: &HeaderMap) -> Result<User, Response> {
    let (uid, sid, ver) = caller(app, headers)?;
    let row = sqlx::query(*ME_SQL)
        .bind(uid).bind(1_i32).bind(sid).bind(uid).bind(1_i64)
        .fetch_optional(&app.pool)
        .await
        .map_err(internal)?;
    let user = row.map(|r| User::from_row(&r)).transpose().map_err(internal)?;
    user.filter(|u| u.token_version == ver).ok_or_else(unauthorized)
}

async fn me(State(app): St, headers: HeaderMap) -> Response {
    match current_user(&app, &headers).await {
        Ok(user) => Json(user_out(&user, &app.server_host)).into_response(),
        Err(r) => r,
    }
}

async fn list(State(app): St, headers: HeaderMap) -> Response {
    let user = match current_user(&app, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let items: Vec<Item> = match sqlx::query_as(ITEMS_OF_OWNER)
        .bind(user.id).bind(user.id).bind(100_i64).bind(0_i64)
        .fetch_all(&app.pool)
        .await
    {
        Ok(items) => items,
        Err(e) => return internal(e),
    };
    let mut response = Json(items.iter().map(ItemOut::from).collect::<Vec<_>>()).into_response();
    // A full page says where the next one starts, as the API does.
    if let Some(last) = items.last().filter(|_| items.len() == 100) {
        let mut bytes = [0_u8; 24];
        bytes[..16].copy_from_slice(last.id.as_bytes());
        bytes[16..].copy_from_slice(&last.created_at.timestamp_micros().to_be_bytes());
        if let Ok(cursor) = HeaderValue::try_from(URL_SAFE_NO_PAD.encode(bytes)) {
            response.headers_mut().insert("x-next-cursor", cursor);
        }
    }
    response
}

#[derive(Deserialize)]
struct ItemCreate {
    name: Option<String>,
    description: Option<String>,
}

async fn create(State(app): St, headers: HeaderMap, Json(body): Json<ItemCreate>) -> Response {
    let user = match current_user(&app, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let now = Utc::now().trunc_subsecs_micros();
    let item: Item = match sqlx::query_as(INSERT_ITEM)
        .bind(now).bind(now).bind(Uuid::new_v4()).bind(&body.name).bind(&body.description)
        .bind(user.id)
        .fetch_one(&app.pool)
        .await
    {
        Ok(item) => item,
        Err(e) => return internal(e),
    };
    Json(ItemOut::from(&item)).into_response()
}

async fn show(State(app): St, headers: HeaderMap, Path(id): Path<Uuid>) -> Response {
    let (uid, sid, ver) = match caller(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let row = match sqlx::query(*SHOW_SQL)
        .bind(id).bind(uid).bind(1_i32).bind(sid).bind(uid).bind(1_i64)
        .fetch_optional(&app.pool)
        .await
    {
        Ok(row) => row,
        Err(e) => return internal(e),
    };
    let Some(row) = row else { return unauthorized() };
    let user = match User::from_row(&row) {
        Ok(u) if u.token_version == ver => u,
        Ok(_) => return unauthorized(),
        Err(e) => return internal(e),
    };
    // The item's columns follow the user's 19.
    let item_id: Option<Uuid> = row.try_get(21).unwrap_or(None);
    if item_id.is_none() {
        return status(StatusCode::NOT_FOUND, "Item not found");
    }
    let item = Item {
        created_at: row.get(19),
        updated_at: row.get(20),
        id: row.get(21),
        name: row.get(22),
        description: row.get(23),
        owner_id: row.get(24),
        archived_at: row.get(25),
    };
    if item.owner_id != user.id && user.role != "admin" {
        return status(StatusCode::FORBIDDEN, "Not enough permissions");
    }
    Json(ItemOut::from(&item)).into_response()
}

async fn hello() -> Json<serde_json::Value> {
    Json(json!({ "message": "hello", "ok": true }))
}

async fn pg(State(app): St) -> Response {
    match sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&app.pool).await {
        Ok(v) => Json(json!({ "value": v })).into_response(),
        Err(e) => internal(e),
    }
}

trait TruncMicros {
    fn trunc_subsecs_micros(self) -> Self;
}
impl TruncMicros for DateTime<Utc> {
    fn trunc_subsecs_micros(self) -> Self {
        use chrono::{DurationRound, TimeDelta};
        self.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(self)
    }
}

#[tokio::main]
async fn main() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let url = env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres");
    let secret = std::env::var("SECRET_KEY").expect("SECRET_KEY: the API's signing secret");
    let pool = PgPoolOptions::new()
        .max_connections(env("POOL", "10").parse().expect("POOL"))
        .test_before_acquire(false)
        .connect(&url)
        .await
        .expect("pg connect");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let app = Arc::new(App {
        pool,
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation,
        server_host: env("SERVER_HOST", "http://localhost:5150"),
    });
    let router = Router::new()
        .route("/hello", get(hello))
        .route("/pg", get(pg))
        .route("/api/v1/users/me", get(me))
        .route("/api/v1/items", get(list).post(create))
        .route("/api/v1/items/", get(list).post(create))
        .route("/api/v1/items/{id}", get(show))
        .with_state(app);
    let port = env("PORT", "5301");
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.unwrap();
    axum::serve(listener, router).await.unwrap();
}
