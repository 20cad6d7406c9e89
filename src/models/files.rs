//! Stored files: a row here, the bytes in the file store (a folder or an S3
//! bucket) under a generated key, never the client's name. An upload streams
//! to the store as it arrives, counted against its limit; its type is read
//! from its first bytes.

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use loco_rs::{
    prelude::*,
    storage::{Storage, StorageError, stream::BytesStream},
};
use sea_orm::{
    QueryOrder, QuerySelect,
    sea_query::{Expr, Func},
};

pub use super::_entities::files::{self, ActiveModel, Column, Entity, Model, Relation};
use super::{
    _entities::users, file_deletions, pagination::Pagination, timestamps, write_transaction,
};

pub use super::file_deletions::{FILES_PREFIX, PICTURES_PREFIX};

/// How long a health check waits for the store.
const STORE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the store answers: a look-up of a key no upload is ever given
/// (its absence is an answer), within `STORE_CHECK_TIMEOUT`. An S3 service
/// that cannot be reached, or refuses the credentials, does not answer.
pub async fn store_answers(storage: &Storage) -> bool {
    let looked_up = tokio::time::timeout(
        STORE_CHECK_TIMEOUT,
        storage.exists(Path::new("health-check")),
    )
    .await;
    match looked_up {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: the file store does not answer");
            false
        }
        Err(_) => {
            tracing::warn!("health check: the file store did not answer in time");
            false
        }
    }
}

/// The longest name kept; longer ones are cut (at a character boundary).
const MAX_NAME_CHARS: usize = 255;

/// How many leading bytes the type is read from.
const SNIFF_BYTES: usize = 8192;

/// What a stored object is for: a file of the `/files` routes, or a user's
/// profile picture (served by its own route, not listed with the files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    File,
    ProfilePicture,
}

impl Purpose {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::ProfilePicture => "profile_picture",
        }
    }

    const fn prefix(self) -> &'static str {
        match self {
            Self::File => FILES_PREFIX,
            Self::ProfilePicture => PICTURES_PREFIX,
        }
    }

    /// A new key in the store: time-ordered (UUIDv7), so that the purge can
    /// tell an upload under way from an orphan without asking the store.
    #[must_use]
    pub fn new_key(self) -> String {
        format!("{}{}", self.prefix(), Uuid::now_v7())
    }
}

/// Why a file could not be stored or had.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("file not found")]
    NotFound,
    /// It exists, and is neither the caller's nor theirs to manage.
    #[error("not the caller's file")]
    Forbidden,
    #[error("the upload is over its limit of {0} bytes")]
    TooLarge(u64),
    #[error("the upload is empty")]
    Empty,
    /// The body is not a readable `multipart/form-data` upload.
    #[error("the upload could not be read: {0}")]
    Unreadable(String),
    /// Not an image of an accepted type, or one whose bytes do not decode.
    #[error("not a JPEG, PNG, WebP or GIF image")]
    NotAPicture,
    /// An image whose dimensions or decoded size are over the limits.
    #[error("the image is too large to decode")]
    PictureTooLarge,
    /// More pictures are waiting than can be decoded in time.
    #[error("image decoding is saturated")]
    Saturated,
    /// The user has as many pictures under way as one may.
    #[error("too many uploads under way at once")]
    TooManyAtOnce,
    /// The file would take its owner past their quota of bytes or files.
    #[error("over the owner's quota of files")]
    OverQuota,
    #[error("file store: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<DbErr> for FileError {
    fn from(error: DbErr) -> Self {
        Self::Model(error.into())
    }
}

timestamps::stamped_model!();

/// What one user's files may come to; `None` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub bytes: Option<u64>,
    pub count: Option<u64>,
}

impl Quota {
    pub const NONE: Self = Self {
        bytes: None,
        count: None,
    };

    /// The most a new file may weigh on top of `usage`; `None` when `usage`
    /// leaves room for no more files.
    fn room(self, usage: Usage) -> Option<u64> {
        if self.count.is_some_and(|count| usage.count >= count) {
            return None;
        }
        match self.bytes {
            Some(bytes) if usage.bytes >= bytes => None,
            Some(bytes) => Some(bytes - usage.bytes),
            None => Some(u64::MAX),
        }
    }
}

/// What one user's files come to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub count: u64,
}

impl Usage {
    /// The files (not the profile picture) `owner_id` keeps.
    ///
    /// # Errors
    /// On a database error.
    pub async fn of<C: ConnectionTrait>(db: &C, owner_id: Uuid) -> Result<Self, DbErr> {
        // SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back.
        let bytes = Expr::from(Func::cast_as(Func::sum(Expr::col(Column::Size)), "BIGINT"));
        let (bytes, count): (Option<i64>, i64) = Entity::find()
            .select_only()
            .column_as(bytes, "bytes")
            .column_as(Column::Id.count(), "count")
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::Purpose.eq(Purpose::File.as_str()))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or_default();
        Ok(Self {
            bytes: u64::try_from(bytes.unwrap_or_default()).unwrap_or_default(),
            count: u64::try_from(count).unwrap_or_default(),
        })
    }
}

