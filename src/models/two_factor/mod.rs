//! Two-factor sign-in with TOTP (RFC 6238: 30 s steps, 6 digits, SHA-1, as
//! authenticator apps expect). The secret is stored sealed with a key derived
//! from `SECRET_KEY` and shown once, at setup; a code is accepted once (the
//! last accepted step is kept), at the current step or one either side; ten
//! single-use recovery codes stand in for a lost device. Wrong codes spend
//! the second factor's own budgets, the account's and the source's
//! (`code_budgets`): wrong emailed codes never lock it.

mod keys;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use loco_rs::prelude::*;
use sea_orm::{Condition, sea_query::Expr};
use webauthn_rs::prelude::{PublicKeyCredential, Webauthn};

pub use self::keys::{Setup, TwoFactorKeys};
use super::{
    code_budgets::{Attempt, Factor as Budget, Wrong},
    one_time_passwords::{CodePolicy, is_code},
    passkeys::{self, PasskeyError},
    recovery_codes::{self, RecoveryKey},
    sealed::{Sealer, derive_key},
    security_events::Origin,
    single_use_tokens,
    tokens::{Claims, TokenKind, TokenSigner},
    users::{self, Column, Entity, Model},
    write_transaction,
};

/// Seconds a TOTP code stands for.
pub const STEP_SECONDS: u64 = 30;

const DIGITS: usize = 6;

/// Steps either side of now whose code is accepted: clock drift.
const SKEW: u8 = 1;

/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("two-factor sign-in is already on")]
    AlreadyOn,
    /// Off, or (to enable it) not set up.
    #[error("two-factor sign-in is not set up")]
    NotSetUp,
    #[error("wrong two-factor code")]
    WrongCode,
    /// Refused: the account or the source is locked out of second factors
    /// until `until`; `lock_began` when this wrong code began a series of
    /// locks on the account.
    #[error("two-factor codes refused until {until}")]
    Locked {
        until: DateTimeWithTimeZone,
        lock_began: bool,
    },
    /// A challenge token that is not live: unknown, used, expired, or out of tries.
    #[error("invalid sign-in challenge")]
    InvalidChallenge,
    #[error("this needs a recent sign-in")]
    SignInAgain,
    /// A passkey's answer to the challenge did not hold.
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<DbErr> for TwoFactorError {
    fn from(error: DbErr) -> Self {
        Self::Model(error.into())
    }
}

impl Model {
    /// Makes a new TOTP secret for this user, not yet in force: `enable`
    /// with a first code turns it on. A new setup replaces one not enabled.
    ///
    /// # Errors
    /// `AlreadyOn` when two-factor sign-in is on; a database error.
    pub async fn set_up_two_factor(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
    ) -> Result<Setup, TwoFactorError> {
        let secret: [u8; SECRET_BYTES] = rand::random();
        let sealed = keys
            .seal(&secret)
            .ok_or_else(|| ModelError::Any("a TOTP secret could not be sealed".into()))?;
        // Conditional: a setup racing an enable cannot swap the secret under it.
        let stored = Entity::update_many()
            .col_expr(Column::TwoFactorSecret, Expr::value(sealed))
            .col_expr(Column::TwoFactorLastStep, Expr::value(Option::<i64>::None))
            .col_expr(Column::UpdatedAt, Expr::value(super::timestamps::now()))
            .filter(Column::Id.eq(self.id))
            .filter(Column::TwoFactorEnabled.eq(false))
            .exec(db)
            .await?;
        if stored.rows_affected == 0 {
            return Err(TwoFactorError::AlreadyOn);
        }
        let totp = keys.totp(secret.to_vec(), &self.email);
        Ok(Setup {
            secret: totp.get_secret_base32(),
            otpauth_url: totp.get_url(),
        })
    }

