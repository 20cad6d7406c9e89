//! The pool the app runs on: Loco's settings, and two of its own.
//!
//! - SQLite: Loco runs its pragmas on one pooled connection; `synchronous`
//!   and `busy_timeout` hold per connection, so the others kept SQLite's
//!   defaults. This pool sets them on every connection as it opens.
//! - Every backend: SQLx pings a connection each time the pool hands it out,
//!   one more round trip per statement, which on PostgreSQL made every query
//!   cost two. Only a connection that sat idle is pinged here: a busy server
//!   never waits for it, and one the database or a proxy closed while the
//!   app was quiet is still caught before a request meets it. (A connection
//!   cut under load fails its one statement, 503, and the pool drops it.)

use std::time::Duration;

use loco_rs::config;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle for this long, a connection is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(10);

fn configure_sqlite(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("cache_size", "2000")
        .pragma("mmap_size", "134217728")
        .pragma("journal_size_limit", "67108864")
}

/// Opens a pool on the configured database, as Loco would, with the
/// settings above.
///
/// # Errors
/// When the database cannot be opened.
pub async fn connect(config: &config::Database) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(&config.uri);
    options
        .max_connections(config.max_connections)
        .min_connections(config.min_connections)
        .connect_timeout(Duration::from_millis(config.connect_timeout))
        .idle_timeout(Duration::from_millis(config.idle_timeout))
        .sqlx_logging(config.enable_logging)
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .map_sqlx_sqlite_opts(configure_sqlite);
    if let Some(acquire_timeout) = config.acquire_timeout {
        options.acquire_timeout(Duration::from_millis(acquire_timeout));
    }
    Database::connect(options).await
}
