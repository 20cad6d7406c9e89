//! The shipped binary, started and stopped as an operator would.

use std::{
    path::PathBuf,
    process::{Command, ExitStatus, Stdio},
    time::Duration,
};

use serde_json::json;
use uuid::Uuid;

use crate::{
    support::{TestDatabase, http_client},
    workers::smtp_server::SmtpServer,
};

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

#[tokio::test]
async fn an_operator_task_with_bad_arguments_prints_its_usage_and_fails() {
    let database = std::env::temp_dir().join(format!("task_{}.sqlite", Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", database.display());
    for (args, expected) in [
        (vec!["user_create"], "usage: user_create email:<address>"),
        (
            vec!["user_create", "email:a@example.com", "role:root"],
            "usage: user_create",
        ),
        (vec!["user_archive"], "usage: user_archive email:<address>"),
        (
            vec!["user_end_sessions", "email:nobody@example.com"],
            "no user with email",
        ),
    ] {
        let output = binary()
            .arg("task")
            .args(&args)
            .env("LOCO_ENV", "development")
            .env("DATABASE_URL", &url)
            .output()
            .await
            .expect("the binary runs");
        assert!(!output.status.success(), "{args:?} exits non-zero");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_file(&database);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn binary() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_backend-cli"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LOG_LEVEL", "error")
        .env_remove("REDIS_URL")
        .kill_on_drop(true);
    command
}

/// A server process on a port of its own (and, in development, an SQLite
/// file of its own).
struct Server {
    child: tokio::process::Child,
    port: u16,
    database: Option<PathBuf>,
}

impl Server {
    /// `start` in development, mailing through `smtp_port`.
    async fn development(smtp_port: u16, workers_mode: &str) -> Self {
        let database =
            std::env::temp_dir().join(format!("server_{}.sqlite", Uuid::new_v4().simple()));
        let mut command = binary();
        command
            .arg("start")
            .env("LOCO_ENV", "development")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", database.display()),
            )
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", smtp_port.to_string())
            .env("SMTP_TLS", "none")
            .env("EMAILS_FROM_EMAIL", "noreply@example.com")
            .env("WORKERS_MODE", workers_mode);
        Self::spawn(command, Some(database)).await
    }

    /// `start --all` (server, queue worker, scheduler) in production.
    async fn production(env: &[(&str, String)]) -> Self {
        let mut command = binary();
        command
            .args(["start", "--all"])
            .env("LOCO_ENV", "production")
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())));
        Self::spawn(command, None).await
    }

    async fn spawn(mut command: tokio::process::Command, database: Option<PathBuf>) -> Self {
        let port = free_port();
        let child = command
            .env("PORT", port.to_string())
            .env("BINDING", "127.0.0.1")
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        let server = Self {
            child,
            port,
            database,
        };
        let answering = tokio::time::timeout(Duration::from_secs(60), async {
            while http_client()
                .get(server.url("/_ping"))
                .send()
                .await
                .is_err()
            {
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
        http_client()
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
        let database = self.database.as_ref().expect("an SQLite file");
        mail_statuses(&format!("sqlite://{}", database.display())).await
    }
}

async fn mail_statuses(uri: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(uri).await.expect("the server's database");
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

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(database) = &self.database {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
            }
        }
    }
}

