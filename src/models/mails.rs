//! The outbox: every mail is a row before it is a message. A request only
//! writes the row; delivery happens in the background, is retried with growing
//! delays, and a delivery that died half-way (its lease ran out) runs again.

use chrono::Duration;
use loco_rs::{
    mailer::{Email, EmailSender},
    prelude::*,
};
use sea_orm::{Condition, QueryOrder, QuerySelect, sea_query::Expr};
use tokio::sync::RwLock;
use tracing::Instrument;

pub use super::_entities::{
    mails::{self, ActiveModel, Column, Entity, Model},
    sea_orm_active_enums::MailStatus,
};
use super::timestamps;

/// Mails a sweep takes at most.
const SWEEP_BATCH: u64 = 100;

/// What delivering takes: the SMTP sender, the From mailbox, and the lock a
/// stopping server takes to wait for the deliveries under way.
pub struct Outbox<'a> {
    pub sender: &'a EmailSender,
    pub from: String,
    pub in_flight: &'a RwLock<()>,
}

/// The outbox at a glance (`Model::queue_state`).
pub struct QueueState {
    pub by_status: Vec<(MailStatus, i64)>,
    pub oldest_waiting: Option<DateTimeWithTimeZone>,
}

/// Tries before a mail is kept as failed. With the delays below the last try
/// comes 31 minutes after the first.
pub const MAX_ATTEMPTS: i32 = 6;

/// The templates whose mails carry a secret (a code, a reset link): the
/// outbox keeps their body only while it may still be delivered.
pub const SECRET_TEMPLATES: [&str; 4] = [
    "verification_code",
    "password_reset",
    "email_change_code",
    "deletion_scheduled",
];

/// The templates whose mails go to an address the service forgets (a
/// deleted account's): the outbox drops the row once delivery ends, sent or
/// failed for good.
pub const FORGOTTEN_TEMPLATES: [&str; 1] = ["account_deleted"];

/// The `last_error` of a mail blanked because its secret expired unsent.
pub const EXPIRED: &str = "expired before it could be delivered";
/// How long one delivery may hold a mail before another may take it over.
pub const LEASE_MINUTES: i64 = 5;

/// A rendered mail, ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub template: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Failed; another try is due at the mail's `next_attempt_at`.
    WillRetry(String),
    /// Failed for the last time; the mail is kept as failed.
    GaveUp(String),
    /// Already sent, failed for good, not yet due, or in another delivery's hands.
    Skipped,
}

/// The wait after `failed_attempts` failures: 1, 2, 4, 8, 16 minutes.
#[must_use]
pub fn retry_delay(failed_attempts: i32) -> Duration {
    let exponent = u32::try_from(failed_attempts.clamp(1, 10) - 1).unwrap_or_default();
    Duration::minutes(1_i64 << exponent)
}

timestamps::stamped_model!();

/// Mails a delivery may take now: queued and due, or held by a lease that ran out.
fn takeable(now: DateTimeWithTimeZone) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(Column::Status.eq(MailStatus::Queued))
                .add(Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(Column::Status.eq(MailStatus::Sending))
                .add(Column::LockedUntil.lt(now)),
        )
}

