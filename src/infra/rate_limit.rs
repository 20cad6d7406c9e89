//! Rate limits on the sign-in routes, per caller address and per email, and
//! on uploads, per caller address and per user. In
//! one process they are counted in memory (governor, GCRA); with `REDIS_URL`
//! they are counted in Redis, so they hold across every server process; while
//! Redis cannot be reached, each process counts in memory again.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};
use prometheus_client::metrics::{counter::Counter, family::Family};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::{
    infra::{
        metrics::RuleLabels,
        settings::{Limit, RateLimits},
    },
    models::security_events::source,
};

/// Why a request was not let through.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// Over a limit; try again in this many seconds.
    #[error("too many requests, retry in {0} s")]
    TooMany(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    OtpRequest,
    OtpVerify,
    PasswordRecovery,
    Register,
    SsoLogin,
    Upload,
}

impl Action {
    const ALL: [Self; 7] = [
        Self::Login,
        Self::OtpRequest,
        Self::OtpVerify,
        Self::PasswordRecovery,
        Self::Register,
        Self::SsoLogin,
        Self::Upload,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::OtpRequest => "otp_request",
            Self::OtpVerify => "otp_verify",
            Self::PasswordRecovery => "password_recovery",
            Self::Register => "register",
            Self::SsoLogin => "sso_login",
            Self::Upload => "upload",
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
    crate::models::hex(&Sha256::digest(key.as_bytes())[..16])
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
            Action::Upload => self.upload,
        }
    }
}

pub struct RateLimiter {
    /// The count itself in one process; with Redis, its stand-in while Redis
    /// cannot be reached.
    memory: InMemory,
    redis: Option<RedisCounter>,
    /// Refusals by rule, which the metrics show.
    refusals: Family<RuleLabels, Counter>,
}

struct InMemory {
    limiters: HashMap<(Action, Scope), DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
}

struct RedisCounter {
    connection: ConnectionManager,
    limits: RateLimits,
    /// When Redis last failed (milliseconds since the epoch), 0 while it answers.
    failed_at: AtomicU64,
}

/// Where the limits are being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitStore {
    /// In this process: no `REDIS_URL`.
    Memory,
    /// In Redis, shared by every process.
    Redis,
    /// In this process, because Redis cannot be reached: each process counts
    /// on its own until it is back.
    MemoryFallback,
}

/// Checks between two sweeps of forgotten keys from the in-memory limiters.
const SWEEP_EVERY: u64 = 4096;
/// How long a Redis call may take before the in-memory count stands in.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, how long checks count in memory before trying Redis again.
const REDIS_RETRY_AFTER_MS: u64 = 1000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

