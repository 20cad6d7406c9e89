//! `cargo loco task purge_expired_tokens`: deletes expired one-time codes,
//! refresh tokens and reset tokens. The scheduler runs it hourly.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::models::{one_time_passwords, password_reset_tokens, refresh_tokens};

pub struct PurgeExpiredTokens;

#[async_trait::async_trait]
impl Task for PurgeExpiredTokens {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "purge_expired_tokens".to_string(),
            detail: "Delete expired one-time codes, refresh tokens and reset tokens".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &Vars) -> loco_rs::Result<()> {
        let codes = one_time_passwords::Model::purge_expired(&ctx.db).await?;
        let refresh = refresh_tokens::Model::purge_expired(&ctx.db).await?;
        let resets = password_reset_tokens::Model::purge_expired(&ctx.db).await?;
        tracing::info!(codes, refresh, resets, "expired tokens purged");
        println!("purged {codes} code(s), {refresh} refresh token(s), {resets} reset token(s)");
        Ok(())
    }
}
