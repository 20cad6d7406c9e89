use std::sync::LazyLock;

use loco_rs::{hash, prelude::*};
use sea_orm::{QueryOrder, QuerySelect, SqlErr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::_entities::users::{self, ActiveModel, Column, Entity, Model};
use super::{
    pagination::Pagination, refresh_tokens, single_use_tokens, timestamps, tokens::TokenKind,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Moderator,
    #[default]
    Customer,
}

impl Role {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Moderator => "moderator",
            Self::Customer => "customer",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    #[default]
    Email,
    Google,
    Facebook,
    Github,
}

impl Provider {
    /// The providers one can sign in with.
    pub const SSO: [Self; 3] = [Self::Google, Self::Github, Self::Facebook];

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
        }
    }
}

/// `UserCreate`: a new account. The password is optional where the account can
/// sign in by one-time code instead.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct UserCreate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    #[schema(format = "email", example = "jane@example.com")]
    pub email: String,
    #[validate(length(
        min = 8,
        code = "string_too_short",
        message = "String should have at least 8 characters"
    ))]
    #[schema(min_length = 8)]
    pub password: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    #[schema(example = "en")]
    pub language: Option<String>,
}

/// `UserUpdate`: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct UserUpdate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    #[schema(format = "email")]
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Option<String>,
}

/// What an admin may change on any user: `UserUpdate` and the role.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AdminUserUpdate {
    #[serde(flatten)]
    pub user: UserUpdate,
    pub role: Option<Role>,
}

impl Validate for AdminUserUpdate {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Validate::validate(&self.user)
    }
}

/// What a sign-in provider says of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Why a new or changed user was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("email already registered")]
    EmailTaken,
    #[error("unsupported language")]
    UnsupportedLanguage,
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<UserError> for ModelError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::EmailTaken => Self::EntityAlreadyExists,
            UserError::UnsupportedLanguage => Self::Message(error.to_string()),
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

/// Emails are compared without case and surrounding blanks.
#[must_use]
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A hash of a password nobody has, checked when the email is unknown so that a
/// failed login takes as long whether or not the account exists.
static DUMMY_PASSWORD_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash::hash_password("no account has this password").ok());

/// Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
async fn hash_password(password: String) -> ModelResult<String> {
    tokio::task::spawn_blocking(move || hash::hash_password(&password))
        .await
        .map_err(|error| ModelError::Any(error.into()))?
        .map_err(|error| ModelError::Any(error.into()))
}

async fn verify_password(password: String, hashed: String) -> bool {
    tokio::task::spawn_blocking(move || hash::verify_password(&password, &hashed))
        .await
        .unwrap_or(false)
}

timestamps::stamped_model!();

impl Model {
    #[must_use]
    pub fn role(&self) -> Role {
        match self.role.as_str() {
            "admin" => Role::Admin,
            "moderator" => Role::Moderator,
            _ => Role::Customer,
        }
    }

