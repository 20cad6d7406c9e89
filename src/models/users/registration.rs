//! Making accounts: with a password, by a proven email (a code, a
//! provider), and provider sign-in.

use super::*;

/// A new customer with no password, for accounts whose email is proven.
pub(super) fn confirmed_customer(email: &Email, provider: Provider) -> ActiveModel {
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

impl Model {
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

    pub(super) async fn insert_account(
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
    pub(super) async fn insert_unique(
        db: &DatabaseConnection,
        user: ActiveModel,
    ) -> Result<Self, UserError> {
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
                let email = profile.email.as_ref().ok_or(UserError::NoEmail)?;
                let mut account = confirmed_customer(email, provider);
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
}
