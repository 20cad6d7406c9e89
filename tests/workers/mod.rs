mod mail_delivery;
mod smtp_server;
