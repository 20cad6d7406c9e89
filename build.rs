//! Tests that need a Redis server run where `REDIS_URL` is set at build time,
//! and show as ignored elsewhere rather than passing without running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_tests)");
    println!("cargo::rerun-if-env-changed=REDIS_URL");
    if std::env::var_os("REDIS_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=redis_tests");
    }
}
