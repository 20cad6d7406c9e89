//! Moving a running Python template's data over: its users, items and file
//! rows (their bytes from the folder they were kept in, or a bucket they were
//! copied to), ids and timestamps kept. A row already here is left as it is,
//! so a second run changes nothing. Read and written in batches, each batch
//! in one transaction.

use std::{borrow::Cow, collections::HashSet, path::Path, time::Duration};

use bytes::Bytes;
use chrono::NaiveDateTime;
use loco_rs::{
    prelude::*,
    storage::{Storage, StorageError},
};
use sea_orm::{DbBackend, ExprTrait, FromQueryResult, Statement};

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

/// The legacy files' bytes: its `FILE_PATH` folder, or a bucket they were
/// copied to, each file under its legacy name.
pub struct LegacyFiles {
    pub store: Storage,
    /// Before each name: the bucket's folder (`uploads/`), or nothing.
    pub prefix: String,
    /// How the operator named it, for messages.
    pub place: String,
}

impl LegacyFiles {
    /// Lists a folder that is not there: a store that cannot be read (a
    /// missing bucket, a closed port, refused credentials) fails here, before
    /// anything is imported.
    async fn check(&self) -> Result<(), ImportError> {
        let probe = format!("{}import_legacy_probe/", self.prefix);
        self.store
            .list(Path::new(&probe), false)
            .await
            .map(drop)
            .map_err(|error| ImportError::Files {
                place: self.place.clone(),
                error,
            })
    }

    /// The bytes of `filename`, when it is a plain name (a row cannot point
    /// outside the store's folder), the file is there, and it is at most
    /// `max_bytes` long.
    async fn bytes(
        &self,
        filename: Option<&str>,
        max_bytes: u64,
    ) -> Result<Bytes, Cow<'static, str>> {
        const NOT_THERE: &str = "its bytes are not among the legacy files";
        let name = filename
            .filter(|name| {
                !name.is_empty() && !name.contains(['/', '\\']) && !matches!(*name, "." | "..")
            })
            .ok_or("its filename is not a plain file name")?;
        let key = format!("{}{name}", self.prefix);
        let key = Path::new(&key);
        let unreadable = |error: StorageError| -> Cow<'static, str> {
            match &error {
                StorageError::Store(store) if store.kind() == opendal::ErrorKind::NotFound => {
                    NOT_THERE.into()
                }
                _ => format!("its bytes could not be read: {error}").into(),
            }
        };
        let entry = self.store.stat(key).await.map_err(unreadable)?;
        if entry.is_dir {
            return Err(NOT_THERE.into());
        }
        if entry.content_length.is_some_and(|size| size > max_bytes) {
            return Err("it is larger than FILE_MAX_BYTES".into());
        }
        let bytes: Vec<u8> = self.store.download(key).await.map_err(unreadable)?;
        if bytes.len() as u64 > max_bytes {
            return Err("it is larger than FILE_MAX_BYTES".into());
        }
        Ok(Bytes::from(bytes))
    }
}

#[derive(Debug, FromQueryResult)]
struct Person {
    id: Uuid,
    email: String,
    password_hash: Option<String>,
    role: String,
    language: String,
    confirmed: bool,
    first_name: String,
    last_name: String,
    provider: String,
    sso_provider_id: Option<String>,
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
    archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, FromQueryResult)]
struct LegacyItem {
    id: Uuid,
    name: Option<String>,
    description: Option<String>,
    user_id: Option<Uuid>,
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
    archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, FromQueryResult)]
