use backend::models::{
    passkeys::{self, PasskeyError, ceremonies},
    security_events::Origin,
    users::{self, Role, UserCreate},
};
use sea_orm::{ActiveModelTrait, ActiveValue, DatabaseConnection, EntityTrait};
use serde_json::Value;
use webauthn_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};

use super::soft_passkey::SoftPasskey;
use crate::support::{boot, email};

const ORIGIN: &str = "http://localhost:5150";

fn origin() -> Origin {
    Origin {
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        user_agent: "a test".into(),
    }
}

fn relying_party() -> Webauthn {
    let origin = Url::parse(ORIGIN).expect("url");
    WebauthnBuilder::new("localhost", &origin)
        .expect("relying party")
        .build()
        .expect("relying party")
}

async fn user(db: &DatabaseConnection, address: &str) -> users::Model {
    let params = UserCreate {
        email: email(address),
        password: None,
        first_name: None,
        last_name: None,
        language: None,
    };
    users::Model::create(db, &params, Role::Customer, &["en"])
        .await
        .expect("user")
}

fn registered(answer: Value) -> RegisterPublicKeyCredential {
    serde_json::from_value(answer).expect("a registration answer")
}

fn asserted(answer: Value) -> PublicKeyCredential {
    serde_json::from_value(answer).expect("an assertion")
}

/// `user` with a passkey made by `authenticator`.
async fn with_passkey(
    db: &DatabaseConnection,
    rp: &Webauthn,
    user: &users::Model,
    authenticator: &mut SoftPasskey,
) -> passkeys::Model {
    let begun = passkeys::Model::start_registration(db, rp, user, chrono::Utc::now())
        .await
        .expect("options");
    let answer = registered(authenticator.register(&begun.options));
    passkeys::Model::finish_registration(db, rp, user, (begun.id, "phone"), &answer)
        .await
        .expect("registered")
}

async fn sign_in(
    db: &DatabaseConnection,
    rp: &Webauthn,
    authenticator: &mut SoftPasskey,
) -> Result<passkeys::Verified, PasskeyError> {
    let begun = passkeys::Model::start_sign_in(db, rp)
        .await
        .expect("options");
    let options = serde_json::to_value(&begun.options).expect("json");
    let answer = asserted(authenticator.sign_in(&options));
    passkeys::Model::finish_sign_in(db, rp, (begun.id, &answer), &origin()).await
}

#[tokio::test]
async fn a_passkey_registers_and_signs_in_without_a_name() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let rp = relying_party();
    let jane = user(db, "jane@example.com").await;
    let mut phone = SoftPasskey::new("localhost", ORIGIN);

    let begun = passkeys::Model::start_registration(db, &rp, &jane, chrono::Utc::now())
        .await
        .expect("options");
    let selection = &begun.options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "required");
    let answer = registered(phone.register(&begun.options));
    let stored = passkeys::Model::finish_registration(db, &rp, &jane, (begun.id, "phone"), &answer)
        .await
        .expect("registered");
    assert_eq!((stored.user_id, stored.name.as_str()), (jane.id, "phone"));
    assert!(stored.backed_up, "a synced passkey says so");

    let again = passkeys::Model::start_registration(db, &rp, &jane, chrono::Utc::now())
        .await
        .expect("options");
    let excluded = again.options["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excluded")
        .len();
    assert_eq!(excluded, 1, "the user's own passkeys are excluded");

    let verified = sign_in(db, &rp, &mut phone).await.expect("signed in");
    assert_eq!(verified.user_id, jane.id);
    assert!(verified.passkey.last_used_at.is_some());
}

