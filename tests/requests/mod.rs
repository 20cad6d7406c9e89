mod auth;
mod items;
mod monitoring;
mod prepare_data;
mod routing;
mod users;
mod utils;
