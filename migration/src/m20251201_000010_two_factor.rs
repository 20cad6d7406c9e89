use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// TOTP two-factor sign-in: the user's secret (encrypted), whether it is on,
/// the last time step a code was accepted at (no replay); single-use recovery
/// codes, hashed; and tries on single-use tokens, for sign-in challenges.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_column(m, "users", "two_factor_secret", ColType::StringNull).await?;
        add_column(
            m,
            "users",
            "two_factor_enabled",
            ColType::BooleanWithDefault(false),
        )
        .await?;
        add_column(m, "users", "two_factor_last_step", ColType::BigIntegerNull).await?;
        add_column(
            m,
            "single_use_tokens",
            "attempts",
            ColType::IntegerWithDefault(0),
        )
        .await?;
        create_table(
            m,
            "recovery_codes",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::Uuid),
                ("code_hash", ColType::String),
                ("used_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "user_id")],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-recovery_codes-user_id")
                .table(Alias::new("recovery_codes"))
                .col(Alias::new("user_id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "recovery_codes").await?;
        remove_column(m, "single_use_tokens", "attempts").await?;
        remove_column(m, "users", "two_factor_last_step").await?;
        remove_column(m, "users", "two_factor_enabled").await?;
        remove_column(m, "users", "two_factor_secret").await
    }
}
