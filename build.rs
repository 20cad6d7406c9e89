//! Tests that need a Redis server run where `REDIS_URL` is set at build time,
//! those that need a PostgreSQL server for a legacy database where
//! `LEGACY_DATABASE_URL` is; elsewhere they show as ignored rather than
//! passing without running.

fn main() {
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
