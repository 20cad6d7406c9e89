//! Layers every request passes through: Loco's stack (less compression),
//! answers for paths no route takes, error messages in the caller's language,
//! hardening headers, and a request log that writes no secret.

pub mod fallback;
pub mod language;
pub mod request_log;
pub mod security_headers;
pub mod stack;
