//! `cargo loco task purge_expired_tokens`: deletes expired one-time codes,
//! refresh tokens, sessions, reset and SSO confirmation tokens, sign-in
//! challenges, unfinished SSO sign-ins and passkey ceremonies, native ID
//! tokens remembered past their expiry,
//! budgets of wrong codes whose day is over, sent mails older than
//! `SENT_MAIL_RETENTION_DAYS`, and security events older than
//! `SECURITY_EVENT_RETENTION_DAYS`. The scheduler runs it hourly.

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::{
    infra::state::AppState,
    models::{
        code_budgets, mails, one_time_passwords, passkeys::ceremonies, refresh_tokens,
        security_events, sessions, single_use_tokens, spent_id_tokens, sso_logins,
    },
};

pub struct PurgeExpiredTokens;

#[async_trait::async_trait]
impl Task for PurgeExpiredTokens {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "purge_expired_tokens".to_string(),
            detail: "Delete expired codes, tokens, unfinished SSO sign-ins, old mails and events"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        super::run_scheduled(ctx, vars, &self.task().name, async {
        let codes = one_time_passwords::Model::purge_expired(&ctx.db).await?;
        let refresh = refresh_tokens::Model::purge_expired(&ctx.db).await?;
        let sessions = sessions::Model::purge_expired(&ctx.db).await?;
        let single_use = single_use_tokens::Model::purge_expired(&ctx.db).await?;
        let sso = sso_logins::Model::purge_expired(&ctx.db).await?;
        let ceremonies = ceremonies::Model::purge_expired(&ctx.db).await?;
        let id_tokens = spent_id_tokens::purge_expired(&ctx.db).await?;
        let budgets = code_budgets::Model::purge_expired(&ctx.db).await?;
        let settings = &AppState::from_context(ctx)?.settings;
        let days = chrono::Duration::days;
        let sent_mails =
            mails::Model::purge_sent(&ctx.db, days(settings.sent_mail_retention_days)).await?;
        let lifetime = chrono::Duration::hours(settings.email_reset_token_expire_hours);
        let expired_mails = mails::Model::blank_expired(&ctx.db, lifetime).await?;
        let retention = days(settings.security_event_retention_days);
        let events = security_events::Model::purge_older_than(&ctx.db, retention).await?;
        tracing::info!(
            codes,
            refresh,
            sessions,
            single_use,
            sso,
            ceremonies,
            id_tokens,
            budgets,
            sent_mails,
            expired_mails,
            events,
            "expired tokens purged"
        );
        println!(
            "purged {codes} code(s), {refresh} refresh token(s), {sessions} session(s), {single_use} single-use token(s), {sso} unfinished SSO sign-in(s), {ceremonies} unfinished passkey ceremonies, {id_tokens} spent ID token(s), {budgets} code budget(s), {sent_mails} sent mail(s), {expired_mails} expired unsent mail(s), {events} security event(s)"
        );
        Ok(())
        })
        .await
    }
}
