pub mod auth;
pub mod docs;
pub mod extractors;
pub mod fallback;
pub mod items;
pub mod language;
pub mod monitoring;
pub mod users;
