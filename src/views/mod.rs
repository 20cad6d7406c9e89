pub mod auth;
pub mod items;
pub mod msg;
pub mod otp;
pub mod users;
