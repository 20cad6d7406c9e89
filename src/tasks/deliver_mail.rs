//! `cargo loco task deliver_mail`: delivers every mail that is due (retries
//! whose wait is over, deliveries that died half-way). The scheduler runs it
//! every minute (`config/<env>.yaml`, `scheduler:`).

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::{infra::state::AppState, models::mails};

pub struct DeliverMail;

#[async_trait::async_trait]
impl Task for DeliverMail {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "deliver_mail".to_string(),
            detail: "Deliver the mails that are due (retries, interrupted deliveries)".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        super::run_scheduled(ctx, vars, &self.task().name, async {
            let state = AppState::from_context(ctx)?;
            let sent = mails::Model::deliver_due(&ctx.db, &state.outbox(ctx)?).await?;
            println!("{sent} mail(s) sent");
            Ok(())
        })
        .await
    }
}
