//! `cargo loco task user_passkeys email:<address>`: lists a user's passkeys,
//! for an operator helping them (`user_disable_2fa` removes them).

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator;
use crate::models::passkeys;

const USAGE: &str = "user_passkeys email:<address>";

pub struct UserPasskeys;

#[async_trait::async_trait]
impl Task for UserPasskeys {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_passkeys".to_string(),
            detail: format!("List a user's passkeys: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        let passkeys = passkeys::Model::all_of(&ctx.db, user.id).await?;
        println!("{} passkey(s) of {}", passkeys.len(), user.email);
        for passkey in passkeys {
            let last_used = passkey
                .last_used_at
                .map_or_else(|| "never used".to_string(), |at| format!("last used {at}"));
            let synced = if passkey.backed_up { ", synced" } else { "" };
            println!(
                "{}  {:?}  added {}, {last_used}{synced}",
                passkey.id, passkey.name, passkey.created_at
            );
        }
        Ok(())
    }
}
