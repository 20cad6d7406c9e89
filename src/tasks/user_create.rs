//! `cargo loco task user_create email:<address> [password:<password>]
//! [role:admin|moderator|customer]`: makes an account, confirmed (the
//! operator vouches for the address). Without a password, one is generated
//! and printed, once.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};
use sea_orm::IntoActiveModel;

use super::operator;
use crate::{
    infra::state::AppState,
    models::{
        passwords,
        users::{self, Role, UserCreate, UserError},
    },
};

const USAGE: &str =
    "user_create email:<address> [password:<password>] [role:admin|moderator|customer]";

pub struct UserCreateTask;

#[async_trait::async_trait]
impl Task for UserCreateTask {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "user_create".to_string(),
            detail: format!("Create a confirmed account: {USAGE}"),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let email = operator::email_arg(vars, USAGE)?;
        let role_name = vars.cli.get("role").map_or("customer", String::as_str);
        let role = Role::from_name(role_name).ok_or_else(|| operator::usage(USAGE))?;
        let given = vars.cli.get("password").cloned();
        if given
            .as_ref()
            .is_some_and(|password| password.chars().count() < 8)
        {
            return Err(loco_rs::Error::string("password: at least 8 characters"));
        }
        let password = given.clone().unwrap_or_else(passwords::generate);
        let params = UserCreate {
            email,
            password: Some(password.clone()),
            first_name: None,
            last_name: None,
            language: None,
        };
        let state = AppState::from_context(ctx)?;
        let languages = state.translations.languages();
        let user = users::Model::create(&ctx.db, &params, role, &languages)
            .await
            .map_err(|error| match error {
                UserError::WeakPassword(_) => {
                    loco_rs::Error::string("password: too easy to guess, choose another")
                }
                other => loco_rs::Error::string(&format!("{}: {other}", params.email)),
            })?;
        let user = user.into_active_model().confirm(&ctx.db).await?;
        println!("created {} ({role_name}), id {}", user.email, user.id);
        if given.is_none() {
            println!("password (shown once): {password}");
        }
        Ok(())
    }
}
