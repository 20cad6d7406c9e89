use loco_rs::prelude::*;
use sea_orm::{Order, Select};
use serde::Deserialize;
use utoipa::ToSchema;

pub use super::_entities::items::{self, ActiveModel, Column, Entity, Model};
pub use super::access::{AccessError, Archived, Picked};
use super::{
    pagination::{self, Pagination},
    patch::present,
    rendered::Rendered,
    timestamps, users,
};

/// `ItemCreate`.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct ItemCreate {
    #[validate(length(
        max = 255,
        code = "string_too_long",
        message = "String should have at most 255 characters"
    ))]
    pub name: Option<String>,
    #[validate(length(
        max = 10_000,
        code = "string_too_long",
        message = "String should have at most 10000 characters"
    ))]
    pub description: Option<String>,
}

/// `ItemUpdate`: a field left out stays as it is; a field sent as `null` is
/// cleared.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct ItemUpdate {
    #[serde(default, deserialize_with = "present")]
    #[validate(length(
        max = 255,
        code = "string_too_long",
        message = "String should have at most 255 characters"
    ))]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(length(
        max = 10_000,
        code = "string_too_long",
        message = "String should have at most 10000 characters"
    ))]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

timestamps::stamped_model!();

impl Model {
    #[must_use]
    pub const fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// Owners and admins may act on an item; nobody else.
    #[must_use]
    pub fn is_managed_by(&self, user: &users::Model) -> bool {
        self.owner_id == user.id || user.is_admin()
    }

    /// The item `id`, when `user` may act on it.
    ///
    /// # Errors
    /// `NotFound` when there is no such item (or it is archived and
    /// `archived` excludes it), `Forbidden` when it is someone else's.
    #[tracing::instrument(skip(db, user), fields(user_id = %user.id))]
    pub async fn find_for(
        db: &DatabaseConnection,
        id: Uuid,
        user: &users::Model,
        archived: Archived,
    ) -> Result<Self, AccessError> {
        let item = Entity::find()
            .filter(Self::picking(id, archived))
            .one(db)
            .await?;
        Self::managed_by(item, user)
    }

    /// The item `id`, to be read beside its caller.
    #[must_use]
    pub fn picked(id: Uuid, archived: Archived) -> Picked {
        static STATEMENTS: [Rendered<3>; 2] = [Rendered::new(), Rendered::new()];
        Picked {
            id,
            archived,
            condition: Self::picking,
            statements: &STATEMENTS,
        }
    }

    /// What picks the item `id` (and only when not archived, if
    /// `archived` excludes those).
    #[must_use]
    pub fn picking(id: Uuid, archived: Archived) -> Condition {
        let by_id = Condition::all().add(Column::Id.eq(id));
        match archived {
            Archived::Included => by_id,
            Archived::Excluded => by_id.add(Column::ArchivedAt.is_null()),
        }
    }

    /// The item found, when `user` may act on it.
    ///
    /// # Errors
    /// `NotFound` when none was found, `Forbidden` when it is someone else's.
    pub fn managed_by(item: Option<Self>, user: &users::Model) -> Result<Self, AccessError> {
        let item = item.ok_or(AccessError::NotFound)?;
        if item.is_managed_by(user) {
            Ok(item)
        } else {
            Err(AccessError::Forbidden)
        }
    }

    /// Any item, archived or not.
    ///
    /// # Errors
    /// `EntityNotFound` when there is no such item.
    pub async fn find_by_id(db: &DatabaseConnection, id: Uuid) -> ModelResult<Self> {
        Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(ModelError::EntityNotFound)
    }

    /// The items a user sees, oldest first: their own, or everyone's for an admin.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_for(
        db: &DatabaseConnection,
        viewer: &users::Model,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        Ok(Self::listed(viewer, page).all(db).await?)
    }

    /// The statement of `list_for`.
    #[must_use]
    pub fn listed(viewer: &users::Model, page: &Pagination) -> Select<Entity> {
        let mut query = Entity::find().filter(Column::ArchivedAt.is_null());
        if !viewer.is_admin() {
            query = pagination::owned_by(query, Column::OwnerId, viewer.id, Order::Asc);
        }
        page.select(query, Column::CreatedAt, Column::Id, Order::Asc)
    }

    /// A page of every item of `owner_id`, archived ones too, oldest first:
    /// what their data export holds.
    ///
    /// # Errors
    /// On a database error.
    pub async fn page_of_owner(
        db: &DatabaseConnection,
        owner_id: Uuid,
        page: &Pagination,
    ) -> ModelResult<Vec<Self>> {
        let query = pagination::owned_by(Entity::find(), Column::OwnerId, owner_id, Order::Asc);
        Ok(page
            .select(query, Column::CreatedAt, Column::Id, Order::Asc)
            .all(db)
            .await?)
    }

    /// # Errors
    /// On a database error.
    pub async fn create(
        db: &DatabaseConnection,
        owner_id: Uuid,
        params: &ItemCreate,
    ) -> ModelResult<Self> {
        Ok(ActiveModel {
            name: ActiveValue::Set(params.name.clone()),
            description: ActiveValue::Set(params.description.clone()),
            owner_id: ActiveValue::Set(owner_id),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// Deletes the item and returns what it was.
    ///
    /// # Errors
    /// On a database error.
    pub async fn destroy(self, db: &DatabaseConnection) -> ModelResult<Self> {
        Entity::delete_by_id(self.id).exec(db).await?;
        Ok(self)
    }
}

impl ActiveModel {
    /// # Errors
    /// On a database error.
    pub async fn apply_update(
        mut self,
        db: &DatabaseConnection,
        changes: &ItemUpdate,
    ) -> ModelResult<Model> {
        if let Some(name) = &changes.name {
            self.name = ActiveValue::Set(name.clone());
        }
        if let Some(description) = &changes.description {
            self.description = ActiveValue::Set(description.clone());
        }
        Ok(self.update(db).await?)
    }

    /// # Errors
    /// On a database error.
    pub async fn archive(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        if matches!(&self.archived_at, ActiveValue::Unchanged(None)) {
            self.archived_at = ActiveValue::Set(Some(timestamps::now()));
        }
        Ok(self.update(db).await?)
    }

    /// # Errors
    /// On a database error.
    pub async fn unarchive(mut self, db: &DatabaseConnection) -> ModelResult<Model> {
        self.archived_at = ActiveValue::Set(None);
        Ok(self.update(db).await?)
    }
}
