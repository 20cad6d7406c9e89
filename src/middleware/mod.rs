//! Layers every request passes through: answers for paths no route takes,
//! error messages in the caller's language, and hardening headers.

pub mod fallback;
pub mod language;
pub mod security_headers;
