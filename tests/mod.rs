mod binary;
mod layering;
mod mailers;
mod models;
mod requests;
mod support;
mod tasks;
pub mod workers;
