use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "users",
            &[
                ("id", ColType::PkUuid),
                ("email", ColType::StringUniq),
                // Accounts made by one-time code or SSO have no password.
                ("hashed_password", ColType::StringNull),
                ("first_name", ColType::StringWithDefault(String::new())),
                ("last_name", ColType::StringWithDefault(String::new())),
                ("language", ColType::StringWithDefault("en".to_string())),
                ("role", ColType::StringWithDefault("customer".to_string())),
                ("provider", ColType::StringWithDefault("email".to_string())),
                ("provider_id", ColType::StringNull),
                ("confirmed", ColType::BooleanWithDefault(false)),
                ("archived_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-users-provider-provider_id")
                .table(Alias::new("users"))
                .col(Alias::new("provider"))
                .col(Alias::new("provider_id"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-users-created_at")
                .table(Alias::new("users"))
                .col(Alias::new("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "users").await
    }
}
