//! Request extractors whose rejections speak the contract: 401 and 403 with
//! `{"detail"}`, and FastAPI's 422 list for input that does not parse or
//! validate.

pub mod auth;
pub mod body;
pub mod client_ip;
pub mod db;
pub mod input_error;
pub mod origin;
pub mod path;
pub mod query;
pub mod store;
pub mod upload;

pub use auth::{AdminUser, Caller, CurrentSession, CurrentUser};
pub use body::{FormBody, JsonBody};
pub use client_ip::ClientIp;
pub use db::Db;
pub use path::PathParams;
pub use query::QueryParams;
pub use store::Store;
pub use upload::FileUpload;
