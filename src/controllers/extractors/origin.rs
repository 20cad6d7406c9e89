use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};

use super::ClientIp;
use crate::models::security_events::{Origin, USER_AGENT_CHARS};

/// The caller's address (as `ClientIp` finds it) and user agent.
impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(USER_AGENT_CHARS)
            .collect();
        Ok(Self { ip, user_agent })
    }
}
