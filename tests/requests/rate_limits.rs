use std::net::{IpAddr, Ipv6Addr};

use backend::infra::{
    rate_limit::{Action, LimitStore, RateLimitError, RateLimiter},
    settings::{Limit, RateLimits},
};
use serde_json::{Value, json};

use super::prepare_data::{behind_a_proxy, register};
use crate::support::{request, request_with};

#[tokio::test]
async fn login_is_limited_per_email_with_retry_after() {
    request(|server, _ctx| async move {
        register(&server, "jane@example.com").await;
        // config/test.yaml: 30 logins per email per 10 minutes.
        for _ in 0..30 {
            let response = server
                .post("/api/v1/auth/login")
                .form(&[
                    ("username", "jane@example.com"),
                    ("password", "wrong password"),
                ])
                .await;
            assert_eq!(response.status_code(), 401);
        }
        let limited = server
            .post("/api/v1/auth/login")
            .form(&[
                ("username", "JANE@example.com"),
                ("password", "wrong password"),
            ])
            .await;
        assert_eq!(limited.status_code(), 429);
        assert_eq!(
            limited.json::<Value>(),
            json!({ "detail": "Too many requests" })
        );
        let retry_after: u64 = limited
            .header("retry-after")
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&retry_after), "{retry_after}");

        let other = server
            .post("/api/v1/auth/login")
            .form(&[
                ("username", "admin@example.com"),
                ("password", "Password1234"),
            ])
            .await;
        assert_eq!(other.status_code(), 200, "other emails are not held back");
    })
    .await;
}

#[tokio::test]
async fn registration_is_limited_per_email_before_any_hashing() {
    request(|server, _ctx| async move {
        // config/test.yaml: 5 registrations per email per 10 minutes.
        let body = json!({ "email": "jane@example.com", "password": "correct horse battery" });
        let first = server.post("/api/v1/auth/register").json(&body).await;
        assert_eq!(first.status_code(), 200);
        for _ in 0..4 {
            let taken = server.post("/api/v1/auth/register").json(&body).await;
            assert_eq!(taken.status_code(), 409);
        }
        let limited = server.post("/api/v1/auth/register").json(&body).await;
        assert_eq!(limited.status_code(), 429);
        assert!(limited.headers().contains_key("retry-after"));
    })
    .await;
}

#[tokio::test]
async fn provider_sign_in_starts_are_limited_per_address() {
    request(|server, _ctx| async move {
        // config/test.yaml: 50 starts per address per 10 minutes.
        let start = "/api/v1/auth/google/login?return_url=myapp://auth";
        for _ in 0..50 {
            assert_eq!(server.get(start).await.status_code(), 307);
        }
        assert_eq!(server.get(start).await.status_code(), 429);
    })
    .await;
}

#[tokio::test]
async fn code_requests_and_password_recovery_are_limited() {
    request(|server, _ctx| async move {
        // config/test.yaml: 20 code requests and 5 recoveries per email per 10 minutes.
        for _ in 0..20 {
            let response = server
                .post("/api/v1/auth/otp/request")
                .json(&json!({ "email": "jane@example.com" }))
                .await;
            assert_eq!(response.status_code(), 200);
        }
        let limited = server
            .post("/api/v1/auth/otp/request")
            .json(&json!({ "email": "jane@example.com" }))
            .await;
        assert_eq!(limited.status_code(), 429);

        for _ in 0..5 {
            let response = server
                .post("/api/v1/auth/password-recovery/jane@example.com")
                .await;
            assert_eq!(response.status_code(), 200);
        }
        let limited = server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await;
        assert_eq!(limited.status_code(), 429);
        assert!(limited.headers().contains_key("retry-after"));
    })
    .await;
}

fn tight() -> RateLimits {
    let limit = Limit {
        per_ip: 3,
        per_email: 100,
        period_seconds: 60,
    };
    RateLimits {
        login: limit,
        otp_request: limit,
        otp_verify: limit,
        password_recovery: limit,
        register: limit,
        sso_login: limit,
        upload: limit,
    }
}

