//! A session is one sign-in and the chain of refresh tokens rotated from it
//! (their `family_id` is its id): the devices a user can see and end. Its row
//! exists while it lives; ending it deletes the row and its refresh tokens,
//! and an access token is only accepted while its session's row exists (read
//! in the query that reads the user), so its access tokens die with it.

use loco_rs::prelude::*;
use sea_orm::{
    Order,
    sea_query::{Expr, ExprTrait},
};

pub use super::_entities::sessions::{ActiveModel, Column, Entity, Model};
use super::{
    _entities::refresh_tokens,
    pagination::{self, Pagination},
    security_events::Origin,
    timestamps,
    tokens::IssuedToken,
    write_transaction,
};

timestamps::stamped_model!();

impl Model {
    /// Records a session of `user_id` signed in now from `origin`, that its
    /// `refresh` token keeps alive.
    ///
    /// # Errors
    /// On a database error.
    pub async fn open(
        db: &impl ConnectionTrait,
        id: Uuid,
        user_id: Uuid,
        origin: &Origin,
        refresh: &IssuedToken,
    ) -> ModelResult<Self> {
        Ok(ActiveModel {
            id: ActiveValue::Set(id),
            user_id: ActiveValue::Set(user_id),
            ip: ActiveValue::Set(origin.ip.to_string()),
            user_agent: ActiveValue::Set(origin.user_agent.clone()),
            last_used_at: ActiveValue::Set(timestamps::now()),
            expires_at: ActiveValue::Set(refresh.expires_at().into()),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// Notes a refresh of session `id` from `origin`, whose new `refresh`
    /// token keeps it alive longer; returns whether the session still lives.
    /// The only write a session costs after its sign-in.
    ///
    /// # Errors
    /// On a database error.
    pub async fn touch(
        db: &impl ConnectionTrait,
        id: Uuid,
        user_id: Uuid,
        origin: &Origin,
        refresh: &IssuedToken,
    ) -> ModelResult<bool> {
        let now = timestamps::now();
        let touched = Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .col_expr(
                Column::ExpiresAt,
                Expr::value(DateTimeWithTimeZone::from(refresh.expires_at())),
            )
            .col_expr(Column::Ip, Expr::value(origin.ip.to_string()))
            .col_expr(Column::UserAgent, Expr::value(origin.user_agent.clone()))
            .filter(Column::Id.eq(id))
            .filter(Column::UserId.eq(user_id))
            .exec(db)
            .await?;
        Ok(touched.rows_affected == 1)
    }

    /// The live sessions of `user_id`, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_for(
        db: &DatabaseConnection,
        user_id: Uuid,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        let query = Entity::find().filter(Column::ExpiresAt.gt(timestamps::now()));
        let query = pagination::owned_by(query, Column::UserId, user_id, Order::Desc);
        Ok(page
            .select(query, Column::CreatedAt, Column::Id, Order::Desc)
            .all(db)
            .await?)
    }

    /// The session `id`, whoever's it is.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_live(db: &DatabaseConnection, id: Uuid) -> ModelResult<Option<Self>> {
        Ok(Entity::find_by_id(id)
            .filter(Column::ExpiresAt.gt(timestamps::now()))
            .one(db)
            .await?)
    }

    /// Ends session `id` of `user_id`: its row and refresh tokens go, so its
    /// tokens, access tokens included, stop working. Returns whether there was
    /// such a session.
    ///
    /// # Errors
    /// On a database error.
    pub async fn end(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> ModelResult<bool> {
        let txn = write_transaction::begin(db).await?;
        let ended = Self::end_where(
            &txn,
            Column::UserId.eq(user_id).and(Column::Id.eq(id)),
            refresh_tokens::Column::UserId
                .eq(user_id)
                .and(refresh_tokens::Column::FamilyId.eq(id)),
        )
        .await?;
        txn.commit().await?;
        Ok(ended > 0)
    }

    /// Ends every session of `user_id` but `keep`; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn end_others(
        db: &DatabaseConnection,
        user_id: Uuid,
        keep: Uuid,
    ) -> ModelResult<u64> {
        let txn = write_transaction::begin(db).await?;
        let ended = Self::end_where(
            &txn,
            Column::UserId.eq(user_id).and(Column::Id.ne(keep)),
            refresh_tokens::Column::UserId
                .eq(user_id)
                .and(refresh_tokens::Column::FamilyId.ne(keep)),
        )
        .await?;
        txn.commit().await?;
        Ok(ended)
    }

    /// Deletes every session row of `user_id`, whose tokens the caller voids
    /// otherwise (a raised token version); returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn forget_all(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::UserId.eq(user_id))
            .exec(db)
            .await?
            .rows_affected)
    }

    /// Deletes the `tokens`, then the `sessions` they belong to; returns how
    /// many sessions. Tokens first, as a refresh locks them (its token, then
    /// its session): the same order, so that the two wait for each other
    /// instead of deadlocking on PostgreSQL.
    async fn end_where(
        db: &impl ConnectionTrait,
        sessions: sea_orm::sea_query::SimpleExpr,
        tokens: sea_orm::sea_query::SimpleExpr,
    ) -> ModelResult<u64> {
        refresh_tokens::Entity::delete_many()
            .filter(tokens)
            .exec(db)
            .await?;
        let ended = Entity::delete_many().filter(sessions).exec(db).await?;
        Ok(ended.rows_affected)
    }

    /// Deletes sessions that can no longer be refreshed; returns how many.
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
