//! One-time sign-in codes. A code is six digits from 1 to 9, drawn from a
//! CSPRNG, bound to one email, stored only as a keyed hash, valid for minutes,
//! consumed by its use, and void after five tries: every check spends a try
//! before it compares, so the sixth try fails even with the right code. The
//! Apple review code is the exception: it stays after use, and is void after
//! `APPLE_REVIEW_MAX_WRONG` wrong tries in all, counted across its life.

mod apple_review;
mod policy;

use std::net::IpAddr;

use chrono::Duration;
use loco_rs::prelude::*;
use sea_orm::{
    Condition, ExprTrait, TryIntoModel,
    sea_query::{Expr, OnConflict},
};
use subtle::ConstantTimeEq;

pub use self::policy::{CodePolicy, is_code, six_digits};
pub use super::_entities::one_time_passwords::{self, ActiveModel, Column, Entity, Model};
use super::{
    code_budgets::{Attempt, Factor, Wrong},
    email::Email,
    timestamps,
};

/// Tries a code allows, right or wrong.
pub const MAX_ATTEMPTS: i32 = 5;

/// Wrong tries the Apple review code takes in all before it is void. With
/// 9⁶ = 531,441 codes, every one of them spent guessing finds it with odds
/// of 1 in 1,063; one source, slowed by its budget of wrong codes (8, then a
/// lock from 15 minutes doubling up to a day), spends at most 168 over the
/// code's 15 days, so it cannot void the code alone.
pub const APPLE_REVIEW_MAX_WRONG: i32 = 500;

pub const CODE_LENGTH: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An ordinary code, consumed by its use.
    Login,
    /// The long-lived code for the Apple review team, not consumed by use.
    AppleReview,
    /// The code that proves a new address before an email change; kept under
    /// the user's id, hashed with the new address.
    EmailChange,
}

impl Purpose {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::AppleReview => "apple_review",
            Self::EmailChange => "email_change",
        }
    }

    const fn max_attempts(self) -> i32 {
        match self {
            Self::Login | Self::EmailChange => MAX_ATTEMPTS,
            Self::AppleReview => APPLE_REVIEW_MAX_WRONG,
        }
    }
}

/// What checking a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    Right,
    Wrong,
    /// No live code to check against (none, expired, or out of tries).
    NoCode,
}

/// What checking a code under its budgets of wrong codes came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budgeted {
    Right,
    Refused,
    /// Refused: the account or the source is locked out of emailed codes
    /// until `until`; `account_lock_began` when this wrong code began a
    /// series of locks on the account.
    Locked {
        until: DateTimeWithTimeZone,
        account_lock_began: bool,
    },
}

impl From<Wrong> for Budgeted {
    fn from(wrong: Wrong) -> Self {
        match wrong {
            Wrong::Counted => Self::Refused,
            Wrong::Locked {
                until,
                account_lock_began,
            } => Self::Locked {
                until,
                account_lock_began,
            },
        }
    }
}

/// What a sign-in code proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The persistent development code: it signs in an existing user of the
    /// email, and registers nobody.
    Persistent,
    /// The Apple review code: it signs in the review account.
    AppleReview,
    /// The email's own code: it proves the email.
    Right,
    Refused,
    /// Refused: codes for this email, or from this source, are locked until
    /// `until`; `account_lock_began` when this wrong code began a series of
    /// locks on the email's account, whose owner should hear of it.
    Locked {
        until: DateTimeWithTimeZone,
        account_lock_began: bool,
    },
}

/// What asking for a sign-in code came to.
#[derive(Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// A fresh code, stored for the email, to be sent to it.
    Issued(String),
    /// The Apple review team's email, which signs in with its own code only.
    AppleReviewRefused,
}

timestamps::stamped_model!();

impl Model {
    /// Stores a code for `email`, replacing any earlier one.
    ///
    /// # Errors
    /// On a database error.
    pub async fn issue(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        email: &Email,
        code: &str,
        purpose: Purpose,
    ) -> ModelResult<Self> {
        let lifetime = match purpose {
            Purpose::Login | Purpose::EmailChange => policy.lifetime,
            Purpose::AppleReview => policy.apple_review_lifetime,
        };
        // An empty hash matches no code.
        let code_hash = policy.hash(email, code).unwrap_or_default();
        Self::store(db, email.as_str(), code_hash, purpose, lifetime).await
    }

