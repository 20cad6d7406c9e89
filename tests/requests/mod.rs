mod auth;
mod items;
mod monitoring;
mod otp;
mod prepare_data;
mod routing;
mod users;
mod utils;
