//! `cargo loco task user_disable_2fa email:<address>`: turns two-factor
//! sign-in off for a user who lost their device and their recovery codes.
//! Recorded in their security log, and mailed to them.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator::{self, BY_OPERATOR};
use crate::{
    infra::state::AppState, mailers::account::AccountMailer, models::security_events::EventKind,
};

const USAGE: &str = "user_disable_2fa email:<address>";

pub struct UserDisable2fa;

#[async_trait::async_trait]
impl Task for UserDisable2fa {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_disable_2fa".to_string(),
            detail: format!("Turn two-factor sign-in off for a user: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        let email = user.email.clone();
        let state = AppState::from_context(ctx)?;
        let user = user
            .disable_two_factor(&ctx.db, &state.two_factor, None)
            .await
            .map_err(|error| loco_rs::Error::string(&format!("{email}: {error}")))?;
        let origin = operator::origin("user_disable_2fa");
        let (account, kind) = ((user.id, user.email.as_str()), EventKind::TwoFactorDisabled);
        let detail = Some(BY_OPERATOR);
        AccountMailer::security_event(ctx, &state.settings, account, kind, &origin, detail).await;
        println!("two-factor sign-in is off for {email}");
        Ok(())
    }
}
