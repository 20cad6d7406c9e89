pub mod first_superuser;
pub mod mail_recovery;
