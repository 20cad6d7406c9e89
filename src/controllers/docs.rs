//! The OpenAPI 3.1 document and Swagger UI over it. Each handler is registered
//! once, with `routes!` in its controller's `routes()`: that routes it and puts
//! its `#[utoipa::path]` annotation (whose path is the route) in the document.

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::header,
    middleware::{Next, from_fn_with_state},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use loco_rs::{app::AppContext, controller::Routes};
use tower_http::services::ServeDir;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, RefOr,
        path::Paths,
        schema::Schema,
        security::{
            Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityRequirement,
            SecurityScheme,
        },
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
    modifiers(&SecuritySchemes),
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

/// The scheme routes name (`bearer`: paste an access token), and FastAPI's
/// `OAuth2PasswordBearer` beside it, which Swagger UI's Authorize dialog
/// offers as an email and password form against the sign-in route.
const PASSWORD_SCHEME: &str = "OAuth2PasswordBearer";

struct SecuritySchemes;

impl Modify for SecuritySchemes {
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
        components.add_security_scheme(
            PASSWORD_SCHEME,
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/api/v1/auth/login",
                Scopes::new(),
            ))])),
        );
    }
}

/// Every route that takes a bearer token takes one from the password form too.
fn accept_the_password_form(paths: &mut Paths) {
    for item in paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            if let Some(requirements) = &mut operation.security
                && !requirements.is_empty()
            {
                requirements.push(SecurityRequirement::new(PASSWORD_SCHEME, [""; 0]));
            }
        }
    }
}

/// The document of every route in `controllers`, titled `title`.
#[must_use]
pub fn openapi(controllers: Vec<ApiRoutes>, title: &str) -> openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.info.title = title.to_string();
    for controller in controllers {
        document.paths.merge(controller.paths);
        let components = document.components.get_or_insert_with(Default::default);
        components.schemas.extend(controller.schemas);
    }
    accept_the_password_form(&mut document.paths);
    document
}

/// Serves the document, and the Swagger UI from `assets/swagger-ui/` (read
/// from disk, as the translations are: kept out of the binary). The page
/// answers at `/docs` itself, as FastAPI's does, and at `/docs/`, titled as
/// the document is.
///
/// # Errors
/// When the document cannot be written as JSON, or the page cannot be read.
pub fn router(document: &openapi::OpenApi) -> loco_rs::Result<Router> {
    // Written once: neither changes while the process runs.
    let json = Bytes::from(serde_json::to_vec(document)?);
    let serve_json = move || {
        let json = json.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], json) }
    };
    let page = std::fs::read_to_string(format!("{SWAGGER_UI_DIR}/index.html"))?.replace(
        "<title>API documentation</title>",
        &format!(
            "<title>{} - Swagger UI</title>",
            escape_html(&document.info.title)
        ),
    );
    Ok(Router::new()
        .route(OPENAPI_PATH, get(serve_json))
        .nest_service(SWAGGER_PATH, ServeDir::new(SWAGGER_UI_DIR))
        .layer(from_fn_with_state(Bytes::from(page), serve_page)))
}

/// The page itself, wherever Swagger UI's folder would serve its file.
async fn serve_page(State(page): State<Bytes>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path
        .strip_prefix(SWAGGER_PATH)
        .is_some_and(|rest| matches!(rest, "" | "/" | "/index.html"))
    {
        return Html(page).into_response();
    }
    next.run(request).await
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
