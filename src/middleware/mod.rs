//! Layers every request passes through: answers for paths no route takes, and
//! error messages in the caller's language.

pub mod fallback;
pub mod language;
