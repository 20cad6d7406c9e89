// The binary's allocator, here so that the tests run on it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod controllers;
pub mod db_pool;
pub mod errors;
pub mod i18n;
pub mod initializers;
pub mod mailers;
pub mod middleware;
pub mod models;
pub mod rate_limit;
pub mod settings;
pub mod state;
pub mod tasks;
pub mod trusted_proxies;
pub mod views;
pub mod workers;
