//! Scheduled runs of tasks, so that with several server processes (each with
//! its scheduler) a run happens once.

use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::OnConflict,
};

pub use super::_entities::task_runs::{ActiveModel, Column, Entity, Model};

/// Runs are kept this long, then forgotten.
const KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(2);

impl Model {
    /// Takes the run of `task` due now, for a task scheduled every `period`
    /// seconds: true for the first process to ask, false for the others. The
    /// run is the scheduled time nearest to now, so clocks a little apart
    /// (under half a period) name the same run.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim(
        db: &DatabaseConnection,
        task: &str,
        period: u64,
    ) -> Result<bool, sea_orm::DbErr> {
        let now = Utc::now();
        let period = i64::try_from(period.max(1)).unwrap_or(i64::MAX);
        let slot = (now.timestamp() + period / 2) / period;
        let run = ActiveModel {
            task: ActiveValue::Set(task.to_string()),
            slot: ActiveValue::Set(slot),
            ran_at: ActiveValue::Set(now.into()),
        };
        let inserted = Entity::insert(run)
            .on_conflict(
                OnConflict::columns([Column::Task, Column::Slot])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            Entity::delete_many()
                .filter(Column::Task.eq(task))
                .filter(Column::RanAt.lt(now - KEPT_FOR))
                .exec(db)
                .await?;
        }
        Ok(inserted == 1)
    }
}
