//! Scheduled runs of tasks, so that with several server processes (each with
//! its scheduler) a run happens once; and how each ended, which the server's
//! metrics read (the scheduler runs each task in a process of its own).

use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
    prelude::{DateTimeWithTimeZone, Expr},
    sea_query::{CaseStatement, Func, OnConflict},
};

pub use super::_entities::task_runs::{ActiveModel, Column, Entity, Model};

/// Runs are kept this long, then forgotten.
const KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(2);

impl Model {
    /// Takes the run of `task` due now, for a task scheduled every `period`
    /// seconds: its slot for the first process to ask, none for the others.
    /// The run is the scheduled time nearest to now, so clocks a little apart
    /// (under half a period) name the same run.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim(
        db: &DatabaseConnection,
        task: &str,
        period: u64,
    ) -> Result<Option<i64>, sea_orm::DbErr> {
        let now = Utc::now();
        let period = i64::try_from(period.max(1)).unwrap_or(i64::MAX);
        let slot = (now.timestamp() + period / 2) / period;
        let run = ActiveModel {
            task: ActiveValue::Set(task.to_string()),
            slot: ActiveValue::Set(slot),
            ran_at: ActiveValue::Set(now.into()),
            ..Default::default()
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
        Ok((inserted == 1).then_some(slot))
    }

    /// Records how the run `slot` of `task` ended.
    ///
    /// # Errors
    /// On a database error.
    pub async fn finish(
        db: &DatabaseConnection,
        (task, slot): (&str, i64),
        succeeded: bool,
        took: std::time::Duration,
    ) -> Result<(), sea_orm::DbErr> {
        Entity::update_many()
            .col_expr(
                Column::FinishedAt,
                Expr::value(DateTimeWithTimeZone::from(Utc::now())),
            )
            .col_expr(Column::Succeeded, Expr::value(succeeded))
            .col_expr(
                Column::DurationMs,
                Expr::value(i64::try_from(took.as_millis()).unwrap_or(i64::MAX)),
            )
            .filter(Column::Task.eq(task))
            .filter(Column::Slot.eq(slot))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Each task's runs over the days they are kept.
    ///
    /// # Errors
    /// On a database error.
    pub async fn summaries(db: &DatabaseConnection) -> Result<Vec<TaskSummary>, sea_orm::DbErr> {
        let failed = CaseStatement::new()
            .case(Column::Succeeded.eq(false), 1)
            .finally(0);
        let succeeded_at = CaseStatement::new()
            .case(Column::Succeeded.eq(true), Expr::col(Column::FinishedAt))
            .finally(Expr::null());
        Entity::find()
            .select_only()
            .column(Column::Task)
            .column_as(Column::Slot.count(), "runs")
            .column_as(Expr::from(Func::sum(failed)), "failures")
            .column_as(Expr::from(Func::max(succeeded_at)), "last_success")
            .column_as(Column::DurationMs.max(), "longest_ms")
            .group_by(Column::Task)
            .into_model::<TaskSummary>()
            .all(db)
            .await
    }
}

/// A task's runs over the days they are kept: how many, how many failed,
/// when one last succeeded, and the longest.
#[derive(Debug, FromQueryResult)]
pub struct TaskSummary {
    pub task: String,
    pub runs: i64,
    pub failures: Option<i64>,
    pub last_success: Option<DateTimeWithTimeZone>,
    pub longest_ms: Option<i64>,
}
