use serde::Serialize;
use utoipa::ToSchema;

/// `Msg`: a sentence for the user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Msg {
    pub msg: String,
}

impl Msg {
    #[must_use]
    pub fn new(msg: impl Into<String>) -> Self {
        Self { msg: msg.into() }
    }
}
