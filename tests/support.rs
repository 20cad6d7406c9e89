//! Test harness: every test gets a database of its own, so the suite runs in
//! parallel. SQLite by default; PostgreSQL when `DATABASE_URL` names a server,
//! where each test creates a database and drops it afterwards, even when the
//! test fails.

use std::{future::Future, net::SocketAddr};

use axum_test::TestServer;
use backend::{
    app::{App, prepare_process},
    infra::state::AppState,
    models::email::Email,
};
use loco_rs::{
    app::{AppContext, Hooks},
    boot::{StartMode, create_app},
    config::Config,
    environment::Environment,
};
use migration::Migrator;
use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

/// A database that exists for one test.
pub struct TestDatabase {
    uri: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { server_uri: String, name: String },
}

impl TestDatabase {
    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub async fn create(configured_uri: &str) -> Self {
        let name = format!("test_{}", Uuid::new_v4().simple());
        if configured_uri.starts_with("postgres") {
            let mut url = url::Url::parse(configured_uri).expect("a PostgreSQL URL");
            url.set_path("/postgres");
            let server_uri = url.to_string();
            let server = Database::connect(&server_uri)
                .await
                .expect("connect to PostgreSQL");
            server
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            server.close().await.expect("close");
            url.set_path(&format!("/{name}"));
            Self {
                uri: url.to_string(),
                cleanup: Cleanup::Postgres { server_uri, name },
            }
        } else {
            let path = std::env::temp_dir().join(format!("{name}.sqlite"));
            Self {
                uri: format!("sqlite://{}?mode=rwc", path.display()),
                cleanup: Cleanup::Sqlite(path),
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { server_uri, name } => {
                let (server_uri, database) = (server_uri.clone(), name.clone());
                // Drop runs outside any runtime we may block on: use a thread of its own.
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async move {
                        let server = Database::connect(&server_uri).await?;
                        server
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                            ))
                            .await?;
                        server.close().await
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test database {name}");
                }
            }
        }
    }
}

/// A file store that exists for one test: a folder, or a bucket on the S3
/// server that `TEST_S3_ENDPOINT` names (left there: the server is a
/// scratch one).
pub struct TestStore {
    folder: Option<std::path::PathBuf>,
}

/// Which store a test's files go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Folder,
    S3,
}

/// A client for the tests' own HTTP calls, in a process set up as the
/// binary's.
pub fn http_client() -> reqwest::Client {
    prepare_process();
    reqwest::Client::new()
}

/// The S3-compatible server the S3 tests use (`.ci/run` starts one).
pub fn s3_endpoint() -> Option<String> {
    std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|endpoint| !endpoint.is_empty())
}

/// The stores to run a file test against: the folder, and S3 when a server
/// is named.
pub fn store_kinds() -> Vec<StoreKind> {
    let mut kinds = vec![StoreKind::Folder];
    if s3_endpoint().is_some() {
        kinds.push(StoreKind::S3);
    }
    kinds
}

