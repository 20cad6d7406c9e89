//! `cargo loco task import_legacy from:<postgres url> [files:<folder>]`:
//! moves a Python template's users, items and files over (see
//! `models::legacy_import`); `files:` is its `FILE_PATH` folder.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator;
use crate::{
    models::legacy_import::{self, Tally, Target},
    state::AppState,
};

const USAGE: &str = "import_legacy from:<postgres url> [files:<folder>]";

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
        let storage = ctx.storage.as_ref();
        let target = Target {
            db: &ctx.db,
            storage,
            languages: &languages,
            files_from: vars.cli.get("files").map(Into::into),
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
