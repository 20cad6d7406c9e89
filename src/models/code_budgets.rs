//! The budget of wrong sign-in codes per email, across codes. Each code allows
//! five tries, but asking for a new code is free: without a budget, anyone
//! could keep guessing at any account's codes, day after day.

use chrono::Duration;
use loco_rs::prelude::*;
use sea_orm::{ExprTrait, sea_query::Expr};

pub use super::_entities::code_budgets::{ActiveModel, Column, Entity, Model};
use super::{email::Email, timestamps, write_transaction};

/// Wrong codes an email may take in a window; then its codes are refused
/// until the window ends.
pub const MAX_FAILURES: i32 = 20;

/// How long a budget lasts from its first wrong code.
#[must_use]
pub fn window() -> Duration {
    Duration::days(1)
}

/// What one more wrong code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Still within the budget.
    Counted,
    /// This one spent the budget: time to tell the owner. Codes are refused
    /// until then.
    Exhausted { until: DateTimeWithTimeZone },
    /// The budget was already spent.
    AlreadyExhausted,
}

impl Model {
    /// Whether `email`'s codes are refused for now.
    ///
    /// # Errors
    /// On a database error.
    pub async fn is_exhausted(db: &impl ConnectionTrait, email: &Email) -> ModelResult<bool> {
        let budget = Entity::find_by_id(email.as_str())
            .filter(Column::Failures.gte(MAX_FAILURES))
            .filter(Column::WindowStartedAt.gt(timestamps::now() - window()))
            .one(db)
            .await?;
        Ok(budget.is_some())
    }

    /// Counts a wrong code against `email`'s budget, starting a new window
    /// when the last one is over. In one transaction, so that of wrong codes
    /// sent at once each reads its own count, and exactly one spends the
    /// budget.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_failure(db: &DatabaseConnection, email: &Email) -> ModelResult<Failure> {
        let now = timestamps::now();
        let txn = write_transaction::begin(db).await?;
        Entity::delete_many()
            .filter(Column::Email.eq(email.as_str()))
            .filter(Column::WindowStartedAt.lte(now - window()))
            .exec(&txn)
            .await?;
        let fresh = ActiveModel {
            email: ActiveValue::Set(email.to_string()),
            failures: ActiveValue::Set(0),
            window_started_at: ActiveValue::Set(now),
        };
        Entity::insert(fresh)
            .on_conflict_do_nothing()
            .exec(&txn)
            .await?;
        // The increment locks the row until commit: the next one waits for it.
        Entity::update_many()
            .col_expr(Column::Failures, Expr::col(Column::Failures).add(1))
            .filter(Column::Email.eq(email.as_str()))
            .exec(&txn)
            .await?;
        let budget = Entity::find_by_id(email.as_str()).one(&txn).await?;
        txn.commit().await?;
        let Some(budget) = budget else {
            return Ok(Failure::Counted);
        };
        Ok(match budget.failures.cmp(&MAX_FAILURES) {
            std::cmp::Ordering::Less => Failure::Counted,
            std::cmp::Ordering::Equal => Failure::Exhausted {
                until: budget.window_started_at + window(),
            },
            std::cmp::Ordering::Greater => Failure::AlreadyExhausted,
        })
    }

    /// Deletes budgets whose window is over; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &DatabaseConnection) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::WindowStartedAt.lte(timestamps::now() - window()))
            .exec(db)
            .await?
            .rows_affected)
    }
}
