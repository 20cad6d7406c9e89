//! `cargo loco task user_export email:<address> path:<file>`: writes the
//! archive of an account's data (what `POST /users/me/export` makes) to a
//! file, for an operator answering a request by other means.

use std::path::Path;

use loco_rs::{
    app::AppContext,
    storage::{Storage, drivers},
    task::{Task, TaskInfo, Vars},
};

use super::operator;
use crate::{infra::state::AppState, workers::data_export};

const USAGE: &str = "user_export email:<address> path:<file>";

pub struct UserExport;

#[async_trait::async_trait]
impl Task for UserExport {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_export".to_string(),
            detail: format!("Write the archive of an account's data to a file: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        let path = vars.cli_arg("path").map_err(|_| operator::usage(USAGE))?;
        let path = Path::new(path);
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(operator::usage(USAGE));
        };
        if path.exists() {
            return Err(loco_rs::Error::string(&format!(
                "{} exists",
                path.display()
            )));
        }
        // The same writing as the export job's, into a store on that folder.
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        let target = Storage::single(drivers::local::new_with_prefix(folder)?);
        let state = AppState::from_context(ctx)?;
        let host = &state.settings.server_host;
        data_export::store(ctx, (&target, &name.to_string_lossy()), host, &user)
            .await
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        println!("the data of {} is in {}", user.email, path.display());
        Ok(())
    }
}