    #[must_use]
    pub fn provider(&self) -> Provider {
        match self.provider.as_str() {
            "google" => Provider::Google,
            "facebook" => Provider::Facebook,
            "github" => Provider::Github,
            _ => Provider::Email,
        }
    }

    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
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
    pub async fn find_active_by_id(db: &DatabaseConnection, id: Uuid) -> ModelResult<Self> {
        Entity::find_by_id(id)
            .filter(Column::ArchivedAt.is_null())
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// # Errors
    /// `EntityNotFound` when no user has that email.
    pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> ModelResult<Self> {
        Entity::find()
            .filter(Column::Email.eq(normalize_email(email)))
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
        Ok(query
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .offset(page.skip)
            .limit(page.limit)
            .all(db)
            .await?)
    }

    /// Creates an account with the given role.
    ///
    /// # Errors
    /// `EmailTaken` when the email already has an account,
    /// `UnsupportedLanguage` for a language without translations.
    pub async fn create(
        db: &DatabaseConnection,
        params: &UserCreate,
        role: Role,
        languages: &[&str],
    ) -> Result<Self, UserError> {
        let language = match params.language.as_deref() {
            Some(language) if !languages.contains(&language) => {
                return Err(UserError::UnsupportedLanguage);
            }
            Some(language) => language.to_string(),
            None => crate::i18n::DEFAULT_LANGUAGE.to_string(),
        };
        let hashed_password = match &params.password {
            Some(password) => Some(hash_password(password.clone()).await?),
            None => None,
        };
        Self::insert_unique(
            db,
            ActiveModel {
                email: ActiveValue::Set(normalize_email(&params.email)),
                hashed_password: ActiveValue::Set(hashed_password),
                first_name: ActiveValue::Set(params.first_name.clone().unwrap_or_default()),
                last_name: ActiveValue::Set(params.last_name.clone().unwrap_or_default()),
                language: ActiveValue::Set(language),
                role: ActiveValue::Set(role.as_str().to_string()),
                provider: ActiveValue::Set(Provider::Email.as_str().to_string()),
                confirmed: ActiveValue::Set(false),
                ..Default::default()
            },
        )
        .await
    }

    /// Inserts a new account unless its email is taken; the check and the
    /// insert share a transaction (and the unique index backs them up).
    async fn insert_unique(db: &DatabaseConnection, user: ActiveModel) -> Result<Self, UserError> {
        let txn = db.begin().await?;
        if let ActiveValue::Set(email) = &user.email
            && Self::find_by_email(&txn, email).await.is_ok()
        {
            return Err(UserError::EmailTaken);
        }
        let user = user.insert(&txn).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// The active user with this email and password, if any. Spends the same
    /// time whether or not the email has an account.
    ///
    /// # Errors
    /// On a database error.
    pub async fn authenticate(
        db: &DatabaseConnection,
        email: &str,
        password: &str,
    ) -> ModelResult<Option<Self>> {
        let user = match Self::find_by_email(db, email).await {
            Ok(user) => Some(user),
            Err(ModelError::EntityNotFound) => None,
            Err(error) => return Err(error),
        };
        let hashed = user
            .as_ref()
            .and_then(|user| user.hashed_password.clone())
            .or_else(|| DUMMY_PASSWORD_HASH.clone())
            .unwrap_or_default();
        let valid = verify_password(password.to_string(), hashed).await;
        Ok(user.filter(|user| valid && user.hashed_password.is_some() && !user.is_archived()))
    }

    /// Deletes the user, and with them their items; returns what they were.
    ///
    /// # Errors
    /// On a database error.
    pub async fn destroy(self, db: &DatabaseConnection) -> ModelResult<Self> {
        Entity::delete_by_id(self.id).exec(db).await?;
        Ok(self)
    }

    /// The account a provider knows by `provider_id`.
    ///
    /// # Errors
    /// `EntityNotFound` when there is none.
    pub async fn find_by_provider(
        db: &DatabaseConnection,
        provider: Provider,
        provider_id: &str,
    ) -> ModelResult<Self> {
        Entity::find()
            .filter(Column::Provider.eq(provider.as_str()))
            .filter(Column::ProviderId.eq(provider_id))
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// Creates a confirmed customer from a provider's profile.
    ///
    /// # Errors
    /// `EmailTaken` when the email already belongs to an account.
    pub async fn create_from_provider(
        db: &DatabaseConnection,
        provider: Provider,
        profile: &ProviderProfile,
    ) -> Result<Self, UserError> {
        Self::insert_unique(
            db,
            ActiveModel {
                email: ActiveValue::Set(normalize_email(&profile.email)),
                hashed_password: ActiveValue::Set(None),
                first_name: ActiveValue::Set(profile.first_name.clone()),
                last_name: ActiveValue::Set(profile.last_name.clone()),
                language: ActiveValue::Set(crate::i18n::DEFAULT_LANGUAGE.to_string()),
                role: ActiveValue::Set(Role::Customer.as_str().to_string()),
                provider: ActiveValue::Set(provider.as_str().to_string()),
                provider_id: ActiveValue::Set(Some(profile.id.clone())),
                confirmed: ActiveValue::Set(true),
                ..Default::default()
            },
        )
        .await
    }

    /// The account of an email proven by a one-time code: the existing one, or
    /// a new confirmed customer without a password.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_or_register_by_code(
        db: &DatabaseConnection,
        email: &str,
    ) -> ModelResult<Self> {
        let account = ActiveModel {
            email: ActiveValue::Set(normalize_email(email)),
            hashed_password: ActiveValue::Set(None),
            first_name: ActiveValue::Set(String::new()),
            last_name: ActiveValue::Set(String::new()),
            language: ActiveValue::Set(crate::i18n::DEFAULT_LANGUAGE.to_string()),
            role: ActiveValue::Set(Role::Customer.as_str().to_string()),
            provider: ActiveValue::Set(Provider::Email.as_str().to_string()),
            confirmed: ActiveValue::Set(true),
            ..Default::default()
        };
        match Self::insert_unique(db, account).await {
            Ok(user) => Ok(user),
            Err(UserError::EmailTaken) => {
                Self::find_by_email(db, email)
                    .await?
                    .into_active_model()
                    .prove_email(db)
                    .await
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Creates the configured first admin unless a user with that email exists.
    /// Returns the new admin, or `None` when there was nothing to do.
    ///
    /// # Errors
    /// On a database error.
    pub async fn ensure_superuser(
        db: &DatabaseConnection,
        email: &str,
        password: &str,
    ) -> ModelResult<Option<Self>> {
        if email.trim().is_empty() || Self::find_by_email(db, email).await.is_ok() {
            return Ok(None);
        }
        let params = UserCreate {
            email: email.to_string(),
            password: Some(password.to_string()),
            first_name: None,
            last_name: None,
            language: None,
        };
        match Self::create(db, &params, Role::Admin, &[]).await {
            Ok(admin) => Ok(Some(admin.into_active_model().confirm(db).await?)),
            // Another process created it in the meantime.
            Err(UserError::EmailTaken) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}

impl ActiveModel {
    /// # Errors
    /// On a database error.
    pub async fn confirm(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        self.confirmed = ActiveValue::Set(true);
        Ok(self.update(db).await?)
    }

    /// Archives the user and signs them out everywhere.
    ///
    /// # Errors
    /// On a database error.
    pub async fn archive(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        if matches!(&self.archived_at, ActiveValue::Unchanged(None)) {
            self.archived_at = ActiveValue::Set(Some(timestamps::now()));
        }
        let txn = db.begin().await?;
        let user = self.update(&txn).await?;
        refresh_tokens::Model::revoke_all_for_user(&txn, user.id).await?;
        single_use_tokens::Model::use_all(&txn, user.id, TokenKind::PasswordReset).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// The owner of the email proved it (with a code): the account is theirs
    /// now. An account made before with this email but never confirmed loses
    /// the password it was made with, and every session, so that whoever made
    /// it cannot stay in.
    ///
    /// # Errors
    /// On a database error.
    pub async fn prove_email(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        if matches!(self.confirmed, ActiveValue::Unchanged(true)) {
            return Ok(self.update(db).await?);
        }
        self.confirmed = ActiveValue::Set(true);
        self.hashed_password = ActiveValue::Set(None);
        let txn = db.begin().await?;
        let user = self.update(&txn).await?;
        refresh_tokens::Model::revoke_all_for_user(&txn, user.id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Sets a new password and signs the user out everywhere.
    ///
    /// # Errors
    /// On a database error.
    pub async fn set_password(
        mut self,
        db: &DatabaseConnection,
        password: &str,
    ) -> ModelResult<Model> {
        self.hashed_password = ActiveValue::Set(Some(hash_password(password.to_string()).await?));
        let txn = db.begin().await?;
        let user = self.update(&txn).await?;
        refresh_tokens::Model::revoke_all_for_user(&txn, user.id).await?;
        single_use_tokens::Model::use_all(&txn, user.id, TokenKind::PasswordReset).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// # Errors
    /// On a database error.
    pub async fn unarchive(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        self.archived_at = ActiveValue::Set(None);
        Ok(self.update(db).await?)
    }

    /// Applies the fields present in `changes`, and the role when given.
    ///
    /// # Errors
    /// `EmailTaken` when the new email belongs to someone else,
    /// `UnsupportedLanguage` for a language without translations.
    pub async fn apply_update(
        mut self,
        db: &DatabaseConnection,
        changes: &UserUpdate,
        role: Option<Role>,
        languages: &[&str],
    ) -> Result<Model, UserError> {
        if let Some(language) = &changes.language {
            if !languages.contains(&language.as_str()) {
                return Err(UserError::UnsupportedLanguage);
            }
            self.language = ActiveValue::Set(language.clone());
        }
        if let Some(first_name) = &changes.first_name {
            self.first_name = ActiveValue::Set(first_name.clone());
        }
        if let Some(last_name) = &changes.last_name {
            self.last_name = ActiveValue::Set(last_name.clone());
        }
        if let Some(role) = role {
            self.role = ActiveValue::Set(role.as_str().to_string());
        }
        let txn = db.begin().await?;
        if let Some(email) = &changes.email {
            let email = normalize_email(email);
            if let Ok(other) = Model::find_by_email(&txn, &email).await
                && self.id.try_as_ref() != Some(&other.id)
            {
                return Err(UserError::EmailTaken);
            }
            if self.email.try_as_ref() != Some(&email) {
                self.email = ActiveValue::Set(email);
                // A new address has not been proven yet.
                self.confirmed = ActiveValue::Set(false);
            }
        }
        let user = self.update(&txn).await?;
        txn.commit().await?;
        Ok(user)
    }
}
