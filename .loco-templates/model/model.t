{#- `cargo loco generate model|scaffold <name> <fields...>`: the model of a
    resource shaped like `items` (UUID ids, an owner, archiving, timestamps):
    its finders in `src/models/<plural>.rs`, its entity in
    `src/models/_entities/<plural>.rs` and its migration in
    `migration/src/<module>.rs`. Loco renders one file per template: the
    entity and the migration are written as sections of the model's file,
    which the binary moves to their own files after `generate`
    (`src/generators.rs`). Every other file the resource needs is wired here
    too, so that a missing anchor stops the generator before it writes
    anything. -#}
{%- set mig_ts = ts | date(format="%Y%m%d_%H%M%S") -%}
{%- set snake = name | snake_case -%}
{%- set plural = name | plural | snake_case -%}
{%- set pascal = name | pascal_case -%}
{%- set module_name = "m" ~ mig_ts ~ "_" ~ plural -%}
{%- set supported = ["String", "StringNull", "StringUniq", "Text", "TextNull", "BigInteger", "BigIntegerNull", "BigIntegerUniq", "Boolean", "BooleanNull", "Uuid", "UuidNull", "UuidUniq", "TimestampWithTimeZone", "TimestampWithTimeZoneNull", "Date", "DateNull", "Double", "DoubleNull"] -%}
{%- for column in columns -%}
{%- if column.1 not in supported -%}
{{ throw(message="field `" ~ column.0 ~ "`: this template knows string, text, int, big_int, bool, uuid, tstz, date and double (with ! or ^), not " ~ column.1) }}
{%- endif -%}
{%- if column.0 in ["as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "yield"] -%}
{{ throw(message="field `" ~ column.0 ~ "`: a Rust keyword cannot name a field") }}
{%- endif -%}
{%- if column.0 in ["id", "owner_id", "archived_at", "archived", "created_at", "updated_at"] -%}
{{ throw(message="field `" ~ column.0 ~ "` is one every resource has already") }}
{%- endif -%}
{%- endfor -%}
{%- if columns | length == 0 -%}
{{ throw(message="give the resource at least one field, for example title:string!") }}
{%- endif -%}
{%- if references | length > 0 -%}
{{ throw(message="references: a resource already belongs to its owner (owner_id); add other references by hand") }}
{%- endif -%}
{%- set has_double = false -%}
{%- set has_nullable = false -%}
{%- for column in columns -%}
{%- if column.1 is starting_with("Double") -%}{%- set_global has_double = true -%}{%- endif -%}
{%- if column.1 is ending_with("Null") -%}{%- set_global has_nullable = true -%}{%- endif -%}
{%- endfor -%}
to: "src/models/{{plural}}.rs"
skip_exists: true
message: "Model `{{pascal}}` added in src/models/{{plural}}.rs, its entity in src/models/_entities/{{plural}}.rs, its migration in migration/src/{{module_name}}.rs (applied at the next start or test run)."
injections:
- into: "migration/src/lib.rs"
  before: "inject-above"
  skip_if: "Box::new\\({{module_name}}::Migration\\)"
  content: "            Box::new({{module_name}}::Migration),"
- into: "migration/src/lib.rs"
  after_last: "^mod m\\d"
  skip_if: "(?m)^mod {{module_name}};"
  content: "mod {{module_name}};"
- into: "src/models/_entities/mod.rs"
  append: true
  skip_if: "(?m)^pub mod {{plural}};"
  content: |

    /// Written by `cargo loco generate`.
    pub mod {{plural}};
- into: "src/models/mod.rs"
  before: "inject-above: models"
  skip_if: "(?m)^pub mod {{plural}};"
  content: "pub mod {{plural}};"
- into: "src/app.rs"
  before: "inject-above: truncate"
  skip_if: "models::{{plural}}::Entity\\)"
  content: "        truncate_table(&ctx.db, crate::models::{{plural}}::Entity).await?;"
- into: "tests/models/mod.rs"
  append: true
  skip_if: "(?m)^mod {{plural}};"
  content: "mod {{plural}};"
{#- The anchors the scaffold's controller needs, checked now (each of these
    writes nothing where its anchor is), so that a missing one stops the
    generator before any file is written. #}
- into: "src/controllers/mod.rs"
  before: "inject-above: controller modules"
  skip_if: "inject-above: controller modules"
  content: ""
- into: "src/controllers/mod.rs"
  before: "inject-above: routes"
  skip_if: "inject-above: routes"
  content: ""
- into: "src/errors/msg.rs"
  before: "inject-above: messages"
  skip_if: "inject-above: messages"
  content: ""
---
//! `{{pascal}}`: an owner's rows, which admins manage too; archived (hidden)
//! or deleted for good. Written by `cargo loco generate`, in the shape of
//! `items`.

use loco_rs::prelude::*;
use sea_orm::{Order, Select};
use serde::Deserialize;
use utoipa::ToSchema;

pub use super::_entities::{{plural}}::{self, ActiveModel, Column, Entity, Model};
pub use super::access::{AccessError, Archived, Picked};
use super::{pagination::{self, Pagination}, {% if has_nullable %}patch::present, {% endif %}rendered::Rendered, timestamps, users};

timestamps::stamped_model!();

/// `{{pascal}}Create`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct {{pascal}}Create {
{%- for column in columns %}
{%- set base = column.1 | replace(from="Null", to="") | replace(from="Uniq", to="") %}
{%- set rust = "String" %}
{%- if base == "BigInteger" %}{% set rust = "i64" %}{% elif base == "Boolean" %}{% set rust = "bool" %}{% elif base == "Uuid" %}{% set rust = "Uuid" %}{% elif base == "TimestampWithTimeZone" %}{% set rust = "chrono::DateTime<chrono::FixedOffset>" %}{% elif base == "Date" %}{% set rust = "chrono::NaiveDate" %}{% elif base == "Double" %}{% set rust = "f64" %}{% endif %}
{%- if base == "String" %}
    #[validate(length(
        max = 255,
        code = "string_too_long",
        message = "String should have at most 255 characters"
    ))]
{%- elif base == "Text" %}
    #[validate(length(
        max = 10_000,
        code = "string_too_long",
        message = "String should have at most 10000 characters"
    ))]
{%- endif %}
{%- if column.1 is ending_with("Null") %}
    #[serde(default)]
    pub {{column.0}}: Option<{{rust}}>,
{%- else %}
    pub {{column.0}}: {{rust}},
{%- endif %}
{%- endfor %}
}

