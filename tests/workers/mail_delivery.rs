use backend::{
    mailers::account::AccountMailer,
    models::{
        mails::{self, MAX_ATTEMPTS, MailStatus},
        users,
    },
};
use chrono::Duration;
use loco_rs::{
    app::AppContext,
    config::{MailerTls, SmtpMailer},
    mailer::EmailSender,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use super::smtp_server::SmtpServer;
use crate::support::{app_state, boot, email, queue_mail};

/// Delivers mail `id` through `ctx`'s mailer, as the delivery job does.
async fn deliver(ctx: &AppContext, id: uuid::Uuid) -> loco_rs::model::ModelResult<mails::Delivery> {
    let state = app_state(ctx);
    let outbox = state.outbox(ctx).expect("a mailer");
    mails::Model::deliver(&ctx.db, &outbox, id).await
}

/// Delivers every mail that is due, as the scheduled task does.
async fn deliver_due(ctx: &AppContext) -> loco_rs::model::ModelResult<usize> {
    let state = app_state(ctx);
    let outbox = state.outbox(ctx).expect("a mailer");
    mails::Model::deliver_due(&ctx.db, &outbox).await
}

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

/// The newest mail to `to`.
async fn newest_mail_to(ctx: &AppContext, to: &str) -> mails::Model {
    use sea_orm::QueryOrder;
    mails::Entity::find()
        .filter(mails::Column::ToAddress.eq(to))
        .order_by_desc(mails::Column::CreatedAt)
        .one(&ctx.db)
        .await
        .expect("query")
        .expect("a mail")
}

fn says(mail: &mails::Model, code: &str) -> bool {
    [&mail.subject, &mail.html, &mail.text]
        .iter()
        .any(|part| part.contains(code))
}

/// A code that could not be delivered is not kept for later: its mail is
/// blanked when it fails for good, and a retry leaves it alone; one that
/// never went out is blanked by the purge once its secret has expired,
/// while a fresh one is kept for delivery.
#[tokio::test]
async fn a_code_that_is_not_delivered_is_not_kept() {
    let booted = boot().await;
    let server = SmtpServer::start(usize::MAX).await;
    let ctx = delivering_to(&booted.app_context, &server);
    let settings = &app_state(&ctx).settings;

    AccountMailer::send_sign_in_code(&ctx, settings, &email("jane@example.com"), "482913")
        .await
        .expect("queued");
    let mail = newest_mail_to(&ctx, "jane@example.com").await;
    assert!(says(&mail, "482913"), "queued with its code");
    for _ in 0..MAX_ATTEMPTS {
        if newest_mail_to(&ctx, "jane@example.com").await.status == MailStatus::Failed {
            break;
        }
        make_due(&ctx, mail.id).await;
        deliver_due(&ctx).await.expect("sweep");
    }
    let failed = newest_mail_to(&ctx, "jane@example.com").await;
    assert_eq!(failed.status, MailStatus::Failed);
    assert!(!says(&failed, "482913"), "{failed:?}");
    assert_eq!(failed.text, "");
    assert_eq!(
        mails::Model::retry_failed(&ctx.db, None)
            .await
            .expect("retry"),
        0,
        "nothing left to send"
    );

    // Never delivered: no worker took it.
    let stale = mails::Model::enqueue(
        &ctx.db,
        mails::NewMail {
            template: "password_reset".to_string(),
            to: "ann@example.com".to_string(),
            subject: "Reset your password".to_string(),
            html: "<a href=\"https://app/reset-password?token=stale-link\">reset</a>".to_string(),
            text: "https://app/reset-password?token=stale-link".to_string(),
        },
    )
    .await
    .expect("queued");
    let lifetime = Duration::hours(settings.email_reset_token_expire_hours);
    let mut backdated = stale.into_active_model();
    backdated.created_at =
        ActiveValue::Set((chrono::Utc::now() - lifetime - Duration::minutes(1)).into());
    backdated.update(&ctx.db).await.expect("backdated");
    AccountMailer::send_sign_in_code(&ctx, settings, &email("bob@example.com"), "715230")
        .await
        .expect("queued");

    assert_eq!(
        mails::Model::blank_expired(&ctx.db, lifetime)
            .await
            .expect("purge"),
        1
    );
    let blanked = newest_mail_to(&ctx, "ann@example.com").await;
    assert!(!says(&blanked, "stale-link"), "{blanked:?}");
    assert_eq!(blanked.status, MailStatus::Failed);
    assert_eq!(blanked.last_error.as_deref(), Some(mails::EXPIRED));
    assert!(says(
        &newest_mail_to(&ctx, "bob@example.com").await,
        "715230"
    ));
}
