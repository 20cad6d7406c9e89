use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::users::{self, Provider, Role};

/// `User`, as clients see it: never the password hash or any secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    pub email: String,
    /// The new email asked for, until the code sent to it is confirmed.
    pub pending_email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub confirmed: bool,
    pub role: Role,
    pub provider: Provider,
    pub is_admin: bool,
    pub is_moderator: bool,
    pub is_customer: bool,
    pub profile_picture_url: Option<String>,
    /// Whether signing in asks for a TOTP or recovery code too.
    pub two_factor_enabled: bool,
    pub archived: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserResponse {
    /// The user as clients see them; `server_host` begins the picture's URL.
    #[must_use]
    pub fn new(user: &users::Model, server_host: &str) -> Self {
        let role = user.role;
        Self {
            id: user.id,
            email: user.email.clone(),
            pending_email: user.pending_email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            language: user.language.clone(),
            confirmed: user.confirmed,
            role,
            provider: user.provider,
            is_admin: role == Role::Admin,
            is_moderator: role == Role::Moderator,
            is_customer: role == Role::Customer,
            profile_picture_url: user.profile_picture_id.map(|file_id| {
                format!(
                    "{server_host}/api/v1/users/{}/profile-picture/{file_id}",
                    user.id
                )
            }),
            two_factor_enabled: user.two_factor_enabled,
            archived: user.is_archived(),
            archived_at: user.archived_at.map(Into::into),
            created_at: user.created_at.into(),
            updated_at: user.updated_at.into(),
        }
    }
}
