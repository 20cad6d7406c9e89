//! The account's security log: sign-ins, failed ones, sign-outs, password and
//! email changes, replayed tokens, archiving. Served to the user and to
//! admins, kept `SECURITY_EVENT_RETENTION_DAYS`.

use std::net::IpAddr;

use chrono::Duration;
use loco_rs::prelude::*;
use sea_orm::{Order, PaginatorTrait};

pub use super::_entities::security_events::{ActiveModel, Column, Entity, Model};
use super::{
    pagination::{self, Pagination},
    timestamps,
};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignIn,
    SignInFailed,
    SignedOut,
    PasswordChanged,
    PasswordReset,
    EmailChangeRequested,
    EmailChanged,
    RefreshTokenReused,
    Archived,
    Unarchived,
    SessionEnded,
    TwoFactorEnabled,
    TwoFactorDisabled,
    PasskeyAdded,
    PasskeyRemoved,
    /// The email of an account never confirmed was proven: the account was
    /// handed to the prover (`users::Model::prove_email`).
    AccountClaimed,
    /// Apple's server-to-server notification; its type is the detail.
    AppleNotification,
    /// The account's deletion was scheduled; the detail says by whom, if
    /// not the user.
    DeletionRequested,
    DeletionCancelled,
    ExportRequested,
}

impl EventKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignedOut => "signed_out",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::Archived => "archived",
            Self::Unarchived => "unarchived",
            Self::SessionEnded => "session_ended",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::DeletionRequested => "deletion_requested",
            Self::DeletionCancelled => "deletion_cancelled",
            Self::ExportRequested => "export_requested",
            Self::AccountClaimed => "account_claimed",
            Self::AppleNotification => "apple_notification",
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub ip: IpAddr,
    /// At most `USER_AGENT_CHARS` characters of it.
    pub user_agent: String,
}

/// What one source of requests holds: an IPv4 address, or the /64 network
/// of an IPv6 address (one host is given a whole /64).
#[must_use]
pub fn source(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        v6 @ IpAddr::V6(_) => network(v6, 64),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The first `prefix` bits of `ip`, the rest zero.
#[must_use]
pub fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(ip) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4((u32::from(ip) & mask).into())
        }
        IpAddr::V6(ip) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6((u128::from(ip) & mask).into())
        }
    }
}

/// A user agent is kept to this many characters: the header has no limit.
pub const USER_AGENT_CHARS: usize = 255;

/// Failed sign-ins recorded per account within an hour: anyone can fail a
/// sign-in as anyone, and the log is kept for a year.
pub const FAILED_SIGN_INS_PER_HOUR: u64 = 5;

/// The last recorded failure of the hour says so.
pub const LATER_FAILURES_UNRECORDED: &str = "later failures within the hour are not recorded";

timestamps::stamped_model!();

impl Model {
    /// Records an event of `user_id`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record(
        db: &impl ConnectionTrait,
        user_id: Uuid,
        kind: EventKind,
        origin: &Origin,
        detail: Option<&str>,
    ) -> ModelResult<Self> {
        Ok(ActiveModel {
            user_id: ActiveValue::Set(user_id),
            kind: ActiveValue::Set(kind.as_str().to_string()),
            ip: ActiveValue::Set(origin.ip.to_string()),
            user_agent: ActiveValue::Set(origin.user_agent.clone()),
            detail: ActiveValue::Set(detail.map(str::to_string)),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// Records an event; a failure is logged, not returned: the log must not
    /// stand in the way of what it records. Failed sign-ins, which anyone can
    /// cause for any account, are recorded `FAILED_SIGN_INS_PER_HOUR` times an
    /// hour at most, the last saying that later ones are not.
    pub async fn note(
        db: &impl ConnectionTrait,
        user_id: Uuid,
        kind: EventKind,
        origin: &Origin,
        detail: Option<&str>,
    ) {
        let recorded = async {
            let mut detail = detail.map(str::to_string);
            if kind == EventKind::SignInFailed {
                let earlier = Self::failed_sign_ins_within_the_hour(db, user_id).await?;
                if earlier >= FAILED_SIGN_INS_PER_HOUR {
                    return Ok(());
                }
                if earlier + 1 == FAILED_SIGN_INS_PER_HOUR {
                    detail = Some(match detail {
                        Some(detail) => format!("{detail}; {LATER_FAILURES_UNRECORDED}"),
                        None => LATER_FAILURES_UNRECORDED.to_string(),
                    });
                }
            }
            Self::record(db, user_id, kind, origin, detail.as_deref())
                .await
                .map(|_| ())
        };
        if let Err(error) = recorded.await {
            tracing::error!(%error, %user_id, kind = kind.as_str(), "security event not recorded");
        }
    }

    async fn failed_sign_ins_within_the_hour(
        db: &impl ConnectionTrait,
        user_id: Uuid,
    ) -> ModelResult<u64> {
        Ok(Entity::find()
            .filter(Column::UserId.eq(user_id))
            .filter(Column::Kind.eq(EventKind::SignInFailed.as_str()))
            .filter(Column::CreatedAt.gt(timestamps::now() - Duration::hours(1)))
            .count(db)
            .await?)
    }

    /// The events of `user_id`, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_for(
        db: &DatabaseConnection,
        user_id: Uuid,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        let query = Entity::find();
        let query = pagination::owned_by(query, Column::UserId, user_id, Order::Desc);
        Ok(page
            .select(query, Column::CreatedAt, Column::Id, Order::Desc)
            .all(db)
            .await?)
    }

    /// Deletes events older than `retention`; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_older_than(
        db: &DatabaseConnection,
        retention: Duration,
    ) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::CreatedAt.lt(timestamps::now() - retention))
            .exec(db)
            .await?
            .rows_affected)
    }
}
