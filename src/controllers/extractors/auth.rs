use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use chrono::{DateTime, Utc};
use loco_rs::app::AppContext;
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use crate::{
    errors::{ApiError, ApiResult, msg},
    infra::state::AppState,
    middleware::language::CallerLanguage,
    models::{access::Picked, tokens::TokenKind, users},
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

/// Who a request's access token says is calling, checked without the
/// database (signature, expiry, kind). Whether that user is still active
/// and the session alive is the database's to say: `user`, or `user_with`
/// to read a row in the same query.
#[derive(Debug)]
pub struct Caller {
    user_id: Uuid,
    session_id: Uuid,
    token_version: i32,
    signed_in_at: DateTime<Utc>,
    language: Option<CallerLanguage>,
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized(msg::INVALID_CREDENTIALS.into())
}

impl Caller {
    /// The user the token names, if still signed in to its session.
    ///
    /// # Errors
    /// 401 when they are not.
    pub async fn user(&self, db: &DatabaseConnection) -> ApiResult<users::Model> {
        let user = users::Model::find_active_in_session(db, self.user_id, self.session_id).await?;
        self.signed_in(user)
    }

    /// The same, and the row of `E` `picked` names, in one query.
    ///
    /// # Errors
    /// 401 when the user is not signed in.
    pub async fn user_with<E: EntityTrait>(
        &self,
        db: &DatabaseConnection,
        picked: Picked,
    ) -> ApiResult<(users::Model, Option<E::Model>)> {
        let found = users::Model::find_active_in_session_with::<E>(
            db,
            self.user_id,
            self.session_id,
            picked,
        )
        .await?;
        let (user, row) = found.unzip();
        Ok((self.signed_in(user)?, row.flatten()))
    }

    /// A user since archived or deleted, or a session since ended, makes the
    /// token worthless; so does one signed before the user's sessions were
    /// last ended (an older `token_version`).
    fn signed_in(&self, user: Option<users::Model>) -> ApiResult<users::Model> {
        let user = user
            .filter(|user| user.token_version == self.token_version)
            .ok_or_else(invalid_credentials)?;
        if let Some(language) = &self.language {
            language.set(&user.language);
        }
        Ok(user)
    }
}

impl FromRequestParts<AppContext> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &AppContext,
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
            .ok_or_else(invalid_credentials)?;
        Ok(Self {
            user_id: claims.sub,
            session_id: claims.sid.ok_or_else(invalid_credentials)?,
            token_version: claims.ver,
            // Unknown (a token from before sign-in times): long ago.
            signed_in_at: DateTime::from_timestamp(claims.auth_time, 0).unwrap_or_default(),
            language: parts.extensions.get::<CallerLanguage>().cloned(),
        })
    }
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
        let caller = Caller::from_request_parts(parts, ctx).await?;
        Ok(Self {
            user: caller.user(&ctx.db).await?,
            signed_in_at: caller.signed_in_at,
            session_id: caller.session_id,
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
