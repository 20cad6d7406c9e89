use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use chrono::{DateTime, Utc};
use loco_rs::{app::AppContext, model::ModelError};

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

/// The signed-in user and when they signed in (kept through refreshes).
#[derive(Debug)]
pub struct CurrentSession {
    pub user: users::Model,
    pub signed_in_at: DateTime<Utc>,
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
        let claims = state
            .signer
            .verify(token, TokenKind::Access)
            .ok_or(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()))?;
        // A user since archived or deleted makes the token worthless.
        let user = users::Model::find_active_by_id(&ctx.db, claims.sub)
            .await
            .map_err(|error| match error {
                ModelError::EntityNotFound => {
                    ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into())
                }
                other => ApiError::Model(other),
            })?;
        // Signed before the user's sessions were last ended: void. (The row
        // is read anyway: the check costs no query.)
        if claims.ver != user.token_version {
            return Err(ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into()));
        }
        if let Some(language) = parts.extensions.get::<CallerLanguage>() {
            language.set(&user.language);
        }
        // Unknown (a token from before sign-in times): long ago.
        let signed_in_at = DateTime::from_timestamp(claims.auth_time, 0).unwrap_or_default();
        Ok(Self { user, signed_in_at })
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
