//! Sign-ins with a provider under way. Each holds its CSRF `state` and PKCE
//! verifier server-side, lives ten minutes, and is taken once by the callback.

use chrono::Duration;
use loco_rs::prelude::*;

pub use super::_entities::sso_logins::{self, ActiveModel, Column, Entity, Model};
use super::timestamps;

/// How long a user has to come back from the provider.
pub const LIFETIME_MINUTES: i64 = 10;

timestamps::stamped_model!();

impl Model {
    /// # Errors
    /// On a database error.
    pub async fn start(
        db: &DatabaseConnection,
        provider: &str,
        state: &str,
        return_url: &str,
        pkce_verifier: &str,
    ) -> ModelResult<Self> {
        Ok(ActiveModel {
            state: ActiveValue::Set(state.to_string()),
            provider: ActiveValue::Set(provider.to_string()),
            return_url: ActiveValue::Set(return_url.to_string()),
            pkce_verifier: ActiveValue::Set(pkce_verifier.to_string()),
            expires_at: ActiveValue::Set(timestamps::now() + Duration::minutes(LIFETIME_MINUTES)),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// The sign-in started with `state` for `provider`, taken for good; `None`
    /// when there is none, it expired, or another request took it.
    ///
    /// # Errors
    /// On a database error.
    pub async fn take(
        db: &DatabaseConnection,
        provider: &str,
        state: &str,
    ) -> ModelResult<Option<Self>> {
        let Some(login) = Entity::find()
            .filter(Column::State.eq(state))
            .filter(Column::Provider.eq(provider))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let taken = Entity::delete_by_id(login.id).exec(db).await?;
        Ok((taken.rows_affected == 1 && login.expires_at > timestamps::now()).then_some(login))
    }

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
