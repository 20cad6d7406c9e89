//! Sign-ins with a provider under way. Each holds its CSRF `state` and PKCE
//! verifier server-side, lives ten minutes, and is taken once by the callback.

use chrono::Duration;
use loco_rs::prelude::*;

pub use super::_entities::sso_logins::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::sea_orm_active_enums::Provider,
    sso_providers::{self, ProviderConfig, ProviderProfile, SsoError},
    timestamps,
};

/// How long a user has to come back from the provider.
pub const LIFETIME_MINUTES: i64 = 10;

timestamps::stamped_model!();

impl Model {
    /// Starts a sign-in with `provider`: keeps its state and PKCE verifier,
    /// and returns the row and the provider's consent page to send the user to.
    ///
    /// # Errors
    /// On a database error, or when a configured URL is not one.
    #[tracing::instrument(skip(db, config, return_url))]
    pub async fn start(
        db: &DatabaseConnection,
        provider: Provider,
        config: &ProviderConfig,
        callback_url: &str,
        return_url: &str,
    ) -> Result<(Self, String), SsoError> {
        let authorization = sso_providers::authorize(provider, config, callback_url)?;
        let login = ActiveModel {
            state: ActiveValue::Set(authorization.state),
            provider: ActiveValue::Set(provider.as_str().to_string()),
            return_url: ActiveValue::Set(return_url.to_string()),
            pkce_verifier: ActiveValue::Set(authorization.pkce_verifier),
            expires_at: ActiveValue::Set(timestamps::now() + Duration::minutes(LIFETIME_MINUTES)),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(ModelError::from)?;
        Ok((login, authorization.url))
    }

    /// Ends the sign-in started with `state`: takes it (once), and trades the
    /// provider's `code` for the user's profile.
    ///
    /// # Errors
    /// `InvalidState` for a state that was not started, expired or was taken;
    /// the provider's refusal otherwise.
    #[tracing::instrument(skip_all, fields(provider = provider.as_str()))]
    pub async fn finish(
        db: &DatabaseConnection,
        provider: Provider,
        config: &ProviderConfig,
        callback_url: &str,
        state: &str,
        code: &str,
    ) -> Result<(Self, ProviderProfile), SsoError> {
        let started = Self::take(db, provider.as_str(), state)
            .await?
            .ok_or(SsoError::InvalidState)?;
        let profile =
            sso_providers::exchange(provider, config, callback_url, code, &started.pkce_verifier)
                .await
                .inspect_err(|error| tracing::warn!(%error, "sso sign-in failed"))?;
        Ok((started, profile))
    }

    /// The app's `return_url`, carrying `token`.
    #[must_use]
    pub fn return_url_with(&self, token: &str) -> String {
        let separator = if self.return_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}token={token}", self.return_url)
    }

    /// The sign-in started with `state` for `provider`, taken for good; `None`
    /// when there is none, it expired, or another request took it.
    async fn take(
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
