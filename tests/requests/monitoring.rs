use loco_rs::environment::Environment;
use serde_json::{Value, json};

use crate::support::{boot_on, request, request_with, store_kinds};

#[tokio::test]
async fn ping_answers_while_the_process_lives() {
    request(|server, _ctx| async move {
        let response = server.get("/_ping").await;
        assert_eq!(response.status_code(), 200);
        assert_eq!(response.json::<Value>(), json!({ "ok": true }));
    })
    .await;
}

#[tokio::test]
async fn health_follows_the_database() {
    request(|server, ctx| async move {
        let healthy = server.get("/_health").await;
        assert_eq!(healthy.status_code(), 200);
        assert_eq!(
            healthy.json::<Value>(),
            json!({ "ok": true, "rate_limits": "memory", "storage": "up" })
        );

        ctx.db.clone().close().await.expect("close the pool");
        let unhealthy = server.get("/_health").await;
        assert_eq!(unhealthy.status_code(), 503);
        assert_eq!(
            unhealthy.json::<Value>(),
            json!({ "detail": "Database unreachable" })
        );
    })
    .await;
}

#[tokio::test]
async fn health_says_whether_the_file_store_answers() {
    for kind in store_kinds() {
        let booted = boot_on(kind, &Environment::Test, |_| {}).await;
        let health = booted.server.get("/_health").await.json::<Value>();
        assert_eq!(health["storage"], "up", "{kind:?}");
    }

    // A bucket on a port nothing listens on: the rest still answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    request_with(
        |settings| {
            let files = &mut settings["files"];
            files["s3_bucket"] = "uploads".into();
            files["s3_endpoint"] = format!("http://127.0.0.1:{closed}").into();
            files["aws_access_key_id"] = "key".into();
            files["aws_secret_access_key"] = "secret".into();
        },
        |server, _ctx| async move {
            let health = server.get("/_health").await;
            assert_eq!(health.status_code(), 200);
            assert_eq!(
                health.json::<Value>(),
                json!({ "ok": true, "rate_limits": "memory", "storage": "down" })
            );
        },
    )
    .await;
}
