//! Every template compiles and renders; a broken template fails here, never in
//! a user's request.

use backend::{
    infra::settings::Settings,
    mailers::{account::AccountMailer, templates::MailTemplate},
};
use insta::assert_snapshot;
use loco_rs::{config::Config, environment::Environment};

fn settings() -> Settings {
    let config = Config::new(&Environment::Test).expect("test config");
    Settings::load(&config, &Environment::Test).expect("settings")
}

#[test]
fn every_template_compiles_to_html() {
    for template in MailTemplate::ALL {
        let html = template.compile_html().expect("compiles");
        assert!(html.contains("<!doctype html>"), "{}", template.name());
        assert!(!html.contains("fonts.googleapis.com"), "no external fonts");
    }
}

#[test]
fn every_template_renders_its_variables() {
    let settings = settings();
    for template in MailTemplate::ALL {
        let mail = AccountMailer::preview(&settings, template).expect("renders");
        for part in [&mail.subject, &mail.html, &mail.text] {
            assert!(
                !part.contains("{{"),
                "{}: a variable was left unrendered",
                template.name()
            );
        }
        assert!(
            mail.html.contains("jane@example.com"),
            "{}: email",
            template.name()
        );
        assert!(
            mail.html.contains(&settings.project_name),
            "{}: project",
            template.name()
        );
        assert!(
            mail.html.contains(&settings.email_accent_color),
            "{}: accent colour",
            template.name()
        );
        assert!(
            mail.html.contains(&settings.web_app_url),
            "{}: web app url",
            template.name()
        );
        assert!(
            mail.text.contains(&settings.signature()),
            "{}: signature",
            template.name()
        );
        assert_snapshot!(
            template.name(),
            format!("Subject: {}\n\n{}", mail.subject, mail.text)
        );
    }
}

#[test]
fn own_variables_reach_the_html() {
    let settings = settings();
    let code = AccountMailer::preview(&settings, MailTemplate::VerificationCode).expect("renders");
    assert!(code.html.contains("123456"));
    assert!(code.html.contains("10 minutes"));
    let reset = AccountMailer::preview(&settings, MailTemplate::PasswordReset).expect("renders");
    assert!(
        reset
            .html
            .contains("href=\"http://localhost:3000/reset-password?token=example\"")
    );
    assert!(reset.html.contains("48 hours"));
}

#[test]
fn html_escapes_what_it_is_given() {
    #[derive(serde::Serialize)]
    struct Variables<'a> {
        project_name: &'a str,
        signature: &'a str,
        web_app_url: &'a str,
        accent_color: &'a str,
        email: &'a str,
    }
    let mail = MailTemplate::Welcome
        .render(&Variables {
            project_name: "Acme",
            signature: "Acme",
            web_app_url: "https://acme.test",
            accent_color: "#000000",
            email: "<script>@example.com",
        })
        .expect("renders");
    assert!(!mail.html.contains("<script>"));
    assert!(mail.html.contains("&lt;script&gt;"));
    assert!(
        mail.text.contains("<script>@example.com"),
        "text is not HTML"
    );
}

/// The outbox names the templates whose mails it blanks once undeliverable:
/// each is a template, and those with a code or link are among them.
#[test]
fn the_outbox_knows_which_templates_carry_a_secret() {
    use backend::models::mails::SECRET_TEMPLATES;

    for name in SECRET_TEMPLATES {
        assert!(MailTemplate::from_name(name).is_some(), "{name}");
    }
    for template in [
        MailTemplate::VerificationCode,
        MailTemplate::PasswordReset,
        MailTemplate::EmailChangeCode,
    ] {
        assert!(
            SECRET_TEMPLATES.contains(&template.name()),
            "{}",
            template.name()
        );
    }
}
