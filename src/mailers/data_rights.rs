//! The mails of the user's data rights: a deletion scheduled (with the link
//! that cancels it), the account deleted (the last mail to the address),
//! and an export ready to download.

use chrono::{DateTime, Utc};
use loco_rs::{app::AppContext, bgworker::BackgroundWorker};
use serde::Serialize;
use uuid::Uuid;

use super::{
    account::{CommonVariables, queue},
    delivery::{MailDeliveryArgs, MailDeliveryWorker},
    templates::{MailTemplate, RenderedMail, TemplateError},
};
use crate::{
    infra::settings::Settings,
    models::{mails::NewMail, tokens::IssuedToken, users},
};

#[derive(Serialize)]
struct WithDeletion {
    #[serde(flatten)]
    common: CommonVariables,
    link: String,
    deletes_at: String,
}

#[derive(Serialize)]
struct WithExport {
    #[serde(flatten)]
    common: CommonVariables,
    link: String,
    valid_hours: u32,
}

/// A time as the mails write it.
fn written(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn web_page(settings: &Settings, page: &str) -> String {
    format!("{}/{page}", settings.web_app_url.trim_end_matches('/'))
}

pub struct DataRightsMailer;

impl DataRightsMailer {
    /// Tells the owner their account goes at `deletes_at`, with the link
    /// that cancels it. A failure is logged: the deletion stands.
    pub async fn deletion_scheduled(
        ctx: &AppContext,
        settings: &Settings,
        user: &users::Model,
        (deletes_at, cancel): (DateTime<Utc>, &IssuedToken),
    ) {
        let variables = WithDeletion {
            common: CommonVariables::new(settings, &user.email),
            link: format!(
                "{}?token={}",
                web_page(settings, "cancel-deletion"),
                cancel.token
            ),
            deletes_at: written(deletes_at),
        };
        let template = MailTemplate::DeletionScheduled;
        if let Err(error) = queue(ctx, settings, template, &user.email, &variables).await {
            tracing::error!(%error, user_id = %user.id, "deletion mail not queued");
        }
    }

    /// The last mail to a deleted account's address, rendered to be queued
    /// in the deletion's own transaction; `None` with email disabled.
    ///
    /// # Errors
    /// When the template does not render.
    pub fn farewell(settings: &Settings, email: &str) -> Result<Option<NewMail>, TemplateError> {
        if !settings.emails_enabled() {
            return Ok(None);
        }
        let template = MailTemplate::AccountDeleted;
        let rendered = template.render(&CommonVariables::new(settings, email))?;
        Ok(Some(NewMail {
            template: template.name().to_string(),
            to: email.to_string(),
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
        }))
    }

    /// Asks for the delivery of a mail written to the outbox elsewhere.
    ///
    /// # Errors
    /// When the job cannot be queued (the mail sweep delivers it then).
    pub async fn deliver(ctx: &AppContext, mail_id: Uuid) -> loco_rs::Result<()> {
        MailDeliveryWorker::perform_later(ctx, MailDeliveryArgs { mail_id }).await?;
        Ok(())
    }

    /// Tells the user their export can be downloaded. A failure is logged:
    /// the export stands, and its state says it is ready.
    pub async fn export_ready(ctx: &AppContext, settings: &Settings, user: &users::Model) {
        let variables = WithExport {
            common: CommonVariables::new(settings, &user.email),
            link: web_page(settings, "data-export"),
            valid_hours: settings.data_rights.data_export_ttl_hours,
        };
        let template = MailTemplate::ExportReady;
        if let Err(error) = queue(ctx, settings, template, &user.email, &variables).await {
            tracing::error!(%error, user_id = %user.id, "export mail not queued");
        }
    }

    /// One of this mailer's templates with example values.
    ///
    /// # Errors
    /// When the template does not render.
    pub fn preview(
        settings: &Settings,
        template: MailTemplate,
        common: CommonVariables,
    ) -> Result<RenderedMail, TemplateError> {
        match template {
            MailTemplate::DeletionScheduled => template.render(&WithDeletion {
                common,
                link: format!("{}?token=example", web_page(settings, "cancel-deletion")),
                deletes_at: "2027-01-08 09:00 UTC".to_string(),
            }),
            MailTemplate::ExportReady => template.render(&WithExport {
                common,
                link: web_page(settings, "data-export"),
                valid_hours: settings.data_rights.data_export_ttl_hours,
            }),
            _ => template.render(&common),
        }
    }
}
