//! `cargo loco task send_test_email email:<address>`: queues the test mail.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::{infra::state::AppState, mailers::account::AccountMailer, models::email::Email};

pub struct SendTestEmail;

#[async_trait::async_trait]
impl Task for SendTestEmail {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "send_test_email".to_string(),
            detail: "Queue the test mail: send_test_email email:<address>".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let to = vars.cli_arg("email")?;
        let to = Email::parse(to)
            .map_err(|_| loco_rs::Error::string(&format!("not an email address: {to}")))?;
        let state = AppState::from_context(ctx)?;
        match AccountMailer::send_test(ctx, &state.settings, &to)
            .await
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?
        {
            Some(mail_id) => println!("test mail {mail_id} queued for {to}"),
            None => println!("email is disabled: nothing sent (see SMTP_HOST, EMAILS_FROM_EMAIL)"),
        }
        Ok(())
    }
}
