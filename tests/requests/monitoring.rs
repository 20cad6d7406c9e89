use insta::assert_json_snapshot;
use loco_rs::environment::Environment;
use serde_json::{Value, json};

use backend::models::mails;

use crate::support::{app_state, boot_on, queue_mail, request, request_with, store_kinds};

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
        assert_json_snapshot!(healthy.json::<Value>(), {
            ".checks.*.latency_ms" => "[ms]",
        }, @r#"
        {
          "checks": {
            "database": {
              "essential": true,
              "latency_ms": "[ms]",
              "state": "up"
            },
            "smtp": {
              "essential": false,
              "state": "unknown"
            },
            "storage": {
              "essential": false,
              "latency_ms": "[ms]",
              "state": "up"
            }
          },
          "ok": true,
          "rate_limits": "memory",
          "storage": "up"
        }
        "#);

        ctx.db.clone().close().await.expect("close the pool");
        let unhealthy = server.get("/_health").await;
        assert_eq!(unhealthy.status_code(), 503);
        let unhealthy = unhealthy.json::<Value>();
        assert_eq!(unhealthy["ok"], false);
        assert_eq!(unhealthy["detail"], "Database unreachable");
        assert_eq!(
            unhealthy["checks"]["database"],
            json!({ "state": "down", "essential": true, "latency_ms": unhealthy["checks"]["database"]["latency_ms"] })
        );
        assert_eq!(unhealthy["checks"]["storage"]["state"], "up");
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
            let health = health.json::<Value>();
            assert_eq!(health["ok"], true);
            assert_eq!(health["storage"], "down");
            assert_eq!(health["checks"]["storage"]["state"], "down");
            assert_eq!(health["checks"]["storage"]["essential"], false);
        },
    )
    .await;
}

#[tokio::test]
async fn health_reads_smtp_from_the_last_delivery() {
    request(|server, ctx| async move {
        let smtp = |health: Value| health["checks"]["smtp"].clone();
        let before = smtp(server.get("/_health").await.json::<Value>());
        assert_eq!(before, json!({ "state": "unknown", "essential": false }));

        let mail = queue_mail(&ctx, "hello").await;
        let state = app_state(&ctx);
        let outbox = state.outbox(&ctx).expect("an outbox");
        mails::Model::deliver(&ctx.db, &outbox, mail.id)
            .await
            .expect("delivered");
        let after = smtp(server.get("/_health").await.json::<Value>());
        assert_eq!(after["state"], "up", "{after}");
        assert!(after["since"].is_string(), "{after}");
    })
    .await;
}
