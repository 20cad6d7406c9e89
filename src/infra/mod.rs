//! The app's own infrastructure, below the Loco folders: its settings, the
//! state built from them at boot (with what calls to sign-in providers share), the database pool, rate limits, trusted
//! proxies and translations.

pub mod db_pool;
pub mod health;
pub mod i18n;
pub mod identity;
pub mod metrics;
pub mod rate_limit;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod trusted_proxies;
