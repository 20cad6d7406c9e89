//! `cargo loco task user_end_sessions email:<address>`: signs a user out
//! everywhere (a stolen device, a leaked token): every session, refresh
//! token and access token they hold stops working at once.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator::{self, BY_OPERATOR};
use crate::models::security_events::{self, EventKind};

const USAGE: &str = "user_end_sessions email:<address>";

pub struct UserEndSessions;

#[async_trait::async_trait]
impl Task for UserEndSessions {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_end_sessions".to_string(),
            detail: format!("Sign a user out everywhere: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        let user = user.end_all_sessions(&ctx.db).await?;
        let origin = operator::origin("user_end_sessions");
        let kind = EventKind::SessionEnded;
        security_events::Model::note(&ctx.db, user.id, kind, &origin, Some(BY_OPERATOR)).await;
        println!("{} is signed out everywhere", user.email);
        Ok(())
    }
}
