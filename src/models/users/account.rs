//! The account's transitions: an email proven, confirmed, archived and
//! back, and the owner's and an admin's changes.

use super::*;

/// What a user's change of their own account came to.
pub struct OwnUpdate {
    pub user: Model,
    /// The new address asked for and the code that proves it, to be mailed
    /// to that address.
    pub email_change: Option<(Email, String)>,
}

impl Model {
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
    pub(super) async fn handed_to_prover(
        txn: &impl ConnectionTrait,
        user: Self,
    ) -> ModelResult<ActiveModel> {
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
    pub(super) fn set_profile(
        &mut self,
        changes: &UserUpdate,
        languages: &[&str],
    ) -> Result<(), UserError> {
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
