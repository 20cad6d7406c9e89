use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A session is one sign-in and the refresh tokens rotated from it (their
/// `family_id` is its id): where it was made, when last used, and until when
/// it can be refreshed. Ending one deletes its row, which voids its access
/// tokens.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            m,
            "sessions",
            &[
                ("id", ColType::PkUuid),
                ("user_id", ColType::Uuid),
                ("ip", ColType::String),
                ("user_agent", ColType::String),
                ("last_used_at", ColType::TimestampWithTimeZone),
                ("expires_at", ColType::TimestampWithTimeZone),
            ],
            &[("users", "user_id")],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx-sessions-user_id")
                .table(Alias::new("sessions"))
                .col(Alias::new("user_id"))
                .to_owned(),
        )
        .await?;
        // The sign-ins alive at the upgrade stay signed in; where they were
        // made is not known.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO sessions \
                   (id, user_id, ip, user_agent, created_at, updated_at, last_used_at, expires_at) \
                 SELECT family_id, user_id, '', '', MIN(created_at), MAX(created_at), \
                        MAX(created_at), MAX(expires_at) \
                 FROM refresh_tokens WHERE revoked_at IS NULL \
                 GROUP BY family_id, user_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_table(m, "sessions").await
    }
}
