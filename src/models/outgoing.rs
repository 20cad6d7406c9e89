//! The span of a call to another service (a sign-in provider's token, key
//! or profile endpoint): exported with the trace of what made it when
//! traces are on, and giving the log lines within it their context.

/// `method` on `url`, named without its query.
pub fn call(method: &str, url: &str) -> tracing::Span {
    let target = url.split('?').next().unwrap_or_default();
    tracing::info_span!(
        "call",
        "otel.name" = %format_args!("{method} {target}"),
        "otel.kind" = "client",
        "http.request.method" = method,
        "url.full" = target,
    )
}
