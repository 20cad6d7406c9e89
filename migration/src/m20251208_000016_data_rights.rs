use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The user's data rights: when an account asked to be deleted goes (the
/// sweep finds the due ones by it), the anonymous record each deletion
/// leaves, and the archive of a user's data they asked for.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .add_column(
                    ColumnDef::new(Alias::new("deletes_at"))
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-users-deletes_at")
                .table(Alias::new("users"))
                .col(Alias::new("deletes_at"))
                .to_owned(),
        )
        .await?;
        create_table(
            m,
            "deleted_accounts",
            &[
                ("id", ColType::PkUuid),
                // who asked: the user, an admin or an operator
                ("requested_by", ColType::String),
            ],
            &[],
        )
        .await?;
        create_table(
            m,
            "data_exports",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::UuidUniq),
                ("state", ColType::String),
                ("storage_key", ColType::StringNull),
                ("expires_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "user_id")],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-data_exports-expires_at")
                .table(Alias::new("data_exports"))
                .col(Alias::new("expires_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "data_exports").await?;
        drop_table(m, "deleted_accounts").await?;
        m.drop_index(
            Index::drop()
                .name("idx-users-deletes_at")
                .table(Alias::new("users"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .drop_column(Alias::new("deletes_at"))
                .to_owned(),
        )
        .await
    }
}
