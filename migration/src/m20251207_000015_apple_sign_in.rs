use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Sign in with Apple and native ID-token sign-in: the nonce a provider
/// sign-in under way sends (Apple's ID token carries it back), the refresh
/// token a provider hands out (sealed; Apple wants it revoked when the
/// account goes), and the native ID tokens already traded (each is taken
/// once, and remembered until it expires).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("sso_logins"))
                .add_column(ColumnDef::new(Alias::new("nonce")).string().null())
                .to_owned(),
        )
        .await?;
        create_table(
            m,
            "provider_tokens",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::UuidUniq),
                ("provider", ColType::String),
                // for the provider's client id that received it
                ("client_id", ColType::String),
                ("sealed_refresh_token", ColType::Text),
            ],
            &[("users", "user_id")],
        )
        .await?;
        create_table(
            m,
            "spent_id_tokens",
            &[
                // SHA-256 of the token, hex
                ("digest", ColType::StringUniq),
                ("id", ColType::PkUuid),
                ("expires_at", ColType::TimestampWithTimeZone),
            ],
            &[],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-spent_id_tokens-expires_at")
                .table(Alias::new("spent_id_tokens"))
                .col(Alias::new("expires_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "spent_id_tokens").await?;
        drop_table(m, "provider_tokens").await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("sso_logins"))
                .drop_column(Alias::new("nonce"))
                .to_owned(),
        )
        .await
    }
}
