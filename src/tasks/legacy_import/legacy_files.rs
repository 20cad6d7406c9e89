//! The legacy files: their rows, and their bytes copied from where the
//! Python template kept them (a folder, or a bucket they were copied to).

use super::*;

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
    pub(super) async fn check(&self) -> Result<(), ImportError> {
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
    pub(super) async fn bytes(
        &self,
        filename: Option<&str>,
        max_bytes: u64,
    ) -> Result<Bytes, Cow<'static, str>> {
        pub(super) const NOT_THERE: &str = "its bytes are not among the legacy files";
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
pub(super) struct LegacyFile {
    id: Uuid,
    name: Option<String>,
    filename: Option<String>,
    user_id: Option<Uuid>,
    created_at: DateTimeWithTimeZone,
    updated_at: Option<DateTimeWithTimeZone>,
    archived_at: Option<NaiveDateTime>,
}

pub(super) async fn import_files(
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

pub(super) async fn insert_files(
    db: &DatabaseConnection,
    rows: Vec<files::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = write_transaction::begin(db).await?;
    files::Entity::insert_many(rows).exec(&txn).await?;
    txn.commit().await
}
