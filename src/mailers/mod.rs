pub mod account;
pub mod delivery;
pub mod templates;
