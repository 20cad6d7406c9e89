//! Users: roles and providers, `UserError`, the finders, and what a sign-in
//! hands back; each other concern of the account in a file of its own.

mod account;
mod by_code;
mod credentials;
mod deletion;
mod params;
mod registration;
mod sign_in;
mod staying_signed_in;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use loco_rs::{prelude::*, storage::Storage};
use sea_orm::{
    FromQueryResult, IdenStatic, JoinType, Order, QueryTrait, Select, SelectA, SelectB, SqlErr,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use utoipa::ToSchema;

pub use self::{
    account::OwnUpdate,
    by_code::CodeSignIn,
    credentials::PasswordReset,
    deletion::{EraseError, ScheduledDeletion, ScheduledForDeletion},
    params::{AdminUserUpdate, UserCreate, UserUpdate},
    sign_in::{NewSession, SignInOutcome},
    staying_signed_in::Resumed,
};
// What one concern's file lends the others.
use self::{credentials::*, params::*};
pub use super::_entities::{
    sea_orm_active_enums::{Provider, Role},
    users::{self, ActiveModel, Column, Entity, Model},
};
use super::{
    access::Picked,
    apple::AppleEvent,
    email::Email,
    file_deletions, files, legacy_passwords,
    one_time_passwords::{self, Budgeted, CodePolicy},
    pagination::Pagination,
    passwords, provider_tokens, recovery_codes,
    refresh_tokens::{self, Session},
    rendered::Rendered,
    security_events::Origin,
    sessions, single_use_tokens,
    sso_providers::ProviderProfile,
    timestamps,
    tokens::{IssuedToken, TokenKind, TokenSigner},
    write_transaction,
};

impl Role {
    /// The role a stored or typed name stands for: `admin`, `moderator` or
    /// `customer`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(Self::Admin),
            "moderator" => Some(Self::Moderator),
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }
}

impl Provider {
    /// The providers one can sign in with.
    pub const SSO: [Self; 4] = [Self::Google, Self::Github, Self::Facebook, Self::Apple];

    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::SSO
            .into_iter()
            .find(|provider| provider.as_str() == name)
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Google => "google",
            Self::Facebook => "facebook",
            Self::Github => "github",
            Self::Apple => "apple",
        }
    }
}

/// Why a new or changed user was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("email already registered")]
    EmailTaken,
    #[error("unsupported language")]
    UnsupportedLanguage,
    /// The account exists but is archived: it may not sign in.
    #[error("account archived")]
    Archived,
    /// A new password that is common or easy to guess; names its field.
    #[error("password too easy to guess")]
    WeakPassword(&'static str),
    /// The current password given for a change is wrong.
    #[error("incorrect password")]
    IncorrectPassword,
    /// Setting a first password, or asking for a new email, needs a
    /// sign-in of the last minutes.
    #[error("sign in again first")]
    SignInAgain,
    /// Codes for the address, or from the caller, are refused until then.
    #[error("codes refused until {0}")]
    CodesLocked(DateTimeWithTimeZone),
    /// A provider's new user, without an email the provider checked: an
    /// account needs one.
    #[error("the provider did not share a verified email address")]
    NoEmail,
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<UserError> for ModelError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::EmailTaken => Self::EntityAlreadyExists,
            UserError::UnsupportedLanguage
            | UserError::Archived
            | UserError::WeakPassword(_)
            | UserError::IncorrectPassword
            | UserError::SignInAgain
            | UserError::CodesLocked(_)
            | UserError::NoEmail => Self::Message(error.to_string()),
            UserError::Model(error) => error,
        }
    }
}

impl From<DbErr> for UserError {
    fn from(error: DbErr) -> Self {
        if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            Self::EmailTaken
        } else {
            Self::Model(ModelError::DbErr(error))
        }
    }
}

/// Every field but the password hash and the TOTP secret, which it says are
/// set or not: `Debug` output ends up in logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| super::REDACTED);
        f.debug_struct("Model")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("hashed_password", &redacted(&self.hashed_password))
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("language", &self.language)
            .field("role", &self.role)
            .field("provider", &self.provider)
            .field("provider_id", &self.provider_id)
            .field("confirmed", &self.confirmed)
            .field("archived_at", &self.archived_at)
            .field("token_version", &self.token_version)
            .field("pending_email", &self.pending_email)
            .field("two_factor_secret", &redacted(&self.two_factor_secret))
            .field("two_factor_enabled", &self.two_factor_enabled)
            .field("two_factor_last_step", &self.two_factor_last_step)
            .field("profile_picture_id", &self.profile_picture_id)
            .field("deletes_at", &self.deletes_at)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A user who just signed in, whether the sign-in made their account, and
/// whether it claimed one that was never confirmed (`prove_email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user: Model,
    pub registered: bool,
    pub claimed: bool,
}

impl SignedIn {
    #[must_use]
    pub const fn existing(user: Model) -> Self {
        Self {
            user,
            registered: false,
            claimed: false,
        }
    }
}

/// The language of a user who named none, and of the messages' source text.
pub const DEFAULT_LANGUAGE: &str = "en";

/// How recent a sign-in must be for a security change: a first password, a
/// new email, two-factor sign-in, a passkey.
pub const FRESH_SIGN_IN: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Whether a sign-in made at `signed_in_at` is within `FRESH_SIGN_IN`.
#[must_use]
pub fn signed_in_recently(signed_in_at: DateTime<Utc>) -> bool {
    Utc::now() - signed_in_at <= FRESH_SIGN_IN
}

timestamps::stamped_model!();

