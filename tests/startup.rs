//! The shipped binary, started as an operator would.

use std::process::Command;

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
