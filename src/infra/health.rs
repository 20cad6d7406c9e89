//! Readiness: each dependency's state and how long its check took. Only the
//! database is essential: without Redis limits are counted in memory,
//! without the file store only files fail, and mail waits in the outbox.

use std::time::{Duration, Instant};

use loco_rs::app::AppContext;
use tokio::sync::Mutex;

use crate::{
    infra::{rate_limit::LimitStore, state::AppState},
    models::{files, mails},
    views::monitoring::{Check, CheckState, Checks, Readiness},
};

/// A write to the store is tried at most this often: on S3 each costs a
/// request, and probes come every few seconds.
const WRITE_CHECK_EVERY: Duration = Duration::from_secs(60);

/// The last write check: when, and whether the store took it.
#[derive(Default)]
pub struct WriteCheck(Mutex<Option<(Instant, bool)>>);

impl WriteCheck {
    async fn store_takes_writes(&self, ctx: &AppContext) -> bool {
        let mut last = self.0.lock().await;
        match *last {
            Some((at, takes)) if at.elapsed() < WRITE_CHECK_EVERY => takes,
            _ => {
                let takes = files::store_takes_writes(&ctx.storage).await;
                *last = Some((Instant::now(), takes));
                takes
            }
        }
    }
}

fn milliseconds(took: Duration) -> Option<f64> {
    Some((took.as_secs_f64() * 10_000.0).round() / 10.0)
}

const fn up_or_down(up: bool) -> CheckState {
    if up { CheckState::Up } else { CheckState::Down }
}

/// Every dependency, checked at once.
pub async fn readiness(ctx: &AppContext, state: &AppState) -> Readiness {
    let started = Instant::now();
    let (database, rate_limits, storage, smtp) = tokio::join!(
        async { (ctx.db.ping().await, started.elapsed()) },
        async { (state.limiter.store().await, started.elapsed()) },
        async {
            let up = files::store_answers(&ctx.storage).await
                && state.store_writes.store_takes_writes(ctx).await;
            (up, started.elapsed())
        },
        smtp(ctx, state),
    );
    if let Err(error) = &database.0 {
        tracing::error!(%error, "health check: database unreachable");
    }
    let database = Check {
        state: up_or_down(database.0.is_ok()),
        essential: true,
        latency_ms: milliseconds(database.1),
        since: None,
    };
    let redis = (rate_limits.0 != LimitStore::Memory).then(|| Check {
        state: up_or_down(rate_limits.0 == LimitStore::Redis),
        essential: false,
        latency_ms: milliseconds(rate_limits.1),
        since: None,
    });
    let storage = Check {
        state: up_or_down(storage.0),
        essential: false,
        latency_ms: milliseconds(storage.1),
        since: None,
    };
    let ok = database.state == CheckState::Up;
    Readiness {
        ok,
        detail: (!ok).then(|| "Database unreachable".to_string()),
        rate_limits: rate_limits.0,
        storage: storage.state,
        checks: Checks {
            database,
            redis,
            storage,
            smtp,
        },
    }
}

/// The last delivery's outcome, read from the outbox: no connection per
/// probe, and the deliveries of every process count.
async fn smtp(ctx: &AppContext, state: &AppState) -> Check {
    let off = Check {
        state: CheckState::Off,
        essential: false,
        latency_ms: None,
        since: None,
    };
    if !state.settings.emails_enabled() || ctx.mailer.is_none() {
        return off;
    }
    match mails::Model::last_delivery(&ctx.db).await {
        Ok(Some((at, sent))) => Check {
            state: up_or_down(sent),
            since: Some(at.to_utc()),
            ..off
        },
        Ok(None) | Err(_) => Check {
            state: CheckState::Unknown,
            ..off
        },
    }
}
