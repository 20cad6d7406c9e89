//! Who may have a row of a resource that users own: its owner and admins;
//! and whether archived rows count. `items` and every generated resource
//! share it.

use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::rendered::Rendered;

/// Whether a lookup also finds archived rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archived {
    Included,
    Excluded,
}

/// A row picked by id, to be read in the same statement as its caller
/// (`users::Model::find_active_in_session_with`).
#[derive(Clone, Copy)]
pub struct Picked {
    pub id: Uuid,
    pub archived: Archived,
    /// What picks a row, given its id (the resource's own rule).
    pub condition: fn(Uuid, Archived) -> Condition,
    /// The statement for each `archived`, rendered on first use; the
    /// resource's own.
    pub statements: &'static [Rendered<3>; 2],
}

impl Picked {
    #[must_use]
    pub const fn statement(&self) -> &'static Rendered<3> {
        match self.archived {
            Archived::Included => &self.statements[0],
            Archived::Excluded => &self.statements[1],
        }
    }
}

/// Why a row may not be had.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("not found")]
    NotFound,
    /// It exists, and is neither the caller's nor theirs to manage.
    #[error("not the caller's")]
    Forbidden,
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<DbErr> for AccessError {
    fn from(error: DbErr) -> Self {
        Self::Model(error.into())
    }
}

/// `?user_id=`: whom an admin makes a row for.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnerParam {
    /// The user who will own it.
    pub user_id: Uuid,
}
