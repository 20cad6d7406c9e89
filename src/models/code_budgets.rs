//! Budgets of wrong codes. Each factor (the emailed code, the second factor,
//! the Apple review code) has its own, so that wrong answers to one never
//! lock another; each is counted for the account tried and for the source
//! (an address, an IPv6 /64) trying. Past its budget a subject is locked out
//! of that factor for a while: `FIRST_LOCK` at first, twice as long at each
//! lock in a row, at most `LONGEST_LOCK`. A source's budget is half an
//! account's, so that one source is slowed down before it can lock anyone
//! out. A subject with neither a wrong code nor a lock for `FORGET_AFTER`
//! starts afresh: waiting out a lock does not shorten the next one.
//!
//! The odds this leaves a guesser of emailed codes (9⁶ = 531,441 of them),
//! with as many sources as they like: 16 wrong codes before each lock, 7
//! locks the first day (15 minutes, then 30, ... 16 hours), one a day after:
//! at most 128 guesses the first day (1 in 4,150) and 16 a day after (1 in
//! 33,215 a day). A TOTP guess matches one of 3 steps of 10⁶ codes, behind
//! the password: 1 in 2,600, then 1 in 20,800 a day.

use std::net::IpAddr;

use chrono::Duration;
use loco_rs::prelude::*;
use sea_orm::{Condition, ExprTrait, sea_query::Expr};

pub use super::_entities::code_budgets::{ActiveModel, Column, Entity, Model};
use super::{security_events, timestamps, write_transaction};

/// Wrong codes an account takes before a lock.
pub const ACCOUNT_FAILURES: i32 = 16;
/// Wrong codes a source takes before a lock: half an account's, and more
/// than one code's five tries.
pub const SOURCE_FAILURES: i32 = 8;
/// The first lock of a series.
pub const FIRST_LOCK: Duration = Duration::minutes(15);
/// The longest lock of a series.
pub const LONGEST_LOCK: Duration = Duration::hours(24);
/// A subject with neither a wrong code nor a lock for this long starts
/// afresh.
pub const FORGET_AFTER: Duration = Duration::days(1);

/// What a code proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// A code mailed to an address: sign-in, or an email change.
    EmailCode,
    /// A TOTP or recovery code.
    SecondFactor,
    /// The Apple review team's code.
    AppleReview,
}

impl Factor {
    const fn as_str(self) -> &'static str {
        match self {
            Self::EmailCode => "email_code",
            Self::SecondFactor => "second_factor",
            Self::AppleReview => "apple_review",
        }
    }
}

/// Codes of one factor tried for an account (an email, a user's id; none for
/// the Apple review code, which is counted in all on its own row) from a
/// source.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub factor: Factor,
    pub account: Option<&'a str>,
    pub source: IpAddr,
}

/// What a wrong code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrong {
    /// Counted, within the budgets.
    Counted,
    /// It locked the account or the source until `until`;
    /// `account_lock_began` when a series of locks on the account began with
    /// it (the time to tell the owner).
    Locked {
        until: DateTimeWithTimeZone,
        account_lock_began: bool,
    },
}

/// One subject's lock, when a wrong code locked it.
struct Lock {
    until: DateTimeWithTimeZone,
    first: bool,
}

const ACCOUNT: &str = "account:";

impl Attempt<'_> {
    fn subjects(&self) -> Vec<(String, i32)> {
        let source = security_events::source(self.source);
        let mut subjects = vec![(format!("source:{source}"), SOURCE_FAILURES)];
        if let Some(account) = self.account {
            subjects.push((format!("{ACCOUNT}{account}"), ACCOUNT_FAILURES));
        }
        subjects
    }

    /// Takes one try from the account's and the source's budgets before a
    /// code is compared: tries sent at once cannot pass a budget together.
    /// `Some(until)` refuses it: a subject is locked until then, or its whole
    /// budget is being tried at this moment (then a second from now).
    ///
    /// # Errors
    /// On a database error.
    pub async fn take_try(
        &self,
        db: &DatabaseConnection,
    ) -> ModelResult<Option<DateTimeWithTimeZone>> {
        let now = timestamps::now();
        let txn = write_transaction::begin(db).await?;
        for (subject, budget) in self.subjects() {
            let this = || this_subject(self.factor, &subject);
            Entity::delete_many()
                .filter(this())
                .filter(forgotten(now - FORGET_AFTER))
                .exec(&txn)
                .await?;
            let fresh = ActiveModel {
                factor: ActiveValue::Set(self.factor.as_str().to_string()),
                subject: ActiveValue::Set(subject.clone()),
                failures: ActiveValue::Set(0),
                locks: ActiveValue::Set(0),
                locked_until: ActiveValue::Set(None),
                updated_at: ActiveValue::Set(now),
            };
            Entity::insert(fresh)
                .on_conflict_do_nothing()
                .exec(&txn)
                .await?;
            // Conditional, and it locks the row until commit: of tries sent
            // at once, each sees the count the one before it left.
            let taken = Entity::update_many()
                .col_expr(Column::Failures, Expr::col(Column::Failures).add(1))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(this())
                .filter(Column::Failures.lt(budget))
                .filter(
                    Condition::any()
                        .add(Column::LockedUntil.is_null())
                        .add(Column::LockedUntil.lte(now)),
                )
                .exec(&txn)
                .await?;
            if taken.rows_affected == 0 {
                let row = Entity::find().filter(this()).one(&txn).await?;
                let until = row
                    .and_then(|row| row.locked_until)
                    .filter(|until| *until > now)
                    .unwrap_or(now + Duration::seconds(1));
                // Dropped, the transaction gives back what it took.
                return Ok(Some(until));
            }
        }
        txn.commit().await?;
        Ok(None)
    }

    /// A try taken that checked nothing (there was no live code): given back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn give_back(&self, db: &DatabaseConnection) -> ModelResult<()> {
        for (subject, _) in self.subjects() {
            give_back_one(db, self.factor, &subject).await?;
        }
        Ok(())
    }

    /// A right code: its try is given back to the source, and the account's
    /// count of wrong ones starts again; not the source's, which spans
    /// accounts, nor the length of either's next lock.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_right(&self, db: &DatabaseConnection) -> ModelResult<()> {
        for (subject, _) in self.subjects() {
            if subject.starts_with(ACCOUNT) {
                Entity::update_many()
                    .col_expr(Column::Failures, Expr::value(0))
                    .filter(this_subject(self.factor, &subject))
                    .exec(db)
                    .await?;
            } else {
                give_back_one(db, self.factor, &subject).await?;
            }
        }
        Ok(())
    }

    /// A wrong code, its try kept: a subject whose budget it spent is locked.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_wrong(&self, db: &DatabaseConnection) -> ModelResult<Wrong> {
        let mut until = None;
        let mut account_lock_began = false;
        for (subject, budget) in self.subjects() {
            if let Some(lock) = lock_if_spent(db, self.factor, &subject, budget).await? {
                account_lock_began |= lock.first && subject.starts_with(ACCOUNT);
                until = std::cmp::max(until, Some(lock.until));
            }
        }
        Ok(until.map_or(Wrong::Counted, |until| Wrong::Locked {
            until,
            account_lock_began,
        }))
    }
}

