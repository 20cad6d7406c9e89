use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Wrong codes are counted per factor, for an account and for a source, and
/// lock the subject out for a while rather than for the rest of a day. The
/// old counts are dropped with their table: they lived a day at most.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("code_budgets")).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("code_budgets"))
                .col(ColumnDef::new(Alias::new("factor")).string().not_null())
                .col(ColumnDef::new(Alias::new("subject")).string().not_null())
                .col(
                    ColumnDef::new(Alias::new("failures"))
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Alias::new("locks"))
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Alias::new("locked_until"))
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(Alias::new("updated_at"))
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(Alias::new("factor"))
                        .col(Alias::new("subject")),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("code_budgets")).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("code_budgets"))
                .col(
                    ColumnDef::new(Alias::new("email"))
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Alias::new("failures"))
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Alias::new("window_started_at"))
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }
}
