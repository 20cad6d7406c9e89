//! Partial updates: a field left out of the body stays as it is; a field
//! sent as `null` is cleared.

use serde::{Deserialize, Deserializer};

/// For `#[serde(default, deserialize_with = "present")]` on an
/// `Option<Option<T>>`: tells a field sent as `null` (`Some(None)`) from one
/// left out (`None`).
///
/// # Errors
/// When the value is not a `T`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