impl RateLimiter {
    /// In memory, or in Redis when `redis_url` is given. A Redis that cannot
    /// be reached does not stop the start: limits are counted in memory, with
    /// a warning, until it answers.
    ///
    /// # Errors
    /// When a limit is zero, or `redis_url` is not a Redis URL.
    pub async fn build(limits: RateLimits, redis_url: Option<&str>) -> Result<Self, String> {
        let memory = InMemory::build(limits)?;
        let Some(url) = redis_url else {
            return Ok(Self {
                memory,
                redis: None,
                refusals: Family::default(),
            });
        };
        let client = redis::Client::open(url).map_err(|error| format!("REDIS_URL: {error}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| format!("REDIS_URL: {error}"))?;
        let limiter = Self {
            memory,
            redis: Some(RedisCounter {
                connection,
                limits,
                failed_at: AtomicU64::new(0),
            }),
            refusals: Family::default(),
        };
        limiter.store().await;
        Ok(limiter)
    }

    /// The count of refusals by rule, for the metrics to show.
    #[must_use]
    pub fn refusals(&self) -> Family<RuleLabels, Counter> {
        self.refusals.clone()
    }

    /// Where limits are counted now; with Redis, asks it first.
    pub async fn store(&self) -> LimitStore {
        let Some(redis) = &self.redis else {
            return LimitStore::Memory;
        };
        let mut connection = redis.connection.clone();
        let answer: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
        match answer {
            Ok(_) => {
                redis.recovered();
                LimitStore::Redis
            }
            Err(error) => {
                redis.failed(&error);
                LimitStore::MemoryFallback
            }
        }
    }

    /// Counts one request of `action` from `ip` (and for `email`, when known:
    /// an email, or the id of the signed-in user; counted without case or
    /// surrounding blanks, whether or not it is an address, under a
    /// fixed-size digest, so that a huge "email" is not a huge key).
    ///
    /// # Errors
    /// `TooMany`, with the seconds to wait.
    pub async fn check(
        &self,
        action: Action,
        ip: IpAddr,
        email: Option<&str>,
    ) -> Result<(), RateLimitError> {
        let mut keys = vec![(Scope::Ip, source(ip).to_string())];
        if let Some(email) = email {
            keys.push((Scope::Email, digest(&email.trim().to_lowercase())));
        }
        let mut wait = 0;
        for (scope, key) in keys {
            let counted = match &self.redis {
                Some(redis) if redis.worth_trying() => redis.check(action, scope, &key).await,
                _ => None,
            };
            let seconds = match counted {
                Some(seconds) => seconds,
                None => self.memory.check(action, scope, &key),
            };
            if seconds > 0 {
                let rule = RuleLabels {
                    rule: action.name(),
                    scope: scope.name(),
                };
                self.refusals.get_or_create(&rule).inc();
            }
            wait = wait.max(seconds);
        }
        if wait > 0 {
            Err(RateLimitError::TooMany(wait))
        } else {
            Ok(())
        }
    }
}

impl InMemory {
    fn build(limits: RateLimits) -> Result<Self, String> {
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
        Ok(Self {
            limiters,
            checks: AtomicU64::new(0),
        })
    }

    /// Seconds to wait, 0 when allowed.
    fn check(&self, action: Action, scope: Scope, key: &str) -> u64 {
        let Some(limiter) = self.limiters.get(&(action, scope)) else {
            return 0;
        };
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            limiter.retain_recent();
        }
        match limiter.check_key(&key.to_string()) {
            Ok(()) => 0,
            Err(not_until) => {
                let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            }
        }
    }
}

impl RedisCounter {
    fn worth_trying(&self) -> bool {
        let failed_at = self.failed_at.load(Ordering::Relaxed);
        failed_at == 0 || now_ms().saturating_sub(failed_at) >= REDIS_RETRY_AFTER_MS
    }

    fn failed(&self, error: &redis::RedisError) {
        if self.failed_at.swap(now_ms().max(1), Ordering::Relaxed) == 0 {
            tracing::warn!(%error, "rate limits: Redis unreachable, counting in memory per process");
        }
    }

    fn recovered(&self) {
        if self.failed_at.swap(0, Ordering::Relaxed) != 0 {
            tracing::info!("rate limits: Redis answers again, counting there");
        }
    }

    /// Seconds to wait (0 when allowed), or `None` when Redis did not answer.
    async fn check(&self, action: Action, scope: Scope, key: &str) -> Option<u64> {
        let limit = self.limits.of(action);
        let period = limit.period_seconds.max(1);
        let now = now_ms() / 1000;
        // A fixed window per period: the counter dies with its window.
        let window = now / period;
        let redis_key = format!(
            "rate_limit:{}:{}:{key}:{window}",
            action.name(),
            scope.name()
        );
        let mut connection = self.connection.clone();
        let counted: Result<(u64,), _> = redis::pipe()
            .atomic()
            .incr(&redis_key, 1)
            .expire(&redis_key, i64::try_from(period).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut connection)
            .await;
        match counted {
            Ok((count,)) => {
                self.recovered();
                Some(if count > u64::from(limit.count(scope)) {
                    (window + 1) * period - now
                } else {
                    0
                })
            }
            Err(error) => {
                self.failed(&error);
                None
            }
        }
    }
}
