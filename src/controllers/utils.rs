//! `/utils`: operator helpers.

use axum::{Json, http::StatusCode};
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extractors::{AdminUser, QueryParams};
use crate::{
    errors::{ApiResult, Detail, ValidationDetail},
    mailers::account::AccountMailer,
    views::msg::Msg,
};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TestEmailParams {
    /// Where to send the test mail.
    #[validate(email(code = "value_error", message = "value is not a valid email address"))]
    #[param(format = "email")]
    pub email_to: String,
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
    AdminUser(_admin): AdminUser,
    QueryParams(params): QueryParams<TestEmailParams>,
) -> ApiResult<(StatusCode, Json<Msg>)> {
    AccountMailer::send_test(&ctx, &params.email_to).await?;
    Ok((StatusCode::CREATED, Json(Msg::new("Test email sent"))))
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/utils")
        .add("/test-email", post(test_email))
}
