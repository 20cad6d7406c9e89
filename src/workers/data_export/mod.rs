//! A user's data export, written away from the request: the archive
//! (`archive`) streams into the store as it is written, then the export is
//! marked ready and the user mailed. An archive that fails half-way is
//! removed and the export marked failed: the user may ask again.

pub mod archive;

use std::path::Path;

use loco_rs::{
    app::AppContext,
    bgworker::BackgroundWorker,
    model::ModelError,
    storage::{Storage, stream::BytesStream},
};
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use self::archive::ArchiveError;
use crate::{
    infra::state::AppState,
    mailers::data_rights::DataRightsMailer,
    models::{data_exports, file_deletions, users},
};

/// What the archive's writer may be ahead of the store by.
const PIPE_BYTES: usize = 256 * 1024;

pub struct DataExportWorker {
    pub ctx: AppContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataExportArgs {
    pub export_id: Uuid,
}

#[async_trait::async_trait]
impl BackgroundWorker<DataExportArgs> for DataExportWorker {
    fn build(ctx: &AppContext) -> Self {
        Self { ctx: ctx.clone() }
    }

    async fn perform(&self, args: DataExportArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        state.metrics.job("data_export", self.run(args)).await
    }
}

impl DataExportWorker {
    async fn run(&self, args: DataExportArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        let (ctx, db) = (&self.ctx, &self.ctx.db);
        let export = match data_exports::Model::find_by_id(db, args.export_id).await {
            // Its user was deleted since.
            Err(ModelError::EntityNotFound) => return Ok(()),
            found => found?,
        };
        let user = users::Model::find_by_id(db, export.user_id).await?;
        let key = data_exports::new_key();
        let target = (ctx.storage.as_ref(), key.as_str());
        if let Err(error) = store(ctx, target, &state.settings.server_host, &user).await {
            tracing::error!(%error, export_id = %export.id, "data export not written");
            file_deletions::discard(db, &ctx.storage, &key).await;
            export.mark_failed(db).await?;
            return Ok(());
        }
        let ttl = state.settings.data_rights.export_ttl();
        match export.mark_ready(db, &key, ttl).await {
            Ok(_) => DataRightsMailer::export_ready(ctx, &state.settings, &user).await,
            Err(error) => {
                file_deletions::discard(db, &ctx.storage, &key).await;
                if !matches!(error, ModelError::EntityNotFound) {
                    return Err(error.into());
                }
            }
        }
        Ok(())
    }
}

/// Writes `user`'s archive into `target` under `key`, through a pipe: the
/// store takes each part as the archive's writer gives it. Their files are
/// read from the app's store.
///
/// # Errors
/// When a row or a stored file cannot be read, or `target` fails.
pub async fn store(
    ctx: &AppContext,
    (target, key): (&Storage, &str),
    server_host: &str,
    user: &users::Model,
) -> Result<(), ArchiveError> {
    let (writer, reader) = tokio::io::duplex(PIPE_BYTES);
    let body = BytesStream::from_body_stream(ReaderStream::new(reader));
    let upload = target.upload_stream(Path::new(key), body);
    let write = archive::write((&ctx.db, &ctx.storage), server_host, user, writer);
    let (written, uploaded) = tokio::join!(write, upload);
    // A store that failed closed the pipe: the writer's error says only that.
    uploaded.map_err(|error| ArchiveError::Io(std::io::Error::other(error)))?;
    written
}
