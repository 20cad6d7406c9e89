//! Layers every request passes through: Loco's stack (less compression),
//! answers for paths no route takes, error messages in the caller's language,
//! hardening headers, a request log that writes no secret, and the request
//! metrics when they are on.

pub mod fallback;
pub mod http_metrics;
pub mod language;
pub mod request_log;
pub mod security_headers;
pub mod stack;
