mod files;
mod items;
mod sessions;
mod users;
