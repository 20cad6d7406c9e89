//! Profile pictures: a JPEG, PNG, WebP or GIF (known from its bytes), decoded
//! under limits, turned upright, resized to fit 512×512 and encoded again, so
//! that nothing of the upload but its pixels is kept: no EXIF, no GPS, no
//! comment. JPEG stays JPEG; the others become PNG (lossless, transparency
//! kept). A user has one; a new one replaces it.

use std::{io::Cursor, num::NonZeroUsize, path::Path, sync::LazyLock, time::Duration};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use image::{
    DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
    codecs::jpeg::JpegEncoder, imageops::FilterType,
};
use loco_rs::{prelude::*, storage::Storage};
use sea_orm::{JoinType, QuerySelect, RelationTrait};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{
    file_deletions,
    files::{self, FileError, NewFile, Purpose, UserPlace},
    users, write_transaction,
};

/// The largest side of a stored picture.
pub const SIDE: u32 = 512;

/// The largest side of a picture that is decoded at all: a small file that
/// declares 50,000×50,000 pixels is refused before any pixel is allocated.
const MAX_DECODED_SIDE: u32 = 10_000;

/// What one decode may allocate (a 24-megapixel photo in RGBA is 96 MiB).
const MAX_DECODED_BYTES: u64 = 128 * 1024 * 1024;

/// How long an upload waits for a decoder before it is turned away (503).
const MAX_WAIT: Duration = Duration::from_secs(10);

const JPEG_QUALITY: u8 = 85;

/// One decode per core at a time: each may hold `MAX_DECODED_BYTES`, and the
/// blocking pool would otherwise run hundreds at once.
static DECODERS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
});

/// Uploads held in memory at once, read or waiting for a decoder: each holds
/// up to `PROFILE_PICTURE_MAX_BYTES`, so a crowd of uploads cannot add up to
/// more than this many of them.
static RECEIVING: Semaphore = Semaphore::const_new(16);

/// Pictures one user may have under way at once (`UserPlace`), taken
/// before a place in `RECEIVING`: one user's slow uploads cannot hold every
/// place.
pub use super::files::PER_USER;

/// A picture ready to store.
#[derive(Debug)]
pub struct Picture {
    pub bytes: Vec<u8>,
    pub mime_type: &'static str,
    pub width: u32,
    pub height: u32,
}

impl Picture {
    /// Reads `user_id`'s upload (its size capped by the caller), then
    /// decodes, resizes and encodes it again, off the async threads.
    ///
    /// # Errors
    /// `TooManyAtOnce` past the user's `PER_USER` uploads under way,
    /// `NotAPicture` for another type or bytes that do not decode,
    /// `PictureTooLarge` past the decoding limits, `Empty`, the body's own
    /// error, or `Saturated` when no room or decoder frees up in time.
    pub async fn prepare<S>(user_id: Uuid, body: S) -> Result<Self, FileError>
    where
        S: Stream<Item = Result<Bytes, FileError>> + Send + Unpin,
    {
        let _place = UserPlace::take(user_id, Purpose::ProfilePicture)?;
        let _room = permit(&RECEIVING).await?;
        let upload = collect(body).await?;
        let _decoder = permit(&DECODERS).await?;
        tokio::task::spawn_blocking(move || Self::process(&upload))
            .await
            .map_err(|error| FileError::Model(ModelError::Any(error.into())))?
    }

