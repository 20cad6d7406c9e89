//! Traces over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, read with
//! the other standard OpenTelemetry variables (`OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ...; `OTEL_SERVICE_NAME`, by default
//! the project's name): the spans of each request, of its database
//! statements, of jobs and of calls to providers, SMTP and S3, sent in
//! batches to `{endpoint}/v1/traces`. A client's W3C `traceparent` is
//! continued. Unset, Loco's logger is set up as it always is and nothing
//! here runs.

use std::{sync::OnceLock, time::SystemTime};

use axum::http::HeaderMap;
use loco_rs::{app::Hooks, config::Config, logger};
use opentelemetry::{
    KeyValue, global,
    propagation::Extractor,
    trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _},
};
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, Tracer},
};
use sea_orm::{DatabaseConnection, DbBackend, metric};
use tracing::Level;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    Layer, Registry, filter::Targets, layer::SubscriberExt, util::SubscriberInitExt,
};

/// The variable that turns traces on.
pub const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
static TRACER: OnceLock<Tracer> = OnceLock::new();

/// Whether spans are exported: what only tracing needs is skipped otherwise.
pub fn enabled() -> bool {
    PROVIDER.get().is_some()
}

/// With an endpoint, sets up Loco's log (its format, filter and stdout) and
/// the exporter beside it, and answers true; without, answers false and
/// Loco sets up its log as always.
///
/// # Errors
/// When the exporter cannot be built (an endpoint that is not a URL) or a
/// subscriber is already set.
pub fn init<H: Hooks>(config: &Config) -> loco_rs::Result<bool> {
    if std::env::var(ENDPOINT)
        .unwrap_or_default()
        .trim()
        .is_empty()
    {
        return Ok(false);
    }
    let failed =
        |error: &dyn std::fmt::Display| loco_rs::Error::string(&format!("traces: {error}"));
    let exporter = SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|error| failed(&error))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name(config))
                .build(),
        )
        .build();
    let tracer = provider.tracer(env!("CARGO_CRATE_NAME"));
    let _ = TRACER.set(tracer.clone());
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();
    let log = &config.logger;
    if log.enable {
        let filter = logger::init_env_filter::<H>(log.override_filter.as_ref(), &log.level);
        layers.push(
            logger::init_layer(std::io::stdout, &log.format, true)
                .with_filter(filter)
                .boxed(),
        );
    }
    layers.push(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(traced())
            .boxed(),
    );
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|error| failed(&error))?;
    global::set_text_map_propagator(TraceContextPropagator::new());
    let _ = PROVIDER.set(provider);
    if log.file_appender.as_ref().is_some_and(|file| file.enable) {
        tracing::warn!("logger.file_appender is not written while traces are exported: stdout is");
    }
    Ok(true)
}

/// The spans exported: the app's own (requests, jobs, outgoing calls).
fn traced() -> Targets {
    Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::INFO)
}

/// With traces on, has `db` give each statement a span, a child of the span
/// it ran in, timed as it ran: from SeaORM's callback after each statement,
/// which costs nothing while unset (its own spans would cost every statement
/// a tenth more instructions, traces on or off: BENCHMARKS.md, "Metrics and
/// traces").
pub fn trace_statements(db: &mut DatabaseConnection) {
    if !enabled() {
        return;
    }
    let system = match db.get_database_backend() {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    db.set_metric_callback(move |statement| statement_span(system, statement));
}

fn statement_span(system: &'static str, statement: &metric::Info<'_>) {
    let Some(tracer) = TRACER.get() else {
        return;
    };
    let end = SystemTime::now();
    let sql = &statement.statement.sql;
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let parent = tracing::Span::current().context();
    let mut span = tracer
        .span_builder(format!("{operation} {system}"))
        .with_kind(SpanKind::Client)
        .with_start_time(end.checked_sub(statement.elapsed).unwrap_or(end))
        .with_attributes([
            KeyValue::new("db.system", system),
            KeyValue::new("db.operation", operation),
            // With its placeholders: the values are never in it.
            KeyValue::new("db.statement", sql.clone()),
        ])
        .start_with_context(tracer, &parent);
    if statement.failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

/// `OTEL_SERVICE_NAME`, else the project's name.
fn service_name(config: &Config) -> String {
    std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| {
            config.settings.as_ref()?["project_name"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| env!("CARGO_CRATE_NAME").to_string())
}

/// Makes `span` continue the trace a client's `traceparent` names, if any.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    let parent =
        global::get_text_map_propagator(|propagator| propagator.extract(&Headers(headers)));
    // Fails only without the layer, which `enabled` rules out.
    let _ = span.set_parent(parent);
}

/// Sends the spans still waiting; the process is about to end.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        eprintln!("traces: the last spans were not sent: {error}");
    }
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}
