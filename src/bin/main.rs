use std::process::ExitCode;

use backend::app::App;
use loco_rs::cli;
use migration::Migrator;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of the mimalloc 3 that libmimalloc-sys 0.1.49 builds
/// (the bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Give freed pages back at once rather than after a second, which a server
    // that goes idle never reaches (BENCHMARKS.md, "Memory"); the arena commit
    // policy is set at build time, in `.cargo/config.toml`.
    // SAFETY: sets an allocator option, before any thread but this one runs.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
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
