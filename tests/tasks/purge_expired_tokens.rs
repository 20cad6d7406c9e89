use backend::{
    app::App,
    models::{
        mails,
        one_time_passwords::{self, CodePolicy, Purpose},
        passkeys, refresh_tokens, security_events, single_use_tokens,
        tokens::{TokenKind, TokenSigner},
        users,
    },
};
use chrono::Duration;
use loco_rs::{boot::run_task, task::Vars};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use crate::support::{app_state, boot, email, queue_mail};

#[tokio::test]
async fn purge_deletes_expired_codes_and_tokens_only() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    let user = users::Model::find_by_email(&ctx.db, &email("admin@example.com"))
        .await
        .expect("admin");
    let policy = app_state(ctx).code_policy.clone();
    let expired = CodePolicy {
        lifetime: Duration::minutes(-1),
        ..policy.clone()
    };
    one_time_passwords::Model::issue(
        &ctx.db,
        &expired,
        &email("old@example.com"),
        "111111",
        Purpose::Login,
    )
    .await
    .expect("code");
    one_time_passwords::Model::issue(
        &ctx.db,
        &policy,
        &email("live@example.com"),
        "222222",
        Purpose::Login,
    )
    .await
    .expect("code");
    let signer = TokenSigner::new("secret");
    for lifetime in [-10, 600] {
        let refresh = signer
            .issue(user.id, TokenKind::Refresh, lifetime)
            .expect("token");
        refresh_tokens::Model::record(&ctx.db, &refresh.claims, Uuid::new_v4())
            .await
            .expect("recorded");
        let reset = signer
            .issue(user.id, TokenKind::PasswordReset, lifetime)
            .expect("token");
        single_use_tokens::Model::record(&ctx.db, &reset.claims)
            .await
            .expect("recorded");
    }

    // Sent mails: one older than the retention (7 days in test), one recent,
    // and one queued long ago, which stays.
    for age_days in [8, 1, 30] {
        let mail = queue_mail(ctx, "hello").await;
        let sent = age_days != 30;
        let at = chrono::Utc::now() - Duration::days(age_days);
        let mut mail = mail.into_active_model();
        if sent {
            mail.status = sea_orm::ActiveValue::Set(mails::MailStatus::Sent);
            mail.sent_at = sea_orm::ActiveValue::Set(Some(at.into()));
        }
        mail.update(&ctx.db).await.expect("aged");
    }

    // Security events: one past the retention (365 days in test), one recent.
    let origin = security_events::Origin {
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        user_agent: String::new(),
    };
    for age_days in [400, 10] {
        let event = security_events::Model::record(
            &ctx.db,
            user.id,
            security_events::EventKind::SignIn,
            &origin,
            None,
        )
        .await
        .expect("event");
        security_events::Entity::update_many()
            .col_expr(
                security_events::Column::CreatedAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now() - Duration::days(age_days)),
            )
            .filter(security_events::Column::Id.eq(event.id))
            .exec(&ctx.db)
            .await
            .expect("aged");
    }

    let ceremony = |expires_at| passkeys::ceremonies::ActiveModel {
        purpose: sea_orm::ActiveValue::Set("sign_in".into()),
        state: sea_orm::ActiveValue::Set("{}".into()),
        expires_at: sea_orm::ActiveValue::Set(expires_at),
        ..Default::default()
    };
    for minutes in [-1, 5] {
        let expires_at = (chrono::Utc::now() + Duration::minutes(minutes)).fixed_offset();
        ceremony(expires_at)
            .insert(&ctx.db)
            .await
            .expect("ceremony");
    }

    run_task::<App>(
        ctx,
        Some(&"purge_expired_tokens".to_string()),
        &Vars::default(),
    )
    .await
    .expect("task");

    assert_eq!(
        one_time_passwords::Entity::find()
            .count(&ctx.db)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        refresh_tokens::Entity::find()
            .count(&ctx.db)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        single_use_tokens::Entity::find()
            .count(&ctx.db)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        mails::Entity::find().count(&ctx.db).await.expect("count"),
        2,
        "the sent mail past its retention is gone"
    );
    assert_eq!(
        security_events::Entity::find()
            .count(&ctx.db)
            .await
            .expect("count"),
        1,
        "the event past its retention is gone"
    );
    let ceremonies = passkeys::ceremonies::Entity::find().count(&ctx.db).await;
    assert_eq!(
        ceremonies.expect("count"),
        1,
        "the unfinished ceremony is gone"
    );
}
