//! A passkey ceremony's state, kept between the options the server sends and
//! the answer the authenticator gives: five minutes, taken once, and only by
//! the user it was made for (or by anyone, for a sign-in that names nobody).

use chrono::TimeDelta;
use loco_rs::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

pub use crate::models::_entities::passkey_ceremonies::{ActiveModel, Column, Entity, Model};
use crate::models::timestamps;

/// How long an answer may take.
pub const LIFETIME: TimeDelta = TimeDelta::minutes(5);

/// What a ceremony is for: its state is taken only for the same purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Registration,
    SignIn,
    SecondFactor,
}

impl Purpose {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SignIn => "sign_in",
            Self::SecondFactor => "second_factor",
        }
    }
}

timestamps::stamped_model!();

impl Model {
    /// Keeps `state` for an answer; returns the ceremony's id (random: it
    /// is the client's handle on it).
    ///
    /// # Errors
    /// On a database error.
    pub async fn begin(
        db: &impl ConnectionTrait,
        purpose: Purpose,
        user_id: Option<Uuid>,
        state: &impl Serialize,
    ) -> ModelResult<Uuid> {
        let state = serde_json::to_string(state).map_err(|error| ModelError::Any(error.into()))?;
        let begun = ActiveModel {
            purpose: ActiveValue::Set(purpose.as_str().to_string()),
            user_id: ActiveValue::Set(user_id),
            state: ActiveValue::Set(state),
            expires_at: ActiveValue::Set((timestamps::now().to_utc() + LIFETIME).into()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(begun.id)
    }

    /// The state of ceremony `id`, taken: nobody can take it again. `None`
    /// when there is no such ceremony for `purpose` and `user_id`, or it
    /// expired, or it was taken already (by an answer sent at the same
    /// time, too: only one delete finds the row).
    ///
    /// # Errors
    /// On a database error.
    pub async fn take<S: DeserializeOwned>(
        db: &impl ConnectionTrait,
        id: Uuid,
        purpose: Purpose,
        user_id: Option<Uuid>,
    ) -> ModelResult<Option<S>> {
        let by_user = match user_id {
            Some(user_id) => Column::UserId.eq(user_id),
            None => Column::UserId.is_null(),
        };
        let found = Entity::find_by_id(id)
            .filter(Column::Purpose.eq(purpose.as_str()))
            .filter(by_user)
            .one(db)
            .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        let taken = Entity::delete_by_id(id).exec(db).await?.rows_affected == 1;
        if !taken || found.expires_at <= timestamps::now() {
            return Ok(None);
        }
        Ok(serde_json::from_str(&found.state).ok())
    }

    /// Forgets ceremonies nobody finished; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_expired(db: &impl ConnectionTrait) -> ModelResult<u64> {
        let purged = Entity::delete_many()
            .filter(Column::ExpiresAt.lte(timestamps::now()))
            .exec(db)
            .await?;
        Ok(purged.rows_affected)
    }
}
