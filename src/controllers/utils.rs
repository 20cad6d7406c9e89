//! `/utils`: operator helpers.

use std::sync::Arc;

use axum::{Extension, Json, http::StatusCode};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::{
    docs::ApiRoutes,
    extractors::{AdminUser, QueryParams},
};
use crate::{
    errors::{ApiResult, Detail, ValidationDetail},
    infra::state::AppState,
    mailers::account::AccountMailer,
    models::email::Email,
    views::msg::Msg,
};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TestEmailParams {
    /// Where to send the test mail.
    #[param(value_type = String, format = "email")]
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    pub email_to: Email,
}

/// Sends the test mail, to check mail delivery.
#[utoipa::path(post, path = "/api/v1/utils/test-email", tag = "utils",
    security(("bearer" = [])), params(TestEmailParams),
    responses(
        (status = 201, body = Msg), (status = 401, body = Detail),
        (status = 403, body = Detail), (status = 422, body = ValidationDetail),
    ))]
#[debug_handler]
pub async fn test_email(
    State(ctx): State<AppContext>,
    Extension(app): Extension<Arc<AppState>>,
    AdminUser(_admin): AdminUser,
    QueryParams(params): QueryParams<TestEmailParams>,
) -> ApiResult<(StatusCode, Json<Msg>)> {
    AccountMailer::send_test(&ctx, &app.settings, &params.email_to).await?;
    Ok((StatusCode::CREATED, Json(Msg::new("Test email sent"))))
}

pub fn routes() -> ApiRoutes {
    ApiRoutes::new().route(routes!(test_email))
}
