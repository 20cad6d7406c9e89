//! `cargo loco task mail_preview name:<template>`: renders a template with
//! example values to `mail-preview/<template>.html` and `.txt`, so template work
//! needs no SMTP server.

use std::path::Path;

use loco_rs::{
    app::AppContext,
    task::{Task, TaskInfo, Vars},
};

use crate::{
    infra::state::AppState,
    mailers::{account::AccountMailer, templates::MailTemplate},
};

pub const PREVIEW_DIR: &str = "mail-preview";

pub struct MailPreview;

#[async_trait::async_trait]
impl Task for MailPreview {
    fn task(&self) -> TaskInfo {
        let names: Vec<&str> = MailTemplate::ALL.iter().map(|t| t.name()).collect();
        TaskInfo {
            name: "mail_preview".to_string(),
            detail: format!(
                "Render a mail to {PREVIEW_DIR}/: mail_preview name:<{}>",
                names.join("|")
            ),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &Vars) -> loco_rs::Result<()> {
        let name = vars.cli_arg("name")?;
        let template = MailTemplate::from_name(name)
            .ok_or_else(|| loco_rs::Error::string(&format!("no mail template named {name}")))?;
        let state = AppState::from_context(ctx)?;
        let mail = AccountMailer::preview(&state.settings, template)
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        let dir = Path::new(PREVIEW_DIR);
        std::fs::create_dir_all(dir)?;
        let html = dir.join(format!("{name}.html"));
        let text = dir.join(format!("{name}.txt"));
        std::fs::write(&html, &mail.html)?;
        std::fs::write(&text, format!("Subject: {}\n\n{}", mail.subject, mail.text))?;
        println!("{}\n{}", html.display(), text.display());
        Ok(())
    }
}
