//! Passkeys: WebAuthn credentials a user signs in with, without a password
//! or a code. The relying-party checks (challenge, origin, RP id, signature,
//! user verification, sign count) are `webauthn-rs`'s; this model keeps the
//! credentials and the ceremonies' state, and says whose a credential is.

pub mod ceremonies;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use loco_rs::prelude::*;
use sea_orm::Order;
use sea_orm::sea_query::Expr;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn, WebauthnError,
};

use self::ceremonies::Purpose;
pub use super::_entities::passkeys::{ActiveModel, Column, Entity, Model};
use super::{
    pagination::{self, Pagination},
    security_events::{self, EventKind, Origin},
    timestamps, users,
};

/// Why a passkey ceremony did not end well.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The ceremony is unknown, expired, already answered, or someone
    /// else's.
    #[error("unknown or expired ceremony")]
    Ceremony,
    /// The authenticator's answer does not verify (signature, challenge,
    /// origin, RP id, user verification), or names no passkey of ours.
    #[error("refused: {0}")]
    Refused(String),
    /// A change to the account's passkeys asks for a recent sign-in.
    #[error("sign in again")]
    SignInAgain,
    /// The sign count went backwards: the credential may have been cloned.
    #[error("sign count went backwards")]
    CounterWentBack { user_id: Uuid },
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<DbErr> for PasskeyError {
    fn from(error: DbErr) -> Self {
        Self::Model(error.into())
    }
}

/// A ceremony begun: its id, and the options to hand the authenticator.
pub struct Begun<O> {
    pub id: Uuid,
    pub options: O,
}

/// A passkey sign-in verified: whose, and with which passkey.
pub struct Verified {
    pub user_id: Uuid,
    pub passkey: Model,
}

timestamps::stamped_model!();

fn refused(error: &WebauthnError) -> PasskeyError {
    PasskeyError::Refused(error.to_string())
}

fn encoded(credential_id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(credential_id)
}

/// A stored passkey or a ceremony's options that do not (de)serialize.
fn unreadable(error: serde_json::Error) -> PasskeyError {
    PasskeyError::Model(ModelError::Any(error.into()))
}

/// Said of a refused passkey sign-in in the owner's log.
pub const COUNTER_WENT_BACK: &str = "passkey sign count went back: a copy of it may exist";

impl Model {
    fn passkey(&self) -> Result<Passkey, PasskeyError> {
        serde_json::from_str(&self.credential).map_err(unreadable)
    }

    /// Refuses a sign-in older than `users::FRESH_SIGN_IN`.
    ///
    /// # Errors
    /// `SignInAgain`.
    pub fn require_fresh(signed_in_at: DateTime<Utc>) -> Result<(), PasskeyError> {
        users::signed_in_recently(signed_in_at)
            .then_some(())
            .ok_or(PasskeyError::SignInAgain)
    }

