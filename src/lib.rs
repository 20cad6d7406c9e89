// The binary's allocator, here so that the tests run on it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod controllers;
pub mod errors;
pub mod generators;
pub mod infra;
pub mod initializers;
pub mod mailers;
pub mod middleware;
pub mod models;
pub mod tasks;
pub mod views;
pub mod workers;
