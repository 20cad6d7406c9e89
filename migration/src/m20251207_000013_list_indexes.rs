use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Lists are read in (created_at, id) order, per owner or for everyone, and
/// continue after a cursor on that pair: each list's index ends with both,
/// so that a page is a range of its index however deep it is, with no sort.
/// (table, columns before (none: a new index), columns after)
const REPLACED: [(&str, &[&str], &[&str]); 6] = [
    (
        "items",
        &["owner_id", "created_at"],
        &["owner_id", "created_at", "id"],
    ),
    ("items", &["created_at"], &["created_at", "id"]),
    // The owner's list; a user's usage keeps (owner_id, purpose, created_at).
    ("files", &[], &["purpose", "owner_id", "created_at", "id"]),
    (
        "files",
        &["purpose", "created_at"],
        &["purpose", "created_at", "id"],
    ),
    (
        "security_events",
        &["user_id", "created_at"],
        &["user_id", "created_at", "id"],
    ),
    ("sessions", &["user_id"], &["user_id", "created_at", "id"]),
];

fn name(table: &str, columns: &[&str]) -> String {
    format!("idx-{table}-{}", columns.join("-"))
}

async fn replace(
    m: &SchemaManager<'_>,
    table: &str,
    old: &[&str],
    new: &[&str],
) -> Result<(), DbErr> {
    if !old.is_empty() {
        m.drop_index(
            Index::drop()
                .name(name(table, old))
                .table(Alias::new(table))
                .to_owned(),
        )
        .await?;
    }
    if new.is_empty() {
        return Ok(());
    }
    let mut index = Index::create();
    index.name(name(table, new)).table(Alias::new(table));
    for column in new {
        index.col(Alias::new(*column));
    }
    m.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, old, new) in REPLACED {
            replace(m, table, old, new).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, old, new) in REPLACED {
            replace(m, table, new, old).await?;
        }
        Ok(())
    }
}
