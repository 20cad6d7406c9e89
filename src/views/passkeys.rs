use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::passkeys;

/// `Passkey`: one of the user's passkeys, as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyResponse<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether it is synced to the user's other devices (a lost phone does
    /// not lose it).
    pub backed_up: bool,
}

impl<'a> From<&'a passkeys::Model> for PasskeyResponse<'a> {
    fn from(passkey: &'a passkeys::Model) -> Self {
        Self {
            id: passkey.id,
            name: &passkey.name,
            created_at: passkey.created_at.into(),
            last_used_at: passkey.last_used_at.map(Into::into),
            backed_up: passkey.backed_up,
        }
    }
}

/// The options of a new passkey, for
/// `PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOptions {
    pub registration_id: Uuid,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// The options of a passkey sign-in, for
/// `PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticationOptions {
    pub authentication_id: Uuid,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}
