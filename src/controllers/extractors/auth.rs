use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use chrono::{DateTime, Utc};
use loco_rs::app::AppContext;
use uuid::Uuid;

use crate::{
    errors::{ApiError, msg},
    middleware::language::CallerLanguage,
    models::{tokens::TokenKind, users},
    state::AppState,
};

/// The signed-in, active user of a request carrying
/// `Authorization: Bearer <access token>`.
#[derive(Debug)]
pub struct CurrentUser(pub users::Model);

/// The signed-in user, when they signed in (kept through refreshes), and
/// the session their token belongs to.
#[derive(Debug)]
pub struct CurrentSession {
    pub user: users::Model,
    pub signed_in_at: DateTime<Utc>,
    pub session_id: Uuid,
}

/// A signed-in admin; anyone else is refused with 403.
#[derive(Debug)]
pub struct AdminUser(pub users::Model);

/// The token of a well-formed `Authorization: Bearer <token>` header.
#[must_use]
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppContext> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let session = CurrentSession::from_request_parts(parts, ctx).await?;
        Ok(Self(session.user))
    }
}

impl FromRequestParts<AppContext> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or(ApiError::Unauthorized(msg::NOT_AUTHENTICATED.into()))?;
        let state = parts
            .extensions
            .get::<Arc<AppState>>()
            .ok_or_else(|| ApiError::internal("the app state layer is missing"))?;
        let invalid = || ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into());
        let claims = state
            .signer
            .verify(token, TokenKind::Access)
            .ok_or_else(invalid)?;
        let session_id = claims.sid.ok_or_else(invalid)?;
        // A user since archived or deleted, or a session since ended, makes
        // the token worthless.
        let user = users::Model::find_active_in_session(&ctx.db, claims.sub, session_id)
            .await?
            .ok_or_else(invalid)?;
        // Signed before the user's sessions were last ended: void. (The row
        // is read anyway: the check costs no query.)
        if claims.ver != user.token_version {
            return Err(invalid());
        }
        if let Some(language) = parts.extensions.get::<CallerLanguage>() {
            language.set(&user.language);
        }
        // Unknown (a token from before sign-in times): long ago.
        let signed_in_at = DateTime::from_timestamp(claims.auth_time, 0).unwrap_or_default();
        Ok(Self {
            user,
            signed_in_at,
            session_id,
        })
    }
}

impl FromRequestParts<AppContext> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, ctx).await?;
        if user.is_admin() {
            Ok(Self(user))
        } else {
            Err(ApiError::Forbidden(msg::NOT_ENOUGH_PRIVILEGE.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&headers("Bearer")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
