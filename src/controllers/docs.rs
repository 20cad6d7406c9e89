//! The OpenAPI 3.1 document and Swagger UI over it. Each handler is registered
//! once, with `routes!` in its controller's `routes()`: that routes it and puts
//! its `#[utoipa::path]` annotation (whose path is the route) in the document.

use axum::{Router, body::Bytes, http::header, routing::get};
use loco_rs::{app::AppContext, controller::Routes};
use tower_http::services::ServeDir;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, RefOr,
        path::Paths,
        schema::Schema,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::{errors, models, views};

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
pub const SWAGGER_PATH: &str = "/docs";
/// Its page names `SWAGGER_PATH` and `OPENAPI_PATH`.
const SWAGGER_UI_DIR: &str = "assets/swagger-ui";

/// A controller's routes, and what the document says of them.
#[derive(Default)]
pub struct ApiRoutes {
    pub routes: Routes,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl ApiRoutes {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes and documents the handlers of one `routes!(...)`, which share a path.
    #[must_use]
    pub fn route(mut self, (schemas, paths, method): UtoipaMethodRouter<AppContext>) -> Self {
        for path in paths.paths.keys() {
            self.routes = self.routes.add(path, method.clone());
        }
        self.paths.merge(paths);
        self.schemas.extend(schemas);
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(description = "Accounts, users and items: a drop-in replacement for the FastAPI template's API."),
    modifiers(&BearerScheme),
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
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
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

/// The document of every route in `controllers`.
#[must_use]
pub fn openapi(controllers: Vec<ApiRoutes>) -> openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for controller in controllers {
        document.paths.merge(controller.paths);
        let components = document.components.get_or_insert_with(Default::default);
        components.schemas.extend(controller.schemas);
    }
    document
}

/// Serves the document, and the Swagger UI from `assets/swagger-ui/` (read
/// from disk, as the translations are: kept out of the binary). The page
/// answers at `/docs` itself, as FastAPI's does, and at `/docs/`.
///
/// # Errors
/// When the document cannot be written as JSON.
pub fn router(document: &openapi::OpenApi) -> serde_json::Result<Router> {
    // Written once: it does not change while the process runs.
    let json = Bytes::from(serde_json::to_vec(document)?);
    let serve_json = move || {
        let json = json.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], json) }
    };
    Ok(Router::new()
        .route(OPENAPI_PATH, get(serve_json))
        .nest_service(SWAGGER_PATH, ServeDir::new(SWAGGER_UI_DIR)))
}
