//! Tests that need a Redis server run where `REDIS_URL` is set at build time,
//! those that need a PostgreSQL server for a legacy database where
//! `LEGACY_DATABASE_URL` is; elsewhere they show as ignored rather than
//! passing without running.
//!
//! The release binary is linked smaller (BENCHMARKS.md, "Binary size").

fn main() {
    link_release_binary_small();
    println!("cargo::rustc-check-cfg=cfg(redis_tests)");
    println!("cargo::rustc-check-cfg=cfg(legacy_tests)");
    println!("cargo::rerun-if-env-changed=LEGACY_DATABASE_URL");
    if std::env::var_os("LEGACY_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=legacy_tests");
    }
    println!("cargo::rerun-if-env-changed=REDIS_URL");
    if std::env::var_os("REDIS_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=redis_tests");
    }
}

/// Relative relocations packed (RELR: 0.9 MiB of relocation entries down to
/// 11 KiB; needs glibc 2.36, as the image's Debian bookworm has), and
/// identical functions folded where the linker is rust-lld, the default on
/// x86_64 Linux (GNU ld has no `--icf`): only those whose address nothing
/// compares (`safe`).
fn link_release_binary_small() {
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("PROFILE") != "release"
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
    {
        return;
    }
    println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    if var("CARGO_CFG_TARGET_ARCH") == "x86_64" {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=safe");
    }
}
