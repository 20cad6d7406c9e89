//! `cargo loco task user_delete email:<address> [now:true]`: schedules the
//! deletion of an account as its owner's request does (mailed, cancellable
//! for `ACCOUNT_DELETION_GRACE_DAYS`), or with `now:true` deletes it at
//! once, as an admin's `DELETE /users/{id}` does.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator::{self, BY_OPERATOR};
use crate::{
    infra::state::AppState, models::deleted_accounts::RequestedBy, workers::account_deletion,
};

const USAGE: &str = "user_delete email:<address> [now:true]";

pub struct UserDelete;

#[async_trait::async_trait]
impl Task for UserDelete {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_delete".to_string(),
            detail: format!("Delete an account, after the grace period or at once: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        let now = match vars.cli.get("now").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(operator::usage(USAGE)),
        };
        let state = AppState::from_context(ctx)?;
        let email = user.email.clone();
        if now {
            account_deletion::erase(ctx, &state, user, RequestedBy::Operator)
                .await
                .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
            println!("{email} is deleted");
            return Ok(());
        }
        let grace = state.settings.data_rights.grace();
        let scheduled = user
            .schedule_deletion(&ctx.db, &state.signer, grace)
            .await?;
        let origin = operator::origin("user_delete");
        let by = (&origin, Some(BY_OPERATOR));
        account_deletion::scheduled(ctx, &state, &scheduled, by).await?;
        println!(
            "{email} is signed out, and deleted at {}",
            scheduled.deletes_at
        );
        Ok(())
    }
}
