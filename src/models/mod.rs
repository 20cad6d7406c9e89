pub mod _entities;
pub mod items;
pub mod mails;
pub mod pagination;
pub mod timestamps;
pub mod tokens;
pub mod users;