/// `{{pascal}}Update`: a field left out stays as it is; a field that may be
/// empty is cleared when sent as `null`.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct {{pascal}}Update {
{%- for column in columns %}
{%- set base = column.1 | replace(from="Null", to="") | replace(from="Uniq", to="") %}
{%- set rust = "String" %}
{%- if base == "BigInteger" %}{% set rust = "i64" %}{% elif base == "Boolean" %}{% set rust = "bool" %}{% elif base == "Uuid" %}{% set rust = "Uuid" %}{% elif base == "TimestampWithTimeZone" %}{% set rust = "chrono::DateTime<chrono::FixedOffset>" %}{% elif base == "Date" %}{% set rust = "chrono::NaiveDate" %}{% elif base == "Double" %}{% set rust = "f64" %}{% endif %}
{%- if column.1 is ending_with("Null") %}
    #[serde(default, deserialize_with = "present")]
{%- endif %}
{%- if base == "String" %}
    #[validate(length(
        max = 255,
        code = "string_too_long",
        message = "String should have at most 255 characters"
    ))]
{%- elif base == "Text" %}
    #[validate(length(
        max = 10_000,
        code = "string_too_long",
        message = "String should have at most 10000 characters"
    ))]
{%- endif %}
{%- if column.1 is ending_with("Null") %}
    #[schema(value_type = Option<{{rust}}>)]
    pub {{column.0}}: Option<Option<{{rust}}>>,
{%- else %}
    pub {{column.0}}: Option<{{rust}}>,
{%- endif %}
{%- endfor %}
}

impl Model {
    #[must_use]
    pub const fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// Owners and admins may act on a {{snake}}; nobody else.
    #[must_use]
    pub fn is_managed_by(&self, user: &users::Model) -> bool {
        self.owner_id == user.id || user.is_admin()
    }

    /// The {{snake}} `id`, when `user` may act on it.
    ///
    /// # Errors
    /// `NotFound` when there is none (or it is archived and `archived`
    /// excludes it), `Forbidden` when it is someone else's.
    #[tracing::instrument(skip(db, user), fields(user_id = %user.id))]
    pub async fn find_for(
        db: &DatabaseConnection,
        id: Uuid,
        user: &users::Model,
        archived: Archived,
    ) -> Result<Self, AccessError> {
        let found = Entity::find().filter(Self::picking(id, archived)).one(db).await?;
        Self::managed_by(found, user)
    }

    /// The {{snake}} `id`, to be read beside its caller.
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

