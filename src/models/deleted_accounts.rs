//! The one record a deleted account leaves, for audit: when it went, and
//! who asked. Nothing in it says whose it was.

use loco_rs::prelude::*;

pub use super::_entities::deleted_accounts::{ActiveModel, Column, Entity, Model};
use super::timestamps;

timestamps::stamped_model!();

/// Who asked for a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedBy {
    Owner,
    Admin,
    Operator,
}

impl RequestedBy {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Operator => "operator",
        }
    }
}

/// Records a deletion, in its transaction.
///
/// # Errors
/// On a database error.
pub async fn record(db: &impl ConnectionTrait, requested_by: RequestedBy) -> ModelResult<Model> {
    Ok(ActiveModel {
        requested_by: ActiveValue::Set(requested_by.as_str().to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}