/// Runs only where `REDIS_URL` names a server (CI starts one).
#[tokio::test]
#[cfg_attr(not(redis_tests), ignore = "set REDIS_URL to a Redis server to run it")]
async fn with_redis_limits_hold_across_processes() {
    let url = std::env::var("REDIS_URL").expect("REDIS_URL, as at build time");
    // Two limiters stand for two server processes sharing one Redis.
    let first = RateLimiter::build(tight(), Some(&url))
        .await
        .expect("redis");
    let second = RateLimiter::build(tight(), Some(&url))
        .await
        .expect("redis");
    let ip = IpAddr::V6(Ipv6Addr::from(uuid::Uuid::new_v4().as_u128()));
    first.check(Action::Login, ip, None).await.expect("1st");
    second.check(Action::Login, ip, None).await.expect("2nd");
    first.check(Action::Login, ip, None).await.expect("3rd");
    let refused = second.check(Action::Login, ip, None).await;
    assert!(
        matches!(refused, Err(RateLimitError::TooMany(seconds)) if (1..=60).contains(&seconds))
    );
    second
        .check(Action::OtpVerify, ip, None)
        .await
        .expect("each action counts apart");
}

#[tokio::test]
async fn in_memory_limits_count_per_address() {
    let limiter = RateLimiter::build(tight(), None).await.expect("limiter");
    let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1));
    for _ in 0..3 {
        limiter
            .check(Action::Login, ip, Some("a@example.com"))
            .await
            .expect("allowed");
    }
    assert!(matches!(
        limiter
            .check(Action::Login, ip, Some("b@example.com"))
            .await,
        Err(RateLimitError::TooMany(_))
    ));
    let elsewhere = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
    limiter
        .check(Action::Login, elsewhere, None)
        .await
        .expect("another address");
}

/// Nothing listens on port 1.
const UNREACHABLE_REDIS: &str = "redis://127.0.0.1:1";

async fn three_logins_then_refused(limiter: &RateLimiter, ip: IpAddr) {
    for _ in 0..3 {
        limiter
            .check(Action::Login, ip, None)
            .await
            .expect("allowed");
    }
    assert!(matches!(
        limiter.check(Action::Login, ip, None).await,
        Err(RateLimitError::TooMany(_))
    ));
}

#[tokio::test]
async fn without_redis_limits_are_counted_in_memory_meanwhile() {
    let limiter = RateLimiter::build(tight(), Some(UNREACHABLE_REDIS))
        .await
        .expect("the start does not wait for Redis");
    assert_eq!(limiter.store().await, LimitStore::MemoryFallback);
    three_logins_then_refused(&limiter, IpAddr::V6(Ipv6Addr::LOCALHOST)).await;
}

#[tokio::test]
async fn sign_ins_go_on_and_health_says_so_while_redis_is_down() {
    let redis_down = |settings: &mut Value| settings["redis_url"] = json!(UNREACHABLE_REDIS);
    request_with(redis_down, |server, _ctx| async move {
        let health = server.get("/_health").await;
        assert_eq!(health.status_code(), 200);
        let health = health.json::<Value>();
        assert_eq!(health["ok"], true);
        assert_eq!(health["rate_limits"], "memory_fallback");
        assert_eq!(health["checks"]["redis"]["state"], "down");
        assert_eq!(health["checks"]["redis"]["essential"], false);
        let login = server
            .post("/api/v1/auth/login")
            .form(&[
                ("username", "admin@example.com"),
                ("password", "Password1234"),
            ])
            .await;
        assert_eq!(login.status_code(), 200);
    })
    .await;
}

/// A Redis server of the test's own, stopped when dropped.
struct OwnRedis(std::process::Child);

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--port"])
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server");
        Self(child)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs where a Redis server is installed (CI, with `REDIS_URL`).
