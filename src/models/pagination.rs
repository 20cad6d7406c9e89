//! `skip`/`limit` paging, as the contract's list endpoints take it.

use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;

#[derive(Debug, Clone, Copy, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// How many rows to skip.
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
}

const fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

impl Default for Pagination {
    fn default() -> Self {
        Self {
            skip: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}
