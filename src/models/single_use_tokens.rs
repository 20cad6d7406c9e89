//! Tokens that work once (password reset links, SSO confirmations, two-factor
//! sign-in challenges): each is recorded when issued, and marked used by its
//! first use.

use chrono::DateTime;
use loco_rs::prelude::*;
use sea_orm::{
    Condition,
    sea_query::{Expr, ExprTrait},
};

pub use super::_entities::single_use_tokens::{self, ActiveModel, Column, Entity, Model};
use super::{
    timestamps,
    tokens::{Claims, IssuedToken, TokenKind, TokenSigner},
};

/// Seconds a provider sign-in's confirmation token lives.
pub const SSO_CONFIRMATION_SECONDS: i64 = 30;
/// Seconds a two-factor sign-in challenge lives.
pub const CHALLENGE_SECONDS: i64 = 5 * 60;
/// Answers a two-factor sign-in challenge takes, right or wrong.
pub const CHALLENGE_TRIES: i32 = 5;

timestamps::stamped_model!();

impl Model {
    /// Signs a token of `kind` for `user_id` and records it, so it works once.
    ///
    /// # Errors
    /// On a database error, or when the token cannot be signed.
    pub async fn issue(
        db: &impl ConnectionTrait,
        signer: &TokenSigner,
        user_id: Uuid,
        kind: TokenKind,
        lifetime_seconds: i64,
    ) -> ModelResult<IssuedToken> {
        let issued = signer.issue(user_id, kind, lifetime_seconds)?;
        Self::record(db, &issued.claims).await?;
        Ok(issued)
    }

    /// The token a provider sign-in hands the app, to trade once, within
    /// `SSO_CONFIRMATION_SECONDS`, for a session.
    ///
    /// # Errors
    /// On a database error, or when the token cannot be signed.
    pub async fn issue_sso_confirmation(
        db: &impl ConnectionTrait,
        signer: &TokenSigner,
        user_id: Uuid,
    ) -> ModelResult<IssuedToken> {
        let kind = TokenKind::SsoConfirmation;
        Self::issue(db, signer, user_id, kind, SSO_CONFIRMATION_SECONDS).await
    }

    /// # Errors
    /// On a database error.
    pub async fn record(db: &impl ConnectionTrait, claims: &Claims) -> ModelResult<Self> {
        Ok(ActiveModel {
            id: ActiveValue::Set(claims.jti),
            user_id: ActiveValue::Set(claims.sub),
            kind: ActiveValue::Set(claims.kind.as_str().to_string()),
            expires_at: ActiveValue::Set(
                DateTime::from_timestamp(claims.exp, 0)
                    .unwrap_or_default()
                    .into(),
            ),
            used_at: ActiveValue::Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// Marks the token used, if it is recorded, unused and unexpired; returns
    /// whether it was. Conditional, so a token is used once.
    ///
    /// # Errors
    /// On a database error.
    pub async fn use_once(db: &impl ConnectionTrait, claims: &Claims) -> ModelResult<bool> {
        let now = timestamps::now();
        let used = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(claims.jti))
            .filter(Column::UserId.eq(claims.sub))
            .filter(Column::Kind.eq(claims.kind.as_str()))
            .filter(Column::UsedAt.is_null())
            .filter(Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        Ok(used.rows_affected == 1)
    }

    /// Spends one of a live token's `CHALLENGE_TRIES` tries; returns whether
    /// one was left. Conditional, so tries sent at once cannot overspend.
    ///
    /// # Errors
    /// On a database error.
    pub async fn spend_try(db: &impl ConnectionTrait, claims: &Claims) -> ModelResult<bool> {
        let spent = Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .filter(Column::Id.eq(claims.jti))
            .filter(Column::UserId.eq(claims.sub))
            .filter(Column::Kind.eq(claims.kind.as_str()))
            .filter(Column::UsedAt.is_null())
            .filter(Column::ExpiresAt.gt(timestamps::now()))
            .filter(Column::Attempts.lt(CHALLENGE_TRIES))
            .exec(db)
            .await?;
        Ok(spent.rows_affected == 1)
    }

    /// Whether the token is recorded, unused and unexpired (without using it).
    ///
    /// # Errors
    /// On a database error.
    pub async fn is_live(db: &impl ConnectionTrait, claims: &Claims) -> ModelResult<bool> {
        let live = Entity::find_by_id(claims.jti)
            .filter(Column::UserId.eq(claims.sub))
            .filter(Column::Kind.eq(claims.kind.as_str()))
            .filter(Column::UsedAt.is_null())
            .filter(Column::ExpiresAt.gt(timestamps::now()))
            .one(db)
            .await?;
        Ok(live.is_some())
    }

    /// Marks every unused token of the user used: reset links, provider
    /// sign-in confirmations and two-factor challenges alike.
    ///
    /// # Errors
    /// On a database error.
    pub async fn use_all(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<u64> {
        let now = timestamps::now();
        Ok(Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::UsedAt.is_null())
            .exec(db)
            .await?
            .rows_affected)
    }

    /// Deletes tokens that are used or past their expiry; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &DatabaseConnection) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(
                Condition::any()
                    .add(Column::ExpiresAt.lt(timestamps::now()))
                    .add(Column::UsedAt.is_not_null()),
            )
            .exec(db)
            .await?
            .rows_affected)
    }
}
