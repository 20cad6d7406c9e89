//! `cargo loco task user_disable_2fa email:<address>`: turns two-factor
//! sign-in off for a user who lost their device and their recovery codes.
//! Recorded in their security log, and mailed to them.

use std::net::Ipv4Addr;

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::{
    mailers::account::{AccountMailer, Notice},
    models::{
        email::Email,
        security_events::{self, EventKind, Origin},
        users,
    },
    state::AppState,
};

const BY_OPERATOR: &str = "by an operator";

pub struct UserDisable2fa;

#[async_trait::async_trait]
impl Task for UserDisable2fa {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_disable_2fa".to_string(),
            detail: "Turn two-factor sign-in off for a user: user_disable_2fa email:<address>"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let usage = || loco_rs::Error::string("usage: user_disable_2fa email:<address>");
        let raw = vars.cli_arg("email").map_err(|_| usage())?;
        let email = Email::parse(raw)
            .map_err(|_| loco_rs::Error::string(&format!("not an email address: {raw}")))?;
        let user = users::Model::find_by_email(&ctx.db, &email)
            .await
            .map_err(|_| loco_rs::Error::string(&format!("no user with email {email}")))?;
        let state = AppState::from_context(ctx)?;
        let user = user
            .disable_two_factor(&ctx.db, &state.two_factor, None)
            .await
            .map_err(|error| loco_rs::Error::string(&format!("{email}: {error}")))?;
        let origin = Origin {
            ip: Ipv4Addr::LOCALHOST.into(),
            user_agent: "cargo loco task user_disable_2fa".to_string(),
        };
        let kind = EventKind::TwoFactorDisabled;
        security_events::Model::note(&ctx.db, user.id, kind, &origin, Some(BY_OPERATOR)).await;
        let notice = Notice::TwoFactorDisabled;
        AccountMailer::security_notice(ctx, &state.settings, &user.email, notice, BY_OPERATOR)
            .await;
        println!("two-factor sign-in is off for {email}");
        Ok(())
    }
}
