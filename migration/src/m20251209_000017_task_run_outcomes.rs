use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How each scheduled run ended, and how long it took: the scheduler runs
/// each task in a process of its own, so the server's metrics read them
/// here. One column per statement: SQLite alters one at a time.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Alias::new("finished_at"))
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("succeeded"))
                .boolean()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("duration_ms"))
                .big_integer()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("task_runs"))
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["duration_ms", "succeeded", "finished_at"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("task_runs"))
                    .drop_column(Alias::new(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
