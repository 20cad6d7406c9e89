use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Stored files and profile pictures (their bytes live in the file store,
/// under `storage_key`); the user's current picture; and the objects whose
/// rows are gone but whose bytes could not be removed yet.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "files",
            &[
                ("id", ColType::PkUuid),
                ("owner_id", ColType::Uuid),
                ("name", ColType::String),
                ("mime_type", ColType::String),
                ("size", ColType::BigInteger),
                ("storage_key", ColType::StringUniq),
                ("purpose", ColType::String),
            ],
            &[("users", "owner_id")],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-files-owner_id-purpose-created_at")
                .table(Alias::new("files"))
                .col(Alias::new("owner_id"))
                .col(Alias::new("purpose"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-files-purpose-created_at")
                .table(Alias::new("files"))
                .col(Alias::new("purpose"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await?;
        // No foreign key: SQLite cannot add one to an existing table, and the
        // model changes both sides in one transaction.
        add_column(m, "users", "profile_picture_id", ColType::UuidNull).await?;
        create_table(
            m,
            "file_deletions",
            &[
                ("id", ColType::PkUuid),
                ("storage_key", ColType::StringUniq),
            ],
            &[],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "file_deletions").await?;
        remove_column(m, "users", "profile_picture_id").await?;
        drop_table(m, "files").await
    }
}
