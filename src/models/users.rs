use std::net::IpAddr;

use chrono::{DateTime, Utc};
use loco_rs::{prelude::*, storage::Storage};
use sea_orm::{
    Condition, JoinType, QueryOrder, QuerySelect, QueryTrait, Select, SqlErr,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use utoipa::ToSchema;

pub use super::_entities::{
    sea_orm_active_enums::{Provider, Role},
    users::{self, ActiveModel, Column, Entity, Model},
};
use super::{
    email::Email,
    file_deletions, files, legacy_passwords,
    one_time_passwords::{self, Budgeted, CodePolicy},
    pagination::Pagination,
    passwords, recovery_codes,
    refresh_tokens::{self, Session},
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
/// sign in by one-time code instead. Not `Debug`: it holds a password.
#[derive(Clone, Deserialize, Validate, ToSchema)]
pub struct UserCreate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Email,
    #[validate(length(
        min = 8,
        code = "string_too_short",
        message = "String should have at least 8 characters"
    ))]
    #[schema(min_length = 8)]
    pub password: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "name_length"))]
    pub first_name: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "name_length"))]
    pub last_name: Option<String>,
    #[serde(default)]
    #[schema(example = "en")]
    pub language: Option<String>,
}

/// `UserUpdate`: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct UserUpdate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Option<Email>,
    #[validate(custom(function = "name_length"))]
    pub first_name: Option<String>,
    #[validate(custom(function = "name_length"))]
    pub last_name: Option<String>,
    pub language: Option<String>,
}

/// What an admin may change on any user: `UserUpdate` and the role. Its
/// fields are spelled out rather than flattened, so that a bad value is
/// named by its field.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct AdminUserUpdate {
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email: Option<Email>,
    #[validate(custom(function = "name_length"))]
    pub first_name: Option<String>,
    #[validate(custom(function = "name_length"))]
    pub last_name: Option<String>,
    pub language: Option<String>,
    pub role: Option<Role>,
}

impl UserUpdate {
    /// The email asked for, when it is not `current`.
    #[must_use]
    pub fn new_email(&self, current: &str) -> Option<&Email> {
        self.email
            .as_ref()
            .filter(|email| email.as_str() != current)
    }
}

impl AdminUserUpdate {
    /// The changes to the account, and the new role.
    #[must_use]
    pub fn split(self) -> (UserUpdate, Option<Role>) {
        let user = UserUpdate {
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            language: self.language,
        };
        (user, self.role)
    }
}

