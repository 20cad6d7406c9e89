//! Ids and timestamps filled in by the application, not by database defaults:
//! the same on SQLite and PostgreSQL, and precise enough (microseconds, what
//! PostgreSQL keeps) for "oldest first" to mean creation order.

use chrono::{DurationRound, TimeDelta, Utc};
use sea_orm::{ActiveValue, prelude::DateTimeWithTimeZone};
use uuid::Uuid;

#[must_use]
pub fn now() -> DateTimeWithTimeZone {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
        .into()
}

/// Gives a new row its id and creation time, and any saved row its update time.
pub fn stamp(
    insert: bool,
    id: &mut ActiveValue<Uuid>,
    created_at: &mut ActiveValue<DateTimeWithTimeZone>,
    updated_at: &mut ActiveValue<DateTimeWithTimeZone>,
) {
    let now = now();
    if insert {
        if id.is_not_set() {
            *id = ActiveValue::Set(Uuid::new_v4());
        }
        *created_at = ActiveValue::Set(now);
    }
    *updated_at = ActiveValue::Set(now);
}

/// `ActiveModelBehavior` for a table with `id`, `created_at` and `updated_at`:
/// every save goes through `stamp`.
macro_rules! stamped_model {
    () => {
        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                let mut this = self;
                $crate::models::timestamps::stamp(
                    insert,
                    &mut this.id,
                    &mut this.created_at,
                    &mut this.updated_at,
                );
                Ok(this)
            }
        }
    };
}
pub(crate) use stamped_model;
