//! `cargo loco task import_legacy from:<postgres url> [files:<folder or
//! s3://bucket/folder>]`: moves a Python template's users, items and files
//! over (see `legacy_import`); `files:` is its `FILE_PATH` folder, or
//! a bucket its files were copied to, read with this app's `S3_*` settings.

use loco_rs::{
    app::AppContext,
    storage::{Storage, drivers},
    task::{Task, TaskInfo, Vars},
};

use super::operator;
use crate::{
    infra::{settings::FileSettings, state::AppState},
    tasks::legacy_import::{self, LegacyFiles, Tally, Target},
};

const USAGE: &str = "import_legacy from:<postgres url> [files:<folder or s3://bucket/folder>]";

/// The store `files:` names.
fn legacy_files(settings: &FileSettings, place: &str) -> loco_rs::Result<LegacyFiles> {
    let (store, prefix) = if let Some(bucket) = place.strip_prefix("s3://") {
        let (bucket, folder) = bucket.split_once('/').unwrap_or((bucket, ""));
        if bucket.is_empty() {
            return Err(loco_rs::Error::string(&format!(
                "files: {place:?} names no bucket"
            )));
        }
        let store = settings
            .bucket(bucket)
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        let folder = folder.trim_matches('/');
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        (store, prefix)
    } else {
        if !std::path::Path::new(place).is_dir() {
            return Err(loco_rs::Error::string(&format!(
                "files: {place:?} is not a folder"
            )));
        }
        (
            Storage::single(drivers::local::new_with_prefix(place)?),
            String::new(),
        )
    };
    Ok(LegacyFiles {
        store,
        prefix,
        place: place.to_string(),
    })
}

pub struct ImportLegacy;

#[async_trait::async_trait]
impl Task for ImportLegacy {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "import_legacy".to_string(),
            detail: format!("Import the Python template's users, items and files: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let from = vars.cli_arg("from").map_err(|_| operator::usage(USAGE))?;
        let legacy = legacy_import::connect(from)
            .await
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        let state = AppState::from_context(ctx)?;
        let languages = state.translations.languages();
        let files_from = vars
            .cli
            .get("files")
            .map(|place| legacy_files(&state.settings.files, place))
            .transpose()?;
        let target = Target {
            db: &ctx.db,
            storage: ctx.storage.as_ref(),
            languages: &languages,
            files_from,
            max_bytes: state.settings.files.max_bytes,
        };
        let report = legacy_import::run(&legacy, &target)
            .await
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        for (table, tally) in [
            ("users", report.users),
            ("items", report.items),
            ("files", report.files),
        ] {
            let Tally {
                imported,
                present,
                skipped,
            } = tally;
            println!("{table}: {imported} imported, {present} already here, {skipped} skipped");
        }
        for line in &report.skipped {
            println!("skipped {line}");
        }
        Ok(())
    }
}
