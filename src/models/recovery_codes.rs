//! Recovery codes: ten single-use codes that stand in for a TOTP code when
//! the device is lost. Stored as keyed hashes; shown once, when made.

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use loco_rs::prelude::*;
use rand::Rng;
use sea_orm::sea_query::Expr;
use sha2::Sha256;

pub use super::_entities::recovery_codes::{ActiveModel, Column, Entity, Model};
use super::timestamps;

/// The key recovery codes are hashed with, derived from `SECRET_KEY`
/// (`TwoFactorKeys` holds it).
pub struct RecoveryKey([u8; 32]);

impl RecoveryKey {
    #[must_use]
    pub const fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// A recovery code's stored hash: keyed, and bound to its user.
    #[must_use]
    pub fn hash(&self, user_id: Uuid, code: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(user_id.as_bytes());
        mac.update(normalize(code).as_bytes());
        STANDARD_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// How many a user gets at a time.
pub const COUNT: usize = 10;
/// Lower-case letters and digits that cannot be taken for one another.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Two groups of five: about 50 bits.
const GROUP: usize = 5;

timestamps::stamped_model!();

/// A fresh code, as `xxxxx-xxxxx`, from a CSPRNG.
fn generate() -> String {
    let mut rng = rand::rng();
    let mut pick = || char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]);
    let first: String = (0..GROUP).map(|_| pick()).collect();
    let second: String = (0..GROUP).map(|_| pick()).collect();
    format!("{first}-{second}")
}

/// A code as typed, with case, dashes and spaces set aside.
#[must_use]
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

impl Model {
    /// Replaces `user_id`'s recovery codes with `COUNT` fresh ones; returns
    /// them, the only time they are seen.
    ///
    /// # Errors
    /// On a database error.
    pub async fn replace_for(
        db: &impl ConnectionTrait,
        key: &RecoveryKey,
        user_id: Uuid,
    ) -> ModelResult<Vec<String>> {
        Self::delete_for(db, user_id).await?;
        let codes: Vec<String> = (0..COUNT).map(|_| generate()).collect();
        let rows = codes.iter().map(|code| {
            let mut row = ActiveModel {
                user_id: ActiveValue::Set(user_id),
                code_hash: ActiveValue::Set(key.hash(user_id, code)),
                used_at: ActiveValue::Set(None),
                ..Default::default()
            };
            timestamps::stamp(true, &mut row.id, &mut row.created_at, &mut row.updated_at);
            row
        });
        Entity::insert_many(rows).exec(db).await?;
        Ok(codes)
    }

    /// Uses up `code` of `user_id`'s, if it is one of theirs and unused;
    /// returns whether it was. Conditional, so a code works once.
    ///
    /// # Errors
    /// On a database error.
    pub async fn use_once(
        db: &impl ConnectionTrait,
        key: &RecoveryKey,
        user_id: Uuid,
        code: &str,
    ) -> ModelResult<bool> {
        let now = timestamps::now();
        let used = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::CodeHash.eq(key.hash(user_id, code)))
            .filter(Column::UsedAt.is_null())
            .exec(db)
            .await?;
        Ok(used.rows_affected == 1)
    }

    /// # Errors
    /// On a database error.
    pub async fn delete_for(db: &impl ConnectionTrait, user_id: Uuid) -> ModelResult<u64> {
        Ok(Entity::delete_many()
            .filter(Column::UserId.eq(user_id))
            .exec(db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_two_groups_of_five_unambiguous_characters() {
        for _ in 0..200 {
            let code = generate();
            let (first, second) = code.split_once('-').expect("a dash");
            for group in [first, second] {
                assert_eq!(group.len(), GROUP);
                assert!(group.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            }
        }
        assert_ne!(generate(), generate());
    }

    #[test]
    fn codes_are_read_whatever_their_case_dashes_and_spaces() {
        assert_eq!(normalize(" ABCDE-fghjk "), "abcdefghjk");
        assert_eq!(normalize("abcde fghjk"), "abcdefghjk");
    }
}
