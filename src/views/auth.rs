use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::users::UserResponse;
use crate::models::{tokens::IssuedToken, users};

/// `AuthResponse`: a fresh pair of tokens and the user they belong to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub access_token_expiration_date: DateTime<Utc>,
    pub refresh_token_expiration_date: DateTime<Utc>,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    pub user: UserResponse,
}

impl AuthResponse {
    #[must_use]
    pub fn new(user: &users::Model, access: &IssuedToken, refresh: &IssuedToken) -> Self {
        Self {
            access_token: access.token.clone(),
            refresh_token: refresh.token.clone(),
            access_token_expiration_date: access.expires_at(),
            refresh_token_expiration_date: refresh.expires_at(),
            token_type: "bearer",
            user: UserResponse::from(user),
        }
    }
}
