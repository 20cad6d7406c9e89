use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An owner's page of items is read from one index, in the list's order
/// (`created_at`, then `id`), with `archived_at` beside it: the page's ids
/// come from the index alone, however many items the owner or anyone else
/// has. (PostgreSQL keeps `archived_at` in the index as an included column;
/// SQLite, which has none, reads it from the row.)
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx-items-owner_id-created_at")
                .table(Alias::new("items"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-items-owner_id-created_at-id")
                .table(Alias::new("items"))
                .col(Alias::new("owner_id"))
                .col(Alias::new("created_at"))
                .col(Alias::new("id"))
                .include(Alias::new("archived_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx-items-owner_id-created_at-id")
                .table(Alias::new("items"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-items-owner_id-created_at")
                .table(Alias::new("items"))
                .col(Alias::new("owner_id"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await
    }
}
