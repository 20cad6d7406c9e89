//! Passwords: checking them (and moving legacy hashes to argon2id), reset
//! links, and changes.

use super::*;

/// A password set with a reset link, and whether the link claimed an
/// account that was never confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub user: Model,
    pub claimed: bool,
}

/// Refuses a new password that is common or easy to guess for this owner.
pub(super) fn check_strength(
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

impl Model {
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

    pub(super) fn has_legacy_password(&self) -> bool {
        self.hashed_password
            .as_deref()
            .is_some_and(legacy_passwords::is_legacy)
    }

    /// A legacy hash that was just checked gives way to argon2id, unless the
    /// password changed meanwhile. The same password: sessions stay.
    pub(super) async fn replace_legacy_password(
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
            Ok(user) if !user.is_archived() && !user.is_deletion_scheduled() => user,
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

    pub(super) fn check_new_password(
        &self,
        password: &str,
        field: &'static str,
    ) -> Result<(), UserError> {
        let names = [
            Some(self.first_name.as_str()),
            Some(self.last_name.as_str()),
        ];
        check_strength(password, &self.email, names, field)
    }

    /// Refuses a sign-in older than `FRESH_SIGN_IN`.
    pub(super) fn require_fresh(signed_in_at: DateTime<Utc>) -> Result<(), UserError> {
        if signed_in_recently(signed_in_at) {
            Ok(())
        } else {
            Err(UserError::SignInAgain)
        }
    }

    /// Stores a new password hash and ends every token of the user; returns
    /// the user as they are now.
    pub(super) async fn set_password(
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
}
