//! An upload, streamed to the store as it arrives and counted against its
//! limit and its owner's quota; its type read from its first bytes.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use futures_util::StreamExt;

use super::*;

/// Uploads of one purpose one user may have under way at once: one user's
/// slow uploads cannot hold every connection, nor fill the store with
/// bytes that their quota will refuse once they end.
pub const PER_USER: usize = 2;

/// Uploads under way, per user and purpose.
static UNDER_WAY: LazyLock<Mutex<HashMap<(Uuid, Purpose), usize>>> = LazyLock::new(Mutex::default);

/// One of a user's `PER_USER` places for uploads of a purpose; given back
/// when dropped.
pub struct UserPlace(Uuid, Purpose);

impl UserPlace {
    /// # Errors
    /// `TooManyAtOnce` when the user has `PER_USER` uploads of `purpose`
    /// under way already.
    pub fn take(user_id: Uuid, purpose: Purpose) -> Result<Self, FileError> {
        let mut under_way = UNDER_WAY.lock().unwrap_or_else(PoisonError::into_inner);
        let count = under_way.entry((user_id, purpose)).or_default();
        if *count >= PER_USER {
            return Err(FileError::TooManyAtOnce);
        }
        *count += 1;
        Ok(Self(user_id, purpose))
    }
}

impl Drop for UserPlace {
    fn drop(&mut self) {
        let mut under_way = UNDER_WAY.lock().unwrap_or_else(PoisonError::into_inner);
        if let Entry::Occupied(mut count) = under_way.entry((self.0, self.1)) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

/// What has gone by of an upload: its size, its first bytes, and why it was
/// cut, if it was.
#[derive(Default)]
pub(super) struct Tally {
    size: u64,
    head: Vec<u8>,
    failure: Option<FileError>,
}

/// The most an upload may weigh: its `limit`, or less, what its owner's
/// quota leaves.
#[derive(Clone, Copy)]
pub(super) struct Cap {
    bytes: u64,
    limit: u64,
}

impl Cap {
    pub(super) fn passed(self) -> FileError {
        if self.bytes < self.limit {
            FileError::OverQuota
        } else {
            FileError::TooLarge(self.limit)
        }
    }
}

impl Model {
    /// Streams `body` into the store under a new key, at most `limit` bytes
    /// and what `quota` leaves of it, then writes its row. Past either, or
    /// when the body or the store fails, nothing stays behind: no row, and
    /// the object is removed.
    ///
    /// # Errors
    /// `TooManyAtOnce` past the owner's `PER_USER` uploads under way,
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
        let _place = UserPlace::take(owner_id, Purpose::File)?;
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
}

/// Counts one chunk of an upload; past its cap, or on the body's own error,
/// notes why and cuts the stream.
pub(super) fn count(
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
