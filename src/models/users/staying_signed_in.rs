//! Sessions as a user sees them: a refresh token resumed, every session
//! ended.

use super::*;
use crate::models::security_events::{self, EventKind};

/// What presenting a refresh token came to. Not `Debug`: it holds tokens.
pub enum Resumed {
    Session(Model, Box<Session>),
    /// Not a live token of an active user, or one of sessions ended since.
    Refused,
    /// A used token presented again (a copy in someone else's hands): every
    /// session of the user was ended, and they should hear of it.
    Replayed(Model),
}

impl Model {
    /// Trades a refresh token for a new session in the same family. The
    /// token is used up; presenting a used one ends every session of the user.
    ///
    /// # Errors
    /// On a database error, or when the new tokens cannot be signed.
    #[tracing::instrument(skip_all)]
    pub async fn resume_session(
        db: &DatabaseConnection,
        signer: &TokenSigner,
        refresh_token: &str,
        origin: &Origin,
    ) -> ModelResult<Resumed> {
        let Some(claims) = signer.verify(refresh_token, TokenKind::Refresh) else {
            return Ok(Resumed::Refused);
        };
        // Everything on one connection: the rotation and the successor commit
        // together, and the request holds one pooled connection, not two.
        let txn = write_transaction::begin(db).await?;
        let Some(user) = Self::find_active(&txn, claims.sub).await? else {
            return Ok(Resumed::Refused);
        };
        // A token of sessions ended since (password, email, sign-out
        // everywhere) is void, not replayed: presenting it, as another of the
        // user's devices will, must not end the sessions started since.
        if user.token_version != claims.ver {
            return Ok(Resumed::Refused);
        }
        match refresh_tokens::Model::rotate(&txn, &claims).await? {
            refresh_tokens::Rotation::Rotated(lineage) => {
                let session =
                    refresh_tokens::Model::next_in_session(&txn, signer, &user, lineage).await?;
                let (id, refresh) = (lineage.family_id, &session.refresh);
                // Ended meanwhile: the rotation is rolled back with the rest.
                if !sessions::Model::touch(&txn, id, user.id, origin, refresh).await? {
                    return Ok(Resumed::Refused);
                }
                txn.commit().await?;
                Ok(Resumed::Session(user, Box::new(session)))
            }
            refresh_tokens::Rotation::Reused => {
                // Sessions ended by another request since the version was
                // read (PostgreSQL lets it commit in between): void, not replayed.
                let now = Self::find_by_id(&txn, user.id).await?;
                if now.token_version != claims.ver {
                    return Ok(Resumed::Refused);
                }
                // A stolen token was used, by the thief or by its owner: end
                // every session of the user, access tokens included.
                let user = Self::end_sessions(&txn, user.id).await?;
                txn.commit().await?;
                Ok(Resumed::Replayed(user))
            }
            refresh_tokens::Rotation::Unknown => Ok(Resumed::Refused),
        }
    }

    /// Signs the user out everywhere: `end_sessions`, in a transaction of
    /// its own. Returns the user as they are now.
    ///
    /// # Errors
    /// On a database error.
    pub async fn end_all_sessions(self, db: &DatabaseConnection) -> ModelResult<Self> {
        let txn = write_transaction::begin(db).await?;
        let user = Self::end_sessions(&txn, self.id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// What Apple says of one of its users, recorded in their security log;
    /// when they took back their consent or deleted their Apple account,
    /// their sessions end and Apple's refresh token is forgotten. `false`
    /// when no account is theirs.
    ///
    /// # Errors
    /// On a database error.
    pub async fn on_apple_event(
        db: &DatabaseConnection,
        event: &AppleEvent,
        origin: &Origin,
    ) -> ModelResult<bool> {
        let user = match Self::find_by_provider(db, Provider::Apple, &event.sub).await {
            Ok(user) => user,
            Err(ModelError::EntityNotFound) => return Ok(false),
            Err(error) => return Err(error),
        };
        let kind = EventKind::AppleNotification;
        security_events::Model::note(db, user.id, kind, origin, Some(&event.kind)).await;
        if event.ends_sessions() {
            provider_tokens::Entity::delete_many()
                .filter(provider_tokens::Column::UserId.eq(user.id))
                .exec(db)
                .await?;
            user.end_all_sessions(db).await?;
        }
        Ok(true)
    }

    /// Ends every token of a user: raises their `token_version` (which voids
    /// every access token signed before), ends every session, revokes every
    /// refresh token and spends every unused reset link, provider
    /// confirmation and sign-in challenge. Returns the user as they are now,
    /// so that a session started next is signed under the new version.
    pub(super) async fn end_sessions(
        db: &impl ConnectionTrait,
        user_id: Uuid,
    ) -> ModelResult<Self> {
        Entity::update_many()
            .col_expr(Column::TokenVersion, Expr::col(Column::TokenVersion).add(1))
            .filter(Column::Id.eq(user_id))
            .exec(db)
            .await?;
        refresh_tokens::Model::revoke_all_for_user(db, user_id).await?;
        sessions::Model::forget_all(db, user_id).await?;
        single_use_tokens::Model::use_all(db, user_id).await?;
        Self::find_by_id(db, user_id).await
    }
}
