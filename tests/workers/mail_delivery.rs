use backend::{
    mailers::account::AccountMailer,
    models::{
        mails::{self, MAX_ATTEMPTS, MailStatus},
        users,
    },
    workers::mail_delivery::{deliver, deliver_due},
};
use chrono::Duration;
use loco_rs::{
    app::AppContext,
    config::{MailerTls, SmtpMailer},
    mailer::EmailSender,
};
use sea_orm::{ActiveModelTrait, ActiveValue, IntoActiveModel};

use super::smtp_server::SmtpServer;
use crate::support::{app_state, boot, email, queue_mail};

/// The app's context, delivering to `server` instead of the test stub.
fn delivering_to(ctx: &AppContext, server: &SmtpServer) -> AppContext {
    let smtp = SmtpMailer {
        enable: true,
        host: "127.0.0.1".to_string(),
        port: server.port,
        secure: false,
        tls: Some(MailerTls::None),
        auth: None,
        hello_name: Some("localhost".to_string()),
    };
    let mut ctx = ctx.clone();
    ctx.mailer = Some(EmailSender::smtp(&smtp).expect("smtp sender"));
    ctx
}

/// Moves a mail's next try to now, as if its wait were over.
async fn make_due(ctx: &AppContext, id: uuid::Uuid) {
    let mail = mails::Model::find_by_id(&ctx.db, id).await.expect("mail");
    let mut mail = mail.into_active_model();
    mail.next_attempt_at = ActiveValue::Set((chrono::Utc::now() - Duration::seconds(1)).into());
    mail.update(&ctx.db).await.expect("updated");
}

#[tokio::test]
async fn a_mail_reaches_a_real_smtp_server_as_multipart_alternative() {
    let booted = boot().await;
    let server = SmtpServer::start(0).await;
    let ctx = delivering_to(&booted.app_context, &server);

    let jane = users::Model::find_or_register_by_code(&ctx.db, &email("jane@example.com"))
        .await
        .expect("user")
        .user;
    let id = AccountMailer::send_welcome(&ctx, &app_state(&ctx).settings, &jane)
        .await
        .expect("queued")
        .expect("email is enabled in tests");

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(
        message.contains("From: Backend <noreply@example.com>"),
        "{message}"
    );
    assert!(message.contains("To: jane@example.com"), "{message}");
    assert!(message.contains("Subject: Welcome to Backend"), "{message}");
    assert!(message.contains("multipart/alternative"), "{message}");
    assert!(message.contains("Content-Type: text/plain"), "{message}");
    assert!(message.contains("Content-Type: text/html"), "{message}");

    let mail = mails::Model::find_by_id(&ctx.db, id).await.expect("mail");
    assert_eq!(mail.status, MailStatus::Sent);
    assert_eq!(mail.attempts, 1);
    assert!(mail.sent_at.is_some());
    assert!(
        mail.subject.is_empty() && mail.html.is_empty() && mail.text.is_empty(),
        "a sent mail keeps no copy, not even its subject, where a code goes"
    );
}

#[tokio::test]
async fn a_refused_mail_is_retried_later_and_arrives_exactly_once() {
    let booted = boot().await;
    let server = SmtpServer::start(1).await;
    let ctx = delivering_to(&booted.app_context, &server);

    let id = AccountMailer::send_test(&ctx, &app_state(&ctx).settings, &email("ops@example.com"))
        .await
        .expect("queued")
        .expect("email is enabled in tests");
    assert!(server.messages().is_empty(), "the first try was refused");
    let mail = mails::Model::find_by_id(&ctx.db, id).await.expect("mail");
    assert_eq!(mail.status, MailStatus::Queued);
    assert_eq!(mail.attempts, 1);
    assert!(
        mail.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451")
    );
    assert!(mail.next_attempt_at > chrono::Utc::now(), "the retry waits");

    assert_eq!(deliver_due(&ctx).await.expect("sweep"), 0, "not due yet");
    make_due(&ctx, id).await;
    assert_eq!(deliver_due(&ctx).await.expect("sweep"), 1);
    assert_eq!(deliver_due(&ctx).await.expect("sweep"), 0);
    assert_eq!(
        deliver(&ctx, id).await.expect("deliver"),
        mails::Delivery::Skipped
    );

    assert_eq!(server.messages().len(), 1, "exactly once");
    let mail = mails::Model::find_by_id(&ctx.db, id).await.expect("mail");
    assert_eq!(mail.status, MailStatus::Sent);
    assert_eq!(mail.attempts, 2);
}

#[tokio::test]
async fn a_mail_is_kept_as_failed_after_its_last_try_and_can_be_retried() {
    let booted = boot().await;
    let server = SmtpServer::start(usize::MAX).await;
    let ctx = delivering_to(&booted.app_context, &server);

    let id = AccountMailer::send_test(&ctx, &app_state(&ctx).settings, &email("ops@example.com"))
        .await
        .expect("queued")
        .expect("email is enabled in tests");
    for _ in 1..MAX_ATTEMPTS {
        make_due(&ctx, id).await;
        deliver_due(&ctx).await.expect("sweep");
    }
    let mail = mails::Model::find_by_id(&ctx.db, id).await.expect("mail");
    assert_eq!(mail.status, MailStatus::Failed);
    assert_eq!(mail.attempts, MAX_ATTEMPTS);
    let failed = mails::Model::failed(&ctx.db).await.expect("list");
    assert_eq!(failed.iter().map(|mail| mail.id).collect::<Vec<_>>(), [id]);

    let healthy = SmtpServer::start(0).await;
    let ctx = delivering_to(&booted.app_context, &healthy);
    assert_eq!(
        mails::Model::retry_failed(&ctx.db, None)
            .await
            .expect("retry"),
        1
    );
    assert_eq!(deliver_due(&ctx).await.expect("sweep"), 1);
    assert_eq!(healthy.messages().len(), 1);
    assert!(
        mails::Model::failed(&ctx.db)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn a_delivery_that_died_half_way_runs_again() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    let mail = queue_mail(ctx, "Interrupted").await;
    // As a worker leaves it when the process stops between claiming and sending.
    let mut interrupted = mail.into_active_model();
    interrupted.status = ActiveValue::Set(MailStatus::Sending);
    interrupted.locked_until =
        ActiveValue::Set(Some((chrono::Utc::now() + Duration::minutes(5)).into()));
    let interrupted = interrupted.update(&ctx.db).await.expect("updated");

    let server = SmtpServer::start(0).await;
    let ctx = delivering_to(ctx, &server);
    assert_eq!(
        deliver_due(&ctx).await.expect("sweep"),
        0,
        "its lease still runs"
    );

    let mut expired = interrupted.into_active_model();
    expired.locked_until =
        ActiveValue::Set(Some((chrono::Utc::now() - Duration::seconds(1)).into()));
    expired.update(&ctx.db).await.expect("updated");
    assert_eq!(deliver_due(&ctx).await.expect("sweep"), 1);
    assert_eq!(server.messages().len(), 1);
}