impl TestStore {
    async fn create(kind: StoreKind, settings: &mut serde_json::Value) -> Self {
        let name = format!("test-{}", Uuid::new_v4().simple());
        let files = &mut settings["files"];
        match kind {
            StoreKind::Folder => {
                let folder = std::env::temp_dir().join(name);
                files["storage_path"] = folder.display().to_string().into();
                Self {
                    folder: Some(folder),
                }
            }
            StoreKind::S3 => {
                let endpoint = s3_endpoint().expect("TEST_S3_ENDPOINT");
                let created = http_client()
                    .put(format!("{endpoint}/{name}"))
                    .send()
                    .await
                    .expect("the S3 server answers");
                assert!(created.status().is_success(), "bucket created: {created:?}");
                files["s3_bucket"] = name.into();
                files["s3_endpoint"] = endpoint.into();
                files["aws_access_key_id"] = "test".into();
                files["aws_secret_access_key"] = "test".into();
                Self { folder: None }
            }
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

/// A booted application on a database and a file store of its own.
pub struct Booted {
    pub app_context: AppContext,
    pub server: TestServer,
    _database: TestDatabase,
    _store: TestStore,
}

pub async fn boot() -> Booted {
    boot_with(|_| {}).await
}

/// Boots with the test configuration's `settings:` block changed by `configure`:
/// settings are read once, at boot.
pub async fn boot_with(configure: impl FnOnce(&mut serde_json::Value)) -> Booted {
    boot_configured(|config| configure(config.settings.as_mut().expect("a settings block"))).await
}

/// Boots with the test configuration changed by `configure`.
pub async fn boot_configured(configure: impl FnOnce(&mut Config)) -> Booted {
    boot_in(&Environment::Test, configure).await
}

/// Boots the test configuration, changed by `configure`, as environment `env`.
pub async fn boot_in(env: &Environment, configure: impl FnOnce(&mut Config)) -> Booted {
    boot_on(StoreKind::Folder, env, configure).await
}

/// `boot_in`, with the files in a store of `kind`.
pub async fn boot_on(
    kind: StoreKind,
    env: &Environment,
    configure: impl FnOnce(&mut Config),
) -> Booted {
    prepare_process();
    let mut config = App::load_config(&Environment::Test)
        .await
        .expect("test config");
    let store = TestStore::create(kind, config.settings.as_mut().expect("settings")).await;
    configure(&mut config);
    let database = TestDatabase::create(&config.database.uri).await;
    config.database.uri = database.uri.clone();
    // As `cli::main` starts the server: `create_app`, not `Hooks::boot`.
    let boot = create_app::<App, Migrator>(StartMode::ServerOnly, env, config)
        .await
        .expect("boot");
    let router = boot.router.expect("a router");
    let server = TestServer::new(router.into_make_service_with_connect_info::<SocketAddr>())
        .expect("test server");
    Booted {
        app_context: boot.app_context,
        server,
        _database: database,
        _store: store,
    }
}

/// Runs `callback` against the real router, on a database of its own.
pub async fn request<F, Fut>(callback: F)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    request_with(|_| {}, callback).await;
}

/// `request`, with the settings changed by `configure` before boot.
pub async fn request_with<F, Fut>(configure: impl FnOnce(&mut serde_json::Value), callback: F)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    request_configured(
        |config| configure(config.settings.as_mut().expect("a settings block")),
        callback,
    )
    .await;
}

/// `request`, with the whole configuration changed by `configure` before boot.
pub async fn request_configured<F, Fut>(configure: impl FnOnce(&mut Config), callback: F)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    request_on(StoreKind::Folder, configure, callback).await;
}

/// `request_configured`, with the files in a store of `kind`.
pub async fn request_on<F, Fut>(kind: StoreKind, configure: impl FnOnce(&mut Config), callback: F)
where
    F: FnOnce(TestServer, AppContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let Booted {
        app_context,
        server,
        _database,
        _store,
    } = boot_on(kind, &Environment::Test, configure).await;
    callback(server, app_context.clone()).await;
    let _ = app_context.db.close().await;
}

/// An email address known to be valid.
pub fn email(raw: &str) -> Email {
    Email::parse(raw).expect("an email address")
}

/// The state the app built at boot.
pub fn app_state(ctx: &AppContext) -> std::sync::Arc<AppState> {
    AppState::from_context(ctx).expect("the app state")
}

/// Queues a mail straight into the outbox, as `AccountMailer` would.
pub async fn queue_mail(ctx: &AppContext, subject: &str) -> backend::models::mails::Model {
    use backend::models::mails;
    mails::Model::enqueue(
        &ctx.db,
        mails::NewMail {
            template: "test_email".to_string(),
            to: "ops@example.com".to_string(),
            subject: subject.to_string(),
            html: "<p>hi</p>".to_string(),
            text: "hi".to_string(),
        },
    )
    .await
    .expect("queued")
}