impl Model {
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    #[must_use]
    pub const fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// Any user, archived or not.
    ///
    /// # Errors
    /// `EntityNotFound` when there is no such user.
    pub async fn find_by_id(db: &impl ConnectionTrait, id: Uuid) -> ModelResult<Self> {
        Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// A user who may act: one that exists and is not archived.
    ///
    /// # Errors
    /// `EntityNotFound` when there is no such active user.
    pub async fn find_active_by_id(db: &impl ConnectionTrait, id: Uuid) -> ModelResult<Self> {
        Self::find_active(db, id)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// The active user `id`, if their session `session_id` lives: what an
    /// access token is checked against, in one query.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_active_in_session(
        db: &impl ConnectionTrait,
        id: Uuid,
        session_id: Uuid,
    ) -> ModelResult<Option<Self>> {
        static STATEMENT: Rendered<2> = Rendered::new();
        let backend = db.get_database_backend();
        let statement = STATEMENT.statement(backend, [id, session_id], |[id, session_id]| {
            Self::in_session(id, session_id).limit(1).build(backend)
        });
        Ok(Entity::find().from_raw_sql(statement).one(db).await?)
    }

    /// The same user, and with them, in the same query, the row of `E` that
    /// `on` picks (`None` when it picks none): a signed-in request for one
    /// row costs one round trip to the database, not two.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_active_in_session_with<E: EntityTrait>(
        db: &impl ConnectionTrait,
        id: Uuid,
        session_id: Uuid,
        picked: Picked,
    ) -> ModelResult<Option<(Self, Option<E::Model>)>> {
        let backend = db.get_database_backend();
        let parameters = [id, session_id, picked.id];
        let statement =
            picked
                .statement()
                .statement(backend, parameters, |[id, session_id, row]| {
                    let mut select = Self::in_session(id, session_id).select_also(E::default());
                    let on = (picked.condition)(row, picked.archived);
                    QueryTrait::query(&mut select).join(JoinType::LeftJoin, E::default(), on);
                    select.limit(1).build(backend)
                });
        let Some(found) = db.query_one_raw(statement).await? else {
            return Ok(None);
        };
        Ok(Some((
            Self::from_query_result(&found, SelectA.as_str())?,
            E::Model::from_query_result_optional(&found, SelectB.as_str())?,
        )))
    }

    fn in_session(id: Uuid, session_id: Uuid) -> Select<Entity> {
        let session = sea_orm::sea_query::Query::select()
            .expr(Expr::val(1))
            .from(sessions::Entity)
            .and_where(sessions::Column::Id.eq(session_id))
            .and_where(sessions::Column::UserId.eq(id))
            .to_owned();
        Entity::find_by_id(id)
            .filter(Column::ArchivedAt.is_null())
            .filter(Expr::exists(session))
    }

    /// The user `id`, if they exist and are not archived.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_active(db: &impl ConnectionTrait, id: Uuid) -> ModelResult<Option<Self>> {
        Ok(Entity::find_by_id(id)
            .filter(Column::ArchivedAt.is_null())
            .one(db)
            .await?)
    }

    /// # Errors
    /// `EntityNotFound` when no user has that email.
    pub async fn find_by_email(db: &impl ConnectionTrait, email: &Email) -> ModelResult<Self> {
        Entity::find()
            .filter(Column::Email.eq(email.as_str()))
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// Whether `email` belongs to an account other than `user_id`'s.
    ///
    /// # Errors
    /// On a database error.
    pub async fn is_email_taken(
        db: &impl ConnectionTrait,
        email: &Email,
        user_id: Uuid,
    ) -> ModelResult<bool> {
        let other = Entity::find()
            .filter(Column::Email.eq(email.as_str()))
            .filter(Column::Id.ne(user_id))
            .one(db)
            .await?;
        Ok(other.is_some())
    }

    /// The account a provider knows by `provider_id`.
    ///
    /// # Errors
    /// `EntityNotFound` when there is none.
    pub async fn find_by_provider(
        db: &impl ConnectionTrait,
        provider: Provider,
        provider_id: &str,
    ) -> ModelResult<Self> {
        Entity::find()
            .filter(Column::Provider.eq(provider))
            .filter(Column::ProviderId.eq(provider_id))
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// Users oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list(
        db: &DatabaseConnection,
        page: &Pagination,
        with_archived: bool,
    ) -> ModelResult<Vec<Self>> {
        let mut query = Entity::find();
        if !with_archived {
            query = query.filter(Column::ArchivedAt.is_null());
        }
        Ok(page
            .select(query, Column::CreatedAt, Column::Id, Order::Asc)
            .all(db)
            .await?)
    }

    /// Creates the configured first admin unless a user with that email exists.
    /// Returns the new admin, or `None` when there was nothing to do.
    ///
    /// # Errors
    /// On a database error.
    pub async fn ensure_superuser(
        db: &DatabaseConnection,
        email: &Email,
        password: &str,
    ) -> ModelResult<Option<Self>> {
        if Self::find_by_email(db, email).await.is_ok() {
            return Ok(None);
        }
        let params = UserCreate {
            email: email.clone(),
            password: Some(password.to_string()),
            first_name: None,
            last_name: None,
            language: None,
        };
        // The configured password is the operator's choice: not judged here.
        match Self::insert_account(db, &params, Role::Admin, &[]).await {
            Ok(admin) => Ok(Some(admin.into_active_model().confirm(db).await?)),
            // Another process created it in the meantime.
            Err(UserError::EmailTaken) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_errors_keep_their_meaning_as_model_errors() {
        assert!(matches!(
            ModelError::from(UserError::EmailTaken),
            ModelError::EntityAlreadyExists
        ));
        assert!(matches!(
            ModelError::from(UserError::SignInAgain),
            ModelError::Message(message) if message == "sign in again first"
        ));
        assert!(matches!(
            UserError::from(DbErr::Custom("connection lost".into())),
            UserError::Model(ModelError::DbErr(_))
        ));
    }
}
