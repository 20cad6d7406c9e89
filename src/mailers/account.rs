//! The account mails: welcome, sign-in code, password reset, and the test mail.
//! Sending one renders it, writes it to the outbox and asks a background
//! worker to deliver it: a request never waits on SMTP.

use loco_rs::{app::AppContext, bgworker::BackgroundWorker, prelude::DateTimeWithTimeZone};
use serde::Serialize;
use uuid::Uuid;

use super::{
    data_rights::DataRightsMailer,
    delivery::{MailDeliveryArgs, MailDeliveryWorker},
    templates::{MailTemplate, RenderedMail, TemplateError},
};
use crate::{
    infra::settings::{Settings, allows_conveniences},
    models::{
        email::Email,
        mails::{self, NewMail},
        security_events::{self, EventKind, Origin},
        tokens::IssuedToken,
        users::{self, CodeSignIn, SignInOutcome, SignedIn},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Model(#[from] loco_rs::model::ModelError),
    #[error(transparent)]
    Queue(#[from] loco_rs::Error),
}

/// The variables every template may use.
#[derive(Debug, Clone, Serialize)]
pub struct CommonVariables {
    pub project_name: String,
    pub signature: String,
    pub web_app_url: String,
    pub accent_color: String,
    pub email: String,
}

impl CommonVariables {
    #[must_use]
    pub fn new(settings: &Settings, email: &str) -> Self {
        Self {
            project_name: settings.project_name.clone(),
            signature: settings.signature(),
            web_app_url: settings.web_app_url.clone(),
            accent_color: settings.email_accent_color.clone(),
            email: email.to_string(),
        }
    }
}

#[derive(Serialize)]
struct WithCode {
    #[serde(flatten)]
    common: CommonVariables,
    verification_code: String,
    valid_minutes: i64,
}

#[derive(Serialize)]
struct WithLink {
    #[serde(flatten)]
    common: CommonVariables,
    link: String,
    valid_hours: i64,
}

#[derive(Serialize)]
struct WithNotice {
    #[serde(flatten)]
    common: CommonVariables,
    notice: &'static str,
    /// What the notice names besides the address: a new email, a time.
    detail: String,
}

/// The security notices a user is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    PasswordChanged,
    /// To the old address, with the new one as detail.
    EmailChangeRequested,
    /// To the old address, with the new one as detail.
    EmailChanged,
    RefreshTokenReused,
    /// Too many wrong sign-in codes; the detail says until when.
    CodesPaused,
    /// Two-factor sign-in turned off; the detail says by whom, if not the user.
    TwoFactorDisabled,
    /// The detail names the passkey.
    PasskeyAdded,
    PasskeyRemoved,
}

impl Notice {
    /// The notice a user is mailed for an event of `kind`, if any.
    #[must_use]
    pub const fn of(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::PasswordChanged => Some(Self::PasswordChanged),
            EventKind::EmailChangeRequested => Some(Self::EmailChangeRequested),
            EventKind::EmailChanged => Some(Self::EmailChanged),
            EventKind::RefreshTokenReused => Some(Self::RefreshTokenReused),
            EventKind::TwoFactorDisabled => Some(Self::TwoFactorDisabled),
            EventKind::PasskeyAdded => Some(Self::PasskeyAdded),
            EventKind::PasskeyRemoved => Some(Self::PasskeyRemoved),
            EventKind::SignIn
            | EventKind::SignInFailed
            | EventKind::SignedOut
            | EventKind::PasswordReset
            | EventKind::Archived
            | EventKind::Unarchived
            | EventKind::SessionEnded
            | EventKind::TwoFactorEnabled
            | EventKind::AccountClaimed
            | EventKind::AppleNotification
            | EventKind::DeletionRequested
            | EventKind::DeletionCancelled
            | EventKind::ExportRequested => None,
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::CodesPaused => "codes_paused",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }
}

/// How a sign-in code reaches its owner.
#[derive(Clone, PartialEq, Eq)]
pub enum CodeDelivery {
    Mailed,
    /// In development and test, with mail off: the answer carries the code.
    InAnswer(String),
    /// Anywhere else with mail off: nobody gets it.
    Dropped,
}

pub struct AccountMailer;

impl AccountMailer {
    /// # Errors
    /// When the mail cannot be rendered or queued.
    pub async fn send_welcome(
        ctx: &AppContext,
        settings: &Settings,
        user: &users::Model,
    ) -> Result<Option<Uuid>, MailError> {
        let variables = CommonVariables::new(settings, &user.email);
        queue(
            ctx,
            settings,
            MailTemplate::Welcome,
            &user.email,
            &variables,
        )
        .await
    }

    /// Welcomes the account a sign-in made, if it made one.
    pub async fn welcome_new(ctx: &AppContext, settings: &Settings, outcome: &SignInOutcome) {
        if let SignInOutcome::Session(new) = outcome
            && new.registered
        {
            Self::welcome(ctx, settings, &new.user).await;
        }
    }

    /// What a sign-in by code (or the password form) as `email` came to:
    /// its user, or the refusal, noted in the security log of the account of
    /// `email`, if any, and told to its owner when it began a series of
    /// locks on the email's codes.
    ///
    /// # Errors
    /// The refusal.
    pub async fn unless_refused(
        ctx: &AppContext,
        settings: &Settings,
        (email, origin): (&Email, &Origin),
        outcome: CodeSignIn,
    ) -> Result<SignedIn, CodeSignIn> {
        if let CodeSignIn::SignedIn(signed_in) = outcome {
            return Ok(signed_in);
        }
        users::Model::note_failed_sign_in(&ctx.db, email, origin).await;
        if let CodeSignIn::Locked {
            until,
            tell: Some(owner),
        } = &outcome
        {
            Self::codes_locked(ctx, settings, &owner.email, *until).await;
        }
        Err(outcome)
    }

    /// Tells the owner of `email` that wrong codes locked its codes: they are
    /// refused until `until`.
    pub async fn codes_locked(
        ctx: &AppContext,
        settings: &Settings,
        email: &str,
        until: DateTimeWithTimeZone,
    ) {
        let until = until.to_utc().format("%Y-%m-%d %H:%M UTC").to_string();
        Self::security_notice(ctx, settings, email, Notice::CodesPaused, &until).await;
    }

    /// Queues the welcome mail of a new account. The account exists whatever
    /// happens to its mail, so a failure is logged, not returned.
    pub async fn welcome(ctx: &AppContext, settings: &Settings, user: &users::Model) {
        if let Err(error) = Self::send_welcome(ctx, settings, user).await {
            tracing::error!(%error, user_id = %user.id, "welcome mail not queued");
        }
    }

    /// Sends a sign-in code; with mail off, development answers with it instead.
    ///
    /// # Errors
    /// When the mail cannot be rendered or queued.
    pub async fn send_sign_in_code(
        ctx: &AppContext,
        settings: &Settings,
        to: &Email,
        code: &str,
    ) -> Result<CodeDelivery, MailError> {
        send_code(ctx, settings, MailTemplate::VerificationCode, to, code).await
    }

    /// Sends the code that proves `to` before it becomes the account's email;
    /// with mail off, development answers with it instead.
    ///
    /// # Errors
    /// When the mail cannot be rendered or queued.
    pub async fn send_email_change_code(
        ctx: &AppContext,
        settings: &Settings,
        to: &Email,
        code: &str,
    ) -> Result<CodeDelivery, MailError> {
        send_code(ctx, settings, MailTemplate::EmailChangeCode, to, code).await
    }

    /// Records `kind` in `user_id`'s security log and, for the events users
    /// hear of, mails them at `to` (their address before the event, for an
    /// email change). For handlers, tasks and workers alike.
    pub async fn security_event(
        ctx: &AppContext,
        settings: &Settings,
        (user_id, to): (Uuid, &str),
        kind: EventKind,
        origin: &Origin,
        detail: Option<&str>,
    ) {
        security_events::Model::note(&ctx.db, user_id, kind, origin, detail).await;
        if let Some(notice) = Notice::of(kind) {
            let detail = detail.unwrap_or_default();
            Self::security_notice(ctx, settings, to, notice, detail).await;
        }
    }

    /// Tells `to` of a change to their account's security. A notice is a
    /// courtesy: a failure is logged, not returned.
    pub async fn security_notice(
        ctx: &AppContext,
        settings: &Settings,
        to: &str,
        notice: Notice,
        detail: &str,
    ) {
        let variables = WithNotice {
            common: CommonVariables::new(settings, to),
            notice: notice.as_str(),
            detail: detail.to_string(),
        };
        let template = MailTemplate::SecurityNotice;
        if let Err(error) = queue(ctx, settings, template, to, &variables).await {
            tracing::error!(%error, notice = notice.as_str(), "security notice not queued");
        }
    }

    /// Sends the link that sets a new password with `reset`. The answer to the
    /// request must not tell whether the account exists, so a failure is
    /// logged, not returned.
    pub async fn password_reset(
        ctx: &AppContext,
        settings: &Settings,
        user: &users::Model,
        reset: &IssuedToken,
    ) {
        let link = format!(
            "{}/reset-password?token={}",
            settings.web_app_url.trim_end_matches('/'),
            reset.token
        );
        let variables = WithLink {
            common: CommonVariables::new(settings, &user.email),
            link,
            valid_hours: settings.email_reset_token_expire_hours,
        };
        let template = MailTemplate::PasswordReset;
        if let Err(error) = queue(ctx, settings, template, &user.email, &variables).await {
            tracing::error!(%error, user_id = %user.id, "password reset mail not queued");
        }
    }

    /// # Errors
    /// When the mail cannot be rendered or queued.
    pub async fn send_test(
        ctx: &AppContext,
        settings: &Settings,
        to: &Email,
    ) -> Result<Option<Uuid>, MailError> {
        let variables = CommonVariables::new(settings, to.as_str());
        queue(
            ctx,
            settings,
            MailTemplate::TestEmail,
            to.as_str(),
            &variables,
        )
        .await
    }

    /// Renders a template with example values, for previews.
    ///
    /// # Errors
    /// When the template does not render.
    pub fn preview(settings: &Settings, template: MailTemplate) -> Result<RenderedMail, MailError> {
        let common = CommonVariables::new(settings, "jane@example.com");
        let rendered = match template {
            MailTemplate::VerificationCode | MailTemplate::EmailChangeCode => {
                template.render(&WithCode {
                    common,
                    verification_code: "123456".to_string(),
                    valid_minutes: settings.verification_code_expiration_minutes,
                })
            }
            MailTemplate::SecurityNotice => template.render(&WithNotice {
                common,
                notice: Notice::EmailChanged.as_str(),
                detail: "jane.doe@example.com".to_string(),
            }),
            MailTemplate::PasswordReset => template.render(&WithLink {
                common,
                link: format!("{}/reset-password?token=example", settings.web_app_url),
                valid_hours: settings.email_reset_token_expire_hours,
            }),
            MailTemplate::Welcome | MailTemplate::TestEmail => template.render(&common),
            MailTemplate::DeletionScheduled
            | MailTemplate::AccountDeleted
            | MailTemplate::ExportReady => DataRightsMailer::preview(settings, template, common),
        };
        Ok(rendered?)
    }
}

/// Mails a code; with mail off, development answers with it instead.
async fn send_code(
    ctx: &AppContext,
    settings: &Settings,
    template: MailTemplate,
    to: &Email,
    code: &str,
) -> Result<CodeDelivery, MailError> {
    if settings.emails_enabled() {
        let variables = WithCode {
            common: CommonVariables::new(settings, to.as_str()),
            verification_code: code.to_string(),
            valid_minutes: settings.verification_code_expiration_minutes,
        };
        queue(ctx, settings, template, to.as_str(), &variables).await?;
        Ok(CodeDelivery::Mailed)
    } else if !allows_conveniences(&ctx.environment) {
        tracing::warn!(
            template = template.name(),
            "email disabled: a code was asked for and not sent"
        );
        Ok(CodeDelivery::Dropped)
    } else {
        Ok(CodeDelivery::InAnswer(code.to_string()))
    }
}

/// Renders, writes to the outbox and wakes the delivery worker; with email
/// disabled, says which mail to whom was skipped, and sends nothing.
pub(super) async fn queue(
    ctx: &AppContext,
    settings: &Settings,
    template: MailTemplate,
    to: &str,
    variables: &impl Serialize,
) -> Result<Option<Uuid>, MailError> {
    if !settings.emails_enabled() {
        tracing::info!(
            template = template.name(),
            to,
            "email disabled: mail not sent"
        );
        return Ok(None);
    }
    let rendered = template.render(variables)?;
    let mail = mails::Model::enqueue(
        &ctx.db,
        NewMail {
            template: template.name().to_string(),
            to: to.to_string(),
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
        },
    )
    .await?;
    MailDeliveryWorker::perform_later(ctx, MailDeliveryArgs { mail_id: mail.id }).await?;
    Ok(Some(mail.id))
}
