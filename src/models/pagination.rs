//! Paging as the contract's list endpoints take it: `skip`/`limit`, and a
//! `cursor` that starts a page where the last one ended.
//!
//! Every list is ordered by creation time then id; a cursor holds the last
//! row's pair, so the next page is a range read of the list's index however
//! deep it is, where `skip` reads and drops every row before it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select,
    prelude::{DateTimeWithTimeZone, Expr},
    sea_query::ExprTrait,
    sea_query::IntoIden,
};
use serde::{Deserialize, Deserializer, de};
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;

#[derive(Debug, Clone, Copy, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// How many rows to skip (after `cursor`, when there is one).
    #[serde(default)]
    #[validate(range(
        max = 9_223_372_036_854_775_807_u64,
        code = "less_than_equal",
        message = "Input should be less than or equal to 9223372036854775807"
    ))]
    #[param(minimum = 0, default = 0)]
    pub skip: u64,
    /// How many rows at most.
    #[serde(default = "default_limit")]
    #[validate(range(
        max = 1000,
        code = "less_than_equal",
        message = "Input should be less than or equal to 1000"
    ))]
    #[param(minimum = 0, maximum = 1000, default = 100)]
    pub limit: u64,
    /// Where the page starts: the `X-Next-Cursor` header of the page before.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
}

const fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

impl Default for Pagination {
    fn default() -> Self {
        Self {
            skip: 0,
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// The position after one row of a list: its creation time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    created_at: DateTimeWithTimeZone,
    id: Uuid,
}

impl Cursor {
    #[must_use]
    pub const fn after(created_at: DateTimeWithTimeZone, id: Uuid) -> Self {
        Self { created_at, id }
    }

    /// Opaque to clients: base64url of the id and the time in microseconds.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut bytes = [0_u8; 24];
        bytes[..16].copy_from_slice(self.id.as_bytes());
        bytes[16..].copy_from_slice(&self.created_at.timestamp_micros().to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes: [u8; 24] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
        let (id, micros) = bytes.split_at(16);
        let micros = i64::from_be_bytes(micros.try_into().ok()?);
        Some(Self {
            created_at: chrono::DateTime::from_timestamp_micros(micros)?.fixed_offset(),
            id: Uuid::from_slice(id).ok()?,
        })
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::decode(&text).ok_or_else(|| {
            de::Error::custom("Input should be a cursor given by the page before (X-Next-Cursor)")
        })
    }
}

/// `query` narrowed to the rows of `owner` (in `column`), in an order that
/// only an index starting with `column` serves.
///
/// The owner is a range of one, not an equality: PostgreSQL drops an
/// ordering column equal to a constant, and would then weigh walking every
/// owner's rows by time and filtering against reading this owner's: with
/// 420,000 older items of someone else, it walked them (133 ms a page, where
/// the owner's index takes 0.09 ms).
#[must_use]
pub fn owned_by<E: EntityTrait>(
    query: Select<E>,
    column: E::Column,
    owner: Uuid,
    order: Order,
) -> Select<E> {
    query
        .filter(column.between(owner, owner))
        .order_by(column, order)
}

impl Pagination {
    /// `query`'s page, ordered by `created_at` then `id` in `order`, after
    /// whatever order `query` already has.
    #[must_use]
    pub fn select<E: EntityTrait>(
        &self,
        mut query: Select<E>,
        created_at: E::Column,
        id: E::Column,
        order: Order,
    ) -> Select<E> {
        if let Some(cursor) = self.cursor {
            let columns = Expr::tuple([
                Expr::col((E::default().into_iden(), created_at)),
                Expr::col((E::default().into_iden(), id)),
            ]);
            let position = Expr::tuple([Expr::val(cursor.created_at), Expr::val(cursor.id)]);
            query = query.filter(match order {
                Order::Desc => columns.lt(position),
                _ => columns.gt(position),
            });
        }
        query
            .order_by(created_at, order.clone())
            .order_by(id, order)
            .offset(self.skip)
            .limit(self.limit)
    }

    /// Where the page after `rows` starts; none when `rows` is the last page.
    #[must_use]
    pub fn next<T>(
        &self,
        rows: &[T],
        position: impl Fn(&T) -> (DateTimeWithTimeZone, Uuid),
    ) -> Option<Cursor> {
        let full = self.limit > 0 && u64::try_from(rows.len()).is_ok_and(|len| len >= self.limit);
        rows.last().filter(|_| full).map(|row| {
            let (created_at, id) = position(row);
            Cursor::after(created_at, id)
        })
    }
}
