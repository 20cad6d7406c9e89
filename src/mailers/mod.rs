pub mod account;
pub mod templates;
