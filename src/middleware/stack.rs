//! Loco's middleware stack, as `middleware::default_middleware_stack` builds
//! it from `server.middlewares`, in the same order and with the same
//! defaults, less three of its layers:
//!
//! - response compression. Loco's layer is off unless configured, yet building
//!   it links the brotli, zstd and gzip encoders into the binary: 1.7 MiB
//!   (BENCHMARKS.md, "Binary size"). Compressing is the reverse proxy's job,
//!   and compressed answers that carry secrets beside what an attacker sends
//!   are what BREACH reads.
//! - `X-Powered-By`, which tells an attacker what to look up.
//! - Loco's fallback: a path no route takes meets the router's own, which
//!   `fallback::answer_trailing_slashes` reaches and `describe_bare_errors`
//!   gives the contract's body.
//!
//! Loco's request log is replaced by one that writes no secret
//! (`request_log`) and, with metrics on, counts each request
//! (`http_metrics`), outside the panic guard and the timeout, so that their
//! answers count too.

use loco_rs::{
    app::AppContext,
    controller::middleware::{
        MiddlewareLayer, catch_panic::CatchPanic, cors::Cors, etag::Etag,
        remote_ip::RemoteIpMiddleware, request_id::RequestId, secure_headers::SecureHeader,
        static_assets::StaticAssets, timeout::TimeOut,
    },
};

use super::request_log::RequestLog;
use crate::infra::{settings::MetricsExposure, state::AppState};

#[must_use]
pub fn stack(ctx: &AppContext) -> Vec<Box<dyn MiddlewareLayer>> {
    let configured = &ctx.config.server.middlewares;
    if configured
        .compression
        .as_ref()
        .is_some_and(|layer| layer.enable)
    {
        tracing::warn!("server.middlewares.compression is not served: compress at the proxy");
    }
    vec![
        Box::new(configured.limit_payload.clone().unwrap_or_default()),
        Box::new(configured.cors.clone().unwrap_or_else(|| Cors {
            enable: false,
            ..Default::default()
        })),
        Box::new(
            configured
                .catch_panic
                .clone()
                .unwrap_or(CatchPanic { enable: true }),
        ),
        Box::new(configured.etag.clone().unwrap_or(Etag { enable: true })),
        Box::new(
            configured
                .remote_ip
                .clone()
                .unwrap_or_else(|| RemoteIpMiddleware {
                    enable: false,
                    ..Default::default()
                }),
        ),
        Box::new(
            configured
                .timeout_request
                .clone()
                .unwrap_or_else(|| TimeOut {
                    enable: false,
                    ..Default::default()
                }),
        ),
        Box::new(
            configured
                .static_assets
                .clone()
                .unwrap_or_else(|| StaticAssets {
                    enable: false,
                    ..Default::default()
                }),
        ),
        Box::new(
            configured
                .secure_headers
                .clone()
                .unwrap_or_else(|| SecureHeader {
                    enable: false,
                    ..Default::default()
                }),
        ),
        Box::new(RequestLog {
            enable: configured
                .logger
                .as_ref()
                .is_none_or(|logger| logger.enable),
            environment: ctx.environment.clone(),
            metrics: AppState::from_context(ctx)
                .ok()
                .filter(|state| !matches!(state.metrics_exposure, MetricsExposure::Off)),
        }),
        Box::new(
            configured
                .request_id
                .clone()
                .unwrap_or(RequestId { enable: true }),
        ),
    ]
}