#[tokio::test]
#[cfg_attr(not(redis_tests), ignore = "set REDIS_URL to a Redis server to run it")]
async fn limits_move_to_redis_when_it_comes_and_back_to_memory_when_it_goes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let limiter = RateLimiter::build(tight(), Some(&format!("redis://127.0.0.1:{port}")))
        .await
        .expect("limiter");
    assert_eq!(limiter.store().await, LimitStore::MemoryFallback);

    let redis = OwnRedis::start(port);
    let came = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while limiter.store().await != LimitStore::Redis {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(came.is_ok(), "Redis is used once it answers");
    three_logins_then_refused(&limiter, IpAddr::V6(Ipv6Addr::LOCALHOST)).await;

    drop(redis);
    assert_eq!(limiter.store().await, LimitStore::MemoryFallback);
    let elsewhere = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 3, 0, 0, 0, 1));
    three_logins_then_refused(&limiter, elsewhere).await;
}

/// Two logins per address: who "the address" is decides who gets refused.
async fn third_login_from(server: &axum_test::TestServer, forwarded: [&str; 3]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for address in forwarded {
        let response = server
            .post("/api/v1/auth/login")
            .add_header("x-forwarded-for", address)
            .form(&[("username", "nobody@example.com"), ("password", "wrong")])
            .await;
        statuses.push(response.status_code().as_u16());
    }
    statuses
}

fn two_logins_per_address(settings: &mut Value) {
    settings["rate_limits"]["login"]["per_ip"] = json!(2);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let settings = |settings: &mut Value| {
        two_logins_per_address(settings);
        behind_a_proxy(settings);
    };
    request_with(settings, |server, _ctx| async move {
        let statuses = third_login_from(
            &server,
            ["1.2.3.4, 203.0.113.1", "203.0.113.1", "203.0.113.2"],
        )
        .await;
        assert_eq!(statuses, [401, 401, 401], "two clients, two buckets");
        let statuses = third_login_from(&server, ["203.0.113.1"; 3]).await;
        assert_eq!(statuses, [429, 429, 429], "203.0.113.1 spent its two");
    })
    .await;
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_bucket() {
    request_with(two_logins_per_address, |server, _ctx| async move {
        let statuses =
            third_login_from(&server, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]).await;
        assert_eq!(statuses, [401, 401, 429], "X-Forwarded-For is ignored");
    })
    .await;
}

#[tokio::test]
async fn ipv6_addresses_count_by_their_64_bit_network() {
    let limiter = RateLimiter::build(tight(), None).await.expect("limiter");
    for host in 1..=3_u16 {
        let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, host));
        limiter
            .check(Action::Login, ip, None)
            .await
            .expect("allowed");
    }
    let same_network = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
    assert!(matches!(
        limiter.check(Action::Login, same_network, None).await,
        Err(RateLimitError::TooMany(_))
    ));
    let next_network = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
    limiter
        .check(Action::Login, next_network, None)
        .await
        .expect("another network");
}

#[tokio::test]
async fn password_changes_and_new_emails_are_limited_per_email() {
    let low_limits = |settings: &mut Value| {
        settings["rate_limits"]["login"]["per_email"] = json!(2);
        settings["rate_limits"]["otp_request"]["per_email"] = json!(1);
    };
    request_with(low_limits, |server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        // Guessing the current password with a stolen access token.
        let mut statuses = Vec::new();
        for guess in ["guess number one", "guess number two", "guess number three"] {
            let response = server
                .post("/api/v1/users/me/password")
                .authorization_bearer(&token)
                .json(&json!({ "current_password": guess, "new_password": "purple elephant umbrella" }))
                .await;
            statuses.push(response.status_code().as_u16());
        }
        assert_eq!(statuses, [401, 401, 429]);

        // Mailing codes to any address through email changes.
        let mut statuses = Vec::new();
        for _ in 0..2 {
            let response = server
                .put("/api/v1/users/me")
                .authorization_bearer(&token)
                .json(&json!({ "email": "someone@example.com" }))
                .await;
            statuses.push(response.status_code().as_u16());
        }
        assert_eq!(statuses, [200, 429]);
        let names_only = server
            .put("/api/v1/users/me")
            .authorization_bearer(&token)
            .json(&json!({ "email": "jane@example.com", "first_name": "Jane" }))
            .await;
        assert_eq!(names_only.status_code(), 200, "keeping one's email is not limited");
    })
    .await;
}
