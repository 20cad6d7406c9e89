use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::{REDACTED, one_time_passwords};

/// `OneTimePassword`. The code is shown once, when it is made: it is stored
/// only as a hash, so a deleted code comes back without it. `Debug` leaves
/// the code out.
#[derive(Serialize, ToSchema)]
pub struct OneTimePasswordResponse {
    pub id: Uuid,
    pub email: String,
    pub user_id: Option<Uuid>,
    pub verification_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for OneTimePasswordResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimePasswordResponse")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field(
                "verification_code",
                &self.verification_code.as_ref().map(|_| REDACTED),
            )
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
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

/// `AppleReviewCode`: the state of the Apple review code, never the code:
/// its wrong tries in all so far, the most it takes, and whether it still
/// signs in (not expired, not void).
#[derive(Debug, Serialize, ToSchema)]
pub struct AppleReviewCodeResponse {
    pub id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub wrong_tries: i32,
    pub max_wrong_tries: i32,
    pub usable: bool,
}

impl AppleReviewCodeResponse {
    #[must_use]
    pub fn new(otp: &one_time_passwords::Model) -> Self {
        Self {
            id: otp.id,
            email: otp.email.clone(),
            created_at: otp.created_at.into(),
            expires_at: otp.expires_at.into(),
            wrong_tries: otp.attempts,
            max_wrong_tries: one_time_passwords::APPLE_REVIEW_MAX_WRONG,
            usable: otp.is_usable(),
        }
    }
}