    fn process(upload: &[u8]) -> Result<Self, FileError> {
        let format = image::guess_format(upload).map_err(|_| FileError::NotAPicture)?;
        if !matches!(
            format,
            ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
        ) {
            return Err(FileError::NotAPicture);
        }
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_DECODED_SIDE);
        limits.max_image_height = Some(MAX_DECODED_SIDE);
        limits.max_alloc = Some(MAX_DECODED_BYTES);
        let mut reader = ImageReader::with_format(Cursor::new(upload), format);
        reader.limits(limits);
        let mut decoder = reader.into_decoder().map_err(decode_error)?;
        let orientation = decoder.orientation().map_err(decode_error)?;
        let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
        image.apply_orientation(orientation);
        if image.width() > SIDE || image.height() > SIDE {
            image = image.resize(SIDE, SIDE, FilterType::Lanczos3);
        }
        let mut bytes = Vec::new();
        let mime_type = if format == ImageFormat::Jpeg {
            JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
                .encode_image(&image.to_rgb8())
                .map_err(encode_error)?;
            "image/jpeg"
        } else {
            image
                .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
                .map_err(encode_error)?;
            "image/png"
        };
        Ok(Self {
            bytes,
            mime_type,
            width: image.width(),
            height: image.height(),
        })
    }

    const fn file_name(&self) -> &'static str {
        if matches!(self.mime_type.as_bytes(), b"image/jpeg") {
            "profile-picture.jpg"
        } else {
            "profile-picture.png"
        }
    }

    /// Stores the picture as `user`'s, deletes the one it replaces (row and
    /// bytes), and returns the user as they are now.
    ///
    /// # Errors
    /// When the store or the database fails; then nothing of the new picture
    /// stays behind and the old one is kept.
    pub async fn replace(
        mut self,
        db: &DatabaseConnection,
        storage: &Storage,
        user: users::Model,
    ) -> Result<users::Model, FileError> {
        let key = Purpose::ProfilePicture.new_key();
        let bytes = Bytes::from(std::mem::take(&mut self.bytes));
        storage.upload(Path::new(&key), &bytes).await?;
        match self.record(db, &key, bytes.len() as u64, user).await {
            Ok((user, replaced)) => {
                file_deletions::carry_out(db, storage, &replaced).await;
                Ok(user)
            }
            Err(error) => {
                file_deletions::discard(db, storage, &key).await;
                Err(error)
            }
        }
    }

    /// In one transaction: points the user at the new picture (locking their
    /// row first, so that two uploads at once replace one another in turn),
    /// writes its row, and deletes the rows of the others, whose keys it
    /// records for deletion and returns.
    async fn record(
        &self,
        db: &DatabaseConnection,
        key: &str,
        size: u64,
        user: users::Model,
    ) -> Result<(users::Model, Vec<String>), FileError> {
        let file_id = Uuid::new_v4();
        let txn = write_transaction::begin(db).await?;
        let mut account = user.into_active_model();
        account.profile_picture_id = ActiveValue::Set(Some(file_id));
        let user = account.update(&txn).await?;
        let file = NewFile {
            owner_id: user.id,
            name: self.file_name().to_string(),
            mime_type: self.mime_type,
            size,
            storage_key: key.to_string(),
            purpose: Purpose::ProfilePicture,
        };
        let mut file = file.into_active_model();
        file.id = ActiveValue::Set(file_id);
        file.insert(&txn).await?;
        let others = files::Entity::find()
            .filter(files::Column::OwnerId.eq(user.id))
            .filter(files::Column::Purpose.eq(Purpose::ProfilePicture.as_str()))
            .filter(files::Column::Id.ne(file_id));
        let replaced: Vec<String> = others
            .clone()
            .select_only()
            .column(files::Column::StorageKey)
            .into_tuple()
            .all(&txn)
            .await?;
        file_deletions::record(&txn, &replaced).await?;
        files::Entity::delete_many()
            .filter(files::Column::StorageKey.is_in(replaced.iter().cloned()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok((user, replaced))
    }
}

/// `user_id`'s current picture, when it is `file_id` and the user is not
/// archived.
///
/// # Errors
/// `NotFound` otherwise.
pub async fn find(
    db: &DatabaseConnection,
    user_id: Uuid,
    file_id: Uuid,
) -> Result<files::Model, FileError> {
    files::Entity::find_by_id(file_id)
        .filter(files::Column::OwnerId.eq(user_id))
        .filter(files::Column::Purpose.eq(Purpose::ProfilePicture.as_str()))
        .join(JoinType::InnerJoin, files::Relation::Users.def())
        .filter(users::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .ok_or(FileError::NotFound)
}

async fn permit(semaphore: &Semaphore) -> Result<SemaphorePermit<'_>, FileError> {
    tokio::time::timeout(MAX_WAIT, semaphore.acquire())
        .await
        .map_err(|_| FileError::Saturated)?
        .map_err(|_| FileError::Saturated)
}

async fn collect<S>(mut body: S) -> Result<Vec<u8>, FileError>
where
    S: Stream<Item = Result<Bytes, FileError>> + Unpin,
{
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(bytes)
}

/// Limits passed are "too large"; anything else that does not decode is
/// "not a picture".
fn decode_error(error: ImageError) -> FileError {
    match error {
        ImageError::Limits(_) => FileError::PictureTooLarge,
        _ => FileError::NotAPicture,
    }
}

fn encode_error(error: ImageError) -> FileError {
    FileError::Model(ModelError::Any(error.into()))
}
