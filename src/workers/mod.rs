pub mod account_deletion;
pub mod data_export;
pub mod password_recovery;
