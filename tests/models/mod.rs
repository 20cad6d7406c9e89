mod items;
mod sessions;
mod users;
