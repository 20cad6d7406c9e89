//! Refresh tokens are recorded, so they can be rotated and revoked. Each one
//! descends from a login (its family); presenting one that was already used
//! means it was stolen or replayed, and the whole family is revoked.

use chrono::{DateTime, Utc};
use loco_rs::prelude::*;
use sea_orm::sea_query::Expr;

pub use super::_entities::refresh_tokens::{self, ActiveModel, Column, Entity, Model};
use super::{
    timestamps,
    tokens::{Claims, IssuedToken, SessionStamp, TokenKind, TokenSigner},
    users,
};

/// The tokens of a signed-in session.
#[derive(Clone)]
pub struct Session {
    pub access: IssuedToken,
    pub refresh: IssuedToken,
}

/// The sign-in a session descends from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lineage {
    /// Every refresh token of one sign-in shares it.
    pub family_id: Uuid,
    /// When that sign-in happened (Unix seconds).
    pub auth_time: i64,
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live and is now used up; issue its successor in the
    /// same lineage.
    Rotated(Lineage),
    /// The token was already used or revoked: its family is revoked now.
    Reused,
    /// Not a token this server recorded.
    Unknown,
}

timestamps::stamped_model!();

impl Model {
    /// Signs a fresh access and refresh token for `user` (under their
    /// `token_version`), and records the refresh token in the sign-in it
    /// descends from (`lineage`), or in a new one signed in now.
    ///
    /// # Errors
    /// On a database error, or when a token cannot be signed.
    #[tracing::instrument(skip_all)]
    pub async fn start_session(
        db: &impl ConnectionTrait,
        signer: &TokenSigner,
        user: &users::Model,
        lineage: Option<Lineage>,
    ) -> ModelResult<Session> {
        let lineage = lineage.unwrap_or_else(|| Lineage {
            family_id: Uuid::new_v4(),
            auth_time: Utc::now().timestamp(),
        });
        let stamp = SessionStamp {
            version: user.token_version,
            auth_time: lineage.auth_time,
        };
        let lifetimes = signer.session_lifetimes();
        let access =
            signer.issue_stamped(user.id, TokenKind::Access, lifetimes.access_seconds, stamp)?;
        let refresh = signer.issue_stamped(
            user.id,
            TokenKind::Refresh,
            lifetimes.refresh_seconds,
            stamp,
        )?;
        Self::record(db, &refresh.claims, lineage.family_id).await?;
        Ok(Session { access, refresh })
    }

    /// Records an issued refresh token as a member of `family_id`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record(
        db: &impl ConnectionTrait,
        claims: &Claims,
        family_id: Uuid,
    ) -> ModelResult<Self> {
        Ok(ActiveModel {
            id: ActiveValue::Set(claims.jti),
            user_id: ActiveValue::Set(claims.sub),
            family_id: ActiveValue::Set(family_id),
            expires_at: ActiveValue::Set(
                DateTime::from_timestamp(claims.exp, 0)
                    .unwrap_or_default()
                    .into(),
            ),
            revoked_at: ActiveValue::Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// Uses up a refresh token. The update is conditional, so of two requests
    /// presenting the same token only one rotates it. Run it in the transaction
    /// that records the successor: the loser of a race then waits for the
    /// winner's commit, and revokes the successor with the family.
    ///
    /// # Errors
    /// On a database error.
    pub async fn rotate(db: &impl ConnectionTrait, claims: &Claims) -> ModelResult<Rotation> {
        let Some(token) = Entity::find_by_id(claims.jti).one(db).await? else {
            return Ok(Rotation::Unknown);
        };
        if token.user_id != claims.sub {
            return Ok(Rotation::Unknown);
        }
        let used = Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(timestamps::now()))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(Column::Id.eq(token.id))
            .filter(Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        if used.rows_affected == 1 {
            Ok(Rotation::Rotated(Lineage {
                family_id: token.family_id,
                auth_time: claims.auth_time,
            }))
        } else {
            Self::revoke_family(db, token.family_id).await?;
            Ok(Rotation::Reused)
        }
    }

    /// Forgets one of `user_id`'s refresh tokens, presented as signed;
    /// returns whether it was theirs and live. Deleted, not revoked: a
    /// signed-out token presented later is unknown, not a replay that would
    /// end the user's other sessions. A token of someone else, or no
    /// refresh token at all, is `None`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn sign_out(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        refresh_token: &str,
        user_id: Uuid,
    ) -> ModelResult<Option<bool>> {
        match signer.verify(refresh_token, TokenKind::Refresh) {
            Some(claims) if claims.sub == user_id => {
                Self::forget(db, claims.jti, user_id).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Deletes one live token of `user_id`; returns whether there was one.
    /// A used one stays, so that its replay is still caught.
    async fn forget(db: &DatabaseConnection, id: Uuid, user_id: Uuid) -> ModelResult<bool> {
        let deleted = Entity::delete_many()
            .filter(Column::Id.eq(id))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(deleted.rows_affected == 1)
    }

    /// # Errors
    /// On a database error.
    pub async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> ModelResult<u64> {
        Self::revoke_where(db, Column::FamilyId.eq(family_id)).await
    }

    /// Signs a user out everywhere.
    ///
    /// # Errors
    /// On a database error.
    pub async fn revoke_all_for_user(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<u64> {
        Self::revoke_where(db, Column::UserId.eq(user_id)).await
    }

    async fn revoke_where(
        db: &impl ConnectionTrait,
        condition: sea_orm::sea_query::SimpleExpr,
    ) -> ModelResult<u64> {
        let revoked = Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(timestamps::now()))
            .col_expr(Column::UpdatedAt, Expr::value(timestamps::now()))
            .filter(condition)
            .filter(Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(revoked.rows_affected)
    }

    /// Deletes tokens past their expiry; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &DatabaseConnection) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::ExpiresAt.lt(timestamps::now()))
            .exec(db)
            .await?
            .rows_affected)
    }
}
