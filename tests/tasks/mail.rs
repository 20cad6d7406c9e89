use backend::{
    app::App,
    models::mails::{self, MailStatus},
    tasks::mail_preview::PREVIEW_DIR,
};
use loco_rs::{app::AppContext, boot::run_task, task::Vars};
use sea_orm::EntityTrait;

use crate::support::{boot, queue_mail};

pub async fn run(ctx: &AppContext, task: &str, args: &[(&str, &str)]) -> loco_rs::Result<()> {
    let vars = Vars::from_cli_args(
        args.iter()
            .map(|(key, value)| ((*key).to_string(), (*value).to_string()))
            .collect(),
    );
    run_task::<App>(ctx, Some(&task.to_string()), &vars).await
}

#[tokio::test]
async fn mail_preview_writes_html_and_text() {
    let booted = boot().await;
    run(
        &booted.app_context,
        "mail_preview",
        &[("name", "verification_code")],
    )
    .await
    .expect("task");
    let dir = std::path::Path::new(PREVIEW_DIR);
    let html = std::fs::read_to_string(dir.join("verification_code.html")).expect("html");
    let text = std::fs::read_to_string(dir.join("verification_code.txt")).expect("text");
    assert!(html.contains("123456"));
    assert!(text.starts_with("Subject: 123456 is your Backend code"));

    let unknown = run(&booted.app_context, "mail_preview", &[("name", "nope")]).await;
    assert!(unknown.is_err());
}

#[tokio::test]
async fn send_test_email_queues_and_sends_the_test_mail() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    run(ctx, "send_test_email", &[("email", "ops@example.com")])
        .await
        .expect("task");
    let messages = ctx.mailer.as_ref().expect("stub").deliveries().messages;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("To: ops@example.com"));
    assert!(
        run(ctx, "send_test_email", &[("email", "nope")])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn mail_failed_retries_failed_mails() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    let mail = queue_mail(ctx, "Kept as failed").await;
    mails::Entity::update_many()
        .col_expr(
            mails::Column::Status,
            sea_orm::sea_query::Expr::value(MailStatus::Failed),
        )
        .exec(&ctx.db)
        .await
        .expect("failed");

    run(ctx, "mail_failed", &[]).await.expect("lists");
    run(ctx, "mail_failed", &[("retry", "all")])
        .await
        .expect("retries");
    let mail = mails::Model::find_by_id(&ctx.db, mail.id)
        .await
        .expect("mail");
    assert_eq!(mail.status, MailStatus::Sent);
    assert!(
        run(ctx, "mail_failed", &[("retry", "nonsense")])
            .await
            .is_err()
    );
}

/// Two processes' schedulers fire together: one of them delivers. (An hourly
/// period, so that the two runs fall in one slot.)
#[tokio::test]
async fn a_scheduled_run_is_taken_by_one_process() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    let first = queue_mail(ctx, "first").await;
    run(ctx, "deliver_mail", &[("once_per", "3600")])
        .await
        .expect("task");
    let second = queue_mail(ctx, "second").await;
    // The other process, the same hour.
    run(ctx, "deliver_mail", &[("once_per", "3600")])
        .await
        .expect("task");
    let status = |id| async move {
        mails::Entity::find_by_id(id)
            .one(&ctx.db)
            .await
            .expect("query")
            .expect("the mail")
            .status
    };
    assert_eq!(status(first.id).await, MailStatus::Sent);
    assert_eq!(
        status(second.id).await,
        MailStatus::Queued,
        "the run was taken"
    );

    // An operator's run is not scheduled: it always runs.
    run(ctx, "deliver_mail", &[]).await.expect("task");
    assert_eq!(status(second.id).await, MailStatus::Sent);

    let unreadable = run(ctx, "deliver_mail", &[("once_per", "a minute")]).await;
    assert!(unreadable.is_err());
}
