//! Password recovery, decided away from the request: the request queues this
//! job for any well-formed email, so that it costs the same whether or not
//! the email has an account.

use loco_rs::{app::AppContext, bgworker::BackgroundWorker};
use serde::{Deserialize, Serialize};

use crate::{
    infra::state::AppState,
    mailers::account::AccountMailer,
    models::{email::Email, users},
};

pub struct PasswordRecoveryWorker {
    pub ctx: AppContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordRecoveryArgs {
    pub email: Email,
}

#[async_trait::async_trait]
impl BackgroundWorker<PasswordRecoveryArgs> for PasswordRecoveryWorker {
    fn build(ctx: &AppContext) -> Self {
        Self { ctx: ctx.clone() }
    }

    /// Mails a reset link when the email has an active account; else nothing.
    async fn perform(&self, args: PasswordRecoveryArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        state.metrics.job("password_recovery", self.run(args)).await
    }
}

impl PasswordRecoveryWorker {
    async fn run(&self, args: PasswordRecoveryArgs) -> loco_rs::Result<()> {
        let state = AppState::from_context(&self.ctx)?;
        let lifetime = state.settings.email_reset_token_expire_hours * 3600;
        let reset =
            users::Model::start_password_reset(&self.ctx.db, &state.signer, &args.email, lifetime)
                .await?;
        if let Some((user, token)) = reset {
            AccountMailer::password_reset(&self.ctx, &state.settings, &user, &token).await;
        }
        Ok(())
    }
}
