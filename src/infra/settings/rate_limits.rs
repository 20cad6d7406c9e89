//! `settings.rate_limits`: how many of each rate-limited action are let through.

use super::*;

/// At most `per_ip` requests from one address, and `per_email` for one email
/// (for a signed-in action, `per_user` for one user), in any `period_seconds`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Limit {
    pub per_ip: u32,
    #[serde(alias = "per_user")]
    pub per_email: u32,
    pub period_seconds: u64,
}

/// `settings.rate_limits`: the limits of each rate-limited action.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct RateLimits {
    pub login: Limit,
    pub otp_request: Limit,
    pub otp_verify: Limit,
    pub password_recovery: Limit,
    pub register: Limit,
    pub sso_login: Limit,
    /// Files and profile pictures, per address and per user.
    pub upload: Limit,
}