/// The row of `subject`'s budget of `factor`.
fn this_subject(factor: Factor, subject: &str) -> Condition {
    Condition::all()
        .add(Column::Factor.eq(factor.as_str()))
        .add(Column::Subject.eq(subject))
}

async fn give_back_one(db: &DatabaseConnection, factor: Factor, subject: &str) -> ModelResult<()> {
    Entity::update_many()
        .col_expr(Column::Failures, Expr::col(Column::Failures).sub(1))
        .filter(this_subject(factor, subject))
        .filter(Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// How long the `locks`th lock in a row lasts.
fn lock_for(locks: i32) -> Duration {
    let doublings = u32::try_from(locks.saturating_sub(1)).unwrap_or_default();
    let factor_of = 1_i32
        .checked_shl(std::cmp::min(doublings, 16))
        .unwrap_or(i32::MAX);
    (FIRST_LOCK * factor_of).min(LONGEST_LOCK)
}

/// A subject quiet since `before`: no wrong code, and no lock in force,
/// since then.
fn forgotten(before: DateTimeWithTimeZone) -> Condition {
    Condition::all().add(Column::UpdatedAt.lte(before)).add(
        Condition::any()
            .add(Column::LockedUntil.is_null())
            .add(Column::LockedUntil.lte(before)),
    )
}

/// Locks `subject` when its tries have spent its `budget`. In one
/// transaction that resets the count first: of wrong codes ending at once,
/// exactly one locks.
async fn lock_if_spent(
    db: &DatabaseConnection,
    factor: Factor,
    subject: &str,
    budget: i32,
) -> ModelResult<Option<Lock>> {
    let now = timestamps::now();
    let txn = write_transaction::begin(db).await?;
    let spent = Entity::update_many()
        .col_expr(Column::Failures, Expr::value(0))
        .col_expr(Column::Locks, Expr::col(Column::Locks).add(1))
        .filter(this_subject(factor, subject))
        .filter(Column::Failures.gte(budget))
        .exec(&txn)
        .await?;
    if spent.rows_affected == 0 {
        return Ok(None);
    }
    let locks = Entity::find()
        .filter(this_subject(factor, subject))
        .one(&txn)
        .await?
        .map_or(1, |row| row.locks);
    let until = now + lock_for(locks);
    Entity::update_many()
        .col_expr(Column::LockedUntil, Expr::value(until))
        .filter(this_subject(factor, subject))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(Lock {
        until,
        first: locks == 1,
    }))
}

impl Model {
    /// Deletes the budgets of subjects quiet for `FORGET_AFTER` (no wrong
    /// code, no lock); returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &DatabaseConnection) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(forgotten(timestamps::now() - FORGET_AFTER))
            .exec(db)
            .await?
            .rows_affected)
    }

    /// Deletes the budgets of these accounts (emails, user ids); not their
    /// sources', which are no one's.
    ///
    /// # Errors
    /// On a database error.
    pub async fn forget_accounts(db: &impl ConnectionTrait, accounts: &[&str]) -> ModelResult<u64> {
        let subjects = accounts.iter().map(|account| format!("{ACCOUNT}{account}"));
        Ok(Entity::delete_many()
            .filter(Column::Subject.is_in(subjects))
            .exec(db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_up_to_a_day() {
        let minutes: Vec<_> = (1..=8).map(|locks| lock_for(locks).num_minutes()).collect();
        assert_eq!(minutes, [15, 30, 60, 120, 240, 480, 960, 1440]);
        assert_eq!(lock_for(i32::MAX).num_minutes(), 1440);
    }
}
