//! `user_disable_2fa`: an operator turns two-factor sign-in off for a user
//! who lost their device.

use backend::models::{email::Email, recovery_codes, security_events, users};
use loco_rs::app::AppContext;
use sea_orm::{ActiveModelTrait, ActiveValue, EntityTrait, IntoActiveModel, QueryFilter};

use crate::support::{app_state, boot};

async fn run(ctx: &AppContext, args: &[(&str, &str)]) -> loco_rs::Result<()> {
    super::mail::run(ctx, "user_disable_2fa", args).await
}

#[tokio::test]
async fn it_turns_two_factor_off_records_it_and_mails_the_user() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    let admin_email = Email::parse("admin@example.com").expect("email");
    let admin = users::Model::find_by_email(&ctx.db, &admin_email)
        .await
        .expect("the development admin");
    let keys = &app_state(ctx).two_factor;
    recovery_codes::Model::replace_for(&ctx.db, keys.recovery(), admin.id)
        .await
        .expect("codes");
    let mut on = admin.clone().into_active_model();
    on.two_factor_enabled = ActiveValue::Set(true);
    on.two_factor_secret = ActiveValue::Set(Some("sealed".to_string()));
    on.update(&ctx.db).await.expect("on");

    run(ctx, &[("email", "Admin@Example.com")])
        .await
        .expect("task");
    let admin = users::Model::find_by_id(&ctx.db, admin.id)
        .await
        .expect("admin");
    assert!(!admin.two_factor_enabled);
    assert_eq!(admin.two_factor_secret, None);
    let left = recovery_codes::Entity::find()
        .filter(sea_orm::ColumnTrait::eq(
            &recovery_codes::Column::UserId,
            admin.id,
        ))
        .all(&ctx.db)
        .await
        .expect("codes");
    assert!(left.is_empty(), "its recovery codes are gone");
    let events = security_events::Model::list_for(&ctx.db, admin.id, &Default::default())
        .await
        .expect("events");
    assert_eq!(events[0].kind, "two_factor_disabled");
    assert_eq!(events[0].detail.as_deref(), Some("by an operator"));
    let messages = ctx.mailer.as_ref().expect("stub").deliveries().messages;
    let mail = messages.last().expect("a mail");
    assert!(mail.contains("To: admin@example.com"), "{mail}");
    assert!(mail.contains("by an operator"), "{mail}");

    // Already off, unknown, malformed, missing: each an error.
    for args in [
        vec![("email", "admin@example.com")],
        vec![("email", "nobody@example.com")],
        vec![("email", "nope")],
        vec![],
    ] {
        assert!(run(ctx, &args).await.is_err(), "{args:?}");
    }
}

#[tokio::test]
async fn it_removes_the_passkeys_and_user_passkeys_lists_them() {
    let booted = boot().await;
    let ctx = &booted.app_context;
    let admin_email = Email::parse("admin@example.com").expect("email");
    let admin = users::Model::find_by_email(&ctx.db, &admin_email)
        .await
        .expect("the development admin");
    for name in ["phone", "laptop"] {
        backend::models::passkeys::ActiveModel {
            user_id: ActiveValue::Set(admin.id),
            credential_id: ActiveValue::Set(format!("credential-{name}")),
            name: ActiveValue::Set(name.to_string()),
            credential: ActiveValue::Set("{}".to_string()),
            backed_up: ActiveValue::Set(true),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .expect("a passkey");
    }
    super::mail::run(ctx, "user_passkeys", &[("email", "admin@example.com")])
        .await
        .expect("listed");

    run(ctx, &[("email", "admin@example.com")])
        .await
        .expect("passkeys removed, two-factor sign-in being off");
    let left = backend::models::passkeys::Model::all_of(&ctx.db, admin.id)
        .await
        .expect("passkeys");
    assert!(left.is_empty());
    let events = security_events::Model::list_for(&ctx.db, admin.id, &Default::default())
        .await
        .expect("events");
    assert_eq!(events[0].kind, "passkey_removed");
    assert_eq!(
        events[0].detail.as_deref(),
        Some("2 passkey(s), by an operator")
    );
    assert!(
        run(ctx, &[("email", "admin@example.com")]).await.is_err(),
        "nothing left to turn off"
    );
}
