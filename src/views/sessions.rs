use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::sessions;

/// `Session`: a signed-in device, as its owner sees it. `ip` and `user_agent`
/// are those of its latest sign-in or refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse<'a> {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// When it was last refreshed (or signed in, if never since).
    pub last_used_at: DateTime<Utc>,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// Whether it is the session of the token that asked.
    pub current: bool,
}

impl<'a> SessionResponse<'a> {
    #[must_use]
    pub fn new(session: &'a sessions::Model, current: Option<Uuid>) -> Self {
        Self {
            id: session.id,
            created_at: session.created_at.into(),
            last_used_at: session.last_used_at.into(),
            ip: &session.ip,
            user_agent: &session.user_agent,
            current: current == Some(session.id),
        }
    }
}
