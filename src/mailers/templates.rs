//! Mail templates: MJML with Tera variables. Each template is turned into HTML
//! by mrml once, at first use, with its `{{ variables }}` left in place; each
//! mail is then one Tera render of that HTML, its subject and its text part.

use std::sync::LazyLock;

use serde::Serialize;
use tera::{Context, Tera};

/// Where a template's body goes in the shared layout.
const CONTENT_MARKER: &str = "<!-- CONTENT -->";
const LAYOUT: &str = include_str!("account/layout.mjml");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTemplate {
    Welcome,
    VerificationCode,
    PasswordReset,
    TestEmail,
    EmailChangeCode,
    SecurityNotice,
    DeletionScheduled,
    AccountDeleted,
    ExportReady,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("mail template {template}: {message}")]
    Compile {
        template: &'static str,
        message: String,
    },
    #[error("mail template {0} failed to compile earlier: {1}")]
    Unavailable(&'static str, String),
    #[error("mail template {template}: {source}")]
    Render {
        template: &'static str,
        source: tera::Error,
    },
}

/// A rendered mail: subject, HTML and its plain-text alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl MailTemplate {
    pub const ALL: [Self; 9] = [
        Self::Welcome,
        Self::VerificationCode,
        Self::PasswordReset,
        Self::TestEmail,
        Self::EmailChangeCode,
        Self::SecurityNotice,
        Self::DeletionScheduled,
        Self::AccountDeleted,
        Self::ExportReady,
    ];

    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::VerificationCode => "verification_code",
            Self::PasswordReset => "password_reset",
            Self::TestEmail => "test_email",
            Self::EmailChangeCode => "email_change_code",
            Self::SecurityNotice => "security_notice",
            Self::DeletionScheduled => "deletion_scheduled",
            Self::AccountDeleted => "account_deleted",
            Self::ExportReady => "export_ready",
        }
    }

    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|template| template.name() == name)
    }

    /// Subject, MJML body and text part.
    const fn sources(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Welcome => (
                include_str!("account/welcome/subject.t"),
                include_str!("account/welcome/html.mjml"),
                include_str!("account/welcome/text.t"),
            ),
            Self::VerificationCode => (
                include_str!("account/verification_code/subject.t"),
                include_str!("account/verification_code/html.mjml"),
                include_str!("account/verification_code/text.t"),
            ),
            Self::PasswordReset => (
                include_str!("account/password_reset/subject.t"),
                include_str!("account/password_reset/html.mjml"),
                include_str!("account/password_reset/text.t"),
            ),
            Self::TestEmail => (
                include_str!("account/test_email/subject.t"),
                include_str!("account/test_email/html.mjml"),
                include_str!("account/test_email/text.t"),
            ),
            Self::EmailChangeCode => (
                include_str!("account/email_change_code/subject.t"),
                include_str!("account/email_change_code/html.mjml"),
                include_str!("account/email_change_code/text.t"),
            ),
            Self::SecurityNotice => (
                include_str!("account/security_notice/subject.t"),
                include_str!("account/security_notice/html.mjml"),
                include_str!("account/security_notice/text.t"),
            ),
            Self::DeletionScheduled => (
                include_str!("account/deletion_scheduled/subject.t"),
                include_str!("account/deletion_scheduled/html.mjml"),
                include_str!("account/deletion_scheduled/text.t"),
            ),
            Self::AccountDeleted => (
                include_str!("account/account_deleted/subject.t"),
                include_str!("account/account_deleted/html.mjml"),
                include_str!("account/account_deleted/text.t"),
            ),
            Self::ExportReady => (
                include_str!("account/export_ready/subject.t"),
                include_str!("account/export_ready/html.mjml"),
                include_str!("account/export_ready/text.t"),
            ),
        }
    }

    /// Parts the template includes, by name without extension: each is
    /// added as `.html` (escaped) and `.txt`.
    const fn partials(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::SecurityNotice => &[(
                "security_notice/message",
                include_str!("account/security_notice/message.t"),
            )],
            _ => &[],
        }
    }

    /// The template's MJML body turned into HTML inside the layout.
    ///
    /// # Errors
    /// When the MJML does not parse or render.
    pub fn compile_html(self) -> Result<String, TemplateError> {
        let compile_error = |message: String| TemplateError::Compile {
            template: self.name(),
            message,
        };
        let (_, body, _) = self.sources();
        let mjml = LAYOUT.replace(CONTENT_MARKER, body);
        let parsed = mrml::parse(&mjml).map_err(|error| compile_error(error.to_string()))?;
        // No web fonts: a mail that loads nothing from elsewhere tells no one it was opened.
        let options = mrml::prelude::render::RenderOptions {
            disable_comments: true,
            fonts: std::collections::HashMap::new(),
            ..Default::default()
        };
        parsed
            .element
            .render(&options)
            .map_err(|error| compile_error(error.to_string()))
    }

    /// Renders the mail with `variables` (an object whose fields the templates name).
    ///
    /// # Errors
    /// When the templates did not compile, or a variable they use is missing.
    pub fn render(self, variables: &impl Serialize) -> Result<RenderedMail, TemplateError> {
        let tera = COMPILED
            .as_ref()
            .map_err(|error| TemplateError::Unavailable(self.name(), error.to_string()))?;
        let render_error = |source| TemplateError::Render {
            template: self.name(),
            source,
        };
        let mut context = Context::from_serialize(variables).map_err(render_error)?;
        let subject = tera
            .render(&format!("{}/subject.txt", self.name()), &context)
            .map_err(render_error)?
            .trim()
            .to_string();
        context.insert("subject", &subject);
        Ok(RenderedMail {
            html: tera
                .render(&format!("{}/body.html", self.name()), &context)
                .map_err(render_error)?,
            text: tera
                .render(&format!("{}/body.txt", self.name()), &context)
                .map_err(render_error)?,
            subject,
        })
    }
}

static COMPILED: LazyLock<Result<Tera, TemplateError>> = LazyLock::new(compile_all);

fn compile_all() -> Result<Tera, TemplateError> {
    let mut tera = Tera::default();
    tera.autoescape_on([".html"]);
    for template in MailTemplate::ALL {
        let (subject, _, text) = template.sources();
        let html = template.compile_html()?;
        let add_error = |source: tera::Error| TemplateError::Compile {
            template: template.name(),
            message: source.to_string(),
        };
        let name = template.name();
        for (partial, source) in template.partials() {
            for extension in ["html", "txt"] {
                tera.add_raw_template(&format!("{partial}.{extension}"), source)
                    .map_err(add_error)?;
            }
        }
        tera.add_raw_template(&format!("{name}/subject.txt"), subject)
            .map_err(add_error)?;
        tera.add_raw_template(&format!("{name}/body.html"), &html)
            .map_err(add_error)?;
        tera.add_raw_template(&format!("{name}/body.txt"), text)
            .map_err(add_error)?;
    }
    Ok(tera)
}
