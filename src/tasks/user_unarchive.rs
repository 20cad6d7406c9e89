//! `cargo loco task user_unarchive email:<address>`: brings an archived user
//! back, as an admin's `PUT /users/{id}/unarchive` does.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};
use sea_orm::IntoActiveModel;

use super::operator::{self, BY_OPERATOR};
use crate::models::security_events::{self, EventKind};

const USAGE: &str = "user_unarchive email:<address>";

pub struct UserUnarchive;

#[async_trait::async_trait]
impl Task for UserUnarchive {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_unarchive".to_string(),
            detail: format!("Bring an archived user back: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        if user.archived_at.is_none() {
            return Err(loco_rs::Error::string(&format!(
                "{} is not archived",
                user.email
            )));
        }
        let user = user.into_active_model().unarchive(&ctx.db).await?;
        let origin = operator::origin("user_unarchive");
        let kind = EventKind::Unarchived;
        security_events::Model::note(&ctx.db, user.id, kind, &origin, Some(BY_OPERATOR)).await;
        println!("{} is back", user.email);
        Ok(())
    }
}
