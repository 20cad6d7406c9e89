//! Statements of the hottest finders, built and rendered to SQL once per
//! database backend, then given each call's parameters. SeaORM builds a
//! statement as a tree and renders it to SQL on every call: for the session
//! check every signed-in request makes, that was about a seventh of the
//! server's own CPU (BENCHMARKS.md, "Round trips, and where the rest goes").

use std::sync::OnceLock;

use sea_orm::{DbBackend, Statement, Value, Values};
use uuid::Uuid;

/// What the statement is built with in place of the `n`th parameter.
const fn stand_in(n: usize) -> Uuid {
    Uuid::from_u128(0x0f1d_5eed_0000_4000_8000_0000_0000_0000 | n as u128)
}

struct Template {
    sql: String,
    values: Vec<Value>,
    /// (position among the values, parameter) for each stand-in found.
    slots: Vec<(usize, usize)>,
}

/// One statement, rendered on first use for each backend.
pub struct Rendered<const N: usize> {
    by_backend: [OnceLock<Template>; 3],
}

impl<const N: usize> Rendered<N> {
    #[must_use]
    pub const fn new() -> Self {
        Self {
            by_backend: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
        }
    }

    /// The statement `build` makes for `parameters`, built only the first
    /// time for `backend`: `build` must use its parameters as values, and
    /// nothing else that changes from call to call.
    pub fn statement(
        &self,
        backend: DbBackend,
        parameters: [Uuid; N],
        build: impl FnOnce([Uuid; N]) -> Statement,
    ) -> Statement {
        let slot = match backend {
            DbBackend::Postgres => 0,
            DbBackend::Sqlite => 1,
            _ => 2,
        };
        let template = self.by_backend[slot].get_or_init(|| {
            let stand_ins = std::array::from_fn(stand_in);
            let built = build(stand_ins);
            let values = built.values.map(|values| values.0).unwrap_or_default();
            let slots = values
                .iter()
                .enumerate()
                .filter_map(|(at, value)| match value {
                    Value::Uuid(Some(uuid)) => {
                        let parameter = stand_ins.iter().position(|s| s == uuid)?;
                        Some((at, parameter))
                    }
                    _ => None,
                })
                .collect();
            Template {
                sql: built.sql,
                values,
                slots,
            }
        });
        let mut values = template.values.clone();
        for &(at, parameter) in &template.slots {
            if let (Some(value), Some(uuid)) = (values.get_mut(at), parameters.get(parameter)) {
                *value = Value::Uuid(Some(*uuid));
            }
        }
        Statement {
            sql: template.sql.clone(),
            values: Some(Values(values)),
            db_backend: backend,
        }
    }
}

impl<const N: usize> Default for Rendered<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};

    use super::*;
    use crate::models::_entities::items;

    #[test]
    fn each_call_gets_its_own_parameters_in_the_statement_built_once() {
        static STATEMENT: Rendered<2> = Rendered::new();
        let built = std::cell::Cell::new(0);
        let [a, b, c] = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        let statement = |owner, id| {
            STATEMENT.statement(DbBackend::Postgres, [owner, id], |[owner, id]| {
                built.set(built.get() + 1);
                items::Entity::find()
                    .filter(items::Column::OwnerId.eq(owner))
                    .filter(items::Column::Id.ne(id))
                    .filter(items::Column::Name.eq("lamp"))
                    .build(DbBackend::Postgres)
            })
        };
        let first = statement(a, b);
        let second = statement(c, a);
        assert_eq!(built.get(), 1, "built once");
        assert_eq!(first.sql, second.sql);
        let values = |statement: Statement| statement.values.map(|values| values.0);
        let expected = |owner, id| {
            Some(vec![
                Value::Uuid(Some(owner)),
                Value::Uuid(Some(id)),
                Value::String(Some("lamp".into())),
            ])
        };
        assert_eq!(values(first), expected(a, b));
        assert_eq!(values(second), expected(c, a));
    }
}
