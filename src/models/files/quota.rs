//! What one user's files may come to, and what they come to: checked
//! before an upload streams and again, under a lock on the owner, before its
//! row is written.

use sea_orm::sea_query::{Expr, Func};

use super::*;

/// What one user's files may come to; `None` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub bytes: Option<u64>,
    pub count: Option<u64>,
}

impl Quota {
    pub const NONE: Self = Self {
        bytes: None,
        count: None,
    };

    /// The most a new file may weigh on top of `usage`; `None` when `usage`
    /// leaves room for no more files.
    pub(super) fn room(self, usage: Usage) -> Option<u64> {
        if self.count.is_some_and(|count| usage.count >= count) {
            return None;
        }
        match self.bytes {
            Some(bytes) if usage.bytes >= bytes => None,
            Some(bytes) => Some(bytes - usage.bytes),
            None => Some(u64::MAX),
        }
    }
}

/// What one user's files come to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub count: u64,
}

impl Usage {
    /// The files (not the profile picture) `owner_id` keeps.
    ///
    /// # Errors
    /// On a database error.
    pub async fn of<C: ConnectionTrait>(db: &C, owner_id: Uuid) -> Result<Self, DbErr> {
        // SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back.
        let bytes = Expr::from(Func::cast_as(Func::sum(Expr::col(Column::Size)), "BIGINT"));
        let (bytes, count): (Option<i64>, i64) = Entity::find()
            .select_only()
            .column_as(bytes, "bytes")
            .column_as(Column::Id.count(), "count")
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::Purpose.eq(Purpose::File.as_str()))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or_default();
        Ok(Self {
            bytes: u64::try_from(bytes.unwrap_or_default()).unwrap_or_default(),
            count: u64::try_from(count).unwrap_or_default(),
        })
    }
}

impl NewFile<'_> {
    /// Inserts the row if its owner's files stay within `quota` with it.
    /// Uploads of one owner that end at once take turns (the owner's row is
    /// locked), so that together they cannot pass the quota either.
    pub(super) async fn insert_within(
        self,
        db: &DatabaseConnection,
        quota: Quota,
    ) -> Result<Model, FileError> {
        let txn = write_transaction::begin(db).await?;
        users::Entity::find_by_id(self.owner_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let usage = Usage::of(&txn, self.owner_id).await?;
        if quota.room(usage).is_none_or(|room| room < self.size) {
            return Err(FileError::OverQuota);
        }
        let file = self.insert(&txn).await?;
        txn.commit().await?;
        Ok(file)
    }
}
