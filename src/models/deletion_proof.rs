//! What the owner of an account proves to delete it: the password when the
//! account has one, a second factor's code when it is on, and without
//! either, a recent sign-in.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use loco_rs::prelude::*;

use super::{
    passwords,
    two_factor::{TwoFactorError, TwoFactorKeys},
    users,
};

/// Why an owner's request to delete their account was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    /// The account has a password, and it was missing or wrong.
    #[error("incorrect password")]
    IncorrectPassword,
    /// Neither a password nor a second factor: a recent sign-in is the proof.
    #[error("sign in again first")]
    SignInAgain,
    /// Two-factor sign-in is on, and its code was missing or wrong.
    #[error(transparent)]
    SecondFactor(#[from] TwoFactorError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<DbErr> for DeletionError {
    fn from(error: DbErr) -> Self {
        Self::Model(error.into())
    }
}

/// What the owner gives to prove it is them: the password when the account
/// has one, a TOTP or recovery code when two-factor sign-in is on, sent
/// from `source`; and when they signed in.
pub struct DeletionProof<'a> {
    pub password: Option<&'a str>,
    pub code: Option<&'a str>,
    pub source: IpAddr,
    pub signed_in_at: DateTime<Utc>,
}

impl users::Model {
    /// Checks what the owner gives to delete their account: the password
    /// when the account has one, a second factor's code when it is on, and
    /// without either, a recent sign-in.
    ///
    /// # Errors
    /// `IncorrectPassword`, `SecondFactor`, `SignInAgain`; a database error.
    pub async fn check_deletion_proof(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        proof: &DeletionProof<'_>,
    ) -> Result<(), DeletionError> {
        if let Some(hashed) = &self.hashed_password {
            let given = proof.password.ok_or(DeletionError::IncorrectPassword)?;
            if !passwords::verify(given.to_string(), Some(hashed.clone())).await? {
                return Err(DeletionError::IncorrectPassword);
            }
        }
        if self.two_factor_enabled {
            let code = proof.code.unwrap_or_default();
            self.confirm_second_factor(db, keys, (code, proof.source))
                .await?;
        }
        if self.hashed_password.is_none()
            && !self.two_factor_enabled
            && !users::signed_in_recently(proof.signed_in_at)
        {
            return Err(DeletionError::SignInAgain);
        }
        Ok(())
    }
}
