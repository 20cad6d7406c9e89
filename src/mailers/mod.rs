pub mod account;
pub mod data_rights;
pub mod delivery;
pub mod templates;
