//! The archive of a user's data: `README.txt`; `account.json`, with the
//! profile, items, files, sessions and security events, each as its own
//! endpoint shows it; and every file they uploaded under `files/`, bytes as
//! uploaded. Written as a stream, a page of rows and a chunk of bytes at a
//! time: what it holds in memory does not grow with the account.

use async_zip::{
    Compression, ZipDateTimeBuilder, ZipEntry, ZipEntryBuilder, base::write::ZipFileWriter,
};
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures_util::{AsyncWrite, AsyncWriteExt, StreamExt};
use loco_rs::{model::ModelError, storage::Storage};
use sea_orm::{DatabaseConnection, prelude::DateTimeWithTimeZone};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    models::{
        files::{self, FileError},
        items,
        pagination::{Cursor, Pagination},
        security_events, sessions, users,
    },
    views::{
        files::FileResponse, items::ItemResponse, security_events::SecurityEventResponse,
        sessions::SessionResponse, users::UserResponse,
    },
};

/// Rows read at a time.
const PAGE: u64 = 500;

const README: &str = "\
This archive holds the data the service keeps about your account.

account.json
  user             your profile, as GET /api/v1/users/me shows it
  items            your items, archived ones too, as GET /api/v1/items/{id} shows each
  files            what is known of each file you uploaded, as GET /api/v1/files shows it
  sessions         the devices signed in to your account, as GET /api/v1/auth/sessions shows them
  security_events  your account's security log, newest first, as GET /api/v1/users/me/security-events shows it

files/
  every file you uploaded, bytes as you uploaded them, each named
  <its id>-<its name>: the id is the one under \"files\" in account.json.

Times are in UTC (RFC 3339). Secrets (your password's hash, your two-factor
secret, your sign-in tokens) are kept by the service only in forms that
cannot be read back, and are not in this archive.
";

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Zip(#[from] async_zip::error::ZipError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Writes `user`'s archive to `sink`, then shuts it down.
///
/// # Errors
/// When a row or a stored file cannot be read, or `sink` fails.
pub async fn write(
    (db, storage): (&DatabaseConnection, &Storage),
    server_host: &str,
    user: &users::Model,
    sink: tokio::io::DuplexStream,
) -> Result<(), ArchiveError> {
    let now = Utc::now();
    let mut zip = ZipFileWriter::with_tokio(sink);
    zip.write_entry_whole(entry("README.txt", now), README.as_bytes())
        .await?;
    let mut json = zip.write_entry_stream(entry("account.json", now)).await?;
    write_account(&mut json, db, server_host, user).await?;
    json.close().await?;
    let mut page = first_page();
    loop {
        let rows = files::Model::page_of_owner(db, user.id, &page).await?;
        for file in &rows {
            let name = format!("files/{}-{}", file.id, files::clean_name(Some(&file.name)));
            let mut out = zip
                .write_entry_stream(entry(&name, file.created_at.to_utc()))
                .await?;
            let mut bytes = file.open(storage).await?;
            while let Some(chunk) = bytes.next().await {
                out.write_all(&chunk?).await?;
            }
            out.close().await?;
        }
        let Some(cursor) = page.next(&rows, |file| (file.created_at, file.id)) else {
            break;
        };
        page.cursor = Some(cursor);
    }
    zip.close().await?.close().await?;
    Ok(())
}

async fn write_account<W: AsyncWrite + Unpin>(
    out: &mut W,
    db: &DatabaseConnection,
    server_host: &str,
    user: &users::Model,
) -> Result<(), ArchiveError> {
    out.write_all(b"{\"user\":").await?;
    out.write_all(&serde_json::to_vec(&UserResponse::new(user, server_host))?)
        .await?;
    for section in Section::ALL {
        out.write_all(format!(",\n\"{}\":[", section.name()).as_bytes())
            .await?;
        let mut page = first_page();
        let mut first = true;
        loop {
            let (rows, next) = section.page(db, server_host, user.id, &page).await?;
            for row in rows {
                out.write_all(if first { b"\n" } else { b",\n" }).await?;
                out.write_all(&row).await?;
                first = false;
            }
            let Some(cursor) = next else { break };
            page.cursor = Some(cursor);
        }
        out.write_all(b"]").await?;
    }
    out.write_all(b"}\n").await?;
    Ok(())
}

/// The lists of `account.json`, after the user.
#[derive(Debug, Clone, Copy)]
enum Section {
    Items,
    Files,
    Sessions,
    SecurityEvents,
}

impl Section {
    const ALL: [Self; 4] = [
        Self::Items,
        Self::Files,
        Self::Sessions,
        Self::SecurityEvents,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::Items => "items",
            Self::Files => "files",
            Self::Sessions => "sessions",
            Self::SecurityEvents => "security_events",
        }
    }

    /// A page of the section's rows, each written as its endpoint shows
    /// it, and where the next page starts.
    async fn page(
        self,
        db: &DatabaseConnection,
        server_host: &str,
        user_id: Uuid,
        page: &Pagination,
    ) -> Result<(Vec<Vec<u8>>, Option<Cursor>), ArchiveError> {
        Ok(match self {
            Self::Items => {
                let rows = items::Model::page_of_owner(db, user_id, page).await?;
                written(
                    &rows,
                    page,
                    |row| (row.created_at, row.id),
                    ItemResponse::from,
                )?
            }
            Self::Files => {
                let rows = files::Model::page_of_owner(db, user_id, page).await?;
                let view = |row| FileResponse::new(row, server_host);
                written(&rows, page, |row| (row.created_at, row.id), view)?
            }
            Self::Sessions => {
                let rows = sessions::Model::list_for(db, user_id, page).await?;
                let view = |row| SessionResponse::new(row, None);
                written(&rows, page, |row| (row.created_at, row.id), view)?
            }
            Self::SecurityEvents => {
                let rows = security_events::Model::list_for(db, user_id, page).await?;
                let view = SecurityEventResponse::from;
                written(&rows, page, |row| (row.created_at, row.id), view)?
            }
        })
    }
}

/// `rows` in JSON, each as `view` shows it, and where the page after them
/// starts.
fn written<'a, T, V: Serialize>(
    rows: &'a [T],
    page: &Pagination,
    position: impl Fn(&T) -> (DateTimeWithTimeZone, Uuid),
    view: impl Fn(&'a T) -> V,
) -> serde_json::Result<(Vec<Vec<u8>>, Option<Cursor>)> {
    let written = rows
        .iter()
        .map(|row| serde_json::to_vec(&view(row)))
        .collect::<serde_json::Result<_>>()?;
    Ok((written, page.next(rows, position)))
}

const fn first_page() -> Pagination {
    Pagination {
        skip: 0,
        limit: PAGE,
        cursor: None,
    }
}

/// An entry stored as it is (no compression), readable by its owner.
fn entry(name: &str, modified: DateTime<Utc>) -> ZipEntry {
    let modified = ZipDateTimeBuilder::new()
        .year(modified.year())
        .month(modified.month())
        .day(modified.day())
        .hour(modified.hour())
        .minute(modified.minute())
        .second(modified.second())
        .build();
    ZipEntryBuilder::new(name.to_string().into(), Compression::Stored)
        .last_modification_date(modified)
        .unix_permissions(0o644)
        .build()
}
