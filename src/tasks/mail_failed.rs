//! `cargo loco task mail_failed`: lists the mails that failed for good.
//! `mail_failed retry:all` (or `retry:<id>`) gives them a fresh round of tries.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};
use uuid::Uuid;

use crate::{infra::state::AppState, models::mails};

pub struct MailFailed;

#[async_trait::async_trait]
impl Task for MailFailed {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "mail_failed".to_string(),
            detail: "List failed mails; retry them with retry:all or retry:<id>".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        match vars.cli_arg("retry").ok() {
            None => {
                for mail in mails::Model::failed(&ctx.db).await? {
                    println!(
                        "{}  {}  {}  to {}  after {} tries: {}",
                        mail.id,
                        mail.created_at.to_rfc3339(),
                        mail.template,
                        mail.to_address,
                        mail.attempts,
                        mail.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Some(which) => {
                let id = match which {
                    "all" => None,
                    id => Some(Uuid::parse_str(id).map_err(|_| {
                        loco_rs::Error::string(&format!("retry takes `all` or a mail id, not {id}"))
                    })?),
                };
                let queued = mails::Model::retry_failed(&ctx.db, id).await?;
                let state = AppState::from_context(ctx)?;
                let sent = mails::Model::deliver_due(&ctx.db, &state.outbox(ctx)?).await?;
                println!("{queued} mail(s) queued again, {sent} sent now");
            }
        }
        Ok(())
    }
}
