use crate::support::request;
use serde_json::{Value, json};

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
            json!({ "ok": true, "rate_limits": "memory" })
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
