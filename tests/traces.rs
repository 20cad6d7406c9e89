//! Traces, in a test binary of its own: it sets the process's subscriber as
//! `cargo loco start` does with `OTEL_EXPORTER_OTLP_ENDPOINT` set, and reads
//! what reaches an OTLP/HTTP receiver started here.

// Shared with the api tests; this binary uses a part of it.
#[allow(dead_code)]
#[path = "support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use axum::{Router, body::Bytes, extract::State, routing::post};
use backend::{
    app::{App, prepare_process},
    infra::telemetry,
};
use loco_rs::{app::Hooks, environment::Environment};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value, trace::v1::Span,
};
use prost::Message;
use serde_json::{Value, json};
use support::request;

/// The client's trace, and its span the request continues.
const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

type Received = Arc<Mutex<Vec<Bytes>>>;

async fn collect(State(received): State<Received>, body: Bytes) {
    received.lock().expect("lock").push(body);
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|attribute| attribute.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        any_value::Value::StringValue(text) => text.clone(),
        any_value::Value::IntValue(number) => number.to_string(),
        other => format!("{other:?}"),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_span_and_its_statements_reach_the_collector() {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("its address");
    let collector = Router::new()
        .route("/v1/traces", post(collect))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, collector).await });
    // SAFETY: this binary's one test sets it before anything reads it.
    unsafe { std::env::set_var(telemetry::ENDPOINT, format!("http://{address}")) };
    // As `src/bin/main.rs`: the process first (the exporter's TLS), then
    // `cargo loco`'s logger set-up.
    prepare_process();
    let config = App::load_config(&Environment::Test).await.expect("config");
    assert!(telemetry::init::<App>(&config).expect("traces set up"));

    request(|server, _ctx| async move {
        let registered = server
            .post("/api/v1/auth/register")
            .json(&json!({ "email": "jane@example.com", "password": "correct horse battery" }))
            .await;
        let token = registered.json::<Value>()["access_token"]
            .as_str()
            .expect("a token")
            .to_string();
        let me = server
            .get("/api/v1/users/me")
            .authorization_bearer(&token)
            .add_header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
            .await;
        assert_eq!(me.status_code(), 200);
    })
    .await;
    tokio::task::spawn_blocking(telemetry::shutdown)
        .await
        .expect("flushed");

    let bodies = received.lock().expect("lock").clone();
    assert!(!bodies.is_empty(), "nothing reached the collector");
    let mut spans = Vec::new();
    for body in &bodies {
        assert!(!String::from_utf8_lossy(body).contains("jane@example.com"));
        let export = ExportTraceServiceRequest::decode(body.clone()).expect("OTLP protobuf");
        for resource in export.resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|resource| resource.attributes.iter().find(|a| a.key == "service.name"))
                .and_then(|name| name.value.clone())
                .and_then(|value| value.value);
            assert_eq!(
                service,
                Some(any_value::Value::StringValue("Backend".to_string()))
            );
            spans.extend(
                resource
                    .scope_spans
                    .into_iter()
                    .flat_map(|scope| scope.spans),
            );
        }
    }
    let me = spans
        .iter()
        .find(|span| span.name == "GET /api/v1/users/me")
        .unwrap_or_else(|| panic!("no request span in {:?}", names(&spans)));
    assert_eq!(hex(&me.trace_id), TRACE_ID);
    assert_eq!(hex(&me.parent_span_id), PARENT_ID);
    assert_eq!(
        attribute(me, "http.route").as_deref(),
        Some("/api/v1/users/me")
    );
    assert_eq!(
        attribute(me, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert!(attribute(me, "request_id").is_some_and(|id| !id.is_empty()));

    let statements: Vec<&Span> = spans
        .iter()
        .filter(|span| span.parent_span_id == me.span_id)
        .collect();
    assert!(!statements.is_empty(), "no child in {:?}", names(&spans));
    for statement in statements {
        assert!(
            statement.name.ends_with(" sqlite") || statement.name.ends_with(" postgresql"),
            "{}",
            statement.name
        );
        assert_eq!(statement.trace_id, me.trace_id);
        let text = attribute(statement, "db.statement").expect("the statement");
        assert!(text.contains("SELECT"), "{text}");
        assert!(!text.contains("jane@example.com"), "{text}");
    }
}

fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|span| span.name.as_str()).collect()
}
