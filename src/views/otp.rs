use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::one_time_passwords;

/// `OneTimePassword`. The code is shown once, when it is made: it is stored
/// only as a hash, so a deleted code comes back without it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OneTimePasswordResponse {
    pub id: Uuid,
    pub email: String,
    pub user_id: Option<Uuid>,
    pub verification_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl OneTimePasswordResponse {
    #[must_use]
    pub fn new(
        otp: &one_time_passwords::Model,
        user_id: Option<Uuid>,
        verification_code: Option<String>,
    ) -> Self {
        Self {
            id: otp.id,
            email: otp.email.clone(),
            user_id,
            verification_code,
            created_at: otp.created_at.into(),
            expires_at: otp.expires_at.into(),
        }
    }
}
