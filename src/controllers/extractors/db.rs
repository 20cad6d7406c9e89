use axum::extract::FromRef;
use loco_rs::app::AppContext;
use sea_orm::DatabaseConnection;

/// The database pool alone. `State<AppContext>` clones the whole context, its
/// configuration included, for every request; handlers that only query take
/// this instead.
#[derive(Clone)]
pub struct Db(pub DatabaseConnection);

impl FromRef<AppContext> for Db {
    fn from_ref(ctx: &AppContext) -> Self {
        Self(ctx.db.clone())
    }
}