struct LegacyFile {
    id: Uuid,
    name: Option<String>,
    filename: Option<String>,
    user_id: Option<Uuid>,
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
    archived_at: Option<NaiveDateTime>,
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

fn provider(name: &str) -> Option<Provider> {
    Provider::from_name(name).or((name == "email").then_some(Provider::Email))
}

/// One batch of users; the last id read, or `None` when there were none.
async fn import_users(
    legacy: &DatabaseConnection,
    target: &Target<'_>,
    after: Uuid,
    report: &mut Report,
) -> Result<Option<Uuid>, ImportError> {
    let columns = "id, email, password_hash, role, language, confirmed, first_name, last_name, \
                   provider, sso_provider_id, created_at, updated_at, archived_at";
    let people: Vec<Person> = batch(legacy, columns, "person", after).await?;
    let Some(last) = people.last().map(|person| person.id) else {
        return Ok(None);
    };
    let emails: Vec<Option<Email>> = people
        .iter()
        .map(|person| Email::parse(&person.email).ok())
        .collect();
    let txn = write_transaction::begin(target.db).await?;
    let existing = users::Entity::find()
        .filter(
            users::Column::Id
                .is_in(people.iter().map(|person| person.id))
                .or(users::Column::Email.is_in(emails.iter().flatten().map(Email::as_str))),
        )
        .all(&txn)
        .await?;
    let present: HashSet<Uuid> = existing.iter().map(|user| user.id).collect();
    let mut taken: HashSet<String> = existing.into_iter().map(|user| user.email).collect();
    let mut rows = Vec::new();
    let Report {
        users: tally,
        skipped,
        ..
    } = report;
    for (person, email) in people.into_iter().zip(emails) {
        let (id, kinds) = (
            person.id,
            (Role::from_name(&person.role), provider(&person.provider)),
        );
        if present.contains(&id) {
            tally.present += 1;
            continue;
        }
        let Some(email) = email else {
            Report::skip(
                tally,
                skipped,
                "user",
                id,
                "its email is not a valid address",
            );
            continue;
        };
        let (Some(role), Some(provider)) = kinds else {
            Report::skip(tally, skipped, "user", id, "unknown role or provider");
            continue;
        };
        if !taken.insert(email.to_string()) {
            let why = "another account has its email (letter case aside)";
            Report::skip(tally, skipped, "user", id, why);
            continue;
        }
        let language = if target.languages.contains(&person.language.as_str()) {
            person.language
        } else {
            "en".to_string()
        };
        rows.push(users::ActiveModel {
            id: ActiveValue::Set(id),
            email: ActiveValue::Set(email.to_string()),
            hashed_password: ActiveValue::Set(person.password_hash),
            first_name: ActiveValue::Set(person.first_name),
            last_name: ActiveValue::Set(person.last_name),
            language: ActiveValue::Set(language),
            role: ActiveValue::Set(role),
            provider: ActiveValue::Set(provider),
            provider_id: ActiveValue::Set(person.sso_provider_id),
            confirmed: ActiveValue::Set(person.confirmed),
            archived_at: ActiveValue::Set(archived(person.archived_at)),
            token_version: ActiveValue::Set(0),
            pending_email: ActiveValue::Set(None),
            two_factor_secret: ActiveValue::Set(None),
            two_factor_enabled: ActiveValue::Set(false),
            two_factor_last_step: ActiveValue::Set(None),
            profile_picture_id: ActiveValue::Set(None),
            created_at: ActiveValue::Set(person.created_at),
            updated_at: ActiveValue::Set(updated(person.created_at, person.updated_at)),
        });
    }
    tally.imported += rows.len() as u64;
    if !rows.is_empty() {
        // `insert_many` keeps the legacy ids and timestamps (no `before_save`).
        users::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(Some(last))
}

/// The owners among `ids` that are here.
async fn owners_here(
    txn: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashSet<Uuid>, DbErr> {
    let ids: HashSet<Uuid> = ids.collect();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|user| user.id)
        .collect())
}

/// The owner of a row, or why the row cannot come over without one.
fn owner(user_id: Option<Uuid>, owners: &HashSet<Uuid>) -> Result<Uuid, &'static str> {
    match user_id {
        None => Err("it has no owner"),
        Some(owner) if owners.contains(&owner) => Ok(owner),
        Some(_) => Err("its owner was not imported"),
    }
}

