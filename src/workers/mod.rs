pub mod password_recovery;
