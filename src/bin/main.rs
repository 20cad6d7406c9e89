use std::{path::Path, process::ExitCode};

use backend::app::{App, prepare_process};
use loco_rs::cli;
use migration::Migrator;

fn main() -> ExitCode {
    default_to_production();
    prepare_process();
    let ran = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(loco_rs::Error::from)
        .and_then(|runtime| runtime.block_on(cli::main::<App, Migrator>()))
        .and_then(|()| settle_generated_files());
    backend::infra::telemetry::shutdown();
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// A release build told no environment runs as production: development's
/// published secret key and standing sign-in code must never serve by
/// mistake. `cargo loco start` builds for debugging and stays in development;
/// `--environment` and `LOCO_ENV` still choose.
fn default_to_production() {
    let named = ["LOCO_ENV", "RAILS_ENV", "NODE_ENV"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if !cfg!(debug_assertions) && !named {
        // SAFETY: the process has one thread yet; nothing reads the
        // environment concurrently.
        unsafe { std::env::set_var("LOCO_ENV", "production") };
    }
}

/// After `generate`, the sections the templates wrote for files of their own
/// are moved there (`backend::generators`), and the app formatted again.
fn settle_generated_files() -> loco_rs::Result<()> {
    if std::env::args().nth(1).as_deref() != Some("generate") {
        return Ok(());
    }
    let written = backend::generators::settle(Path::new("."))?;
    for file in &written {
        println!("added {}", file.display());
    }
    if !written.is_empty() {
        // Loco formats what it generated before the sections were moved:
        // again, for what they left, best effort as Loco's own run is.
        let _ = std::process::Command::new("cargo")
            .arg("fmt")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    Ok(())
}

/// The configuration files are templates: when one does not render (a
/// required environment variable is missing), say why in one line rather
/// than print the whole template.
fn describe(error: &loco_rs::Error) -> String {
    if let loco_rs::Error::Tera(error) = error
        && let tera::ErrorKind::RenderingError(report) | tera::ErrorKind::SyntaxError(report) =
            error.kind()
    {
        return format!("the configuration cannot be read: {}", report.message());
    }
    error.to_string()
}
