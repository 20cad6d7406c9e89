use axum::{
    Json,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{two_factor::TwoFactorChallengeResponse, users::UserResponse};
use crate::models::{
    REDACTED,
    refresh_tokens::Session,
    users::{self, NewSession, SignInOutcome},
};

/// `AuthResponse`: a fresh pair of tokens and the user they belong to.
/// `Debug` leaves the tokens out: it may end up in a log.
#[derive(Serialize, ToSchema)]
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
    pub fn of(new: &NewSession, server_host: &str) -> Self {
        Self::new(&new.user, &new.session, server_host)
    }

    #[must_use]
    pub fn new(user: &users::Model, session: &Session, server_host: &str) -> Self {
        Self {
            access_token: session.access.token.clone(),
            refresh_token: session.refresh.token.clone(),
            access_token_expiration_date: session.access.expires_at(),
            refresh_token_expiration_date: session.refresh.expires_at(),
            token_type: "bearer",
            user: UserResponse::new(user, server_host),
        }
    }
}

impl std::fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResponse")
            .field("access_token", &REDACTED)
            .field("refresh_token", &REDACTED)
            .field(
                "access_token_expiration_date",
                &self.access_token_expiration_date,
            )
            .field(
                "refresh_token_expiration_date",
                &self.refresh_token_expiration_date,
            )
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// What a sign-in answers: the tokens, or, when two-factor sign-in is on,
/// the challenge to answer with a code.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignInResponse {
    Tokens(Box<AuthResponse>),
    Challenge(TwoFactorChallengeResponse),
}

impl SignInResponse {
    #[must_use]
    pub fn new(outcome: &SignInOutcome, server_host: &str) -> Self {
        match outcome {
            SignInOutcome::Session(new) => {
                Self::Tokens(Box::new(AuthResponse::of(new, server_host)))
            }
            SignInOutcome::Challenge(challenge_token) => {
                Self::Challenge(TwoFactorChallengeResponse {
                    two_factor_required: true,
                    challenge_token: challenge_token.clone(),
                })
            }
        }
    }
}

/// Marks an answer that asks for the second factor, for the metrics (the
/// status alone says only that the first factor was right).
#[derive(Debug, Clone, Copy)]
pub struct SecondFactorAsked;

impl IntoResponse for SignInResponse {
    fn into_response(self) -> Response {
        let asked = matches!(self, Self::Challenge(_));
        let mut response = Json(self).into_response();
        if asked {
            response.extensions_mut().insert(SecondFactorAsked);
        }
        response
    }
}