    /// Every passkey of `user_id`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn all_of(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<Vec<Self>> {
        Ok(Entity::find()
            .filter(Column::UserId.eq(user_id))
            .all(db)
            .await?)
    }

    /// A page of `user_id`'s passkeys, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_for(
        db: &DatabaseConnection,
        user_id: Uuid,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        let query = pagination::owned_by(Entity::find(), Column::UserId, user_id, Order::Asc);
        Ok(page
            .select(query, Column::CreatedAt, Column::Id, Order::Asc)
            .all(db)
            .await?)
    }

    /// The passkey `id`, when it is `user_id`'s.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_of(
        db: &impl ConnectionTrait,
        user_id: Uuid,
        id: Uuid,
    ) -> ModelResult<Option<Self>> {
        Ok(Entity::find_by_id(id)
            .filter(Column::UserId.eq(user_id))
            .one(db)
            .await?)
    }

    /// # Errors
    /// On a database error.
    pub async fn rename(self, db: &impl ConnectionTrait, name: &str) -> ModelResult<Self> {
        let mut passkey = self.into_active_model();
        passkey.name = ActiveValue::Set(name.to_string());
        Ok(passkey.update(db).await?)
    }

    /// # Errors
    /// On a database error.
    pub async fn remove(self, db: &impl ConnectionTrait) -> ModelResult<Self> {
        Entity::delete_by_id(self.id).exec(db).await?;
        Ok(self)
    }

    /// Removes every passkey of `user_id`; returns how many there were.
    ///
    /// # Errors
    /// On a database error.
    pub async fn remove_all_of(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<u64> {
        let removed = Entity::delete_many()
            .filter(Column::UserId.eq(user_id))
            .exec(db)
            .await?;
        Ok(removed.rows_affected)
    }

    /// Begins adding a passkey to `user`'s account: a resident key (so that
    /// it signs in without a name), none of the user's own again.
    ///
    /// # Errors
    /// On a database error, or when the relying party cannot make options.
    pub async fn start_registration(
        db: &impl ConnectionTrait,
        rp: &Webauthn,
        user: &users::Model,
        signed_in_at: DateTime<Utc>,
    ) -> Result<Begun<serde_json::Value>, PasskeyError> {
        Self::require_fresh(signed_in_at)?;
        let mine = Self::all_of(db, user.id).await?;
        let excluded = mine
            .iter()
            .map(Self::passkey)
            .map(|passkey| passkey.map(|passkey| passkey.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let name = format!("{} {}", user.first_name, user.last_name);
        let display = Some(name.trim()).filter(|name| !name.is_empty());
        let (options, state) = rp
            .start_passkey_registration(
                user.id,
                &user.email,
                display.unwrap_or(&user.email),
                Some(excluded),
            )
            .map_err(|error| refused(&error))?;
        // A resident key, so that it signs in without a name first.
        let mut options = serde_json::to_value(options).map_err(unreadable)?;
        if let Some(selection) = options["publicKey"]["authenticatorSelection"].as_object_mut() {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        let id = ceremonies::Model::begin(db, Purpose::Registration, Some(user.id), &state).await?;
        Ok(Begun { id, options })
    }

    /// Ends adding a passkey: the answer to registration `registration_id`,
    /// which must be `user`'s, verified; the passkey stored as `name`.
    ///
    /// # Errors
    /// `Ceremony` or `Refused` as the answer goes; on a database error.
    pub async fn finish_registration(
        db: &impl ConnectionTrait,
        rp: &Webauthn,
        user: &users::Model,
        (registration_id, name): (Uuid, &str),
        credential: &RegisterPublicKeyCredential,
    ) -> Result<Self, PasskeyError> {
        let state: PasskeyRegistration =
            ceremonies::Model::take(db, registration_id, Purpose::Registration, Some(user.id))
                .await?
                .ok_or(PasskeyError::Ceremony)?;
        let passkey = rp
            .finish_passkey_registration(credential, &state)
            .map_err(|error| refused(&error))?;
        let stored = serde_json::to_value(&passkey).map_err(unreadable)?;
        let backed_up = stored["cred"]["backup_state"].as_bool().unwrap_or(false);
        let added = ActiveModel {
            user_id: ActiveValue::Set(user.id),
            credential_id: ActiveValue::Set(encoded(passkey.cred_id())),
            name: ActiveValue::Set(name.to_string()),
            credential: ActiveValue::Set(stored.to_string()),
            backed_up: ActiveValue::Set(backed_up),
            ..Default::default()
        }
        .insert(db)
        .await;
        match added {
            Ok(added) => Ok(added),
            // A credential already stored: registered twice, or another account's.
            Err(error)
                if matches!(
                    error.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                Err(PasskeyError::Refused(
                    "credential already registered".into(),
                ))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Begins a sign-in that names nobody: the authenticator offers the
    /// user's passkeys for this site.
    ///
    /// # Errors
    /// On a database error, or when the relying party cannot make options.
    pub async fn start_sign_in(
        db: &impl ConnectionTrait,
        rp: &Webauthn,
    ) -> Result<Begun<RequestChallengeResponse>, PasskeyError> {
        let (options, state) = rp
            .start_discoverable_authentication()
            .map_err(|error| refused(&error))?;
        let id = ceremonies::Model::begin(db, Purpose::SignIn, None, &state).await?;
        Ok(Begun { id, options })
    }

    /// Begins a second factor for `user_id`: only their passkeys.
    ///
    /// # Errors
    /// `Refused` when they have none; on a database error.
    pub async fn start_second_factor(
        db: &impl ConnectionTrait,
        rp: &Webauthn,
        user_id: Uuid,
    ) -> Result<Begun<RequestChallengeResponse>, PasskeyError> {
        let passkeys = Self::all_of(db, user_id)
            .await?
            .iter()
            .map(Self::passkey)
            .collect::<Result<Vec<_>, _>>()?;
        if passkeys.is_empty() {
            return Err(PasskeyError::Refused("no passkey".into()));
        }
        let (options, state) = rp
            .start_passkey_authentication(&passkeys)
            .map_err(|error| refused(&error))?;
        let id = ceremonies::Model::begin(db, Purpose::SecondFactor, Some(user_id), &state).await?;
        Ok(Begun { id, options })
    }

    /// Ends a sign-in: the answer to `authentication_id` verified against
    /// the passkey it names, whose user it says. The passkey's sign count and
    /// backup state are kept, and when it was last used.
    ///
    /// # Errors
    /// `Ceremony`, `Refused` or `CounterWentBack` as the answer goes; on a
    /// database error.
    pub async fn finish_sign_in(
        db: &impl ConnectionTrait,
        rp: &Webauthn,
        (authentication_id, credential): (Uuid, &PublicKeyCredential),
        origin: &Origin,
    ) -> Result<Verified, PasskeyError> {
        let state: DiscoverableAuthentication =
            ceremonies::Model::take(db, authentication_id, Purpose::SignIn, None)
                .await?
                .ok_or(PasskeyError::Ceremony)?;
        let (user_id, credential_id) = rp
            .identify_discoverable_authentication(credential)
            .map_err(|error| refused(&error))?;
        let stored = Self::stored(db, user_id, credential_id).await?;
        let passkey = stored.passkey()?;
        let result = rp.finish_discoverable_authentication_v2(credential, state, &passkey);
        Self::used(db, (stored, passkey), result, origin).await
    }

    /// Ends a second factor: the answer to `authentication_id`, begun for
    /// `user_id`, verified against their passkeys.
    ///
    /// # Errors
    /// As `finish_sign_in`.
    pub async fn finish_second_factor(
        db: &impl ConnectionTrait,
        rp: &Webauthn,
        user_id: Uuid,
        (authentication_id, credential): (Uuid, &PublicKeyCredential),
        origin: &Origin,
    ) -> Result<Verified, PasskeyError> {
        let state: PasskeyAuthentication =
            ceremonies::Model::take(db, authentication_id, Purpose::SecondFactor, Some(user_id))
                .await?
                .ok_or(PasskeyError::Ceremony)?;
        let stored = Self::stored(db, user_id, credential.get_credential_id()).await?;
        let passkey = stored.passkey()?;
        let result = rp.finish_passkey_authentication(credential, &state);
        Self::used(db, (stored, passkey), result, origin).await
    }

    /// `user_id`'s passkey `credential_id`.
    async fn stored(
        db: &impl ConnectionTrait,
        user_id: Uuid,
        credential_id: &[u8],
    ) -> Result<Self, PasskeyError> {
        Entity::find()
            .filter(Column::CredentialId.eq(encoded(credential_id)))
            .filter(Column::UserId.eq(user_id))
            .one(db)
            .await?
            .ok_or_else(|| PasskeyError::Refused("unknown credential".into()))
    }

    /// A verified answer's passkey, its sign count and backup state kept.
    /// Two answers sent at once with the same count both pass the check
    /// against the stored count: the update takes only the count it read,
    /// so the second finds it moved and is the copy. (A synced passkey's
    /// count stays 0, and its devices may sign in at once.) A count gone
    /// back is recorded in the owner's log.
    async fn used(
        db: &impl ConnectionTrait,
        (stored, mut passkey): (Self, Passkey),
        result: Result<AuthenticationResult, WebauthnError>,
        origin: &Origin,
    ) -> Result<Verified, PasskeyError> {
        let user_id = stored.user_id;
        let result = match result {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return Err(Self::cloned(db, user_id, origin).await);
            }
            Err(error) => return Err(refused(&error)),
        };
        passkey.update_credential(&result);
        let credential = serde_json::to_string(&passkey).map_err(unreadable)?;
        let now = timestamps::now();
        let mut update = Entity::update_many()
            .col_expr(Column::Credential, Expr::value(credential.clone()))
            .col_expr(Column::BackedUp, Expr::value(result.backup_state()))
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(stored.id));
        if result.counter() > 0 {
            update = update.filter(Column::Credential.eq(stored.credential.as_str()));
        }
        if update.exec(db).await?.rows_affected == 0 {
            return Err(Self::cloned(db, user_id, origin).await);
        }
        let passkey = Self {
            credential,
            backed_up: result.backup_state(),
            last_used_at: Some(now),
            updated_at: now,
            ..stored
        };
        Ok(Verified { user_id, passkey })
    }

    async fn cloned(db: &impl ConnectionTrait, user_id: Uuid, origin: &Origin) -> PasskeyError {
        let (kind, detail) = (EventKind::SignInFailed, Some(COUNTER_WENT_BACK));
        security_events::Model::note(db, user_id, kind, origin, detail).await;
        PasskeyError::CounterWentBack { user_id }
    }
}