    /// What picks the {{snake}} `id` (and only when not archived, if
    /// `archived` excludes those).
    #[must_use]
    pub fn picking(id: Uuid, archived: Archived) -> Condition {
        let by_id = Condition::all().add(Column::Id.eq(id));
        match archived {
            Archived::Included => by_id,
            Archived::Excluded => by_id.add(Column::ArchivedAt.is_null()),
        }
    }

    /// The {{snake}} found, when `user` may act on it.
    ///
    /// # Errors
    /// `NotFound` when none was found, `Forbidden` when it is someone else's.
    pub fn managed_by(found: Option<Self>, user: &users::Model) -> Result<Self, AccessError> {
        let found = found.ok_or(AccessError::NotFound)?;
        if found.is_managed_by(user) {
            Ok(found)
        } else {
            Err(AccessError::Forbidden)
        }
    }

    /// What a user sees, oldest first: their own, or everyone's for an admin.
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

    /// # Errors
    /// On a database error.
    pub async fn create(
        db: &DatabaseConnection,
        owner_id: Uuid,
        params: &{{pascal}}Create,
    ) -> ModelResult<Self> {
        Ok(ActiveModel {
{%- for column in columns %}
{%- if column.1 is starting_with("String") or column.1 is starting_with("Text") %}
            {{column.0}}: ActiveValue::Set(params.{{column.0}}.clone()),
{%- else %}
            {{column.0}}: ActiveValue::Set(params.{{column.0}}),
{%- endif %}
{%- endfor %}
            owner_id: ActiveValue::Set(owner_id),
            ..Default::default()
        }
        .insert(db)
        .await?)
    }

    /// Deletes it and returns what it was.
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
        changes: &{{pascal}}Update,
    ) -> ModelResult<Model> {
{%- for column in columns %}
        if let Some({{column.0}}) = &changes.{{column.0}} {
{%- if column.1 is starting_with("String") or column.1 is starting_with("Text") %}
            self.{{column.0}} = ActiveValue::Set({{column.0}}.clone());
{%- else %}
            self.{{column.0}} = ActiveValue::Set(*{{column.0}});
{%- endif %}
        }
{%- endfor %}
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

// @generated-file src/models/_entities/{{plural}}.rs
//! `{{pascal}}`'s row. Written by `cargo loco generate`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, {% if not has_double %}Eq, {% endif %}DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "{{plural}}")]
pub struct Model {
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
{%- for column in columns %}
{%- set base = column.1 | replace(from="Null", to="") | replace(from="Uniq", to="") %}
{%- set rust = "String" %}
{%- if base == "BigInteger" %}{% set rust = "i64" %}{% elif base == "Boolean" %}{% set rust = "bool" %}{% elif base == "Uuid" %}{% set rust = "Uuid" %}{% elif base == "TimestampWithTimeZone" %}{% set rust = "DateTimeWithTimeZone" %}{% elif base == "Date" %}{% set rust = "Date" %}{% elif base == "Double" %}{% set rust = "f64" %}{% endif %}
{%- if column.1 is ending_with("Uniq") %}
    #[sea_orm(unique)]
{%- endif %}
{%- if base == "Text" %}
    #[sea_orm(column_type = "Text"{% if column.1 is ending_with("Null") %}, nullable{% endif %})]
{%- elif base == "Double" %}
    #[sea_orm(column_type = "Double"{% if column.1 is ending_with("Null") %}, nullable{% endif %})]
{%- endif %}
    pub {{column.0}}: {% if column.1 is ending_with("Null") %}Option<{{rust}}>{% else %}{{rust}}{% endif %},
{%- endfor %}
    pub owner_id: Uuid,
    pub archived_at: Option<DateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::OwnerId",
        to = "super::users::Column::Id",
        on_update = "Cascade",
        on_delete = "Cascade"
    )]
    Users,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}
// @end-generated-file
// @generated-file migration/src/{{module_name}}.rs
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "{{plural}}",
            &[
                ("id", ColType::PkUuid),
{%- for column in columns %}
                ("{{column.0}}", ColType::{{column.1}}),
{%- endfor %}
                ("owner_id", ColType::Uuid),
                ("archived_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "owner_id")],
        )
        .await?;
        // Lists are per owner (everyone's for an admin), oldest first, and
        // continue after a cursor on (created_at, id).
        m.create_index(
            Index::create()
                .name("idx-{{plural}}-owner_id-created_at-id")
                .table(Alias::new("{{plural}}"))
                .col(Alias::new("owner_id"))
                .col(Alias::new("created_at"))
                .col(Alias::new("id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-{{plural}}-created_at-id")
                .table(Alias::new("{{plural}}"))
                .col(Alias::new("created_at"))
                .col(Alias::new("id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "{{plural}}").await
    }
}
// @end-generated-file
