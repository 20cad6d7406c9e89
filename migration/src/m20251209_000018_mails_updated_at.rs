use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The readiness probe reads the latest delivery (`mails::Model::last_delivery`)
/// on every call, and `/_health` is open to anyone: without this index each
/// call scanned every mail kept.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx-mails-updated_at")
                .table(Alias::new("mails"))
                .col(Alias::new("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx-mails-updated_at")
                .table(Alias::new("mails"))
                .to_owned(),
        )
        .await
    }
}
