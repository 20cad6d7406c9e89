//! What the liveness and readiness probes answer.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::infra::rate_limit::LimitStore;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub ok: bool,
}

/// `/_health`: `ok` is false (and the status 503) only when something the
/// service cannot work without is down; `detail` then says what.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `memory_fallback`: Redis is configured but unreachable, and each
    /// process counts sign-in limits on its own until it is back.
    pub rate_limits: LimitStore,
    /// `down`: the file store (folder or S3 bucket) does not answer or take
    /// a write; uploads and downloads answer 503 until it does, everything
    /// else works.
    pub storage: CheckState,
    pub checks: Checks,
}

/// Each dependency, as this probe found it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checks {
    pub database: Check,
    /// Present when `REDIS_URL` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<Check>,
    pub storage: Check,
    /// From the last delivery, not a connection per probe.
    pub smtp: Check,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    pub state: CheckState,
    /// Whether the service is out of service (503) while this is down.
    pub essential: bool,
    /// How long this probe's check took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// SMTP: when the last delivery was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Up,
    Down,
    /// Not in use (mail off).
    Off,
    /// Nothing to tell yet (no mail delivered since the outbox was emptied).
    Unknown,
}