/// Names are at most 255 characters, as FastAPI words it.
fn name_length(name: &str) -> Result<(), validator::ValidationError> {
    if name.chars().count() <= 255 {
        Ok(())
    } else {
        Err(validator::ValidationError::new("string_too_long")
            .with_message("String should have at most 255 characters".into()))
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
            | UserError::CodesLocked(_) => Self::Message(error.to_string()),
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

/// What presenting a refresh token came to. Not `Debug`: it holds tokens.
pub enum Resumed {
    Session(Model, Box<Session>),
    /// Not a live token of an active user, or one of sessions ended since.
    Refused,
    /// A used token presented again (a copy in someone else's hands): every
    /// session of the user was ended, and they should hear of it.
    Replayed(Model),
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

/// A password set with a reset link, and whether the link claimed an
/// account that was never confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub user: Model,
    pub claimed: bool,
}

fn checked_language(language: Option<&str>, languages: &[&str]) -> Result<String, UserError> {
    match language {
        Some(language) if !languages.contains(&language) => Err(UserError::UnsupportedLanguage),
        Some(language) => Ok(language.to_string()),
        None => Ok(DEFAULT_LANGUAGE.to_string()),
    }
}

/// The language of a user who named none, and of the messages' source text.
pub const DEFAULT_LANGUAGE: &str = "en";

/// How recent a sign-in must be to set a first password, or to ask for a
/// new email.
pub const FRESH_SIGN_IN: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Refuses a new password that is common or easy to guess for this owner.
fn check_strength(
    password: &str,
    email: &str,
    names: [Option<&str>; 2],
    field: &'static str,
) -> Result<(), UserError> {
    let local_part = email.split('@').next().unwrap_or_default();
    let mut context = vec![email, local_part];
    context.extend(names.into_iter().flatten().filter(|name| !name.is_empty()));
    if passwords::is_strong(password, &context) {
        Ok(())
    } else {
        Err(UserError::WeakPassword(field))
    }
}

/// A new customer with no password, for accounts whose email is proven.
fn confirmed_customer(email: &Email, provider: Provider) -> ActiveModel {
    ActiveModel {
        email: ActiveValue::Set(email.to_string()),
        hashed_password: ActiveValue::Set(None),
        first_name: ActiveValue::Set(String::new()),
        last_name: ActiveValue::Set(String::new()),
        language: ActiveValue::Set(DEFAULT_LANGUAGE.to_string()),
        role: ActiveValue::Set(Role::Customer),
        provider: ActiveValue::Set(provider),
        confirmed: ActiveValue::Set(true),
        ..Default::default()
    }
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
        Ok(Self::in_session(id, session_id).one(db).await?)
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
        on: Condition,
    ) -> ModelResult<Option<(Self, Option<E::Model>)>> {
        let mut select = Self::in_session(id, session_id).select_also(E::default());
        QueryTrait::query(&mut select).join(JoinType::LeftJoin, E::default(), on);
        Ok(select.one(db).await?)
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
    #[tracing::instrument(skip_all, fields(role = ?role))]
    pub async fn create(
        db: &DatabaseConnection,
        params: &UserCreate,
        role: Role,
        languages: &[&str],
    ) -> Result<Self, UserError> {
        if let Some(password) = &params.password {
            let names = [params.first_name.as_deref(), params.last_name.as_deref()];
            check_strength(password, params.email.as_str(), names, "password")?;
        }
        Self::insert_account(db, params, role, languages).await
    }

    async fn insert_account(
        db: &DatabaseConnection,
        params: &UserCreate,
        role: Role,
        languages: &[&str],
    ) -> Result<Self, UserError> {
        let language = checked_language(params.language.as_deref(), languages)?;
        // Before the hash: a taken email costs a query, not 19 MiB of work.
        if Self::find_by_email(db, &params.email).await.is_ok() {
            return Err(UserError::EmailTaken);
        }
        let hashed_password = match &params.password {
            Some(password) => Some(passwords::hash(password.clone()).await?),
            None => None,
        };
        Self::insert_unique(
            db,
            ActiveModel {
                email: ActiveValue::Set(params.email.to_string()),
                hashed_password: ActiveValue::Set(hashed_password),
                first_name: ActiveValue::Set(params.first_name.clone().unwrap_or_default()),
                last_name: ActiveValue::Set(params.last_name.clone().unwrap_or_default()),
                language: ActiveValue::Set(language),
                role: ActiveValue::Set(role),
                provider: ActiveValue::Set(Provider::Email),
                confirmed: ActiveValue::Set(false),
                ..Default::default()
            },
        )
        .await
    }

    /// Inserts a new account unless its email is taken; the check and the
    /// insert share a transaction (and the unique index backs them up).
    async fn insert_unique(db: &DatabaseConnection, user: ActiveModel) -> Result<Self, UserError> {
        let txn = write_transaction::begin(db).await?;
        let taken = match &user.email {
            ActiveValue::Set(email) => Entity::find()
                .filter(Column::Email.eq(email.as_str()))
                .one(&txn)
                .await?
                .is_some(),
            _ => false,
        };
        if taken {
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
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(
        db: &DatabaseConnection,
        email: &Email,
        password: &str,
    ) -> ModelResult<Option<Self>> {
        let user = match Self::find_by_email(db, email).await {
            Ok(user) => Some(user),
            Err(ModelError::EntityNotFound) => None,
            Err(error) => return Err(error),
        };
        let hashed = user.as_ref().and_then(|user| user.hashed_password.clone());
        let valid = passwords::verify(password.to_string(), hashed).await?;
        match user.filter(|user| valid && !user.is_archived()) {
            Some(user) if user.has_legacy_password() => {
                Ok(Some(user.replace_legacy_password(db, password).await?))
            }
            other => Ok(other),
        }
    }

    fn has_legacy_password(&self) -> bool {
        self.hashed_password
            .as_deref()
            .is_some_and(legacy_passwords::is_legacy)
    }

    /// A legacy hash that was just checked gives way to argon2id, unless the
    /// password changed meanwhile. The same password: sessions stay.
    async fn replace_legacy_password(
        self,
        db: &DatabaseConnection,
        password: &str,
    ) -> ModelResult<Self> {
        let hashed = passwords::hash(password.to_string()).await?;
        let txn = write_transaction::begin(db).await?;
        Entity::update_many()
            .col_expr(Column::HashedPassword, Expr::value(hashed))
            .filter(Column::Id.eq(self.id))
            .filter(Column::HashedPassword.eq(self.hashed_password.clone()))
            .exec(&txn)
            .await?;
        let user = Self::find_by_id(&txn, self.id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Deletes the user, and with them their items and files (rows, then
    /// bytes); returns what they were.
    ///
    /// # Errors
    /// On a database error.
    pub async fn destroy(self, db: &DatabaseConnection, storage: &Storage) -> ModelResult<Self> {
        let txn = write_transaction::begin(db).await?;
        let keys = files::Model::keys_of_owner(&txn, self.id).await?;
        file_deletions::record(&txn, &keys).await?;
        Entity::delete_by_id(self.id).exec(&txn).await?;
        txn.commit().await?;
        file_deletions::carry_out(db, storage, &keys).await;
        Ok(self)
    }

    /// Signs in the account a provider vouches for, making a confirmed
    /// customer of a profile seen for the first time.
    ///
    /// # Errors
    /// `EmailTaken` when a new profile's email belongs to another account,
    /// `Archived` when the account is archived.
    #[tracing::instrument(skip_all, fields(provider = provider.as_str()))]
    pub async fn sign_in_with_provider(
        db: &DatabaseConnection,
        provider: Provider,
        profile: &ProviderProfile,
    ) -> Result<SignedIn, UserError> {
        let signed_in = match Self::find_by_provider(db, provider, &profile.id).await {
            Ok(user) => SignedIn::existing(user),
            Err(ModelError::EntityNotFound) => {
                let mut account = confirmed_customer(&profile.email, provider);
                // Until its owner proves it with a code (`prove_email`).
                account.confirmed = ActiveValue::Set(profile.email_verified);
                account.first_name = ActiveValue::Set(profile.first_name.clone());
                account.last_name = ActiveValue::Set(profile.last_name.clone());
                account.provider_id = ActiveValue::Set(Some(profile.id.clone()));
                SignedIn {
                    user: Self::insert_unique(db, account).await?,
                    registered: true,
                    claimed: false,
                }
            }
            Err(error) => return Err(error.into()),
        };
        if signed_in.user.is_archived() {
            return Err(UserError::Archived);
        }
        Ok(signed_in)
    }

    /// The account of an email proven by a one-time code: the existing one, or
    /// a new confirmed customer without a password.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_or_register_by_code(
        db: &DatabaseConnection,
        email: &Email,
    ) -> ModelResult<SignedIn> {
        match Self::insert_unique(db, confirmed_customer(email, Provider::Email)).await {
            Ok(user) => Ok(SignedIn {
                user,
                registered: true,
                claimed: false,
            }),
            Err(UserError::EmailTaken) => {
                Self::find_by_email(db, email).await?.prove_email(db).await
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Trades a refresh token for a new session in the same family. The
    /// token is used up; presenting a used one ends every session of the user.
    ///
    /// # Errors
    /// On a database error, or when the new tokens cannot be signed.
    #[tracing::instrument(skip_all)]
    pub async fn resume_session(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        refresh_token: &str,
        origin: &Origin,
    ) -> ModelResult<Resumed> {
        let Some(claims) = signer.verify(refresh_token, TokenKind::Refresh) else {
            return Ok(Resumed::Refused);
        };
        // Everything on one connection: the rotation and the successor commit
        // together, and the request holds one pooled connection, not two.
        let txn = write_transaction::begin(db).await?;
        let Some(user) = Self::find_active(&txn, claims.sub).await? else {
            return Ok(Resumed::Refused);
        };
        // A token of sessions ended since (password, email, sign-out
        // everywhere) is void, not replayed: presenting it, as another of the
        // user's devices will, must not end the sessions started since.
        if user.token_version != claims.ver {
            return Ok(Resumed::Refused);
        }
        match refresh_tokens::Model::rotate(&txn, &claims).await? {
            refresh_tokens::Rotation::Rotated(lineage) => {
                let session =
                    refresh_tokens::Model::next_in_session(&txn, signer, &user, lineage).await?;
                let (id, refresh) = (lineage.family_id, &session.refresh);
                // Ended meanwhile: the rotation is rolled back with the rest.
                if !sessions::Model::touch(&txn, id, user.id, origin, refresh).await? {
                    return Ok(Resumed::Refused);
                }
                txn.commit().await?;
                Ok(Resumed::Session(user, Box::new(session)))
            }
            refresh_tokens::Rotation::Reused => {
                // Sessions ended by another request since the version was
                // read (PostgreSQL lets it commit in between): void, not replayed.
                let now = Self::find_by_id(&txn, user.id).await?;
                if now.token_version != claims.ver {
                    return Ok(Resumed::Refused);
                }
                // A stolen token was used, by the thief or by its owner: end
                // every session of the user, access tokens included.
                let user = Self::end_sessions(&txn, user.id).await?;
                txn.commit().await?;
                Ok(Resumed::Replayed(user))
            }
            refresh_tokens::Rotation::Unknown => Ok(Resumed::Refused),
        }
    }

    /// Trades a provider sign-in's confirmation token, once, for its user,
    /// to sign in. `None` when the token is not live.
    ///
    /// # Errors
    /// `Archived` when its user is archived or gone since; a database error.
    #[tracing::instrument(skip_all)]
    pub async fn redeem_sso_confirmation(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        token: &str,
    ) -> Result<Option<Self>, UserError> {
        let Some(claims) = signer.verify(token, TokenKind::SsoConfirmation) else {
            return Ok(None);
        };
        // The account first: archiving spends its confirmations, and the
        // answer should say why.
        let user = Self::find_active(db, claims.sub)
            .await?
            .ok_or(UserError::Archived)?;
        if !single_use_tokens::Model::use_once(db, &claims).await? {
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// Records a reset link's token for the active account of `email`; `None`
    /// when there is no such account.
    ///
    /// # Errors
    /// On a database error, or when the token cannot be signed.
    #[tracing::instrument(skip_all)]
    pub async fn start_password_reset(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        email: &Email,
        lifetime_seconds: i64,
    ) -> ModelResult<Option<(Self, IssuedToken)>> {
        let user = match Self::find_by_email(db, email).await {
            Ok(user) if !user.is_archived() => user,
            Ok(_) | Err(ModelError::EntityNotFound) => return Ok(None),
            Err(error) => return Err(error),
        };
        let token = single_use_tokens::Model::issue(
            db,
            signer,
            user.id,
            TokenKind::PasswordReset,
            lifetime_seconds,
        )
        .await?;
        Ok(Some((user, token)))
    }

    /// Sets a new password with a reset token, once; signs the user out
    /// everywhere. The link proves the email: an account never confirmed
    /// becomes the resetter's alone (`handed_to_prover`). `None`
    /// when the token is not a live reset token of an active user.
    ///
    /// # Errors
    /// `WeakPassword` for a common password; a database error.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        token: &str,
        new_password: &str,
    ) -> Result<Option<PasswordReset>, UserError> {
        let Some(claims) = signer.verify(token, TokenKind::PasswordReset) else {
            return Ok(None);
        };
        let Some(user) = Self::find_active(db, claims.sub).await? else {
            return Ok(None);
        };
        // A spent link is refused before the hash: replaying one costs nothing.
        if !single_use_tokens::Model::is_live(db, &claims).await? {
            return Ok(None);
        }
        user.check_new_password(new_password, "new_password")?;
        let hashed = passwords::hash(new_password.to_string()).await?;
        let txn = write_transaction::begin(db).await?;
        if !single_use_tokens::Model::use_once(&txn, &claims).await? {
            return Ok(None);
        }
        let claimed = !user.confirmed;
        let user = if claimed {
            let id = user.id;
            let mut user = Self::handed_to_prover(&txn, user).await?;
            user.hashed_password = ActiveValue::Set(Some(hashed));
            user.update(&txn).await?;
            Self::end_sessions(&txn, id).await?
        } else {
            Self::set_password(&txn, user, hashed).await?
        };
        txn.commit().await?;
        Ok(Some(PasswordReset { user, claimed }))
    }

    /// The owner of the email proved it (with a code) and signs in: the
    /// account is theirs now. One never confirmed is handed over
    /// (`handed_to_prover`) and loses the password it was made with too.
    ///
    /// # Errors
    /// On a database error.
    pub async fn prove_email(self, db: &DatabaseConnection) -> ModelResult<SignedIn> {
        if self.confirmed {
            return Ok(SignedIn::existing(self));
        }
        let id = self.id;
        let txn = write_transaction::begin(db).await?;
        let mut user = Self::handed_to_prover(&txn, self).await?;
        user.hashed_password = ActiveValue::Set(None);
        user.update(&txn).await?;
        let user = Self::end_sessions(&txn, id).await?;
        txn.commit().await?;
        Ok(SignedIn {
            user,
            registered: false,
            claimed: true,
        })
    }

    /// An account never confirmed, made its email owner's alone once they
    /// prove the address (by code or reset link): whoever made it under that
    /// address may have linked a provider identity or turned on a second
    /// factor of their own. Confirmed, the provider unlinked, two-factor
    /// sign-in off and its recovery codes deleted; the caller writes the row
    /// and ends the sessions in the same transaction.
    async fn handed_to_prover(txn: &impl ConnectionTrait, user: Self) -> ModelResult<ActiveModel> {
        recovery_codes::Model::delete_for(txn, user.id).await?;
        let mut user = user.into_active_model();
        user.confirmed = ActiveValue::Set(true);
        user.provider = ActiveValue::Set(Provider::Email);
        user.provider_id = ActiveValue::Set(None);
        user.two_factor_enabled = ActiveValue::Set(false);
        user.two_factor_secret = ActiveValue::Set(None);
        user.two_factor_last_step = ActiveValue::Set(None);
        Ok(user)
    }

    /// The user's change of their own password. With a password, the
    /// current one must be given; without one (code or provider accounts),
    /// none is, and the sign-in must be recent (`signed_in_at` within
    /// `FRESH_SIGN_IN`). Every earlier token of the user stops working.
    ///
    /// # Errors
    /// `IncorrectPassword`, `SignInAgain`, `WeakPassword`; a database error.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        self,
        db: &DatabaseConnection,
        current: Option<&str>,
        new_password: &str,
        signed_in_at: DateTime<Utc>,
    ) -> Result<Self, UserError> {
        // The cheap check first: a weak password costs no argon2 run.
        self.check_new_password(new_password, "new_password")?;
        match (&self.hashed_password, current) {
            (Some(hashed), Some(current)) => {
                let valid = passwords::verify(current.to_string(), Some(hashed.clone())).await?;
                if !valid {
                    return Err(UserError::IncorrectPassword);
                }
            }
            (None, None) => Self::require_fresh(signed_in_at)?,
            (Some(_), None) | (None, Some(_)) => return Err(UserError::IncorrectPassword),
        }
        let hashed = passwords::hash(new_password.to_string()).await?;
        let txn = write_transaction::begin(db).await?;
        let user = Self::set_password(&txn, self, hashed).await?;
        txn.commit().await?;
        Ok(user)
    }

    fn check_new_password(&self, password: &str, field: &'static str) -> Result<(), UserError> {
        let names = [
            Some(self.first_name.as_str()),
            Some(self.last_name.as_str()),
        ];
        check_strength(password, &self.email, names, field)
    }

    /// Refuses a sign-in older than `FRESH_SIGN_IN`.
    fn require_fresh(signed_in_at: DateTime<Utc>) -> Result<(), UserError> {
        if Utc::now() - signed_in_at <= FRESH_SIGN_IN {
            Ok(())
        } else {
            Err(UserError::SignInAgain)
        }
    }

    /// Stores a new password hash and ends every token of the user; returns
    /// the user as they are now.
    async fn set_password(
        txn: &impl ConnectionTrait,
        user: Self,
        hashed: String,
    ) -> ModelResult<Self> {
        let id = user.id;
        let mut user = user.into_active_model();
        user.hashed_password = ActiveValue::Set(Some(hashed));
        user.update(txn).await?;
        Self::end_sessions(txn, id).await
    }

    /// Signs the user out everywhere: `end_sessions`, in a transaction of
    /// its own. Returns the user as they are now.
    ///
    /// # Errors
    /// On a database error.
    pub async fn end_all_sessions(self, db: &DatabaseConnection) -> ModelResult<Self> {
        let txn = write_transaction::begin(db).await?;
        let user = Self::end_sessions(&txn, self.id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Ends every token of a user: raises their `token_version` (which voids
    /// every access token signed before), ends every session, revokes every
    /// refresh token and spends every unused reset link, provider
    /// confirmation and sign-in challenge. Returns the user as they are now,
    /// so that a session started next is signed under the new version.
    async fn end_sessions(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<Self> {
        Entity::update_many()
            .col_expr(Column::TokenVersion, Expr::col(Column::TokenVersion).add(1))
            .filter(Column::Id.eq(user_id))
            .exec(db)
            .await?;
        refresh_tokens::Model::revoke_all_for_user(db, user_id).await?;
        sessions::Model::forget_all(db, user_id).await?;
        single_use_tokens::Model::use_all(db, user_id).await?;
        Self::find_by_id(db, user_id).await
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
    #[tracing::instrument(skip_all)]
    pub async fn archive(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        if matches!(&self.archived_at, ActiveValue::Unchanged(None)) {
            self.archived_at = ActiveValue::Set(Some(timestamps::now()));
        }
        let txn = write_transaction::begin(db).await?;
        let user = self.update(&txn).await?;
        let user = Model::end_sessions(&txn, user.id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// # Errors
    /// On a database error.
    pub async fn unarchive(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        self.archived_at = ActiveValue::Set(None);
        Ok(self.update(db).await?)
    }

    /// The profile fields present in `changes`: names and language.
    fn set_profile(&mut self, changes: &UserUpdate, languages: &[&str]) -> Result<(), UserError> {
        if changes.language.is_some() {
            self.language =
                ActiveValue::Set(checked_language(changes.language.as_deref(), languages)?);
        }
        if let Some(first_name) = &changes.first_name {
            self.first_name = ActiveValue::Set(first_name.clone());
        }
        if let Some(last_name) = &changes.last_name {
            self.last_name = ActiveValue::Set(last_name.clone());
        }
        Ok(())
    }

    /// An admin's change: the fields present in `changes`, the role when
    /// given, and the email at once; a new email ends the user's sessions.
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
        self.set_profile(changes, languages)?;
        if let Some(role) = role {
            self.role = ActiveValue::Set(role);
        }
        let txn = write_transaction::begin(db).await?;
        let mut new_email = false;
        if let Some(email) = &changes.email {
            if let Some(id) = self.id.try_as_ref()
                && Model::is_email_taken(&txn, email, *id).await?
            {
                return Err(UserError::EmailTaken);
            }
            if self.email.try_as_ref().map(String::as_str) != Some(email.as_str()) {
                self.email = ActiveValue::Set(email.to_string());
                self.pending_email = ActiveValue::Set(None);
                // A new address has not been proven yet.
                self.confirmed = ActiveValue::Set(false);
                new_email = true;
            }
        }
        let mut user = self.update(&txn).await?;
        if new_email {
            user = Model::end_sessions(&txn, user.id).await?;
        }
        txn.commit().await?;
        Ok(user)
    }
}

/// What a user's change of their own account came to.
pub struct OwnUpdate {
    pub user: Model,
    /// The new address asked for and the code that proves it, to be mailed
    /// to that address.
    pub email_change: Option<(Email, String)>,
}

impl Model {
    /// The user's change of their own account: the profile fields at once;
    /// a new email only becomes `pending_email`, with a code for the new
    /// address (`confirm_email_change`), and only after a recent sign-in.
    /// Nothing changes when the new address is taken.
    ///
    /// # Errors
    /// `EmailTaken` when the new email belongs to someone else,
    /// `SignInAgain` for a new email on an old sign-in,
    /// `UnsupportedLanguage` for a language without translations.
    pub async fn update_own(
        self,
        db: &DatabaseConnection,
        policy: &CodePolicy,
        changes: &UserUpdate,
        languages: &[&str],
        signed_in_at: DateTime<Utc>,
    ) -> Result<OwnUpdate, UserError> {
        let new_email = changes.new_email(&self.email).cloned();
        // A stolen access token must not be enough to move the account to
        // another address.
        if new_email.is_some() {
            Self::require_fresh(signed_in_at)?;
        }
        let id = self.id;
        let mut user = self.into_active_model();
        user.set_profile(changes, languages)?;
        let txn = write_transaction::begin(db).await?;
        let mut email_change = None;
        if let Some(email) = new_email {
            if Self::is_email_taken(&txn, &email, id).await? {
                return Err(UserError::EmailTaken);
            }
            let code =
                one_time_passwords::Model::issue_email_change(&txn, policy, id, &email).await?;
            user.pending_email = ActiveValue::Set(Some(email.to_string()));
            email_change = Some((email, code));
        }
        let user = user.update(&txn).await?;
        txn.commit().await?;
        Ok(OwnUpdate { user, email_change })
    }

    /// Makes the pending email the user's, if `code` (sent from `source`)
    /// proves it; the address counts as confirmed, and every earlier token of
    /// the user stops working. `None` when there is no pending email or the
    /// code is wrong.
    ///
    /// # Errors
    /// `EmailTaken` when the address was taken since it was asked for;
    /// `CodesLocked` while codes for the address or from the source are.
    pub async fn confirm_email_change(
        self,
        db: &DatabaseConnection,
        policy: &CodePolicy,
        (code, source): (&str, IpAddr),
    ) -> Result<Option<Self>, UserError> {
        let Some(pending) = self
            .pending_email
            .as_deref()
            .and_then(|email| Email::parse(email).ok())
        else {
            return Ok(None);
        };
        let proof = (self.id, &pending);
        match one_time_passwords::Model::check_email_change(db, policy, proof, code, source).await?
        {
            Budgeted::Right => {}
            Budgeted::Refused => return Ok(None),
            Budgeted::Locked { until, .. } => return Err(UserError::CodesLocked(until)),
        }
        let txn = write_transaction::begin(db).await?;
        if Self::is_email_taken(&txn, &pending, self.id).await? {
            return Err(UserError::EmailTaken);
        }
        let id = self.id;
        let mut user = self.into_active_model();
        user.email = ActiveValue::Set(pending.to_string());
        user.pending_email = ActiveValue::Set(None);
        user.confirmed = ActiveValue::Set(true);
        user.update(&txn).await?;
        let user = Self::end_sessions(&txn, id).await?;
        txn.commit().await?;
        Ok(Some(user))
    }
}
