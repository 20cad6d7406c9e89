pub mod mail_delivery;
pub mod password_recovery;
