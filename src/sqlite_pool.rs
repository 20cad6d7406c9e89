//! SQLite connections that all carry the same settings.
//!
//! Loco runs its SQLite pragmas on one pooled connection; `synchronous` and
//! `busy_timeout` hold per connection, so the others kept SQLite's defaults.
//! This pool sets them on every connection as it opens.

use std::time::Duration;

use loco_rs::config;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn configure(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("cache_size", "2000")
        .pragma("mmap_size", "134217728")
        .pragma("journal_size_limit", "67108864")
}

/// Opens a pool on the configured SQLite database, as Loco would, with the
/// pragmas on every connection.
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
        .map_sqlx_sqlite_opts(configure);
    if let Some(acquire_timeout) = config.acquire_timeout {
        options.acquire_timeout(Duration::from_millis(acquire_timeout));
    }
    Database::connect(options).await
}
