//! `/metrics`: what known traffic moves, and by exactly how much; route
//! templates as labels, no email, id or token anywhere; the guard.

use std::collections::HashMap;

use axum_test::TestServer;
use openmetrics_parser::{OpenMetricsValue, openmetrics::parse_openmetrics};
use serde_json::json;

use super::prepare_data::{PASSWORD, id_of, register};
use crate::{support::request, support::request_with, tasks::mail::run};

/// `METRICS_TOKEN` in `config/test.yaml`.
const TOKEN: &str = "test-metrics-token-not-for-production-00";

async fn scrape(server: &TestServer) -> String {
    let response = server.get("/metrics").authorization_bearer(TOKEN).await;
    assert_eq!(response.status_code(), 200, "{}", response.text());
    let content_type = response.header("content-type");
    assert!(
        content_type
            .to_str()
            .is_ok_and(|value| value.starts_with("application/openmetrics-text")),
        "{content_type:?}"
    );
    response.text()
}

/// What the sample of `family` whose labels include `labels` says: a
/// counter's or gauge's value, a histogram's count (or, with an `le`
/// label, that bucket's), 1 for an info; 0 when there is none. Read with
/// an OpenMetrics parser, as strict as Prometheus's.
fn value(text: &str, family: &str, labels: &[(&str, &str)]) -> f64 {
    let exposition = parse_openmetrics(text).expect("the exposition parses");
    let Some(family) = exposition.families.get(family) else {
        return 0.0;
    };
    let bucket = labels.iter().find(|(name, _)| *name == "le");
    let matching: Vec<f64> = family
        .iter_samples()
        .filter(|sample| {
            let set = sample.get_labelset().expect("labels");
            labels
                .iter()
                .filter(|(name, _)| *name != "le")
                .all(|(name, wanted)| set.get_label_value(name) == Some(*wanted))
        })
        .map(|sample| match &sample.value {
            OpenMetricsValue::Counter(counter) => counter.value.as_f64(),
            OpenMetricsValue::Gauge(number) | OpenMetricsValue::Unknown(number) => number.as_f64(),
            OpenMetricsValue::Info => 1.0,
            OpenMetricsValue::Histogram(histogram) => match bucket {
                Some((_, "sum")) => histogram.sum.as_ref().map_or(0.0, |sum| sum.as_f64()),
                Some((_, bound)) => {
                    let bound: f64 = bound.parse().expect("a bound");
                    histogram
                        .buckets
                        .iter()
                        .find(|bucket| bucket.upper_bound == bound)
                        .map_or(0.0, |bucket| bucket.count.as_f64())
                }
                None => histogram.count.unwrap_or_default() as f64,
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(matching.len() <= 1, "{labels:?}: {matching:?}");
    matching.first().copied().unwrap_or(0.0)
}

fn moved(before: &str, after: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    value(after, metric, labels) - value(before, metric, labels)
}

#[tokio::test]
async fn metrics_move_by_exactly_what_was_sent() {
    request(|server, _ctx| async move {
        let (token, _) = register(&server, "jane@example.com").await;
        let item = server
            .post("/api/v1/items")
            .authorization_bearer(&token)
            .json(&json!({ "name": "Lamp" }))
            .await
            .json::<serde_json::Value>();
        let id = id_of(&item);
        let before = scrape(&server).await;

        for _ in 0..3 {
            let shown = server
                .get(&format!("/api/v1/items/{id}"))
                .authorization_bearer(&token)
                .await;
            assert_eq!(shown.status_code(), 200);
        }
        let missing = uuid::Uuid::new_v4();
        let absent = server
            .get(&format!("/api/v1/items/{missing}"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(absent.status_code(), 404);
        for password in ["wrong one", "wrong two", PASSWORD] {
            server
                .post("/api/v1/auth/login")
                .form(&[("username", "jane@example.com"), ("password", password)])
                .await;
        }
        let nowhere = server.get("/nowhere/jane@example.com").await;
        assert_eq!(nowhere.status_code(), 404);

        let after = scrape(&server).await;
        let item_route = ("route", "/api/v1/items/{id}");
        let get = ("method", "GET");
        let requests = "http_requests";
        assert_eq!(
            moved(
                &before,
                &after,
                requests,
                &[get, item_route, ("status", "200")]
            ),
            3.0
        );
        assert_eq!(
            moved(
                &before,
                &after,
                requests,
                &[get, item_route, ("status", "404")]
            ),
            1.0
        );
        let login = [("method", "POST"), ("route", "/api/v1/auth/login")];
        assert_eq!(
            moved(
                &before,
                &after,
                requests,
                &[login[0], login[1], ("status", "401")]
            ),
            2.0
        );
        assert_eq!(
            moved(&before, &after, requests, &[get, ("route", "unmatched")]),
            1.0
        );
        let duration = "http_request_duration_seconds";
        assert_eq!(moved(&before, &after, duration, &[get, item_route]), 4.0);
        let slowest = [get, item_route, ("le", "+Inf")];
        assert_eq!(moved(&before, &after, duration, &slowest), 4.0);
        let sum = value(&after, duration, &[get, item_route, ("le", "sum")]);
        assert!(sum > 0.0, "{sum}");
        let sign_ins = "sign_in_attempts";
        let password = ("path", "password");
        assert_eq!(
            moved(
                &before,
                &after,
                sign_ins,
                &[password, ("outcome", "bad_credentials")]
            ),
            2.0
        );
        assert_eq!(
            moved(
                &before,
                &after,
                sign_ins,
                &[password, ("outcome", "success")]
            ),
            1.0
        );
        assert_eq!(value(&after, "http_requests_in_flight", &[]), 0.0);
        assert_eq!(
            value(&after, "build", &[("version", env!("CARGO_PKG_VERSION"))]),
            1.0
        );
        assert!(value(&after, "db_pool_max_connections", &[]) >= 1.0);
        assert!(value(&after, "process_resident_memory_bytes", &[]) > 0.0);
        assert!(value(&after, "process_open_fds", &[]) > 0.0);
        assert_eq!(
            value(&after, "rate_limit_store", &[("store", "memory")]),
            1.0
        );

        for secret in [
            "jane@example.com",
            token.as_str(),
            id.as_str(),
            &missing.to_string(),
        ] {
            assert!(!after.contains(secret), "the metrics show {secret}");
        }
    })
    .await;
}

#[tokio::test]
async fn metrics_count_jobs_mail_refusals_and_scheduled_runs() {
    let tight = |settings: &mut serde_json::Value| {
        settings["rate_limits"]["login"] =
            json!({ "per_ip": 5, "per_email": 100, "period_seconds": 600 });
    };
    request_with(tight, |server, ctx| async move {
        let before = scrape(&server).await;
        // Queues the recovery job, which queues the mail's delivery job;
        // both run at once in tests.
        let recovery = server
            .post("/api/v1/auth/password-recovery/admin@example.com")
            .await;
        assert_eq!(recovery.status_code(), 200);
        let mut statuses = HashMap::<u16, u32>::new();
        for _ in 0..8 {
            let login = server
                .post("/api/v1/auth/login")
                .form(&[("username", "nobody@example.com"), ("password", "wrong")])
                .await;
            *statuses.entry(login.status_code().as_u16()).or_default() += 1;
        }
        run(&ctx, "purge_expired_tokens", &[("once_per", "3600")])
            .await
            .expect("task");

        let after = scrape(&server).await;
        let jobs = "jobs";
        let succeeded = ("outcome", "succeeded");
        assert_eq!(
            moved(
                &before,
                &after,
                jobs,
                &[("worker", "password_recovery"), succeeded]
            ),
            1.0
        );
        assert_eq!(
            moved(
                &before,
                &after,
                jobs,
                &[("worker", "mail_delivery"), succeeded]
            ),
            1.0
        );
        let last = value(
            &after,
            "job_last_success_timestamp_seconds",
            &[("worker", "mail_delivery")],
        );
        assert!(last > 1.7e9, "{last}");
        assert_eq!(
            moved(&before, &after, "mail_deliveries", &[("outcome", "sent")]),
            1.0
        );
        assert_eq!(value(&after, "mail_messages", &[("status", "sent")]), 1.0);
        assert_eq!(value(&after, "mail_oldest_waiting_seconds", &[]), 0.0);

        let limited = f64::from(statuses.get(&429).copied().unwrap_or_default());
        assert!(limited > 0.0, "{statuses:?}");
        let refusals = "rate_limit_refusals";
        let login_rule = ("rule", "login");
        let refused = moved(&before, &after, refusals, &[login_rule, ("scope", "ip")])
            + moved(&before, &after, refusals, &[login_rule, ("scope", "email")]);
        assert!(refused >= limited, "{refused} < {limited}");
        let outcome = [("path", "password"), ("outcome", "rate_limited")];
        assert_eq!(
            moved(&before, &after, "sign_in_attempts", &outcome),
            limited
        );

        the_ops_files_name_only_these_metrics(&after);

        let task = ("task", "purge_expired_tokens");
        assert_eq!(value(&after, "scheduled_task_runs", &[task]), 1.0);
        assert_eq!(value(&after, "scheduled_task_failures", &[task]), 0.0);
        let last = value(
            &after,
            "scheduled_task_last_success_timestamp_seconds",
            &[task],
        );
        assert!(last > 1.7e9, "{last}");
    })
    .await;
}

#[tokio::test]
async fn a_scrape_without_the_token_is_refused() {
    request(|server, _ctx| async move {
        let bare = server.get("/metrics").await;
        assert_eq!(bare.status_code(), 401);
        assert_eq!(bare.header("www-authenticate"), "Bearer");
        assert_eq!(
            bare.json::<serde_json::Value>(),
            json!({ "detail": "Not authenticated" })
        );
        let wrong = server
            .get("/metrics")
            .authorization_bearer("test-metrics-token-not-for-production-01")
            .await;
        assert_eq!(wrong.status_code(), 401);
        let (access_token, _) = register(&server, "jane@example.com").await;
        let user = server
            .get("/metrics")
            .authorization_bearer(&access_token)
            .await;
        assert_eq!(user.status_code(), 401);
    })
    .await;
}

#[tokio::test]
async fn metrics_on_an_address_of_their_own_are_not_on_the_public_port() {
    let apart = |settings: &mut serde_json::Value| {
        settings["metrics"]["addr"] = json!("127.0.0.1:9464");
    };
    request_with(apart, |server, _ctx| async move {
        let scraped = server.get("/metrics").authorization_bearer(TOKEN).await;
        assert_eq!(scraped.status_code(), 404);
    })
    .await;
    let off = |settings: &mut serde_json::Value| settings["metrics"]["enabled"] = json!(false);
    request_with(off, |server, _ctx| async move {
        let scraped = server.get("/metrics").authorization_bearer(TOKEN).await;
        assert_eq!(scraped.status_code(), 404);
    })
    .await;
}

/// Every metric the alert rules and the dashboard name is one the server
/// serves, so neither shows a silent nothing.
fn the_ops_files_name_only_these_metrics(exposition: &str) {
    const PREFIXES: [&str; 10] = [
        "http_",
        "sign_in_",
        "db_pool_",
        "mail_",
        "jobs_",
        "job_",
        "scheduled_task_",
        "rate_limit_",
        "process_",
        "build_",
    ];
    const SUFFIXES: [&str; 6] = ["", "_total", "_bucket", "_sum", "_count", "_info"];
    let families = parse_openmetrics(exposition)
        .expect("the exposition parses")
        .families;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "ops/prometheus/alerts.yml",
        "ops/grafana/dashboards/backend.json",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        // The expressions: from an `expr` key to the alert's `for:`, or to
        // the end of the JSON string.
        let expressions = text.split("expr").skip(1).map(|rest| {
            let end = [rest.find("for:"), rest.find("\",")]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(rest.len());
            rest[..end].to_string()
        });
        let names: Vec<String> = expressions
            .flat_map(|expression| {
                expression
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|word| PREFIXES.iter().any(|prefix| word.starts_with(prefix)))
            .collect();
        assert!(names.len() > 10, "{file}: {names:?}");
        for name in names {
            let served = SUFFIXES.iter().any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|family| families.contains_key(family))
            });
            assert!(served, "{file} names {name}, which /metrics does not serve");
        }
    }
}
