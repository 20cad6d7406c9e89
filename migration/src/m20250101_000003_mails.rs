use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "mails",
            &[
                ("id", ColType::PkUuid),
                ("template", ColType::String),
                ("to_address", ColType::String),
                ("subject", ColType::String),
                ("html", ColType::Text),
                ("text", ColType::Text),
                ("status", ColType::String),
                ("attempts", ColType::IntegerWithDefault(0)),
                ("next_attempt_at", ColType::TimestampWithTimeZone),
                // While a delivery is under way; a stale lease means it died mid-way.
                ("locked_until", ColType::TimestampWithTimeZoneNull),
                ("last_error", ColType::TextNull),
                ("sent_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-mails-status-next_attempt_at")
                .table(Alias::new("mails"))
                .col(Alias::new("status"))
                .col(Alias::new("next_attempt_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "mails").await
    }
}