async fn import_items(
    legacy: &DatabaseConnection,
    target: &Target<'_>,
    after: Uuid,
    report: &mut Report,
) -> Result<Option<Uuid>, ImportError> {
    let columns = "id, name, description, user_id, created_at, updated_at, archived_at";
    let legacy_items: Vec<LegacyItem> = batch(legacy, columns, "item", after).await?;
    let Some(last) = legacy_items.last().map(|item| item.id) else {
        return Ok(None);
    };
    let txn = write_transaction::begin(target.db).await?;
    let present: HashSet<Uuid> = items::Entity::find()
        .filter(items::Column::Id.is_in(legacy_items.iter().map(|item| item.id)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|item| item.id)
        .collect();
    let owners = owners_here(&txn, legacy_items.iter().filter_map(|item| item.user_id)).await?;
    let mut rows = Vec::new();
    let Report {
        items: tally,
        skipped,
        ..
    } = report;
    for item in legacy_items {
        if present.contains(&item.id) {
            tally.present += 1;
            continue;
        }
        match owner(item.user_id, &owners) {
            Err(why) => Report::skip(tally, skipped, "item", item.id, why),
            Ok(owner_id) => rows.push(items::ActiveModel {
                id: ActiveValue::Set(item.id),
                name: ActiveValue::Set(item.name),
                description: ActiveValue::Set(item.description),
                owner_id: ActiveValue::Set(owner_id),
                archived_at: ActiveValue::Set(archived(item.archived_at)),
                created_at: ActiveValue::Set(item.created_at),
                updated_at: ActiveValue::Set(updated(item.created_at, item.updated_at)),
            }),
        }
    }
    tally.imported += rows.len() as u64;
    if !rows.is_empty() {
        items::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(Some(last))
}

async fn import_files(
    legacy: &DatabaseConnection,
    target: &Target<'_>,
    after: Uuid,
    report: &mut Report,
) -> Result<Option<Uuid>, ImportError> {
    let columns = "id, name, filename, user_id, created_at, updated_at, archived_at";
    let legacy_files: Vec<LegacyFile> = batch(legacy, columns, "file", after).await?;
    let Some(last) = legacy_files.last().map(|file| file.id) else {
        return Ok(None);
    };
    let present: HashSet<Uuid> = files::Entity::find()
        .filter(files::Column::Id.is_in(legacy_files.iter().map(|file| file.id)))
        .all(target.db)
        .await?
        .into_iter()
        .map(|file| file.id)
        .collect();
    let owners = owners_here(
        target.db,
        legacy_files.iter().filter_map(|file| file.user_id),
    )
    .await?;
    let Report {
        files: tally,
        skipped,
        ..
    } = report;
    // The bytes go to the store first; the rows follow in one transaction.
    let (mut keys, mut rows) = (Vec::new(), Vec::new());
    for file in legacy_files {
        if present.contains(&file.id) {
            tally.present += 1;
            continue;
        }
        let owner_id = match owner(file.user_id, &owners) {
            Ok(owner_id) => owner_id,
            Err(why) => {
                Report::skip(tally, skipped, "file", file.id, why);
                continue;
            }
        };
        if file.archived_at.is_some() {
            Report::skip(tally, skipped, "file", file.id, "it is archived");
            continue;
        }
        let Some(from) = &target.files_from else {
            Report::skip(
                tally,
                skipped,
                "file",
                file.id,
                "no files: argument was given",
            );
            continue;
        };
        let bytes = match from.bytes(file.filename.as_deref(), target.max_bytes).await {
            Ok(bytes) => bytes,
            Err(why) => {
                Report::skip(tally, skipped, "file", file.id, &why);
                continue;
            }
        };
        let key = Purpose::File.new_key();
        if let Err(error) = target.storage.upload(Path::new(&key), &bytes).await {
            let why = format!("the store refused its bytes: {error}");
            Report::skip(tally, skipped, "file", file.id, &why);
            continue;
        }
        let mime_type = sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]);
        rows.push(files::ActiveModel {
            id: ActiveValue::Set(file.id),
            owner_id: ActiveValue::Set(owner_id),
            name: ActiveValue::Set(clean_name(file.name.as_deref())),
            mime_type: ActiveValue::Set(mime_type.to_string()),
            size: ActiveValue::Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            storage_key: ActiveValue::Set(key.clone()),
            purpose: ActiveValue::Set(Purpose::File.as_str().to_string()),
            created_at: ActiveValue::Set(file.created_at),
            updated_at: ActiveValue::Set(updated(file.created_at, file.updated_at)),
        });
        keys.push(key);
    }
    let count = rows.len() as u64;
    if let Err(error) = insert_files(target.db, rows).await {
        for key in &keys {
            file_deletions::discard(target.db, target.storage, key).await;
        }
        return Err(error.into());
    }
    tally.imported += count;
    Ok(Some(last))
}

async fn insert_files(db: &DatabaseConnection, rows: Vec<files::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = write_transaction::begin(db).await?;
    files::Entity::insert_many(rows).exec(&txn).await?;
    txn.commit().await
}