    /// Turns two-factor sign-in on with a first code of the secret set up,
    /// on a sign-in of the last minutes (so that a stolen access token cannot
    /// lock the owner out behind a device of the thief's); returns the user
    /// and their ten recovery codes, shown this once.
    ///
    /// # Errors
    /// `SignInAgain`, `AlreadyOn`, `NotSetUp`, a wrong code, or a database error.
    pub async fn enable_two_factor(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        (code, source): (&str, IpAddr),
        signed_in_at: DateTime<Utc>,
    ) -> Result<(Self, Vec<String>), TwoFactorError> {
        if !users::signed_in_recently(signed_in_at) {
            return Err(TwoFactorError::SignInAgain);
        }
        if self.two_factor_enabled {
            return Err(TwoFactorError::AlreadyOn);
        }
        let Some(secret) = &self.two_factor_secret else {
            return Err(TwoFactorError::NotSetUp);
        };
        self.check_second_factor(db, keys, (code, source), Factor::TotpOnly)
            .await?;
        let txn = write_transaction::begin(db).await?;
        // Only the secret the code was checked against: a setup since then
        // replaced it, and the app does not have the new one.
        let enabled = Entity::update_many()
            .col_expr(Column::TwoFactorEnabled, Expr::value(true))
            .col_expr(Column::UpdatedAt, Expr::value(super::timestamps::now()))
            .filter(Column::Id.eq(self.id))
            .filter(Column::TwoFactorEnabled.eq(false))
            .filter(Column::TwoFactorSecret.eq(secret.as_str()))
            .exec(&txn)
            .await?;
        if enabled.rows_affected == 0 {
            let now = Self::find_by_id(&txn, self.id).await?;
            return Err(if now.two_factor_enabled {
                TwoFactorError::AlreadyOn
            } else {
                TwoFactorError::WrongCode
            });
        }
        let codes = recovery_codes::Model::replace_for(&txn, keys.recovery(), self.id).await?;
        let user = Self::find_by_id(&txn, self.id).await?;
        txn.commit().await?;
        Ok((user, codes))
    }

