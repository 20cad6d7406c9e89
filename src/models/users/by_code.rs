//! Signing in by code: an emailed code (which registers an email without an
//! account), the Apple review code, the development code, or either a
//! password or a code on the OAuth2 password form.

use super::*;
use crate::models::one_time_passwords::{CodeCheck, is_code};

/// What signing in with a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSignIn {
    SignedIn(SignedIn),
    Refused,
    /// Refused: codes for this email, or from this source, are locked until
    /// `until`. `tell` is the email's owner when this wrong code began a
    /// series of locks on their account: they should hear of it.
    Locked {
        until: DateTimeWithTimeZone,
        tell: Option<Model>,
    },
}

impl Model {
    /// Who `code`, sent from `source`, signs in as `email` (see
    /// `one_time_passwords::Model::check_sign_in`): the persistent code signs
    /// in an existing user, the Apple review code the review account, and the
    /// email's own code proves the email, registering it when it has no
    /// account.
    ///
    /// # Errors
    /// On a database error.
    pub async fn sign_in_by_code(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        (email, source): (&Email, IpAddr),
        code: &str,
    ) -> ModelResult<CodeSignIn> {
        let check = one_time_passwords::Model::check_sign_in(db, policy, (email, source), code);
        Ok(match check.await? {
            CodeCheck::Persistent => signed_in_if_active(Self::find_by_email(db, email).await),
            CodeCheck::AppleReview => {
                let reviewer = Self::find_by_email(db, &policy.apple_review_email).await;
                signed_in_if_active(reviewer)
            }
            CodeCheck::Refused => CodeSignIn::Refused,
            CodeCheck::Locked {
                until,
                account_lock_began,
            } => {
                let tell = if account_lock_began {
                    Self::find_by_email(db, email).await.ok()
                } else {
                    None
                };
                CodeSignIn::Locked { until, tell }
            }
            CodeCheck::Right => match Self::find_by_email(db, email).await {
                Ok(user) if user.is_archived() => CodeSignIn::Refused,
                Ok(user) => CodeSignIn::SignedIn(user.prove_email(db).await?),
                Err(ModelError::EntityNotFound) => {
                    CodeSignIn::SignedIn(Self::find_or_register_by_code(db, email).await?)
                }
                Err(error) => return Err(error),
            },
        })
    }

    /// The OAuth2 password form's sign-in: the password, or else a one-time
    /// code given in its place (which may register the email, as
    /// `sign_in_by_code`).
    ///
    /// # Errors
    /// On a database error.
    pub async fn sign_in_with_password_or_code(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        (email, source): (&Email, IpAddr),
        secret: &str,
    ) -> ModelResult<CodeSignIn> {
        if let Some(user) = Self::authenticate(db, email, secret).await? {
            return Ok(CodeSignIn::SignedIn(SignedIn::existing(user)));
        }
        if is_code(secret) {
            return Self::sign_in_by_code(db, policy, (email, source), secret).await;
        }
        Ok(CodeSignIn::Refused)
    }
}

/// A sign-in as `user`, if it was found and is not archived.
fn signed_in_if_active(user: ModelResult<Model>) -> CodeSignIn {
    user.ok()
        .filter(|user| !user.is_archived())
        .map_or(CodeSignIn::Refused, |user| {
            CodeSignIn::SignedIn(SignedIn::existing(user))
        })
}