impl Model {
    /// Queues a mail for delivery now.
    ///
    /// # Errors
    /// On a database error.
    pub async fn enqueue(db: &impl ConnectionTrait, mail: NewMail) -> ModelResult<Self> {
        Ok(ActiveModel {
            template: ActiveValue::Set(mail.template),
            to_address: ActiveValue::Set(mail.to),
            subject: ActiveValue::Set(mail.subject),
            html: ActiveValue::Set(mail.html),
            text: ActiveValue::Set(mail.text),
            status: ActiveValue::Set(MailStatus::Queued),
            attempts: ActiveValue::Set(0),
            next_attempt_at: ActiveValue::Set(timestamps::now()),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// # Errors
    /// `EntityNotFound` when there is no such mail.
    pub async fn find_by_id(db: &DatabaseConnection, id: Uuid) -> ModelResult<Self> {
        Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// Mails that a delivery may take now, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn due(db: &DatabaseConnection, limit: u64) -> ModelResult<Vec<Uuid>> {
        Ok(Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(takeable(timestamps::now()))
            .order_by_asc(Column::NextAttemptAt)
            .limit(limit)
            .into_tuple()
            .all(db)
            .await?)
    }

    /// The outbox at a glance: mails by status, and since when the oldest
    /// one not yet sent has waited.
    ///
    /// # Errors
    /// On a database error.
    pub async fn queue_state(db: &DatabaseConnection) -> ModelResult<QueueState> {
        let by_status = Entity::find()
            .select_only()
            .column(Column::Status)
            .column_as(Column::Id.count(), "count")
            .group_by(Column::Status)
            .into_tuple()
            .all(db)
            .await?;
        let oldest_waiting = Entity::find()
            .select_only()
            .column(Column::CreatedAt)
            .filter(Column::Status.is_in([MailStatus::Queued, MailStatus::Sending]))
            .order_by_asc(Column::CreatedAt)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        Ok(QueueState {
            by_status,
            oldest_waiting,
        })
    }

    /// The latest delivery: when it was tried, and whether the mail server
    /// took it.
    ///
    /// # Errors
    /// On a database error.
    pub async fn last_delivery(
        db: &DatabaseConnection,
    ) -> ModelResult<Option<(DateTimeWithTimeZone, bool)>> {
        let last: Option<(DateTimeWithTimeZone, Option<String>)> = Entity::find()
            .select_only()
            .column(Column::UpdatedAt)
            .column(Column::LastError)
            .filter(Column::Attempts.gt(0))
            .filter(Column::Status.ne(MailStatus::Sending))
            .filter(
                Condition::any()
                    .add(Column::LastError.is_null())
                    .add(Column::LastError.ne(EXPIRED)),
            )
            .order_by_desc(Column::UpdatedAt)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        Ok(last.map(|(at, error)| (at, error.is_none())))
    }

    /// Mails kept as failed, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn failed(db: &DatabaseConnection) -> ModelResult<Vec<Self>> {
        Ok(Entity::find()
            .filter(Column::Status.eq(MailStatus::Failed))
            .order_by_asc(Column::CreatedAt)
            .all(db)
            .await?)
    }

    /// Deletes sent mails sent more than `retention` ago; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_sent(db: &DatabaseConnection, retention: Duration) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::Status.eq(MailStatus::Sent))
            .filter(Column::SentAt.lt(timestamps::now() - retention))
            .exec(db)
            .await?
            .rows_affected)
    }

    /// Blanks the unsent mails that carry a secret and were queued more
    /// than `lifetime` ago (the longest a code or link lives): whatever they
    /// carried has expired, and the outbox keeps no copy of it. Returns how
    /// many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn blank_expired(db: &DatabaseConnection, lifetime: Duration) -> ModelResult<u64> {
        Ok(Entity::update_many()
            .col_expr(Column::Subject, Expr::value(""))
            .col_expr(Column::Html, Expr::value(""))
            .col_expr(Column::Text, Expr::value(""))
            .col_expr(Column::Status, Expr::value(MailStatus::Failed))
            .col_expr(Column::LastError, Expr::value(EXPIRED))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(Column::Status.ne(MailStatus::Sent))
            .filter(Column::Html.ne(""))
            .filter(Column::Template.is_in(SECRET_TEMPLATES))
            .filter(Column::CreatedAt.lt(timestamps::now() - lifetime))
            .exec(db)
            .await?
            .rows_affected)
    }

    /// Gives failed mails (all, or one) a fresh round of tries, starting now;
    /// not those blanked, which have nothing left to send.
    ///
    /// # Errors
    /// On a database error.
    pub async fn retry_failed(db: &DatabaseConnection, id: Option<Uuid>) -> ModelResult<u64> {
        let mut update = Entity::update_many()
            .col_expr(Column::Status, Expr::value(MailStatus::Queued))
            .col_expr(Column::Attempts, Expr::value(0))
            .col_expr(Column::NextAttemptAt, Expr::value(timestamps::now()))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(Column::Status.eq(MailStatus::Failed))
            .filter(Column::Html.ne(""));
        if let Some(id) = id {
            update = update.filter(Column::Id.eq(id));
        }
        Ok(update.exec(db).await?.rows_affected)
    }

    /// Takes the mail for one delivery, unless it is not takeable. The update
    /// is conditional, so two deliveries never hold the same mail.
    async fn claim(db: &DatabaseConnection, id: Uuid) -> ModelResult<Option<Self>> {
        let now = timestamps::now();
        let taken = Entity::update_many()
            .col_expr(Column::Status, Expr::value(MailStatus::Sending))
            .col_expr(
                Column::LockedUntil,
                Expr::value(now + Duration::minutes(LEASE_MINUTES)),
            )
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(takeable(now))
            .exec(db)
            .await?;
        if taken.rows_affected == 0 {
            return Ok(None);
        }
        Ok(Some(Self::find_by_id(db, id).await?))
    }

    /// Delivers mail `id`, when it is due and in no other delivery's hands,
    /// records the outcome and logs it. A stopping server waits for it
    /// (`Outbox::in_flight`).
    ///
    /// # Errors
    /// On a database error; a refused delivery is an outcome, not an error.
    pub async fn deliver(
        db: &DatabaseConnection,
        outbox: &Outbox<'_>,
        id: Uuid,
    ) -> ModelResult<Delivery> {
        let _in_flight = outbox.in_flight.read().await;
        let outcome = Self::send(db, outbox, id).await?;
        match &outcome {
            Delivery::Sent => tracing::info!(mail_id = %id, "mail sent"),
            Delivery::WillRetry(error) => {
                tracing::warn!(mail_id = %id, error, "mail not sent, will retry");
            }
            Delivery::GaveUp(error) => {
                tracing::error!(mail_id = %id, error, "mail failed for good")
            }
            Delivery::Skipped => tracing::debug!(mail_id = %id, "mail not due or taken elsewhere"),
        }
        Ok(outcome)
    }

    /// Delivers every mail that is due: retries whose wait is over, and mails
    /// whose delivery died half-way. Returns how many were sent.
    ///
    /// # Errors
    /// On a database error.
    pub async fn deliver_due(db: &DatabaseConnection, outbox: &Outbox<'_>) -> ModelResult<usize> {
        let mut sent = 0;
        for id in Self::due(db, SWEEP_BATCH).await? {
            if Self::deliver(db, outbox, id).await? == Delivery::Sent {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Sends one mail it claimed, and records the outcome.
    async fn send(db: &DatabaseConnection, outbox: &Outbox<'_>, id: Uuid) -> ModelResult<Delivery> {
        let Some(mail) = Self::claim(db, id).await? else {
            return Ok(Delivery::Skipped);
        };
        let email = Email {
            from: Some(outbox.from.clone()),
            to: mail.to_address.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            ..Default::default()
        };
        let forgotten = FORGOTTEN_TEMPLATES.contains(&mail.template.as_str());
        let call = tracing::info_span!("smtp", "otel.name" = "SMTP send", "otel.kind" = "client");
        let outcome = match outbox.sender.mail(&email).instrument(call).await {
            Ok(()) => {
                mail.into_active_model().sent(db).await?;
                Delivery::Sent
            }
            Err(error) => {
                let error = error.to_string();
                let mail = mail.into_active_model().attempt_failed(db, &error).await?;
                if mail.status == MailStatus::Failed {
                    Delivery::GaveUp(error)
                } else {
                    Delivery::WillRetry(error)
                }
            }
        };
        if forgotten && matches!(outcome, Delivery::Sent | Delivery::GaveUp(_)) {
            Entity::delete_by_id(id).exec(db).await?;
        }
        Ok(outcome)
    }

    /// Deletes every mail to these addresses.
    ///
    /// # Errors
    /// On a database error.
    pub async fn forget_addresses(db: &impl ConnectionTrait, to: &[&str]) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::ToAddress.is_in(to.iter().copied()))
            .exec(db)
            .await?
            .rows_affected)
    }
}