/// Checks that an index serves `query`'s rows in their order, with no sort
/// step, and returns the plan. On PostgreSQL, sequential and bitmap scans
/// are priced out for the check, so that a test's few rows get the plan that
/// many rows would.
pub async fn assert_served_by<E: sea_orm::EntityTrait>(
    db: &sea_orm::DatabaseConnection,
    query: sea_orm::Select<E>,
    index: &str,
) -> String {
    use sea_orm::{DatabaseBackend, QueryTrait, Statement, TransactionTrait};

    let backend = db.get_database_backend();
    let statement = query.build(backend);
    let txn = db.begin().await.expect("transaction");
    let (explain, column) = if backend == DatabaseBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
            .await
            .expect("planner settings");
        ("EXPLAIN", "QUERY PLAN")
    } else {
        ("EXPLAIN QUERY PLAN", "detail")
    };
    let explained = Statement {
        sql: format!("{explain} {}", statement.sql),
        ..statement
    };
    let rows = txn.query_all_raw(explained).await.expect("plan");
    let plan = rows
        .iter()
        .map(|row| row.try_get::<String>("", column).expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n");
    txn.rollback().await.expect("rolled back");
    assert!(plan.contains(index), "not served by {index}:\n{plan}");
    for sort in ["Sort", "TEMP B-TREE"] {
        assert!(!plan.contains(sort), "sorted:\n{plan}");
    }
    plan
}

/// The tables with a row that holds any of `needles` (an id, an email), in
/// any column, compared without case; UUIDs stored as bytes are read as
/// hex. Every table of the database, the framework's own included.
pub async fn tables_holding(db: &sea_orm::DatabaseConnection, needles: &[String]) -> Vec<String> {
    use sea_orm::{DatabaseBackend, Statement};

    let backend = db.get_database_backend();
    let query = |sql: String| db.query_all_raw(Statement::from_string(backend, sql));
    let tables_sql = if backend == DatabaseBackend::Postgres {
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    };
    let needles: Vec<String> = needles.iter().map(|needle| needle.to_lowercase()).collect();
    let mut holding = Vec::new();
    for table in query(tables_sql.to_string()).await.expect("tables") {
        let table: String = table.try_get("", "name").expect("a table name");
        let rows_sql = if backend == DatabaseBackend::Postgres {
            format!("SELECT CAST(t AS TEXT) AS row_text FROM \"{table}\" AS t")
        } else {
            let columns = query(format!("PRAGMA table_info(\"{table}\")"))
                .await
                .expect("columns");
            let cells: Vec<String> = columns
                .iter()
                .map(|column| {
                    let name: String = column.try_get("", "name").expect("a column name");
                    // Bytes (UUIDs) as hex: as text they are not UTF-8.
                    format!(
                        "CASE WHEN typeof(\"{name}\") = 'blob' THEN hex(\"{name}\") \
                         ELSE COALESCE(CAST(\"{name}\" AS TEXT), '') END"
                    )
                })
                .collect();
            format!(
                "SELECT {} AS row_text FROM \"{table}\"",
                cells.join(" || '|' || ")
            )
        };
        for row in query(rows_sql).await.expect("rows") {
            let text: String = row.try_get("", "row_text").expect("a row as text");
            let text = text.to_lowercase();
            if needles.iter().any(|needle| text.contains(needle.as_str())) {
                holding.push(table.clone());
                break;
            }
        }
    }
    holding
}

/// Checks that user `id` of `email` was deleted for good: no table holds
/// their id or email, and the newest deletion record says who asked.
pub async fn assert_forgotten(
    db: &sea_orm::DatabaseConnection,
    id: Uuid,
    email: &str,
    requested_by: &str,
) {
    use backend::models::deleted_accounts;
    use sea_orm::{EntityTrait, QueryOrder};

    let traces = [id.to_string(), id.simple().to_string(), email.to_string()];
    let left = tables_holding(db, &traces).await;
    assert!(left.is_empty(), "{left:?} still hold {email}");
    let newest = deleted_accounts::Entity::find()
        .order_by_desc(deleted_accounts::Column::CreatedAt)
        .one(db)
        .await
        .expect("records")
        .expect("a deletion record");
    assert_eq!(newest.requested_by, requested_by);
}