/// The name a file is kept under: the last part of the client's name (no
/// folders), without control characters, at most 255 characters; `file`
/// when nothing is left.
#[must_use]
pub fn clean_name(name: Option<&str>) -> String {
    let base = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    match cleaned.trim() {
        "" | "." | ".." => "file".to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// The content type of bytes that begin with `head`: a known signature, else
/// text when it reads as UTF-8, else `application/octet-stream`.
#[must_use]
pub fn sniff(head: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type();
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A character cut by the end of the sniffed bytes still reads as text.
        Err(error) => error.error_len().is_none() && head.len() - error.valid_up_to() < 4,
    };
    if text && !head.contains(&0) {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// What has gone by of an upload: its size, its first bytes, and why it was
/// cut, if it was.
#[derive(Default)]
struct Tally {
    size: u64,
    head: Vec<u8>,
    failure: Option<FileError>,
}

/// A new file row, ready to insert.
pub struct NewFile<'a> {
    pub owner_id: Uuid,
    pub name: String,
    pub mime_type: &'a str,
    pub size: u64,
    pub storage_key: String,
    pub purpose: Purpose,
}

impl NewFile<'_> {
    #[must_use]
    pub fn into_active_model(self) -> ActiveModel {
        ActiveModel {
            owner_id: ActiveValue::Set(self.owner_id),
            name: ActiveValue::Set(self.name),
            mime_type: ActiveValue::Set(self.mime_type.to_string()),
            size: ActiveValue::Set(i64::try_from(self.size).unwrap_or(i64::MAX)),
            storage_key: ActiveValue::Set(self.storage_key),
            purpose: ActiveValue::Set(self.purpose.as_str().to_string()),
            ..Default::default()
        }
    }

    /// Inserts the row.
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert<C: ConnectionTrait>(self, db: &C) -> Result<Model, DbErr> {
        self.into_active_model().insert(db).await
    }

    /// Inserts the row if its owner's files stay within `quota` with it.
    /// Uploads of one owner that end at once take turns (the owner's row is
    /// locked), so that together they cannot pass the quota either.
    async fn insert_within(
        self,
        db: &DatabaseConnection,
        quota: Quota,
    ) -> Result<Model, FileError> {
        let txn = write_transaction::begin(db).await?;
        users::Entity::find_by_id(self.owner_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let usage = Usage::of(&txn, self.owner_id).await?;
        if quota.room(usage).is_none_or(|room| room < self.size) {
            return Err(FileError::OverQuota);
        }
        let file = self.insert(&txn).await?;
        txn.commit().await?;
        Ok(file)
    }
}

/// The most an upload may weigh: its `limit`, or less, what its owner's
/// quota leaves.
#[derive(Clone, Copy)]
struct Cap {
    bytes: u64,
    limit: u64,
}

impl Cap {
    fn passed(self) -> FileError {
        if self.bytes < self.limit {
            FileError::OverQuota
        } else {
            FileError::TooLarge(self.limit)
        }
    }
}

impl Model {
    /// Owners and admins may act on a file; nobody else.
    #[must_use]
    pub fn is_managed_by(&self, user: &users::Model) -> bool {
        self.owner_id == user.id || user.is_admin()
    }

    /// Streams `body` into the store under a new key, at most `limit` bytes
    /// and what `quota` leaves of it, then writes its row. Past either, or
    /// when the body or the store fails, nothing stays behind: no row, and
    /// the object is removed.
    ///
    /// # Errors
    /// `TooLarge`, `OverQuota`, `Empty`, `Unreadable` (the body's own error),
    /// `Storage`, or a database error.
    #[tracing::instrument(skip(db, storage, body), fields(owner_id = %owner_id))]
    pub async fn upload<S>(
        db: &DatabaseConnection,
        storage: &Storage,
        owner_id: Uuid,
        name: String,
        (limit, quota): (u64, Quota),
        body: S,
    ) -> Result<Self, FileError>
    where
        S: Stream<Item = Result<Bytes, FileError>> + Send + Unpin + 'static,
    {
        let room = quota
            .room(Usage::of(db, owner_id).await?)
            .ok_or(FileError::OverQuota)?;
        let cap = Cap {
            bytes: std::cmp::min(limit, room),
            limit,
        };
        let mut body = body;
        // The first bytes before anything is written: an empty upload leaves
        // no trace in the store.
        let first = loop {
            match body.next().await.transpose()? {
                Some(chunk) if chunk.is_empty() => {}
                Some(chunk) => break chunk,
                None => return Err(FileError::Empty),
            }
        };
        let tally = Arc::new(Mutex::new(Tally::default()));
        let counted = {
            let tally = Arc::clone(&tally);
            futures_util::stream::once(async { Ok(first) })
                .chain(body)
                .map(move |chunk| count(&tally, chunk, cap))
        };
        let key = Purpose::File.new_key();
        let written = storage
            .upload_stream(Path::new(&key), BytesStream::from_body_stream(counted))
            .await;
        let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(PoisonError::into_inner));
        let stored = match (tally.failure, written) {
            (Some(failure), _) => Err(failure),
            (None, Err(error)) => Err(FileError::Storage(error)),
            (None, Ok(())) => {
                let file = NewFile {
                    owner_id,
                    name,
                    mime_type: sniff(&tally.head),
                    size: tally.size,
                    storage_key: key.clone(),
                    purpose: Purpose::File,
                };
                file.insert_within(db, quota).await
            }
        };
        match &stored {
            Ok(_) => {}
            Err(FileError::Storage(_)) => file_deletions::leave_to_purge(db, &key).await,
            Err(_) => file_deletions::discard(db, storage, &key).await,
        }
        stored
    }

    /// The file `id`, when `user` may act on it.
    ///
    /// # Errors
    /// `NotFound` when there is no such file, `Forbidden` when it is someone
    /// else's.
    #[tracing::instrument(skip(db, user), fields(user_id = %user.id))]
    pub async fn find_for(
        db: &DatabaseConnection,
        id: Uuid,
        user: &users::Model,
    ) -> Result<Self, FileError> {
        let file = Entity::find_by_id(id)
            .filter(Column::Purpose.eq(Purpose::File.as_str()))
            .one(db)
            .await?
            .ok_or(FileError::NotFound)?;
        if file.is_managed_by(user) {
            Ok(file)
        } else {
            Err(FileError::Forbidden)
        }
    }

    /// The files a user sees, oldest first: their own, or everyone's for an
    /// admin.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_for(
        db: &DatabaseConnection,
        viewer: &users::Model,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        let mut query = Entity::find().filter(Column::Purpose.eq(Purpose::File.as_str()));
        if !viewer.is_admin() {
            query = query.filter(Column::OwnerId.eq(viewer.id));
        }
        Ok(query
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .offset(page.skip)
            .limit(page.limit)
            .all(db)
            .await?)
    }

    /// The keys of every object `owner_id` has in the store.
    ///
    /// # Errors
    /// On a database error.
    pub async fn keys_of_owner<C: ConnectionTrait>(
        db: &C,
        owner_id: Uuid,
    ) -> Result<Vec<String>, DbErr> {
        Entity::find()
            .select_only()
            .column(Column::StorageKey)
            .filter(Column::OwnerId.eq(owner_id))
            .into_tuple()
            .all(db)
            .await
    }

    /// The bytes, as they come from the store.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn open(&self, storage: &Storage) -> Result<BytesStream, FileError> {
        Ok(storage
            .download_stream(Path::new(&self.storage_key))
            .await?)
    }

    /// Deletes the row, then the bytes (or records them for the purge when
    /// the store fails), and returns what the file was.
    ///
    /// # Errors
    /// On a database error.
    pub async fn destroy(self, db: &DatabaseConnection, storage: &Storage) -> ModelResult<Self> {
        let keys = [self.storage_key.clone()];
        let txn = write_transaction::begin(db).await?;
        file_deletions::record(&txn, &keys).await?;
        Entity::delete_by_id(self.id).exec(&txn).await?;
        txn.commit().await?;
        file_deletions::carry_out(db, storage, &keys).await;
        Ok(self)
    }
}

