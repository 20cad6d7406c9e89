//! Where every way in ends: a password, an emailed code, a provider, a
//! second factor's answer, a new account. A first factor meets the second
//! when it is on; a complete sign-in is recorded in the security log, and a
//! session starts. A new way in proves who the user is, then calls
//! `Model::sign_in` (or `signed_in`, when nothing follows).

use super::*;
use crate::models::security_events::{self, EventKind};

/// A sign-in complete: its user, the session it started, and whether the
/// sign-in made the account (it is to be welcomed).
pub struct NewSession {
    pub user: Model,
    pub session: Session,
    pub registered: bool,
}

/// How a first factor's sign-in ended.
pub enum SignInOutcome {
    Session(Box<NewSession>),
    /// Two-factor sign-in is on: the challenge to answer instead.
    Challenge(String),
}

impl Model {
    /// A first factor proven (a password, an emailed code, a provider): the
    /// second factor's challenge when it is on, else `signed_in`.
    ///
    /// # Errors
    /// `ScheduledForDeletion` for an account whose deletion is scheduled; a
    /// database error, or when a token cannot be signed.
    pub async fn sign_in(
        db: &DatabaseConnection,
        (signer, policy): (&TokenSigner, &CodePolicy),
        signed_in: SignedIn,
        origin: &Origin,
    ) -> ModelResult<SignInOutcome> {
        signed_in.user.may_sign_in()?;
        if signed_in.user.needs_second_factor(policy) {
            let challenge = signed_in.user.challenge_second_factor(db, signer).await?;
            return Ok(SignInOutcome::Challenge(challenge));
        }
        let new = Self::signed_in(db, signer, signed_in, origin).await?;
        Ok(SignInOutcome::Session(Box::new(new)))
    }

    /// Every factor proven: the sign-in (and a claim of the account, when
    /// proving the email made it the prover's) goes in the security log, and
    /// a session starts.
    ///
    /// # Errors
    /// `ScheduledForDeletion` for an account whose deletion is scheduled; a
    /// database error, or when a token cannot be signed.
    pub async fn signed_in(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        signed_in: SignedIn,
        origin: &Origin,
    ) -> ModelResult<NewSession> {
        let SignedIn {
            user,
            registered,
            claimed,
        } = signed_in;
        user.may_sign_in()?;
        if claimed {
            let (kind, detail) = (EventKind::AccountClaimed, Some("by a code"));
            security_events::Model::note(db, user.id, kind, origin, detail).await;
        }
        security_events::Model::note(db, user.id, EventKind::SignIn, origin, None).await;
        let session = refresh_tokens::Model::start_session_signed_in_at(
            db,
            signer,
            &user,
            origin,
            Utc::now(),
        )
        .await?;
        Ok(NewSession {
            user,
            session,
            registered,
        })
    }

    /// A refused sign-in as `email` goes in the security log of its account,
    /// if there is one.
    pub async fn note_failed_sign_in(db: &DatabaseConnection, email: &Email, origin: &Origin) {
        if let Ok(user) = Self::find_by_email(db, email).await {
            let kind = EventKind::SignInFailed;
            security_events::Model::note(db, user.id, kind, origin, None).await;
        }
    }
}
