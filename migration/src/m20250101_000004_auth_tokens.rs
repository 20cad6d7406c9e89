use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One live code per email; a new request replaces it.
        create_table(
            m,
            "one_time_passwords",
            &[
                ("id", ColType::PkUuid),
                ("email", ColType::StringUniq),
                ("purpose", ColType::String),
                ("code_hash", ColType::String),
                ("attempts", ColType::IntegerWithDefault(0)),
                ("expires_at", ColType::TimestampWithTimeZone),
            ],
            &[],
        )
        .await?;
        create_table(
            m,
            "refresh_tokens",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::Uuid),
                // Every token descends from one login; reuse of a revoked one ends them all.
                ("family_id", ColType::Uuid),
                ("expires_at", ColType::TimestampWithTimeZone),
                ("revoked_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "user_id")],
        )
        .await?;
        // Tokens that work once: password reset links, SSO confirmations.
        create_table(
            m,
            "single_use_tokens",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::Uuid),
                ("kind", ColType::String),
                ("expires_at", ColType::TimestampWithTimeZone),
                ("used_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "user_id")],
        )
        .await?;
        // A sign-in with a provider under way: its CSRF state and PKCE verifier.
        create_table(
            m,
            "sso_logins",
            &[
                ("id", ColType::PkUuid),
                ("state", ColType::StringUniq),
                ("provider", ColType::String),
                ("return_url", ColType::Text),
                ("pkce_verifier", ColType::String),
                ("expires_at", ColType::TimestampWithTimeZone),
            ],
            &[],
        )
        .await?;
        for (table, column) in [
            ("refresh_tokens", "user_id"),
            ("refresh_tokens", "family_id"),
            ("refresh_tokens", "expires_at"),
            ("single_use_tokens", "user_id"),
            ("single_use_tokens", "expires_at"),
            ("sso_logins", "expires_at"),
            ("one_time_passwords", "expires_at"),
        ] {
            m.create_index(
                Index::create()
                    .name(format!("idx-{table}-{column}"))
                    .table(Alias::new(table))
                    .col(Alias::new(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "sso_logins").await?;
        drop_table(m, "single_use_tokens").await?;
        drop_table(m, "refresh_tokens").await?;
        drop_table(m, "one_time_passwords").await
    }
}
