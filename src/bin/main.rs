use backend::app::App;
use loco_rs::cli;
use migration::Migrator;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of the mimalloc 3 that libmimalloc-sys 0.1.49 builds
/// (the bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> loco_rs::Result<()> {
    // Give freed pages back at once rather than after a second, which a server
    // that goes idle never reaches (BENCHMARKS.md, "Memory"); the arena commit
    // policy is set at build time, in `.cargo/config.toml`.
    // SAFETY: sets an allocator option, before any thread but this one runs.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(cli::main::<App, Migrator>())
}