impl ActiveModel {
    async fn sent(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        let now = timestamps::now();
        self.status = ActiveValue::Set(MailStatus::Sent);
        self.sent_at = ActiveValue::Set(Some(now));
        // A sent mail keeps no copy of what it said: codes and reset links
        // live hashed or recorded elsewhere, not in the outbox.
        self.blank();
        self.locked_until = ActiveValue::Set(None);
        self.last_error = ActiveValue::Set(None);
        self.attempts = ActiveValue::Set(self.attempts.try_as_ref().copied().unwrap_or(0) + 1);
        Ok(self.update(db).await?)
    }

    /// Forgets what the mail said, subject included (a code opens its
    /// subject).
    fn blank(&mut self) {
        self.subject = ActiveValue::Set(String::new());
        self.html = ActiveValue::Set(String::new());
        self.text = ActiveValue::Set(String::new());
    }

    async fn attempt_failed(mut self, db: &DatabaseConnection, error: &str) -> ModelResult<Model> {
        let attempts = self.attempts.try_as_ref().copied().unwrap_or(0) + 1;
        let status = if attempts >= MAX_ATTEMPTS {
            MailStatus::Failed
        } else {
            MailStatus::Queued
        };
        // A code or link that could not be delivered in time is not kept
        // for later: the user asks for a new one.
        let secret = self
            .template
            .try_as_ref()
            .is_some_and(|name| SECRET_TEMPLATES.contains(&name.as_str()));
        if status == MailStatus::Failed && secret {
            self.blank();
        }
        self.attempts = ActiveValue::Set(attempts);
        self.status = ActiveValue::Set(status);
        self.next_attempt_at = ActiveValue::Set(timestamps::now() + retry_delay(attempts));
        self.locked_until = ActiveValue::Set(None);
        self.last_error = ActiveValue::Set(Some(error.to_string()));
        Ok(self.update(db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_and_span_over_ten_minutes() {
        let delays: Vec<i64> = (1..MAX_ATTEMPTS)
            .map(|failed| retry_delay(failed).num_minutes())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16]);
        assert!(delays.iter().sum::<i64>() >= 10);
    }
}
