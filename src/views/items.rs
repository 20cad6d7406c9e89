use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::items;

/// `Item`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResponse {
    pub id: Uuid,
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_id: Uuid,
    pub archived: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&items::Model> for ItemResponse {
    fn from(item: &items::Model) -> Self {
        Self {
            id: item.id,
            name: item.name.clone(),
            description: item.description.clone(),
            owner_id: item.owner_id,
            archived: item.is_archived(),
            archived_at: item.archived_at.map(Into::into),
            created_at: item.created_at.into(),
            updated_at: item.updated_at.into(),
        }
    }
}
