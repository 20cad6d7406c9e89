//! Prometheus metrics, one registry per app (each test's app counts its
//! own). What happens is counted as it happens: requests, sign-ins, mail
//! deliveries, jobs, rate-limit refusals. What is a state (the pool, the mail
//! queue, the scheduled tasks' runs, the process) is read when scraped
//! (`state`). The text is OpenMetrics, which Prometheus asks for first.

mod state;

use std::{
    future::Future,
    sync::atomic::AtomicU64,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use loco_rs::app::AppContext;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram, info::Info},
    registry::Registry,
};
use tracing::Instrument;

use self::state::StateGauges;
use crate::infra::rate_limit::RateLimiter;

/// The commit the binary was built from (`BUILD_SHA` at build time).
pub const COMMIT: &str = match option_env!("BUILD_SHA") {
    Some(sha) => sha,
    None => "dev",
};

/// The content type of what `render` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request no route took: one label for all of them,
/// whatever their paths.
pub const UNMATCHED: &str = "unmatched";

/// Resolves 1 ms to 500 ms, and what is slower.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Jobs run longer: an export writes for minutes.
const JOB_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0];

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignInLabels {
    pub path: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    worker: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobName {
    worker: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: &'static str,
    pub scope: &'static str,
}

/// How a mail delivery went, as the metrics count it.
#[derive(Debug, Clone, Copy)]
pub enum MailOutcome {
    Sent,
    Retried,
    Failed,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
    sign_ins: Family<SignInLabels, Counter>,
    mail_deliveries: Family<OutcomeLabels, Counter>,
    jobs: Family<JobLabels, Counter>,
    job_duration: Family<JobName, Histogram>,
    job_last_success: Family<JobName, FloatGauge>,
    state: StateGauges,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn job_histogram() -> Histogram {
    Histogram::new(JOB_BUCKETS)
}

/// Seconds since the epoch, as Prometheus keeps times.
fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

impl Metrics {
    /// Every metric, registered; `version` and `commit` name the build, and
    /// `rate_limit_refusals` is the rate limiter's count.
    #[must_use]
    pub fn new(
        (version, commit): (&str, &str),
        rate_limit_refusals: Family<RuleLabels, Counter>,
    ) -> Self {
        let mut registry = Registry::default();
        let requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let request_duration = Family::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            request_duration.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered",
            in_flight.clone(),
        );
        let sign_ins = Family::default();
        registry.register(
            "sign_in_attempts",
            "Sign-in attempts by way in and outcome",
            sign_ins.clone(),
        );
        let mail_deliveries = Family::default();
        registry.register(
            "mail_deliveries",
            "Mail deliveries tried by this process: sent, failed and retried later, or given up",
            mail_deliveries.clone(),
        );
        let jobs = Family::default();
        registry.register(
            "jobs",
            "Background jobs run by this process, by worker and outcome",
            jobs.clone(),
        );
        let job_duration = Family::new_with_constructor(job_histogram as fn() -> _);
        registry.register(
            "job_duration_seconds",
            "Time a background job ran, by worker",
            job_duration.clone(),
        );
        let job_last_success = Family::default();
        registry.register(
            "job_last_success_timestamp_seconds",
            "When a background job last succeeded in this process",
            job_last_success.clone(),
        );
        registry.register(
            "rate_limit_refusals",
            "Requests refused by a rate limit, by rule and what it counts (ip, email)",
            rate_limit_refusals,
        );
        registry.register(
            "build",
            "The running build",
            Info::new(vec![
                ("version", version.to_string()),
                ("commit", commit.to_string()),
            ]),
        );
        let state = StateGauges::register(&mut registry);
        Self {
            registry,
            requests,
            request_duration,
            in_flight,
            sign_ins,
            mail_deliveries,
            jobs,
            job_duration,
            job_last_success,
            state,
        }
    }

    /// A request begins: in flight until `request_ended`.
    pub fn request_started(&self) {
        self.in_flight.inc();
    }

    pub fn request_ended(&self) {
        self.in_flight.dec();
    }

    /// A request answered.
    pub fn request_answered(&self, labels: RequestLabels, took: Duration) {
        let route = RouteLabels {
            method: labels.method,
            route: labels.route.clone(),
        };
        self.request_duration
            .get_or_create(&route)
            .observe(took.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

    pub fn sign_in(&self, path: &'static str, outcome: &'static str) {
        self.sign_ins
            .get_or_create(&SignInLabels { path, outcome })
            .inc();
    }

    pub fn mail_delivered(&self, outcome: MailOutcome) {
        let outcome = match outcome {
            MailOutcome::Sent => "sent",
            MailOutcome::Retried => "retried",
            MailOutcome::Failed => "failed",
        };
        self.mail_deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Runs a job of `worker` in a span of its own (exported with traces on),
    /// counting its run, outcome and time. The label is not `job`, which
    /// Prometheus gives the scraped target.
    ///
    /// # Errors
    /// `work`'s.
    pub async fn job<T, E>(
        &self,
        worker: &'static str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let span = tracing::info_span!("job", "otel.name" = worker, worker);
        let outcome = work.instrument(span).await;
        let name = JobName { worker };
        self.job_duration
            .get_or_create(&name)
            .observe(started.elapsed().as_secs_f64());
        let label = if outcome.is_ok() {
            self.job_last_success
                .get_or_create(&name)
                .set(unix_seconds(SystemTime::now()));
            "succeeded"
        } else {
            "failed"
        };
        self.jobs
            .get_or_create(&JobLabels {
                worker,
                outcome: label,
            })
            .inc();
        outcome
    }

    /// The exposition: the counts, and the states read now from `ctx`'s
    /// database, `limiter` and the process.
    pub async fn render(&self, ctx: &AppContext, limiter: &RateLimiter) -> String {
        self.state.read(ctx, limiter).await;
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::error!(%error, "metrics could not be written");
        }
        text
    }
}
