mod items;
mod users;
