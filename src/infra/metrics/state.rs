//! What the metrics read when scraped: the database pool, the mail queue,
//! the scheduled tasks' runs (each runs in a process of its own, so they
//! are read from the database), where rate limits are counted, and the
//! process.

use std::time::{Duration, Instant, SystemTime};

use loco_rs::app::AppContext;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};
use sea_orm::{DatabaseConnection, DatabaseConnectionType, sqlx};

use super::{FloatGauge, unix_seconds};
use crate::{
    infra::rate_limit::{LimitStore, RateLimiter},
    models::{
        mails::{self, MailStatus},
        task_runs,
    },
};

/// How long a scrape waits for a pooled connection to time the wait.
const ACQUIRE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabel {
    task: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabel {
    store: &'static str,
}

pub(super) struct StateGauges {
    pool_connections: Family<StateLabel, Gauge>,
    pool_max: Gauge,
    pool_acquire: FloatGauge,
    mails: Family<StatusLabel, Gauge>,
    mail_oldest_waiting: FloatGauge,
    task_runs: Family<TaskLabel, Gauge>,
    task_failures: Family<TaskLabel, Gauge>,
    task_last_success: Family<TaskLabel, FloatGauge>,
    task_longest: Family<TaskLabel, FloatGauge>,
    rate_limit_store: Family<StoreLabel, Gauge>,
    resident_memory: Gauge,
    open_fds: Gauge,
}

impl StateGauges {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let gauges = Self {
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            pool_acquire: FloatGauge::default(),
            mails: Family::default(),
            mail_oldest_waiting: FloatGauge::default(),
            task_runs: Family::default(),
            task_failures: Family::default(),
            task_last_success: Family::default(),
            task_longest: Family::default(),
            rate_limit_store: Family::default(),
            resident_memory: Gauge::default(),
            open_fds: Gauge::default(),
        };
        registry.register(
            "db_pool_connections",
            "Pooled database connections, idle or in use",
            gauges.pool_connections.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "The most connections the pool opens",
            gauges.pool_max.clone(),
        );
        registry.register(
            "db_pool_acquire_seconds",
            "How long the scrape waited for a pooled connection (the wait a request meets now)",
            gauges.pool_acquire.clone(),
        );
        registry.register(
            "mail_messages",
            "Mails in the outbox by status (sent ones are kept SENT_MAIL_RETENTION_DAYS)",
            gauges.mails.clone(),
        );
        registry.register(
            "mail_oldest_waiting_seconds",
            "Age of the oldest mail not yet sent (0 when none waits)",
            gauges.mail_oldest_waiting.clone(),
        );
        registry.register(
            "scheduled_task_runs",
            "Scheduled runs of a task over the last two days",
            gauges.task_runs.clone(),
        );
        registry.register(
            "scheduled_task_failures",
            "Scheduled runs of a task that failed, over the last two days",
            gauges.task_failures.clone(),
        );
        registry.register(
            "scheduled_task_last_success_timestamp_seconds",
            "When a scheduled run of a task last succeeded",
            gauges.task_last_success.clone(),
        );
        registry.register(
            "scheduled_task_longest_run_seconds",
            "The longest scheduled run of a task over the last two days",
            gauges.task_longest.clone(),
        );
        registry.register(
            "rate_limit_store",
            "Where rate limits are counted now (1 for the store in use)",
            gauges.rate_limit_store.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the process",
            gauges.resident_memory.clone(),
        );
        registry.register(
            "process_open_fds",
            "Open file descriptors of the process",
            gauges.open_fds.clone(),
        );
        gauges
    }

    /// Reads every state now. What cannot be read is logged and left out
    /// of this scrape rather than failing it.
    pub(super) async fn read(&self, ctx: &AppContext, limiter: &RateLimiter) {
        // First, alone: the scrape's own queries would make the wait longer.
        self.read_pool(ctx).await;
        let (_, _, store) = tokio::join!(
            self.read_mail(&ctx.db),
            self.read_tasks(&ctx.db),
            limiter.store()
        );
        self.rate_limit_store.clear();
        let store = match store {
            LimitStore::Memory => "memory",
            LimitStore::Redis => "redis",
            LimitStore::MemoryFallback => "memory_fallback",
        };
        self.rate_limit_store
            .get_or_create(&StoreLabel { store })
            .set(1);
        self.read_process();
    }

    async fn read_pool(&self, ctx: &AppContext) {
        let db = &ctx.db;
        let (size, idle, acquired) = match &db.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                probe(db.get_postgres_connection_pool()).await
            }
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                probe(db.get_sqlite_connection_pool()).await
            }
            _ => return,
        };
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let in_use = i64::from(size) - idle;
        self.pool_connections
            .get_or_create(&StateLabel { state: "idle" })
            .set(idle);
        self.pool_connections
            .get_or_create(&StateLabel { state: "in_use" })
            .set(in_use.max(0));
        self.pool_max
            .set(i64::from(ctx.config.database.max_connections));
        self.pool_acquire
            .set(acquired.unwrap_or(ACQUIRE_PROBE_TIMEOUT).as_secs_f64());
    }

    async fn read_mail(&self, db: &DatabaseConnection) {
        let queue = match mails::Model::queue_state(db).await {
            Ok(queue) => queue,
            Err(error) => return tracing::warn!(%error, "metrics: the outbox could not be read"),
        };
        for status in ["queued", "sending", "sent", "failed"] {
            let count = queue
                .by_status
                .iter()
                .find(|(of, _)| status_name(of) == status)
                .map_or(0, |(_, count)| *count);
            self.mails.get_or_create(&StatusLabel { status }).set(count);
        }
        let waited = queue.oldest_waiting.map_or(0.0, |since| {
            (chrono::Utc::now() - since.to_utc())
                .to_std()
                .unwrap_or_default()
                .as_secs_f64()
        });
        self.mail_oldest_waiting.set(waited);
    }

    async fn read_tasks(&self, db: &DatabaseConnection) {
        let summaries = match task_runs::Model::summaries(db).await {
            Ok(summaries) => summaries,
            Err(error) => {
                return tracing::warn!(%error, "metrics: the scheduled runs could not be read");
            }
        };
        for family in [&self.task_runs, &self.task_failures] {
            family.clear();
        }
        self.task_last_success.clear();
        self.task_longest.clear();
        for summary in summaries {
            let label = TaskLabel { task: summary.task };
            self.task_runs.get_or_create(&label).set(summary.runs);
            self.task_failures
                .get_or_create(&label)
                .set(summary.failures.unwrap_or(0));
            if let Some(at) = summary.last_success {
                let at = SystemTime::from(at.to_utc());
                self.task_last_success
                    .get_or_create(&label)
                    .set(unix_seconds(at));
            }
            if let Some(longest) = summary.longest_ms {
                self.task_longest
                    .get_or_create(&label)
                    .set(Duration::from_millis(longest.max(0).unsigned_abs()).as_secs_f64());
            }
        }
    }

    /// Linux's `/proc`; elsewhere these stay unread.
    fn read_process(&self) {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let kib = status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<i64>()
                        .ok()
                });
            if let Some(kib) = kib {
                self.resident_memory.set(kib.saturating_mul(1024));
            }
        }
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds
                .set(i64::try_from(entries.count()).unwrap_or(i64::MAX));
        }
    }
}

/// The pool's size and idle connections, and how long taking one took
/// (none when it could not be taken in time).
async fn probe<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> (u32, usize, Option<Duration>) {
    let started = Instant::now();
    let acquired = tokio::time::timeout(ACQUIRE_PROBE_TIMEOUT, pool.acquire()).await;
    let took = started.elapsed();
    let acquired = matches!(acquired, Ok(Ok(_)));
    (pool.size(), pool.num_idle(), acquired.then_some(took))
}

const fn status_name(status: &MailStatus) -> &'static str {
    match status {
        MailStatus::Queued => "queued",
        MailStatus::Sending => "sending",
        MailStatus::Sent => "sent",
        MailStatus::Failed => "failed",
    }
}
