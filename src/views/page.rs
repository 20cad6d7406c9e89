//! A page of a list: the rows as the contract's JSON array, and where the
//! next page starts.

use axum::{
    Json,
    http::{HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::models::pagination::Cursor;

/// The header that carries the next page's cursor; absent on the last page.
pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");

pub fn render<T: Serialize>(rows: Vec<T>, next: Option<Cursor>) -> Response {
    let mut response = Json(rows).into_response();
    if let Some(cursor) = next.and_then(|next| HeaderValue::try_from(next.encode()).ok()) {
        response.headers_mut().insert(NEXT_CURSOR, cursor);
    }
    response
}