    /// Stores a code's hash under `key` (an email, or a user's id), replacing
    /// any earlier code of that key.
    async fn store(
        db: &impl ConnectionTrait,
        key: &str,
        code_hash: String,
        purpose: Purpose,
        lifetime: Duration,
    ) -> ModelResult<Self> {
        let otp = ActiveModel {
            id: ActiveValue::Set(Uuid::new_v4()),
            code_hash: ActiveValue::Set(code_hash),
            email: ActiveValue::Set(key.to_string()),
            purpose: ActiveValue::Set(purpose.as_str().to_string()),
            attempts: ActiveValue::Set(0),
            expires_at: ActiveValue::Set(timestamps::now() + lifetime),
            created_at: ActiveValue::Set(timestamps::now()),
            updated_at: ActiveValue::Set(timestamps::now()),
        };
        // One statement, so that two requests at once cannot both insert.
        Entity::insert(otp.clone())
            .on_conflict(
                OnConflict::column(Column::Email)
                    .update_columns([
                        Column::Id,
                        Column::CodeHash,
                        Column::Purpose,
                        Column::Attempts,
                        Column::ExpiresAt,
                        Column::CreatedAt,
                        Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        // Every column was written, so the row is what was sent.
        Ok(otp.try_into_model()?)
    }

    /// A fresh code proving `new_email` for `user_id`'s email change,
    /// replacing any earlier one.
    ///
    /// # Errors
    /// On a database error.
    pub async fn issue_email_change(
        db: &impl ConnectionTrait,
        policy: &CodePolicy,
        user_id: Uuid,
        new_email: &Email,
    ) -> ModelResult<String> {
        let code = policy.generate();
        let code_hash = policy.hash(new_email, &code).unwrap_or_default();
        let key = user_id.to_string();
        Self::store(db, &key, code_hash, Purpose::EmailChange, policy.lifetime).await?;
        Ok(code)
    }

    /// Whether `code`, sent from `source`, proves `new_email` for
    /// `user_id`'s email change, under the new address's budget of wrong
    /// codes; a right code is consumed.
    ///
    /// # Errors
    /// On a database error.
    pub async fn check_email_change(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        (user_id, new_email): (Uuid, &Email),
        code: &str,
        source: IpAddr,
    ) -> ModelResult<Budgeted> {
        let given = policy.hash(new_email, code);
        let key = user_id.to_string();
        let attempt = Attempt {
            factor: Factor::EmailCode,
            account: Some(new_email.as_str()),
            source,
        };
        Self::check_budgeted(db, attempt, &key, Purpose::EmailChange, given).await
    }

    /// A fresh login code for `email`, replacing any earlier one; the Apple
    /// review team's email gets none.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn request(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        email: &Email,
    ) -> ModelResult<CodeRequest> {
        if *email == policy.apple_review_email {
            return Ok(CodeRequest::AppleReviewRefused);
        }
        let code = policy.generate();
        Self::issue(db, policy, email, &code, Purpose::Login).await?;
        Ok(CodeRequest::Issued(code))
    }

    /// Deletes the codes kept under these keys (emails, user ids), whatever
    /// their purpose.
    ///
    /// # Errors
    /// On a database error.
    pub async fn forget_keys(db: &impl ConnectionTrait, keys: &[&str]) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::Email.is_in(keys.iter().copied()))
            .exec(db)
            .await?
            .rows_affected)
    }

    /// The live code of `email` for `purpose`, if any.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_for(
        db: &impl ConnectionTrait,
        email: &Email,
        purpose: Purpose,
    ) -> ModelResult<Option<Self>> {
        Self::find_keyed(db, email.as_str(), purpose).await
    }

    async fn find_keyed(
        db: &impl ConnectionTrait,
        key: &str,
        purpose: Purpose,
    ) -> ModelResult<Option<Self>> {
        Ok(Entity::find()
            .filter(Column::Email.eq(key))
            .filter(Column::Purpose.eq(purpose.as_str()))
            .one(db)
            .await?)
    }

    /// Checks `code` against the live code of `code_email` for `purpose`.
    async fn check(
        db: &impl ConnectionTrait,
        policy: &CodePolicy,
        code_email: &Email,
        purpose: Purpose,
        code: &str,
    ) -> ModelResult<Checked> {
        let given = policy.hash(code_email, code);
        Self::check_keyed(db, code_email.as_str(), purpose, given).await
    }

    /// Checks a code under the budgets of wrong emailed codes of the email
    /// it proves and of the source sending it, a try taken from them first:
    /// each code allows five tries, but a new code gives no new tries
    /// against the email. While either is locked, codes are refused
    /// unchecked.
    async fn check_budgeted(
        db: &DatabaseConnection,
        attempt: Attempt<'_>,
        key: &str,
        purpose: Purpose,
        given: Option<String>,
    ) -> ModelResult<Budgeted> {
        if let Some(until) = attempt.take_try(db).await? {
            return Ok(Budgeted::Locked {
                until,
                account_lock_began: false,
            });
        }
        Ok(match Self::check_keyed(db, key, purpose, given).await? {
            Checked::Right => {
                attempt.record_right(db).await?;
                Budgeted::Right
            }
            Checked::NoCode => {
                attempt.give_back(db).await?;
                Budgeted::Refused
            }
            Checked::Wrong => attempt.record_wrong(db).await?.into(),
        })
    }

    /// Checks the hash of a given code against the live code under `key`,
    /// spending one try first. A right code is consumed, except the Apple
    /// review code, which stays and gets its try back.
    async fn check_keyed(
        db: &impl ConnectionTrait,
        key: &str,
        purpose: Purpose,
        given: Option<String>,
    ) -> ModelResult<Checked> {
        let Some(otp) = Self::find_keyed(db, key, purpose).await? else {
            return Ok(Checked::NoCode);
        };
        let now = timestamps::now();
        let spent = Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(otp.id))
            .filter(Column::Attempts.lt(purpose.max_attempts()))
            .filter(Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        if spent.rows_affected == 0 {
            return Ok(Checked::NoCode);
        }
        let right = given.is_some_and(|given| {
            !otp.code_hash.is_empty()
                && bool::from(given.as_bytes().ct_eq(otp.code_hash.as_bytes()))
        });
        if !right {
            return Ok(Checked::Wrong);
        }
        match purpose {
            Purpose::Login | Purpose::EmailChange => {
                // Consumed: of two requests with the right code, one wins.
                let consumed = Entity::delete_by_id(otp.id).exec(db).await?;
                Ok(if consumed.rows_affected == 1 {
                    Checked::Right
                } else {
                    Checked::NoCode
                })
            }
            Purpose::AppleReview => {
                // Its tries count wrong codes only: a right one gives its back.
                Entity::update_many()
                    .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
                    .filter(Column::Id.eq(otp.id))
                    .exec(db)
                    .await?;
                Ok(Checked::Right)
            }
        }
    }

    /// What `code`, sent from `source`, proves for `email`: the persistent
    /// development code, the Apple review code (for any `@apple.com` email
    /// with no code of its own), or the email's own code. Wrong codes are
    /// counted against the budgets of the email and of the source
    /// (`code_budgets`; Apple review codes, of the source only); while one is
    /// locked, codes are refused unchecked.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn check_sign_in(
        db: &DatabaseConnection,
        policy: &CodePolicy,
        (email, source): (&Email, IpAddr),
        code: &str,
    ) -> ModelResult<CodeCheck> {
        if policy.is_persistent(code) {
            return Ok(CodeCheck::Persistent);
        }
        // An @apple.com email with a code of its own is an ordinary sign-in; it
        // must not spend the review code's tries.
        if CodePolicy::is_apple_reviewer(email)
            && Self::find_for(db, email, Purpose::Login).await?.is_none()
        {
            return Self::check_for_review(db, policy, code, source).await;
        }
        let given = policy.hash(email, code);
        let attempt = Attempt {
            factor: Factor::EmailCode,
            account: Some(email.as_str()),
            source,
        };
        Ok(
            match Self::check_budgeted(db, attempt, email.as_str(), Purpose::Login, given).await? {
                Budgeted::Right => CodeCheck::Right,
                Budgeted::Refused => CodeCheck::Refused,
                Budgeted::Locked {
                    until,
                    account_lock_began,
                } => CodeCheck::Locked {
                    until,
                    account_lock_began,
                },
            },
        )
    }

    /// Deletes codes past their expiry or out of tries; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &DatabaseConnection) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(
                Condition::any()
                    .add(Column::ExpiresAt.lt(timestamps::now()))
                    // The Apple review code stays until it expires, void or
                    // not, for the admins to see.
                    .add(
                        Condition::all()
                            .add(Column::Attempts.gte(MAX_ATTEMPTS))
                            .add(Column::Purpose.ne(Purpose::AppleReview.as_str())),
                    ),
            )
            .exec(db)
            .await?
            .rows_affected)
    }
}
