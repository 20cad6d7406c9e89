//! `cargo loco task user_disable_2fa email:<address>`: turns two-factor
//! sign-in off, and removes the passkeys, of a user who lost their device
//! and their recovery codes. Recorded in their security log, and mailed to
//! them.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use super::operator::{self, BY_OPERATOR};
use crate::{
    infra::state::AppState,
    mailers::account::AccountMailer,
    models::{passkeys, security_events::EventKind, two_factor::TwoFactorError},
};

const USAGE: &str = "user_disable_2fa email:<address>";

pub struct UserDisable2fa;

#[async_trait::async_trait]
impl Task for UserDisable2fa {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_disable_2fa".to_string(),
            detail: format!(
                "Turn two-factor sign-in off and remove the passkeys of a user: {USAGE}"
            ),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let user = operator::user_arg(ctx, vars, USAGE).await?;
        let (id, email) = (user.id, user.email.clone());
        let state = AppState::from_context(ctx)?;
        let origin = operator::origin("user_disable_2fa");
        let failed =
            |error: &dyn std::fmt::Display| loco_rs::Error::string(&format!("{email}: {error}"));
        let removed = passkeys::Model::remove_all_of(&ctx.db, id).await?;
        if removed > 0 {
            let detail = format!("{removed} passkey(s), {BY_OPERATOR}");
            let (account, kind) = ((id, email.as_str()), EventKind::PasskeyRemoved);
            AccountMailer::security_event(
                ctx,
                &state.settings,
                account,
                kind,
                &origin,
                Some(&detail),
            )
            .await;
        }
        match user
            .disable_two_factor(&ctx.db, &state.two_factor, None)
            .await
        {
            Ok(_) => {
                let (account, kind) = ((id, email.as_str()), EventKind::TwoFactorDisabled);
                let detail = Some(BY_OPERATOR);
                AccountMailer::security_event(ctx, &state.settings, account, kind, &origin, detail)
                    .await;
            }
            Err(TwoFactorError::NotSetUp) if removed > 0 => {}
            Err(error) => return Err(failed(&error)),
        }
        println!("two-factor sign-in is off for {email}; {removed} passkey(s) removed");
        Ok(())
    }
}
