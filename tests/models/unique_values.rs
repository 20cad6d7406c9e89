//! A unique value written twice: the second write's database error is the
//! contract's 409, not a 500 (generated resources have unique fields, and
//! two creates may race past any check).

use axum::response::IntoResponse;
use backend::{errors::ApiError, models::_entities::spent_id_tokens};
use sea_orm::{ActiveModelTrait, ActiveValue};

use crate::support::boot;

#[tokio::test]
async fn a_unique_value_written_twice_is_a_conflict() {
    let boot = boot().await;
    let db = &boot.app_context.db;
    let row = || spent_id_tokens::ActiveModel {
        digest: ActiveValue::Set("the same digest".to_string()),
        expires_at: ActiveValue::Set(chrono::Utc::now().into()),
        ..Default::default()
    };
    row().insert(db).await.expect("the first");
    let error = row().insert(db).await.expect_err("the second");
    let answer = ApiError::from(error).into_response();
    assert_eq!(answer.status(), 409);
}