#[tokio::test]
async fn a_shutdown_lets_mail_deliveries_under_way_finish() {
    let smtp = SmtpServer::start_holding().await;
    let mut server = Server::development(smtp.port, "BackgroundAsync").await;
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
    let mut server = Server::development(smtp.port, "ForegroundBlocking").await;
    let url = server.url("/api/v1/auth/register");
    let request = tokio::spawn(async move {
        http_client()
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

/// Two `start --all` processes on one PostgreSQL and one Redis, as a
/// scaled-out deployment runs them; a client goes back and forth between them.
/// Runs where Redis is (CI, with `REDIS_URL`), with PostgreSQL on
/// 127.0.0.1:5432.
#[tokio::test]
#[cfg_attr(not(redis_tests), ignore = "set REDIS_URL to a Redis server to run it")]
async fn two_processes_share_limits_sessions_mail_and_scheduled_runs() {
    let database = TestDatabase::create("postgres://postgres@127.0.0.1:5432/postgres").await;
    let smtp = SmtpServer::start(0).await;
    let env = [
        ("DATABASE_URL", database.uri().to_string()),
        ("REDIS_URL", std::env::var("REDIS_URL").expect("REDIS_URL")),
        (
            "SECRET_KEY",
            "scale-out-test-secret-0123456789abcdef0123456789".to_string(),
        ),
        ("SERVER_HOST", "http://127.0.0.1".to_string()),
        ("WEB_APP_URL", "http://127.0.0.1".to_string()),
        ("SMTP_HOST", "127.0.0.1".to_string()),
        ("SMTP_PORT", smtp.port.to_string()),
        ("SMTP_TLS", "none".to_string()),
        ("EMAILS_FROM_EMAIL", "noreply@example.com".to_string()),
        ("DB_AUTO_MIGRATE", "false".to_string()),
        ("RATE_LIMIT_LOGIN_PER_EMAIL", "3".to_string()),
        ("RATE_LIMIT_LOGIN_PER_IP", "1000".to_string()),
        ("RATE_LIMIT_REGISTER_PER_IP", "1000".to_string()),
    ];
    // The release step: migrate once, before any server starts.
    let migrated = binary()
        .args(["db", "migrate"])
        .env("LOCO_ENV", "production")
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .output()
        .await
        .expect("db migrate runs");
    assert!(migrated.status.success(), "{migrated:?}");
    let servers = [
        Server::production(&env).await,
        Server::production(&env).await,
    ];
    let client = http_client();
    let post = |server: usize, path: &str, body: serde_json::Value| {
        client.post(servers[server].url(path)).json(&body).send()
    };

    // Rate limits are counted once for both.
    let target = format!("target-{}@example.com", Uuid::new_v4().simple());
    let mut statuses = Vec::new();
    for server in [0, 1, 0, 1] {
        let response = client
            .post(servers[server].url("/api/v1/auth/login"))
            .form(&[
                ("username", target.as_str()),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .expect("an answer");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);

    // A refresh token rotated on one is refused by the other.
    let mut emails = Vec::new();
    let mut sessions = Vec::new();
    for n in 0..4 {
        let email = format!("scale-{n}-{}@example.com", Uuid::new_v4().simple());
        let registered = post(
            n % 2,
            "/api/v1/auth/register",
            json!({ "email": email, "password": "correct horse battery" }),
        )
        .await
        .expect("an answer");
        assert_eq!(registered.status(), 200);
        sessions.push(registered.json::<serde_json::Value>().await.expect("json"));
        emails.push(email);
    }
    let old = &sessions[0]["refresh_token"];
    let rotated = post(0, "/api/v1/auth/refresh", old.clone())
        .await
        .expect("an answer");
    assert_eq!(rotated.status(), 200);
    let replayed = post(1, "/api/v1/auth/refresh", old.clone())
        .await
        .expect("an answer");
    assert_eq!(replayed.status(), 401);

    // Each welcome mail, and the replay's notice to the first user, queued in
    // Redis and worked by either, goes out once.
    let delivered = tokio::time::timeout(Duration::from_secs(60), async {
        while mail_statuses(database.uri()).await != ["sent"; 5] {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        delivered.is_ok(),
        "{:?}",
        mail_statuses(database.uri()).await
    );
    let messages = smtp.messages();
    assert_eq!(messages.len(), 5, "one message per mail");
    for (n, email) in emails.iter().enumerate() {
        assert_eq!(
            messages
                .iter()
                .filter(|message| message.contains(email.as_str()))
                .count(),
            if n == 0 { 2 } else { 1 },
            "{email}"
        );
    }

    // Both schedulers fire a run at once: one process does it. (A period no
    // configured job uses, so that their own runs do not take this one.)
    let scheduled_run = || {
        binary()
            .args(["task", "deliver_mail", "once_per:600"])
            .env("LOCO_ENV", "production")
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .output()
    };
    let (first, second) = tokio::join!(scheduled_run(), scheduled_run());
    let outputs = [first.expect("a run"), second.expect("a run")];
    assert!(outputs.iter().all(|output| output.status.success()));
    let skipped = outputs
        .iter()
        .filter(|output| {
            String::from_utf8_lossy(&output.stdout).contains("taken by another process")
        })
        .count();
    assert_eq!(skipped, 1, "{outputs:?}");
}

/// S3 named but out of reach, in production: the server starts anyway (the
/// HTTP client behind the bucket needs TLS set up at the process's start,
/// which only `src/bin/main.rs` does for the binary), says the store is down,
/// and turns uploads away with 503 while the rest works. The 503 comes within
/// the production request timeout: the store's retries are waited out once,
/// not again to clean up after them.
#[tokio::test]
async fn a_production_start_with_s3_out_of_reach_serves_and_says_the_store_is_down() {
    let database = std::env::temp_dir().join(format!("s3_{}.sqlite", Uuid::new_v4().simple()));
    let env = [
        (
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", database.display()),
        ),
        (
            "SECRET_KEY",
            "s3-out-of-reach-secret-0123456789abcdef0123456789".to_string(),
        ),
        ("SERVER_HOST", "http://127.0.0.1".to_string()),
        ("WEB_APP_URL", "http://127.0.0.1".to_string()),
        ("S3_BUCKET", "uploads".to_string()),
        // A port nothing listens on.
        ("S3_ENDPOINT", format!("http://127.0.0.1:{}", free_port())),
        ("AWS_ACCESS_KEY_ID", "key".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "secret".to_string()),
    ];
    let mut server = Server::production(&env).await;
    server.database = Some(database);

    let health: serde_json::Value = http_client()
        .get(server.url("/_health"))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json");
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["storage"], "down", "{health}");

    let registered = server.register("ann@example.com").await.expect("an answer");
    assert_eq!(registered.status(), 200);
    let token = registered.json::<serde_json::Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("a token")
        .to_string();
    let boundary = "upload-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let uploaded = http_client()
        .post(server.url("/api/v1/files"))
        .bearer_auth(&token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(uploaded.status(), 503);
    let listed = http_client()
        .get(server.url("/api/v1/files"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(listed.status(), 200, "nothing was written");
    assert_eq!(
        listed.json::<serde_json::Value>().await.expect("json"),
        json!([])
    );

    server.terminate().await;
    assert!(server.exit().await.success());
}
