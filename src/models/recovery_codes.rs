//! Recovery codes: ten single-use codes that stand in for a TOTP code when
//! the device is lost. Stored as keyed hashes; shown once, when made.

use loco_rs::prelude::*;

pub use super::_entities::recovery_codes::{ActiveModel, Column, Entity, Model};
use super::timestamps;

timestamps::stamped_model!();
