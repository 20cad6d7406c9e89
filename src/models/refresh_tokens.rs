//! Refresh tokens are recorded, so they can be rotated and revoked. Each one
//! descends from a sign-in (its family, the session it belongs to);
//! presenting one that was already used means it was stolen or replayed.

use chrono::{DateTime, Utc};
use loco_rs::prelude::*;
use sea_orm::sea_query::Expr;

pub use super::_entities::refresh_tokens::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::users,
    security_events::Origin,
    sessions, timestamps,
    tokens::{Claims, IssuedToken, SessionStamp, TokenKind, TokenSigner},
    write_transaction,
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
    /// Starts a session of `user`, signed in now from `origin`: records it,
    /// and signs its first access and refresh token (under the user's
    /// `token_version`). One transaction: no session without its token.
    ///
    /// # Errors
    /// On a database error, or when a token cannot be signed.
    pub async fn start_session(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        user: &users::Model,
        origin: &Origin,
    ) -> ModelResult<Session> {
        Self::start_session_signed_in_at(db, signer, user, origin, Utc::now()).await
    }

    /// `start_session`, for a sign-in made at `signed_in_at`: the session
    /// that replaces the caller's own when a change of password or email
    /// ends every session keeps the caller's sign-in time, so that the change
    /// does not pass for a fresh sign-in (which a new email asks for).
    ///
    /// # Errors
    /// On a database error, or when a token cannot be signed.
    #[tracing::instrument(skip_all)]
    pub async fn start_session_signed_in_at(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        user: &users::Model,
        origin: &Origin,
        signed_in_at: DateTime<Utc>,
    ) -> ModelResult<Session> {
        let lineage = Lineage {
            family_id: Uuid::new_v4(),
            auth_time: signed_in_at.timestamp(),
        };
        let txn = write_transaction::begin(db).await?;
        let session = Self::next_in_session(&txn, signer, user, lineage).await?;
        sessions::Model::open(&txn, lineage.family_id, user.id, origin, &session.refresh).await?;
        txn.commit().await?;
        Ok(session)
    }

    /// Signs the next access and refresh token of the session `lineage`
    /// names, and records the refresh token in it.
    ///
    /// # Errors
    /// On a database error, or when a token cannot be signed.
    pub async fn next_in_session(
        db: &impl ConnectionTrait,
        signer: &TokenSigner,
        user: &users::Model,
        lineage: Lineage,
    ) -> ModelResult<Session> {
        let stamp = SessionStamp {
            version: user.token_version,
            auth_time: lineage.auth_time,
            session_id: Some(lineage.family_id),
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
        } else if Entity::find_by_id(token.id).one(db).await?.is_none() {
            // Its session was ended meanwhile (PostgreSQL lets that commit
            // between the read and the update): void, not replayed.
            Ok(Rotation::Unknown)
        } else {
            Self::revoke_family(db, token.family_id).await?;
            Ok(Rotation::Reused)
        }
    }

    /// Ends the session of one of `user_id`'s refresh tokens, presented as
    /// signed: the token and the rest of its session stop working, its
    /// access tokens included. Returns whether it was theirs and live. Its
    /// tokens are deleted, not revoked: presented later, one is unknown, not
    /// a replay that would end the user's other sessions. A token of someone
    /// else, or no refresh token at all, is `None`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn sign_out(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        refresh_token: &str,
        user_id: Uuid,
    ) -> ModelResult<Option<bool>> {
        let Some(claims) = signer
            .verify(refresh_token, TokenKind::Refresh)
            .filter(|claims| claims.sub == user_id)
        else {
            return Ok(None);
        };
        let live = Entity::find_by_id(claims.jti)
            .filter(Column::UserId.eq(user_id))
            .filter(Column::RevokedAt.is_null())
            .one(db)
            .await?;
        match live {
            Some(token) => sessions::Model::end(db, user_id, token.family_id)
                .await
                .map(Some),
            None => Ok(Some(false)),
        }
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
