//! What the operator tasks share: the user an `email:` argument names, and
//! how their changes are written in the user's security log.

use std::net::Ipv4Addr;

use loco_rs::{app::AppContext, task::Vars};

use crate::models::{email::Email, security_events::Origin, users};

/// The detail of a security event an operator's task caused.
pub const BY_OPERATOR: &str = "by an operator";

/// A task's error that shows its usage line.
#[must_use]
pub fn usage(line: &str) -> loco_rs::Error {
    loco_rs::Error::string(&format!("usage: {line}"))
}

/// The address in the `email:` argument; `usage` when it is missing.
///
/// # Errors
/// When it is missing or not an email address.
pub fn email_arg(vars: &Vars, usage_line: &str) -> loco_rs::Result<Email> {
    let raw = vars.cli_arg("email").map_err(|_| usage(usage_line))?;
    Email::parse(raw).map_err(|_| loco_rs::Error::string(&format!("not an email address: {raw}")))
}

/// The user the `email:` argument names.
///
/// # Errors
/// When the argument is missing or malformed, or no user has that email.
pub async fn user_arg(
    ctx: &AppContext,
    vars: &Vars,
    usage_line: &str,
) -> loco_rs::Result<users::Model> {
    let email = email_arg(vars, usage_line)?;
    users::Model::find_by_email(&ctx.db, &email)
        .await
        .map_err(|_| loco_rs::Error::string(&format!("no user with email {email}")))
}

/// Where an operator's change comes from, in the security log.
#[must_use]
pub fn origin(task: &str) -> Origin {
    Origin {
        ip: Ipv4Addr::LOCALHOST.into(),
        user_agent: format!("cargo loco task {task}"),
    }
}