    /// Turns two-factor sign-in off, with a TOTP or recovery code, or
    /// without one (`None`) for an operator; its secret and recovery codes
    /// are deleted.
    ///
    /// # Errors
    /// `NotSetUp` when it is off, a wrong code, or a database error.
    pub async fn disable_two_factor(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        code: Option<(&str, IpAddr)>,
    ) -> Result<Self, TwoFactorError> {
        if !self.two_factor_enabled {
            return Err(TwoFactorError::NotSetUp);
        }
        if let Some(code) = code {
            self.check_second_factor(db, keys, code, Factor::TotpOrRecovery)
                .await?;
        }
        let txn = write_transaction::begin(db).await?;
        Entity::update_many()
            .col_expr(Column::TwoFactorEnabled, Expr::value(false))
            .col_expr(Column::TwoFactorSecret, Expr::value(Option::<String>::None))
            .col_expr(Column::TwoFactorLastStep, Expr::value(Option::<i64>::None))
            .col_expr(Column::UpdatedAt, Expr::value(super::timestamps::now()))
            .filter(Column::Id.eq(self.id))
            .exec(&txn)
            .await?;
        recovery_codes::Model::delete_for(&txn, self.id).await?;
        let user = Self::find_by_id(&txn, self.id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Checks a TOTP or recovery code of this user before a change that asks
    /// for one (deleting the account).
    ///
    /// # Errors
    /// A wrong code, or a lock on codes; a database error.
    pub async fn confirm_second_factor(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        code: (&str, IpAddr),
    ) -> Result<(), TwoFactorError> {
        self.check_second_factor(db, keys, code, Factor::TotpOrRecovery)
            .await
    }

    /// Ten new recovery codes in place of the old ones, with a TOTP or
    /// recovery code.
    ///
    /// # Errors
    /// `NotSetUp` when two-factor sign-in is off, a wrong code, or a
    /// database error.
    pub async fn regenerate_recovery_codes(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        code: (&str, IpAddr),
    ) -> Result<Vec<String>, TwoFactorError> {
        if !self.two_factor_enabled {
            return Err(TwoFactorError::NotSetUp);
        }
        self.check_second_factor(db, keys, code, Factor::TotpOrRecovery)
            .await?;
        let txn = write_transaction::begin(db).await?;
        let codes = recovery_codes::Model::replace_for(&txn, keys.recovery(), self.id).await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Whether signing in as this user asks for a second factor: when it
    /// is on, but for the Apple review account (reviewers have no device).
    #[must_use]
    pub fn needs_second_factor(&self, policy: &CodePolicy) -> bool {
        self.two_factor_enabled && self.email != policy.apple_review_email.as_str()
    }

    /// The challenge a sign-in of this user answers instead of tokens: a
    /// token of its own kind, for `CHALLENGE_SECONDS`, with `CHALLENGE_TRIES`
    /// tries, that works once.
    ///
    /// # Errors
    /// On a database error, or when the token cannot be signed.
    pub async fn challenge_second_factor(
        &self,
        db: &DatabaseConnection,
        signer: &TokenSigner,
    ) -> ModelResult<String> {
        let kind = TokenKind::TwoFactorChallenge;
        let lifetime = single_use_tokens::CHALLENGE_SECONDS;
        let issued = single_use_tokens::Model::issue(db, signer, self.id, kind, lifetime).await?;
        Ok(issued.token)
    }

    /// The live sign-in challenge `token` is, and its user: one of the
    /// challenge's tries is spent.
    ///
    /// # Errors
    /// `InvalidChallenge` for a challenge that is not live, out of tries, or
    /// whose user is archived or gone since; a database error.
    pub async fn open_challenge(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        token: &str,
    ) -> Result<Challenge, TwoFactorError> {
        let claims = signer
            .verify(token, TokenKind::TwoFactorChallenge)
            .ok_or(TwoFactorError::InvalidChallenge)?;
        if !single_use_tokens::Model::spend_try(db, &claims).await? {
            return Err(TwoFactorError::InvalidChallenge);
        }
        let user = Self::find_active(db, claims.sub)
            .await?
            .filter(|user| user.two_factor_enabled)
            .ok_or(TwoFactorError::InvalidChallenge)?;
        Ok(Challenge { user, claims })
    }

    /// Checks a second factor of this user, sent from `source`; a wrong one
    /// spends the second factor's budgets of the account and the source, and
    /// while either is locked every code is refused unchecked.
    async fn check_second_factor(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        (code, source): (&str, IpAddr),
        factor: Factor,
    ) -> Result<(), TwoFactorError> {
        let account = self.id.to_string();
        let attempt = Attempt {
            factor: Budget::SecondFactor,
            account: Some(&account),
            source,
        };
        if let Some(until) = attempt.take_try(db).await? {
            return Err(TwoFactorError::Locked {
                until,
                lock_began: false,
            });
        }
        let right = if is_code(code) {
            self.accept_totp(db, keys, code).await?
        } else {
            factor == Factor::TotpOrRecovery
                && recovery_codes::Model::use_once(db, keys.recovery(), self.id, code).await?
        };
        if right {
            return Ok(attempt.record_right(db).await?);
        }
        Err(match attempt.record_wrong(db).await? {
            Wrong::Counted => TwoFactorError::WrongCode,
            Wrong::Locked {
                until,
                account_lock_began,
            } => TwoFactorError::Locked {
                until,
                lock_began: account_lock_began,
            },
        })
    }

    /// Accepts a TOTP code of this user's secret once: its step must come
    /// after the last one accepted, and of two requests with it one wins.
    async fn accept_totp(
        &self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        code: &str,
    ) -> ModelResult<bool> {
        let Some(secret) = self.two_factor_secret.as_deref().and_then(|s| keys.open(s)) else {
            return Ok(false);
        };
        let Some(step) = keys.matching_step(secret, code, Utc::now()) else {
            return Ok(false);
        };
        let claimed = Entity::update_many()
            .col_expr(Column::TwoFactorLastStep, Expr::value(step))
            .filter(Column::Id.eq(self.id))
            .filter(
                Condition::any()
                    .add(Column::TwoFactorLastStep.is_null())
                    .add(Column::TwoFactorLastStep.lt(step)),
            )
            .exec(db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }
}

/// A live sign-in challenge, one of whose tries is being spent.
pub struct Challenge {
    pub user: Model,
    claims: Claims,
}

impl Challenge {
    /// Answers with a TOTP or recovery code: the user it signs in. The right
    /// answer spends the challenge.
    ///
    /// # Errors
    /// A wrong code; `InvalidChallenge` when another answer spent it first;
    /// a database error.
    pub async fn answer(
        self,
        db: &DatabaseConnection,
        keys: &TwoFactorKeys,
        code: (&str, IpAddr),
    ) -> Result<Model, TwoFactorError> {
        self.user
            .check_second_factor(db, keys, code, Factor::TotpOrRecovery)
            .await?;
        self.spend(db).await
    }

    /// Answers with one of the user's passkeys, to ceremony
    /// `authentication_id` (begun for them): the user it signs in. The right
    /// answer spends the challenge.
    ///
    /// # Errors
    /// `Passkey` when the answer does not hold; `InvalidChallenge` when
    /// another answer spent it first; a database error.
    pub async fn answer_with_passkey(
        self,
        db: &DatabaseConnection,
        rp: &Webauthn,
        answered: (Uuid, &PublicKeyCredential),
        origin: &Origin,
    ) -> Result<Model, TwoFactorError> {
        passkeys::Model::finish_second_factor(db, rp, self.user.id, answered, origin).await?;
        self.spend(db).await
    }

    async fn spend(self, db: &DatabaseConnection) -> Result<Model, TwoFactorError> {
        if !single_use_tokens::Model::use_once(db, &self.claims).await? {
            return Err(TwoFactorError::InvalidChallenge);
        }
        Ok(self.user)
    }
}

/// Which second factors a check takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Factor {
    /// Enabling proves the app has the secret: a recovery code would not.
    TotpOnly,
    TotpOrRecovery,
}
