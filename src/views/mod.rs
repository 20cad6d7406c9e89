pub mod auth;
pub mod items;
pub mod msg;
pub mod otp;
pub mod security_events;
pub mod sessions;
pub mod two_factor;
pub mod users;
