use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per scheduled run of a task: the key (task, slot) lets only one of
/// several server processes take each run.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("task_runs"))
                .col(ColumnDef::new(Alias::new("task")).string().not_null())
                .col(ColumnDef::new(Alias::new("slot")).big_integer().not_null())
                .col(
                    ColumnDef::new(Alias::new("ran_at"))
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(Alias::new("task"))
                        .col(Alias::new("slot")),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("task_runs")).to_owned())
            .await
    }
}
