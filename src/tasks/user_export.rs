//! `cargo loco task user_export email:<address> path:<file>`: writes the
//! archive of an account's data (what `POST /users/me/export` makes) to a
//! file, for an operator answering a request by other means.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator;
use crate::{infra::state::AppState, workers::data_export::archive};

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
        let state = AppState::from_context(ctx)?;
        let file = tokio::fs::File::create_new(path).await?;
        let host = &state.settings.server_host;
        archive::write((&ctx.db, &ctx.storage), host, &user, file)
            .await
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        println!("the data of {} is in {path}", user.email);
        Ok(())
    }
}
