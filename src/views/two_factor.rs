use serde::Serialize;
use utoipa::ToSchema;

use crate::models::two_factor::Setup;

/// What an authenticator app needs; shown once. Not `Debug`: it holds the secret.
#[derive(Serialize, ToSchema)]
pub struct TwoFactorSetupResponse {
    /// The TOTP secret, in base32, for typing in.
    pub secret: String,
    /// The same as an `otpauth://` URL, for a QR code.
    #[schema(example = "otpauth://totp/Backend:jane%40example.com?secret=...&issuer=Backend")]
    pub otpauth_url: String,
}

impl From<Setup> for TwoFactorSetupResponse {
    fn from(setup: Setup) -> Self {
        Self {
            secret: setup.secret,
            otpauth_url: setup.otpauth_url,
        }
    }
}

/// Ten single-use recovery codes, shown this once. Not `Debug`: they are secrets.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    #[schema(example = json!(["abcde-fghjk"]))]
    pub recovery_codes: Vec<String>,
}

/// What a sign-in answers when two-factor sign-in is on: trade the
/// challenge, with a code, at `POST /auth/2fa/verify`.
#[derive(Serialize, ToSchema)]
pub struct TwoFactorChallengeResponse {
    /// Always `true`.
    pub two_factor_required: bool,
    pub challenge_token: String,
}
