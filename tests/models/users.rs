use backend::models::{
    pagination::Pagination,
    users::{self, Role, UserCreate, UserError, UserUpdate},
};
use loco_rs::model::ModelError;
use sea_orm::IntoActiveModel;

use crate::support::{app_state, boot, email};

fn new_user(address: &str, password: Option<&str>) -> UserCreate {
    UserCreate {
        email: email(address),
        password: password.map(ToString::to_string),
        first_name: None,
        last_name: None,
        language: None,
    }
}

const LANGUAGES: &[&str] = &["en", "fr"];

#[tokio::test]
async fn create_normalizes_the_email_and_hashes_the_password() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let user = users::Model::create(
        db,
        &new_user(" Jane@Example.COM", Some("secret-password")),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    assert_eq!(user.email, "jane@example.com");
    assert_eq!(user.role, Role::Customer);
    assert_eq!(user.language, "en");
    assert!(!user.confirmed);
    let hash = user.hashed_password.clone().expect("a hash");
    assert!(hash.starts_with("$argon2id$"), "argon2id: {hash}");
    assert!(hash.contains("m=19456,t=2"), "OWASP parameters: {hash}");

    let found = users::Model::find_by_email(db, &email("JANE@example.com"))
        .await
        .expect("found");
    assert_eq!(found.id, user.id);
    assert!(matches!(
        users::Model::create(
            db,
            &new_user("jane@example.com", None),
            Role::Customer,
            LANGUAGES
        )
        .await,
        Err(UserError::EmailTaken)
    ));
    let mut unsupported = new_user("other@example.com", None);
    unsupported.language = Some("xx".to_string());
    assert!(matches!(
        users::Model::create(db, &unsupported, Role::Customer, LANGUAGES).await,
        Err(UserError::UnsupportedLanguage)
    ));
}

#[tokio::test]
async fn authenticate_checks_password_account_and_archive() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let user = users::Model::create(
        db,
        &new_user("jane@example.com", Some("secret-password")),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    let ok = users::Model::authenticate(db, &email("jane@example.com"), "secret-password")
        .await
        .expect("query");
    assert_eq!(ok.map(|user| user.id), Some(user.id));
    assert!(
        users::Model::authenticate(db, &email("jane@example.com"), "wrong")
            .await
            .expect("query")
            .is_none()
    );
    assert!(
        users::Model::authenticate(db, &email("nobody@example.com"), "secret-password")
            .await
            .expect("query")
            .is_none()
    );

    let passwordless = users::Model::create(
        db,
        &new_user("otp@example.com", None),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    assert!(passwordless.hashed_password.is_none());
    assert!(
        users::Model::authenticate(db, &email("otp@example.com"), "")
            .await
            .expect("query")
            .is_none()
    );

    user.into_active_model()
        .archive(db)
        .await
        .expect("archived");
    assert!(
        users::Model::authenticate(db, &email("jane@example.com"), "secret-password")
            .await
            .expect("query")
            .is_none()
    );
}

#[tokio::test]
async fn archive_and_unarchive_are_transitions() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let user = users::Model::create(
        db,
        &new_user("jane@example.com", None),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    let archived = user
        .into_active_model()
        .archive(db)
        .await
        .expect("archived");
    assert!(archived.is_archived());
    let stamp = archived.archived_at;
    let again = archived
        .into_active_model()
        .archive(db)
        .await
        .expect("archived again");
    assert_eq!(
        again.archived_at, stamp,
        "archiving twice keeps the first date"
    );
    assert!(matches!(
        users::Model::find_active_by_id(db, again.id).await,
        Err(ModelError::EntityNotFound)
    ));
    let back = again
        .into_active_model()
        .unarchive(db)
        .await
        .expect("unarchived");
    assert!(!back.is_archived());
    users::Model::find_active_by_id(db, back.id)
        .await
        .expect("active again");
}

#[tokio::test]
async fn apply_update_refuses_someone_elses_email_and_unconfirms_a_new_one() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    users::Model::create(
        db,
        &new_user("taken@example.com", None),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    let user = users::Model::create(
        db,
        &new_user("jane@example.com", None),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    let user = user
        .into_active_model()
        .confirm(db)
        .await
        .expect("confirmed");

    let taken = UserUpdate {
        email: Some(email("TAKEN@example.com")),
        ..Default::default()
    };
    assert!(matches!(
        user.clone()
            .into_active_model()
            .apply_update(db, &taken, None, LANGUAGES)
            .await,
        Err(UserError::EmailTaken)
    ));
    let same = UserUpdate {
        email: Some(email("jane@example.com")),
        ..Default::default()
    };
    let unchanged = user
        .clone()
        .into_active_model()
        .apply_update(db, &same, None, LANGUAGES)
        .await
        .expect("updated");
    assert!(unchanged.confirmed, "the same address stays confirmed");

    let new = UserUpdate {
        email: Some(email("new@example.com")),
        ..Default::default()
    };
    let moved = user
        .into_active_model()
        .apply_update(db, &new, Some(Role::Moderator), LANGUAGES)
        .await
        .expect("updated");
    assert_eq!(moved.email, "new@example.com");
    assert!(!moved.confirmed);
    assert_eq!(moved.role, Role::Moderator);
    assert!(moved.updated_at > moved.created_at);
}

#[tokio::test]
async fn the_first_superuser_is_created_once() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    // The test configuration names admin@example.com; boot created it.
    let admin = users::Model::find_by_email(db, &email("admin@example.com"))
        .await
        .expect("created at boot");
    assert!(admin.is_admin());
    assert!(admin.confirmed);
    let again = users::Model::ensure_superuser(db, &email("admin@example.com"), "other password")
        .await
        .expect("query");
    assert!(again.is_none());
    let second = users::Model::ensure_superuser(db, &email("root@example.com"), "pw")
        .await
        .expect("query");
    assert!(second.is_some_and(|user| user.is_admin()));
}

#[tokio::test]
async fn list_pages_oldest_first_and_hides_archived() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let mut created = Vec::new();
    for n in 0..3 {
        created.push(
            users::Model::create(
                db,
                &new_user(&format!("u{n}@example.com"), None),
                Role::Customer,
                LANGUAGES,
            )
            .await
            .expect("created"),
        );
    }
    created[0]
        .clone()
        .into_active_model()
        .archive(db)
        .await
        .expect("archived");
    let visible = users::Model::list(db, &Pagination::default(), false)
        .await
        .expect("list");
    let emails: Vec<_> = visible.iter().map(|user| user.email.as_str()).collect();
    assert_eq!(
        emails,
        ["admin@example.com", "u1@example.com", "u2@example.com"]
    );
    let all = users::Model::list(
        db,
        &Pagination {
            skip: 1,
            limit: 2,
            ..Pagination::default()
        },
        true,
    )
    .await
    .expect("list");
    let emails: Vec<_> = all.iter().map(|user| user.email.as_str()).collect();
    assert_eq!(emails, ["u0@example.com", "u1@example.com"]);
}

