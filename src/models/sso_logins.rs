//! Sign-ins with a provider under way. Each holds its CSRF `state` and PKCE
//! verifier server-side, lives ten minutes, and is taken once by the callback.

use chrono::Duration;
use loco_rs::prelude::*;

pub use super::_entities::sso_logins::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::sea_orm_active_enums::Provider,
    apple::{AppleClient, AppleError},
    id_tokens::{Expected, KeySet},
    provider_tokens,
    sealed::Sealer,
    sso_providers::{self, ProviderConfig, ProviderProfile, SsoError},
    timestamps,
    users::{self, SignedIn, UserError},
};

/// What Apple's callback brings: the code, and the name the user gave at
/// their first sign-in (Apple sends it then only).
pub struct AppleAnswer<'a> {
    pub state: &'a str,
    pub code: &'a str,
    pub names: Option<(String, String)>,
}

/// A profile Apple vouches for, and the refresh token it issued to
/// `client_id`.
pub struct AppleSignIn {
    pub started: Model,
    pub profile: ProviderProfile,
    pub refresh_token: Option<String>,
    pub client_id: String,
}

impl AppleSignIn {
    /// The account Apple vouches for (made at its first sign-in), with
    /// Apple's refresh token kept for it.
    ///
    /// # Errors
    /// As `users::Model::sign_in_with_provider`; a database error.
    pub async fn account(
        &self,
        db: &DatabaseConnection,
        sealer: &Sealer,
    ) -> Result<SignedIn, UserError> {
        let signed_in =
            users::Model::sign_in_with_provider(db, Provider::Apple, &self.profile).await?;
        if let Some(token) = &self.refresh_token {
            let issued = (Provider::Apple, self.client_id.as_str());
            provider_tokens::keep(db, sealer, signed_in.user.id, issued, token).await?;
        }
        Ok(signed_in)
    }
}

impl From<AppleError> for SsoError {
    fn from(error: AppleError) -> Self {
        match error {
            AppleError::NoAnswer(why) => Self::NoAnswer(why),
            other => Self::Exchange(other.to_string()),
        }
    }
}

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
            nonce: ActiveValue::Set(authorization.nonce),
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

    /// Ends a Sign in with Apple started with `answer.state`: takes it
    /// (once), trades the code for Apple's tokens, and reads the profile
    /// from the ID token, checked against Apple's keys and the nonce sent.
    ///
    /// # Errors
    /// `InvalidState` for a state that was not started, expired or was taken;
    /// Apple's refusal, or an ID token that fails a check, otherwise.
    #[tracing::instrument(skip_all, fields(provider = "apple"))]
    pub async fn finish_with_apple(
        db: &DatabaseConnection,
        (apple, keys, http): (&AppleClient, &KeySet, &reqwest::Client),
        callback_url: &str,
        answer: AppleAnswer<'_>,
    ) -> Result<AppleSignIn, SsoError> {
        let started = Self::take(db, Provider::Apple.as_str(), answer.state)
            .await?
            .ok_or(SsoError::InvalidState)?;
        let client_id = apple.config().client_id.as_str();
        let tokens = apple
            .exchange(http, client_id, answer.code, Some(callback_url))
            .await
            .inspect_err(|error| tracing::warn!(%error, "apple sign-in failed"))?;
        let expected = Expected {
            issuers: &[super::apple::ISSUER],
            audiences: &[client_id],
            nonce: Some(started.nonce.as_deref().unwrap_or_default()),
            id_token: true,
        };
        let claims = keys
            .verify(http, &tokens.id_token, &expected)
            .await
            .map_err(|error| SsoError::Exchange(error.to_string()))?;
        Ok(AppleSignIn {
            profile: sso_providers::profile_of(&claims, answer.names),
            refresh_token: tokens.refresh_token,
            client_id: client_id.to_string(),
            started,
        })
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
