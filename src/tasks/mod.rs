pub mod deliver_mail;
pub mod mail_failed;
pub mod mail_preview;
pub mod purge_expired_tokens;
pub mod send_test_email;
