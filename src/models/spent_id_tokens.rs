//! Native ID tokens already traded for a session. A token is taken once: one
//! read off the wire or a device's log cannot be traded again while it is
//! valid. Each is remembered by its SHA-256 until it expires, when the
//! token's own expiry refuses it.

use chrono::{DateTime, Utc};
use loco_rs::prelude::*;
use sea_orm::sea_query::OnConflict;
use sha2::{Digest, Sha256};

pub use super::_entities::spent_id_tokens::{ActiveModel, Column, Entity, Model};
use super::{hex, timestamps};

timestamps::stamped_model!();

/// Spends `token`, valid until `expires_at`: `false` when it was spent before.
///
/// # Errors
/// On a database error.
pub async fn spend<C: ConnectionTrait>(
    db: &C,
    token: &str,
    expires_at: DateTime<Utc>,
) -> ModelResult<bool> {
    let mut spent = ActiveModel {
        digest: ActiveValue::Set(hex(&Sha256::digest(token.as_bytes()))),
        expires_at: ActiveValue::Set(expires_at.into()),
        ..Default::default()
    };
    // An insert that may do nothing is not a model's save: stamped here.
    timestamps::stamp(
        true,
        &mut spent.id,
        &mut spent.created_at,
        &mut spent.updated_at,
    );
    let inserted = Entity::insert(spent)
        .on_conflict(OnConflict::column(Column::Digest).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
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
