use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Passkeys (WebAuthn credentials) and the ceremonies that make and use
/// them: a ceremony's state lives here between its options and its answer,
/// for five minutes, and is taken once.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "passkeys",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::Uuid),
                // base64url of the credential id, as clients send it
                ("credential_id", ColType::StringUniq),
                ("name", ColType::String),
                // the relying party library's record: public key, counter,
                // transports, backup flags
                ("credential", ColType::Text),
                ("backed_up", ColType::BooleanWithDefault(false)),
                ("last_used_at", ColType::TimestampWithTimeZoneNull),
            ],
            &[("users", "user_id")],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-passkeys-user_id-created_at-id")
                .table(Alias::new("passkeys"))
                .col(Alias::new("user_id"))
                .col(Alias::new("created_at"))
                .col(Alias::new("id"))
                .to_owned(),
        )
        .await?;
        create_table(
            m,
            "passkey_ceremonies",
            &[
                ("id", ColType::PkUuid),
                ("purpose", ColType::String),
                ("user_id", ColType::UuidNull),
                ("state", ColType::Text),
                ("expires_at", ColType::TimestampWithTimeZone),
            ],
            &[("users", "user_id")],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-passkey_ceremonies-expires_at")
                .table(Alias::new("passkey_ceremonies"))
                .col(Alias::new("expires_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "passkey_ceremonies").await?;
        drop_table(m, "passkeys").await
    }
}