#[tokio::test]
async fn answers_that_do_not_hold_are_refused_and_change_nothing() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let rp = relying_party();
    let jane = user(db, "jane@example.com").await;
    let john = user(db, "john@example.com").await;
    let mut phone = SoftPasskey::new("localhost", ORIGIN);
    let stored = with_passkey(db, &rp, &jane, &mut phone).await;

    // The same answer twice: the ceremony is taken by the first.
    let begun = passkeys::Model::start_sign_in(db, &rp)
        .await
        .expect("options");
    let options = serde_json::to_value(&begun.options).expect("json");
    let answer = asserted(phone.sign_in(&options));
    passkeys::Model::finish_sign_in(db, &rp, (begun.id, &answer), &origin())
        .await
        .expect("signed in");
    let replayed = passkeys::Model::finish_sign_in(db, &rp, (begun.id, &answer), &origin()).await;
    assert!(matches!(replayed, Err(PasskeyError::Ceremony)));

    // Another site's page, another RP id.
    for (rp_id, origin) in [
        ("localhost", "https://evil.example"),
        ("evil.example", ORIGIN),
    ] {
        let mut elsewhere = phone.clone();
        elsewhere.rp_id = rp_id.into();
        elsewhere.origin = origin.into();
        let refused = sign_in(db, &rp, &mut elsewhere).await;
        assert!(
            matches!(refused, Err(PasskeyError::Refused(_))),
            "{rp_id} {origin}"
        );
    }

    // A clone whose count is behind the original's.
    let mut clone = phone.clone();
    sign_in(db, &rp, &mut phone).await.expect("the original");
    clone.counter -= 1;
    let cloned = sign_in(db, &rp, &mut clone).await;
    assert!(matches!(cloned, Err(PasskeyError::CounterWentBack { user_id }) if user_id == jane.id));

    // Jane's credential, claimed for John.
    let mut impostor = phone.clone();
    impostor.user_handle = john.id.as_bytes().to_vec();
    let refused = sign_in(db, &rp, &mut impostor).await;
    assert!(matches!(refused, Err(PasskeyError::Refused(_))));

    // An answer after the five minutes.
    let begun = passkeys::Model::start_sign_in(db, &rp)
        .await
        .expect("options");
    let options = serde_json::to_value(&begun.options).expect("json");
    let late = ceremonies::ActiveModel {
        id: ActiveValue::Unchanged(begun.id),
        expires_at: ActiveValue::Set(chrono::Utc::now().fixed_offset()),
        ..Default::default()
    };
    late.update(db).await.expect("expired");
    let answer = asserted(phone.sign_in(&options));
    let expired = passkeys::Model::finish_sign_in(db, &rp, (begun.id, &answer), &origin()).await;
    assert!(matches!(expired, Err(PasskeyError::Ceremony)));

    // A deleted passkey signs nobody in.
    let count = stored.clone().remove(db).await.map(|_| ());
    count.expect("removed");
    let gone = sign_in(db, &rp, &mut phone).await;
    assert!(matches!(gone, Err(PasskeyError::Refused(_))));
    assert!(
        passkeys::Entity::find()
            .all(db)
            .await
            .expect("rows")
            .is_empty()
    );
}

#[tokio::test]
async fn a_registration_is_the_users_it_was_begun_for() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let rp = relying_party();
    let jane = user(db, "jane@example.com").await;
    let john = user(db, "john@example.com").await;
    let mut phone = SoftPasskey::new("localhost", ORIGIN);
    let begun = passkeys::Model::start_registration(db, &rp, &jane, chrono::Utc::now())
        .await
        .expect("options");
    let answer = registered(phone.register(&begun.options));
    let stolen =
        passkeys::Model::finish_registration(db, &rp, &john, (begun.id, "phone"), &answer).await;
    assert!(matches!(stolen, Err(PasskeyError::Ceremony)));
    assert!(
        passkeys::Entity::find()
            .all(db)
            .await
            .expect("rows")
            .is_empty()
    );
}

#[tokio::test]
async fn a_copy_answering_at_the_same_time_as_the_original_is_refused() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let rp = relying_party();
    let jane = user(db, "jane@example.com").await;
    let mut phone = SoftPasskey::new("localhost", ORIGIN);
    with_passkey(db, &rp, &jane, &mut phone).await;
    let mut copy = phone.clone();
    let mut answers = Vec::new();
    for authenticator in [&mut phone, &mut copy] {
        let begun = passkeys::Model::start_sign_in(db, &rp)
            .await
            .expect("options");
        let options = serde_json::to_value(&begun.options).expect("json");
        answers.push((begun.id, asserted(authenticator.sign_in(&options))));
    }
    let mut answers = answers.into_iter();
    let (first, a) = answers.next().expect("the original's");
    let (second, b) = answers.next().expect("the copy's");
    let origin = origin();
    let (one, other) = tokio::join!(
        passkeys::Model::finish_sign_in(db, &rp, (first, &a), &origin),
        passkeys::Model::finish_sign_in(db, &rp, (second, &b), &origin),
    );
    let refused = [&one, &other]
        .iter()
        .filter(|verified| matches!(verified, Err(PasskeyError::CounterWentBack { .. })))
        .count();
    assert_eq!(
        (one.is_ok() || other.is_ok(), refused),
        (true, 1),
        "the same count, once"
    );
    let events =
        backend::models::security_events::Model::list_for(db, jane.id, &Default::default())
            .await
            .expect("events");
    assert_eq!(
        events[0].detail.as_deref(),
        Some(passkeys::COUNTER_WENT_BACK)
    );
}
