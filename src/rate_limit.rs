//! Rate limits on the sign-in routes, per caller address and per email. In
//! one process they are counted in memory (governor, GCRA); with `REDIS_URL`
//! they are counted in Redis, so they hold across every server process.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};
use sha2::{Digest, Sha256};

use crate::{
    settings::{Limit, RateLimits},
    trusted_proxies::network,
};

/// Why a request was not let through.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// Over a limit; try again in this many seconds.
    #[error("too many requests, retry in {0} s")]
    TooMany(u64),
    #[error("rate limit store: {0}")]
    Store(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    OtpRequest,
    OtpVerify,
    PasswordRecovery,
    Register,
    SsoLogin,
}

impl Action {
    const ALL: [Self; 6] = [
        Self::Login,
        Self::OtpRequest,
        Self::OtpVerify,
        Self::PasswordRecovery,
        Self::Register,
        Self::SsoLogin,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::OtpRequest => "otp_request",
            Self::OtpVerify => "otp_verify",
            Self::PasswordRecovery => "password_recovery",
            Self::Register => "register",
            Self::SsoLogin => "sso_login",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    Ip,
    Email,
}

impl Scope {
    const fn name(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Email => "email",
        }
    }
}

/// 128 bits of SHA-256, in hex.
fn digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Limit {
    const fn count(self, scope: Scope) -> u32 {
        match scope {
            Scope::Ip => self.per_ip,
            Scope::Email => self.per_email,
        }
    }
}

impl RateLimits {
    const fn of(&self, action: Action) -> Limit {
        match action {
            Action::Login => self.login,
            Action::OtpRequest => self.otp_request,
            Action::OtpVerify => self.otp_verify,
            Action::PasswordRecovery => self.password_recovery,
            Action::Register => self.register,
            Action::SsoLogin => self.sso_login,
        }
    }
}

pub struct RateLimiter(Counter);

enum Counter {
    InProcess {
        limiters: HashMap<(Action, Scope), DefaultKeyedRateLimiter<String>>,
        checks: AtomicU64,
    },
    Redis {
        connection: redis::aio::MultiplexedConnection,
        limits: RateLimits,
    },
}

/// Checks between two sweeps of forgotten keys from the in-memory limiters.
const SWEEP_EVERY: u64 = 4096;

impl RateLimiter {
    /// In memory, or in Redis when `redis_url` is given.
    ///
    /// # Errors
    /// When a limit is zero, or Redis cannot be reached.
    pub async fn build(limits: RateLimits, redis_url: Option<&str>) -> Result<Self, String> {
        if let Some(url) = redis_url {
            let client = redis::Client::open(url).map_err(|error| error.to_string())?;
            let connection = client
                .get_multiplexed_async_connection()
                .await
                .map_err(|error| format!("rate limits: cannot reach Redis: {error}"))?;
            return Ok(Self(Counter::Redis { connection, limits }));
        }
        let mut limiters = HashMap::new();
        for action in Action::ALL {
            let limit = limits.of(action);
            for scope in [Scope::Ip, Scope::Email] {
                let count = NonZeroU32::new(limit.count(scope)).ok_or_else(|| {
                    format!(
                        "rate limit {}.per_{} must be above 0",
                        action.name(),
                        scope.name()
                    )
                })?;
                let period = Duration::from_secs(limit.period_seconds.max(1));
                let quota = Quota::with_period(period / count.get())
                    .ok_or_else(|| format!("rate limit {} has no period", action.name()))?
                    .allow_burst(count);
                limiters.insert((action, scope), DefaultKeyedRateLimiter::keyed(quota));
            }
        }
        Ok(Self(Counter::InProcess {
            limiters,
            checks: AtomicU64::new(0),
        }))
    }

    /// Counts one request of `action` from `ip` (and for `email`, when known;
    /// counted without case or surrounding blanks, whether or not it is an
    /// address, under a fixed-size digest, so that a huge "email" is not a
    /// huge key).
    ///
    /// # Errors
    /// `TooMany` with the seconds to wait, or a Redis error.
    pub async fn check(
        &self,
        action: Action,
        ip: IpAddr,
        email: Option<&str>,
    ) -> Result<(), RateLimitError> {
        // One IPv6 host holds a whole /64: count the network, not the address.
        let ip = match ip.to_canonical() {
            v6 @ IpAddr::V6(_) => network(v6, 64),
            v4 @ IpAddr::V4(_) => v4,
        };
        let mut keys = vec![(Scope::Ip, ip.to_string())];
        if let Some(email) = email {
            keys.push((Scope::Email, digest(&email.trim().to_lowercase())));
        }
        let mut wait = 0;
        for (scope, key) in keys {
            wait = wait.max(self.check_one(action, scope, key).await?);
        }
        if wait > 0 {
            Err(RateLimitError::TooMany(wait))
        } else {
            Ok(())
        }
    }

    /// Seconds to wait, 0 when allowed.
    async fn check_one(
        &self,
        action: Action,
        scope: Scope,
        key: String,
    ) -> Result<u64, RateLimitError> {
        match &self.0 {
            Counter::InProcess { limiters, checks } => {
                let Some(limiter) = limiters.get(&(action, scope)) else {
                    return Ok(0);
                };
                if checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == 0 {
                    limiter.retain_recent();
                }
                Ok(match limiter.check_key(&key) {
                    Ok(()) => 0,
                    Err(not_until) => {
                        let wait = not_until
                            .wait_time_from(governor::clock::DefaultClock::default().now());
                        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
                    }
                })
            }
            Counter::Redis { connection, limits } => {
                let limit = limits.of(action);
                let period = limit.period_seconds.max(1);
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |elapsed| elapsed.as_secs());
                // A fixed window per period: the counter dies with its window.
                let window = now / period;
                let redis_key = format!(
                    "rate_limit:{}:{}:{key}:{window}",
                    action.name(),
                    scope.name()
                );
                let mut connection = connection.clone();
                let (count,): (u64,) = redis::pipe()
                    .atomic()
                    .incr(&redis_key, 1)
                    .expire(&redis_key, i64::try_from(period).unwrap_or(i64::MAX))
                    .ignore()
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| RateLimitError::Store(error.to_string()))?;
                Ok(if count > u64::from(limit.count(scope)) {
                    (window + 1) * period - now
                } else {
                    0
                })
            }
        }
    }
}
