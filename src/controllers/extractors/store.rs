use std::sync::Arc;

use axum::extract::FromRef;
use loco_rs::{app::AppContext, storage::Storage};

/// The file store alone (the local folder or the S3 bucket), without
/// cloning the whole context.
#[derive(Clone)]
pub struct Store(pub Arc<Storage>);

impl FromRef<AppContext> for Store {
    fn from_ref(ctx: &AppContext) -> Self {
        Self(Arc::clone(&ctx.storage))
    }
}
