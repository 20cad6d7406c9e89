use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What happened to an account's security, when, and from where.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "security_events",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::Uuid),
                ("kind", ColType::String),
                ("ip", ColType::String),
                ("user_agent", ColType::String),
                ("detail", ColType::StringNull),
            ],
            &[("users", "user_id")],
        )
        .await?;
        // A user's log, newest first; and the hourly purge by age.
        m.create_index(
            Index::create()
                .name("idx-security_events-user_id-created_at")
                .table(Alias::new("security_events"))
                .col(Alias::new("user_id"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-security_events-created_at")
                .table(Alias::new("security_events"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "security_events").await
    }
}