/// `Debug` output ends up in logs: a user's shows neither the password hash
/// nor the TOTP secret, a sign-in's answer neither token, a code's answer
/// not the code.
#[tokio::test]
async fn debug_output_leaves_the_secrets_out() {
    use backend::{
        models::{refresh_tokens, security_events::Origin},
        views::{auth::AuthResponse, otp::OneTimePasswordResponse},
    };

    let boot = boot().await;
    let db = &boot.app_context.db;
    let mut user = users::Model::create(
        db,
        &new_user("jane@example.com", Some("secret-password")),
        Role::Customer,
        LANGUAGES,
    )
    .await
    .expect("created");
    user.two_factor_secret = Some("JBSWY3DPEHPK3PXP".to_string());
    let hash = user.hashed_password.clone().expect("a hash");
    let printed = format!("{user:?}");
    assert!(printed.contains("jane@example.com"), "{printed}");
    assert!(!printed.contains(&hash), "{printed}");
    assert!(!printed.contains("JBSWY3DPEHPK3PXP"), "{printed}");

    let origin = Origin {
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        user_agent: String::new(),
    };
    let signer = &app_state(&boot.app_context).signer;
    let session = refresh_tokens::Model::start_session(db, signer, &user, &origin)
        .await
        .expect("a session");
    let printed = format!(
        "{:?}",
        AuthResponse::new(&user, &session, "http://localhost")
    );
    assert!(!printed.contains(&session.access.token), "{printed}");
    assert!(!printed.contains(&session.refresh.token), "{printed}");

    let now = chrono::Utc::now();
    let code = OneTimePasswordResponse {
        id: uuid::Uuid::new_v4(),
        email: "jane@example.com".to_string(),
        user_id: None,
        verification_code: Some("482913".to_string()),
        created_at: now,
        expires_at: now,
    };
    assert!(!format!("{code:?}").contains("482913"));
}
