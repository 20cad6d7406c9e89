//! Sessions across the upgrade that brought them in.

use backend::models::{refresh_tokens, sessions, timestamps, users};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ActiveValue, EntityTrait};
use uuid::Uuid;

use crate::support::{boot, email};

#[tokio::test]
async fn the_upgrade_keeps_live_sign_ins_signed_in_as_sessions() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let admin = users::Model::find_by_email(db, &email("admin@example.com"))
        .await
        .expect("the development admin");
    // Back to the schema before sessions, and whatever came after.
    let since_sessions = Migrator::migrations()
        .iter()
        .rev()
        .position(|migration| migration.name() == "m20251201_000009_sessions")
        .expect("the sessions migration")
        + 1;
    Migrator::down(db, Some(u32::try_from(since_sessions).expect("a count")))
        .await
        .expect("down");
    let expires_at = timestamps::now() + chrono::Duration::days(3);
    let (live, revoked) = (Uuid::new_v4(), Uuid::new_v4());
    for (family_id, revoked_at) in [
        (live, None),
        (live, Some(timestamps::now())),
        (revoked, Some(timestamps::now())),
    ] {
        refresh_tokens::ActiveModel {
            user_id: ActiveValue::Set(admin.id),
            family_id: ActiveValue::Set(family_id),
            expires_at: ActiveValue::Set(expires_at),
            revoked_at: ActiveValue::Set(revoked_at),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("a token of the earlier schema");
    }
    Migrator::up(db, None).await.expect("up");

    let session = sessions::Entity::find_by_id(live)
        .one(db)
        .await
        .expect("query")
        .expect("the live sign-in is a session");
    assert_eq!(session.user_id, admin.id);
    assert_eq!(session.expires_at, expires_at);
    assert_eq!((session.ip.as_str(), session.user_agent.as_str()), ("", ""));
    let gone = sessions::Entity::find_by_id(revoked)
        .one(db)
        .await
        .expect("query");
    assert!(gone.is_none(), "a family with no live token stays ended");
}