/// Counts one chunk of an upload; past its cap, or on the body's own error,
/// notes why and cuts the stream.
fn count(
    tally: &Mutex<Tally>,
    chunk: Result<Bytes, FileError>,
    cap: Cap,
) -> Result<Bytes, std::io::Error> {
    let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
    let failure = match chunk {
        Ok(chunk) => {
            tally.size += chunk.len() as u64;
            if tally.size <= cap.bytes {
                let room = SNIFF_BYTES.saturating_sub(tally.head.len());
                tally
                    .head
                    .extend_from_slice(&chunk[..room.min(chunk.len())]);
                return Ok(chunk);
            }
            cap.passed()
        }
        Err(error) => error,
    };
    let message = failure.to_string();
    tally.failure.get_or_insert(failure);
    Err(std::io::Error::other(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_last_part_without_control_characters() {
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("C:\\Users\\me\\cv.pdf")), "cv.pdf");
        assert_eq!(clean_name(Some("a\r\nb\0.txt")), "ab.txt");
        assert_eq!(clean_name(Some("..")), "file");
        assert_eq!(clean_name(Some("   ")), "file");
        assert_eq!(clean_name(None), "file");
        assert_eq!(clean_name(Some("été \"q\".txt")), "été \"q\".txt");
        assert_eq!(clean_name(Some(&"é".repeat(300))).chars().count(), 255);
    }

    #[test]
    fn new_keys_tell_the_purge_when_they_were_made() {
        for purpose in [Purpose::File, Purpose::ProfilePicture] {
            let made = file_deletions::key_created_at(&purpose.new_key()).expect("a time");
            assert!((chrono::Utc::now() - made).num_seconds().abs() < 5);
        }
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff("caf\u{e9}".as_bytes()), "text/plain; charset=utf-8");
        // A two-byte character cut in half at the end of the sniffed bytes.
        assert_eq!(sniff(&"é".as_bytes()[..1]), "text/plain; charset=utf-8");
        assert_eq!(sniff(b"\xff\xfe\x00\x01binary"), "application/octet-stream");
    }
}
