use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "items",
            &[
                ("id", ColType::PkUuid),
                ("name", ColType::StringNull),
                ("description", ColType::TextNull),
                ("owner_id", ColType::Uuid),
                ("archived_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "owner_id")],
        )
        .await?;
        // Lists are per owner, oldest first.
        m.create_index(
            Index::create()
                .name("idx-items-owner_id-created_at")
                .table(Alias::new("items"))
                .col(Alias::new("owner_id"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-items-created_at")
                .table(Alias::new("items"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "items").await
    }
}
