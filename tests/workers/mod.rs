mod mail_delivery;
pub mod smtp_server;
