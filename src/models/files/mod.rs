//! Stored files: a row here, the bytes in the file store (a folder or an S3
//! bucket) under a generated key, never the client's name. An upload streams
//! to the store as it arrives, counted against its limit; its type is read
//! from its first bytes.

mod quota;
mod upload;

use std::path::Path;

use bytes::Bytes;
use futures_util::Stream;
use loco_rs::{
    prelude::*,
    storage::{Storage, StorageError, stream::BytesStream},
};
use sea_orm::{Order, QueryOrder, QuerySelect, Select};

pub use self::{
    quota::{Quota, Usage},
    upload::{PER_USER, UserPlace},
};
pub use super::_entities::files::{self, ActiveModel, Column, Entity, Model, Relation};
pub use super::file_deletions::{FILES_PREFIX, PICTURES_PREFIX};
use super::{
    _entities::users,
    file_deletions,
    pagination::{self, Pagination},
    timestamps, write_transaction,
};

/// How long a health check waits for the store.
const STORE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The key the health checks look up and write; no upload is given it.
const HEALTH_CHECK_KEY: &str = "health-check";

/// Whether the store answers: a look-up of a key no upload is ever given
/// (its absence is an answer), within `STORE_CHECK_TIMEOUT`. An S3 service
/// that cannot be reached, or refuses the credentials, does not answer.
pub async fn store_answers(storage: &Storage) -> bool {
    let key = Path::new(HEALTH_CHECK_KEY);
    store_checked("look-up", async { storage.exists(key).await.map(|_| ()) }).await
}

/// Whether the store takes a write: a small object put under that key, then
/// deleted, within `STORE_CHECK_TIMEOUT`.
pub async fn store_takes_writes(storage: &Storage) -> bool {
    let key = Path::new(HEALTH_CHECK_KEY);
    store_checked("write", async {
        storage.upload(key, &Bytes::from_static(b"ok")).await?;
        storage.delete(key).await
    })
    .await
}

async fn store_checked(what: &str, check: impl Future<Output = Result<(), StorageError>>) -> bool {
    match tokio::time::timeout(STORE_CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, what, "health check: the file store refused");
            false
        }
        Err(_) => {
            tracing::warn!(what, "health check: the file store did not answer in time");
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

impl Model {
    /// Owners and admins may act on a file; nobody else.
    #[must_use]
    pub fn is_managed_by(&self, user: &users::Model) -> bool {
        self.owner_id == user.id || user.is_admin()
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
        Ok(Self::listed(viewer, page).all(db).await?)
    }

    /// The statement of `list_for`.
    #[must_use]
    pub fn listed(viewer: &users::Model, page: &Pagination) -> Select<Entity> {
        let mut query = Entity::find().filter(Column::Purpose.eq(Purpose::File.as_str()));
        if !viewer.is_admin() {
            query = pagination::owned_by(query, Column::OwnerId, viewer.id, Order::Asc);
        }
        page.select(
            query.order_by_asc(Column::Purpose),
            Column::CreatedAt,
            Column::Id,
            Order::Asc,
        )
    }

    /// A page of the files `owner_id` uploaded (not their pictures), oldest
    /// first: what their data export holds.
    ///
    /// # Errors
    /// On a database error.
    pub async fn page_of_owner(
        db: &DatabaseConnection,
        owner_id: Uuid,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        let query = Entity::find().filter(Column::Purpose.eq(Purpose::File.as_str()));
        let query = pagination::owned_by(query, Column::OwnerId, owner_id, Order::Asc);
        Ok(page
            .select(
                query.order_by_asc(Column::Purpose),
                Column::CreatedAt,
                Column::Id,
                Order::Asc,
            )
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
