use std::process::ExitCode;

use backend::app::{App, prepare_process};
use loco_rs::cli;
use migration::Migrator;

fn main() -> ExitCode {
    prepare_process();
    let ran = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(loco_rs::Error::from)
        .and_then(|runtime| runtime.block_on(cli::main::<App, Migrator>()));
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
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
