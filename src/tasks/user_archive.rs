//! `cargo loco task user_archive email:<address>`: archives a user, which
//! signs them out everywhere, as an admin's `DELETE /users/{id}/archive` does.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};
use sea_orm::IntoActiveModel;

use super::operator::{self, BY_OPERATOR};
use crate::models::security_events::{self, EventKind};

const USAGE: &str = "user_archive email:<address>";

pub struct UserArchive;

#[async_trait::async_trait]
impl Task for UserArchive {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_archive".to_string(),
            detail: format!("Archive a user and end their sessions: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        if user.archived_at.is_some() {
            return Err(loco_rs::Error::string(&format!(
                "{} is already archived",
                user.email
            )));
        }
        let user = user.into_active_model().archive(&ctx.db).await?;
        let origin = operator::origin("user_archive");
        let kind = EventKind::Archived;
        security_events::Model::note(&ctx.db, user.id, kind, &origin, Some(BY_OPERATOR)).await;
        println!("{} is archived and signed out everywhere", user.email);
        Ok(())
    }
}
