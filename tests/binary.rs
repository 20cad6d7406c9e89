//! The shipped binary, started and stopped as an operator would.

use std::{
    path::PathBuf,
    process::{Command, ExitStatus, Stdio},
    time::Duration,
};

use serde_json::json;
use uuid::Uuid;

use crate::workers::smtp_server::SmtpServer;

/// The variables a production start cannot do without.
const REQUIRED: [&str; 8] = [
    "DATABASE_URL",
    "POSTGRES_SERVER",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "SERVER_HOST",
    "WEB_APP_URL",
    "SECRET_KEY",
];

/// Starts in production with only `set` of the required variables; returns
/// what it printed, once it has given up.
fn start_in_production_with(set: &[(&str, &str)]) -> String {
    let mut start = Command::new(env!("CARGO_BIN_EXE_backend-cli"));
    start
        .arg("start")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LOCO_ENV", "production");
    for name in REQUIRED {
        start.env_remove(name);
    }
    start.envs(set.iter().copied());
    let output = start.output().expect("the binary runs");
    assert!(!output.status.success(), "it refuses to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0]
}

#[test]
fn a_production_start_without_a_required_variable_says_which_in_one_line() {
    let stderr = start_in_production_with(&[]);
    let line = one_line(&stderr);
    assert!(
        line.starts_with("error: the configuration cannot be read"),
        "{line}"
    );
    assert!(line.contains("`POSTGRES_USER`"), "{line}");

    let stderr = start_in_production_with(&[
        ("DATABASE_URL", "sqlite::memory:"),
        ("SERVER_HOST", "https://api.example.com"),
        ("WEB_APP_URL", "https://example.com"),
    ]);
    let line = one_line(&stderr);
    assert!(line.starts_with("error: SECRET_KEY is missing"), "{line}");
}

/// A development server on a port and an SQLite file of its own, mailing
/// through `smtp_port`.
struct DevServer {
    child: tokio::process::Child,
    port: u16,
    database: PathBuf,
}

impl DevServer {
    async fn start(smtp_port: u16, workers_mode: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let database =
            std::env::temp_dir().join(format!("server_{}.sqlite", Uuid::new_v4().simple()));
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_backend-cli"))
            .arg("start")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LOCO_ENV", "development")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", database.display()),
            )
            .env("PORT", port.to_string())
            .env("BINDING", "127.0.0.1")
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", smtp_port.to_string())
            .env("SMTP_TLS", "none")
            .env("EMAILS_FROM_EMAIL", "noreply@example.com")
            .env("WORKERS_MODE", workers_mode)
            .env("LOG_LEVEL", "error")
            .env_remove("REDIS_URL")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the server starts");
        let server = Self {
            child,
            port,
            database,
        };
        let answering = tokio::time::timeout(Duration::from_secs(60), async {
            while reqwest::get(server.url("/_ping")).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(answering.is_ok(), "the server answers /_ping");
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn register(&self, email: &str) -> reqwest::Result<reqwest::Response> {
        reqwest::Client::new()
            .post(self.url("/api/v1/auth/register"))
            .json(&json!({ "email": email, "password": "correct horse battery" }))
            .send()
            .await
    }

    /// Sends SIGTERM, as `docker stop` does, and waits until the server no
    /// longer takes connections: the shutdown has begun.
    async fn terminate(&self) {
        let pid = self.child.id().expect("running").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|status| status.success()), "SIGTERM sent");
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(closed.is_ok(), "the server stops taking connections");
    }

    async fn exit(&mut self) -> ExitStatus {
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server exits")
            .expect("its status")
    }

    async fn mail_statuses(&self) -> Vec<String> {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let db = Database::connect(format!("sqlite://{}", self.database.display()))
            .await
            .expect("the server's database");
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT status FROM mails",
            ))
            .await
            .expect("mails");
        rows.iter()
            .map(|row| row.try_get::<String>("", "status").expect("a status"))
            .collect()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.database.display()));
        }
    }
}

#[tokio::test]
async fn a_shutdown_lets_mail_deliveries_under_way_finish() {
    let smtp = SmtpServer::start_holding().await;
    let mut server = DevServer::start(smtp.port, "BackgroundAsync").await;
    let registered = server
        .register("jane@example.com")
        .await
        .expect("an answer");
    assert_eq!(registered.status(), 200);
    tokio::time::timeout(Duration::from_secs(30), smtp.message_arrived())
        .await
        .expect("the welcome mail is under way");

    server.terminate().await;
    // No request is left, yet it stays for the delivery. (This can only pass
    // wrongly: a server that does not wait has exited well within the time.)
    let waited = tokio::time::timeout(Duration::from_millis(500), server.child.wait()).await;
    assert!(waited.is_err(), "it exited with a delivery under way");
    smtp.release();

    assert!(server.exit().await.success());
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(server.mail_statuses().await, ["sent"]);
}

#[tokio::test]
async fn a_shutdown_lets_requests_under_way_finish() {
    let smtp = SmtpServer::start_holding().await;
    // Mail is delivered inside the request: it stays under way while held.
    let mut server = DevServer::start(smtp.port, "ForegroundBlocking").await;
    let url = server.url("/api/v1/auth/register");
    let request = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({ "email": "joe@example.com", "password": "correct horse battery" }))
            .send()
            .await
    });
    tokio::time::timeout(Duration::from_secs(30), smtp.message_arrived())
        .await
        .expect("the request is under way");

    server.terminate().await;
    smtp.release();

    let response = request.await.expect("joined").expect("an answer");
    assert_eq!(response.status(), 200);
    assert!(server.exit().await.success());
    assert_eq!(server.mail_statuses().await, ["sent"]);
}
