//! The OpenAPI 3.1 document, generated from the handlers' annotations, and
//! Swagger UI over it.

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use crate::{errors, models, views};

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
pub const SWAGGER_PATH: &str = "/docs";

#[derive(OpenApi)]
#[openapi(
    info(description = "Accounts, users and items: a drop-in replacement for the FastAPI template's API."),
    modifiers(&BearerScheme),
    paths(
        super::monitoring::ping,
        super::monitoring::health,
        super::auth::register,
        super::auth::login,
        super::auth::refresh,
        super::auth::logout,
        super::auth::test_token,
        super::otp::request_code,
        super::otp::verify_code,
        super::otp::generate_apple_review_code,
        super::otp::delete_apple_review_code,
        super::password_recovery::recover,
        super::password_recovery::reset,
        super::sso::login,
        super::sso::callback,
        super::sso::confirm,
        super::users::list,
        super::users::create,
        super::users::me,
        super::users::update_me,
        super::users::archive_me,
        super::users::show,
        super::users::update,
        super::users::archive,
        super::users::unarchive,
        super::users::destroy,
        super::items::list,
        super::items::create,
        super::items::create_for_user,
        super::items::show,
        super::items::update,
        super::items::destroy,
        super::items::archive,
        super::items::unarchive,
        super::utils::test_email,
    ),
    components(schemas(
        errors::Detail,
        errors::ValidationDetail,
        errors::FieldError,
        models::users::Role,
        models::users::Provider,
        views::msg::Msg,
    )),
    tags(
        (name = "auth", description = "Sign-up, sign-in and tokens"),
        (name = "sso", description = "Sign-in with Google, GitHub and Facebook"),
        (name = "users", description = "Accounts"),
        (name = "items", description = "The example resource"),
        (name = "utils", description = "Operator helpers"),
        (name = "monitoring", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Serves the document and the UI.
pub fn router() -> Router {
    SwaggerUi::new(SWAGGER_PATH)
        .url(OPENAPI_PATH, ApiDoc::openapi())
        .into()
}
