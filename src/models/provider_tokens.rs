//! The refresh token a provider handed out at a user's sign-in, kept sealed,
//! one per user: Apple requires an app that offers its sign-in to revoke the
//! user's tokens when the account is deleted.

use loco_rs::prelude::*;
use sea_orm::sea_query::OnConflict;

pub use super::_entities::provider_tokens::{ActiveModel, Column, Entity, Model};
use super::{
    _entities::sea_orm_active_enums::Provider,
    apple::{AppleClient, AppleError},
    sealed::Sealer,
    timestamps,
};

timestamps::stamped_model!();

/// Keeps `refresh_token`, issued by `provider` to `client_id`, for `user_id`,
/// in place of the one kept before.
///
/// # Errors
/// On a database error.
pub async fn keep(
    db: &DatabaseConnection,
    sealer: &Sealer,
    user_id: Uuid,
    (provider, client_id): (Provider, &str),
    refresh_token: &str,
) -> ModelResult<()> {
    let sealed = sealer
        .seal(refresh_token.as_bytes())
        .ok_or_else(|| ModelError::Message("the token could not be sealed".into()))?;
    let mut kept = ActiveModel {
        user_id: ActiveValue::Set(user_id),
        provider: ActiveValue::Set(provider.as_str().to_string()),
        client_id: ActiveValue::Set(client_id.to_string()),
        sealed_refresh_token: ActiveValue::Set(sealed),
        ..Default::default()
    };
    // An upsert is not a model's save: stamped here.
    timestamps::stamp(
        true,
        &mut kept.id,
        &mut kept.created_at,
        &mut kept.updated_at,
    );
    Entity::insert(kept)
        .on_conflict(
            OnConflict::column(Column::UserId)
                .update_columns([
                    Column::Provider,
                    Column::ClientId,
                    Column::SealedRefreshToken,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What revoking a kept token takes: the sealer that opens it, Apple's
/// client, and the HTTP client.
pub type Revoker<'a> = (&'a Sealer, &'a AppleClient, &'a reqwest::Client);

/// Revokes the token kept for `user_id` at its provider, then forgets it.
/// Nothing to do without one. A token that no longer opens (`SECRET_KEY`
/// changed) or that Apple's sign-in, switched off since, cannot revoke is
/// forgotten with a warning.
///
/// # Errors
/// When the provider refuses or does not answer: the token is kept, to be
/// revoked at the next try.
pub async fn revoke(
    db: &DatabaseConnection,
    (sealer, apple, http): Revoker<'_>,
    user_id: Uuid,
) -> Result<(), AppleError> {
    let kept = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .one(db)
        .await?;
    let Some(kept) = kept else {
        return Ok(());
    };
    let token = sealer
        .open(&kept.sealed_refresh_token)
        .and_then(|token| String::from_utf8(token).ok());
    match token {
        Some(token) if apple.config().web_enabled() => {
            apple.revoke(http, &kept.client_id, &token).await?;
        }
        _ => tracing::warn!(user_id = %user_id, "provider token dropped without revocation"),
    }
    Entity::delete_by_id(kept.id).exec(db).await?;
    Ok(())
}
