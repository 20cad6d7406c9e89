//! Moving a running Python template's data over: its users, items and file
//! rows (their bytes from the folder they were kept in, or a bucket they were
//! copied to), ids and timestamps kept. A row already here is left as it is,
//! so a second run changes nothing. Read and written in batches, each batch
//! in one transaction.

mod legacy_files;
mod legacy_items;
mod legacy_users;

use std::{borrow::Cow, collections::HashSet, path::Path, time::Duration};

use bytes::Bytes;
use chrono::NaiveDateTime;
use loco_rs::{
    prelude::*,
    storage::{Storage, StorageError},
};
use sea_orm::{DbBackend, ExprTrait, FromQueryResult, Statement};

pub use self::legacy_files::LegacyFiles;
use self::{legacy_files::*, legacy_items::*, legacy_users::*};
use crate::models::{
    _entities::{files, items, users},
    email::Email,
    file_deletions,
    files::{Purpose, clean_name, sniff},
    users::{Provider, Role},
    write_transaction,
};

/// The legacy schema's last Alembic revision: the only one read.
pub const LEGACY_REVISION: &str = "ff898cccdc22";

/// Rows read, and written in one transaction, at a time.
const BATCH: i64 = 500;

/// An operator waits this long, not a pool's 30 s, to hear a server is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of a file its type is sniffed from.
const SNIFF_BYTES: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot reach the legacy database: {0}")]
    Connect(DbErr),
    #[error("not a database of the Python template (no alembic_version): {0}")]
    NotLegacy(DbErr),
    #[error(
        "the legacy database is at revision {0:?}, not {LEGACY_REVISION}: run `alembic upgrade head` on it first"
    )]
    Revision(String),
    #[error("cannot read the legacy files from {place}: {error}")]
    Files { place: String, error: StorageError },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What became of one table's rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub imported: u64,
    /// Already here (an earlier run): left as they are.
    pub present: u64,
    /// Not imported; `Report::skipped` says why.
    pub skipped: u64,
}

#[derive(Debug, Default)]
pub struct Report {
    pub users: Tally,
    pub items: Tally,
    pub files: Tally,
    /// One line per row skipped: which, and why.
    pub skipped: Vec<String>,
}

impl Report {
    fn skip(tally: &mut Tally, skipped: &mut Vec<String>, what: &str, id: Uuid, why: &str) {
        tally.skipped += 1;
        skipped.push(format!("{what} {id}: {why}"));
    }
}

/// Where the rows go, and what they are checked against.
pub struct Target<'a> {
    pub db: &'a DatabaseConnection,
    pub storage: &'a Storage,
    /// The languages this app translates; another becomes `en`.
    pub languages: &'a [&'a str],
    /// Where the legacy files' bytes are; without it, file rows are skipped.
    pub files_from: Option<LegacyFiles>,
    /// `FILE_MAX_BYTES`: a larger file is skipped, as its upload would be refused.
    pub max_bytes: u64,
}

/// Connects to the legacy database at `url` and checks its revision.
///
/// # Errors
/// When it cannot be reached, is not a legacy database, or is at another
/// revision.
pub async fn connect(url: &str) -> Result<DatabaseConnection, ImportError> {
    let options = sea_orm::ConnectOptions::new(url)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        .sqlx_logging(false)
        .to_owned();
    let legacy = sea_orm::Database::connect(options)
        .await
        .map_err(ImportError::Connect)?;
    let revision = legacy
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT version_num FROM alembic_version",
        ))
        .await
        .map_err(ImportError::NotLegacy)?
        .map(|row| row.try_get::<String>("", "version_num"))
        .transpose()?
        .unwrap_or_default();
    if revision == LEGACY_REVISION {
        Ok(legacy)
    } else {
        Err(ImportError::Revision(revision))
    }
}

/// Imports users, then items, then files from `legacy`.
///
/// # Errors
/// When the files' store cannot be read (before anything is imported), or on
/// a database error; the batches written before it stay (a new run goes
/// on from there).
pub async fn run(legacy: &DatabaseConnection, target: &Target<'_>) -> Result<Report, ImportError> {
    if let Some(files) = &target.files_from {
        files.check().await?;
    }
    let mut report = Report::default();
    let mut after = Uuid::nil();
    while let Some(last) = import_users(legacy, target, after, &mut report).await? {
        after = last;
    }
    after = Uuid::nil();
    while let Some(last) = import_items(legacy, target, after, &mut report).await? {
        after = last;
    }
    after = Uuid::nil();
    while let Some(last) = import_files(legacy, target, after, &mut report).await? {
        after = last;
    }
    Ok(report)
}

/// The next batch of `table` after `after`, in id order.
async fn batch<T: FromQueryResult>(
    legacy: &DatabaseConnection,
    columns: &str,
    table: &str,
    after: Uuid,
) -> Result<Vec<T>, DbErr> {
    let sql = format!("SELECT {columns} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2");
    T::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [after.into(), BATCH.into()],
    ))
    .all(legacy)
    .await
}

fn updated(
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
) -> DateTimeWithTimeZone {
    updated_at.unwrap_or(created_at)
}

/// The legacy app wrote `archived_at` as a UTC wall-clock time.
fn archived(at: Option<NaiveDateTime>) -> Option<DateTimeWithTimeZone> {
    at.map(|at| at.and_utc().fixed_offset())
}
