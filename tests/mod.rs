mod layering;
mod mailers;
mod models;
mod requests;
mod startup;
mod support;
mod tasks;
mod workers;
