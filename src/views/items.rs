use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::items;

/// `Item`. Borrows from the row: lists render without copying each field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResponse<'a> {
    pub id: Uuid,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub owner_id: Uuid,
    pub archived: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'a> From<&'a items::Model> for ItemResponse<'a> {
    fn from(item: &'a items::Model) -> Self {
        Self {
            id: item.id,
            name: item.name.as_deref(),
            description: item.description.as_deref(),
            owner_id: item.owner_id,
            archived: item.is_archived(),
            archived_at: item.archived_at.map(Into::into),
            created_at: item.created_at.into(),
            updated_at: item.updated_at.into(),
        }
    }
}
