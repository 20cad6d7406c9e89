//! The request log, in a test binary of its own: it watches the process's
//! spans, which tests running beside it on other threads would muddle.

// Shared with the api tests; this binary uses a part of it.
#[allow(dead_code)]
#[path = "support.rs"]
mod support;

use support::request;

/// The `http.uri` of every request span opened while it is the default.
#[derive(Clone, Default)]
struct LoggedUris(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LoggedUris {
    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Uri<'a>(&'a LoggedUris);
        impl tracing::field::Visit for Uri<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "http.uri" {
                    self.0.0.lock().expect("lock").push(format!("{value:?}"));
                }
            }
        }
        attributes.record(&mut Uri(self));
    }
}

#[tokio::test]
async fn fix_the_request_log_writes_routes_not_emails_or_codes() {
    use tracing_subscriber::layer::SubscriberExt;

    let logged = LoggedUris::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(logged.clone()))
        .expect("the only subscriber");
    request(|server, _ctx| async move {
        server
            .post("/api/v1/auth/password-recovery/jane@example.com")
            .await;
        server
            .get("/api/v1/auth/google/callback?code=provider-code&state=some-state")
            .await;
    })
    .await;
    let uris = logged.0.lock().expect("lock").clone();
    assert_eq!(
        uris,
        [
            "/api/v1/auth/password-recovery/{email}",
            "/api/v1/auth/{provider}/callback?code&state"
        ]
    );
}
