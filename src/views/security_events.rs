use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::security_events;

/// `SecurityEvent`: one entry of an account's security log.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityEventResponse<'a> {
    pub id: Uuid,
    /// `sign_in`, `sign_in_failed`, `signed_out`, `password_changed`,
    /// `password_reset`, `email_change_requested`, `email_changed`,
    /// `refresh_token_reused`, `archived`, `unarchived`, `session_ended`,
    /// `two_factor_enabled`, `two_factor_disabled`.
    pub kind: &'a str,
    pub created_at: DateTime<Utc>,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub detail: Option<&'a str>,
}

impl<'a> From<&'a security_events::Model> for SecurityEventResponse<'a> {
    fn from(event: &'a security_events::Model) -> Self {
        Self {
            id: event.id,
            kind: &event.kind,
            created_at: event.created_at.into(),
            ip: &event.ip,
            user_agent: &event.user_agent,
            detail: event.detail.as_deref(),
        }
    }
}
