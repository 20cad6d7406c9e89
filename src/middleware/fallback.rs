//! What the router answers when no route matches: every path answers with and
//! without its trailing slash, and a 404 or 405 carries a `{"detail"}` body, as
//! does the 408 of a request past its time.

use axum::{
    Router,
    extract::Request,
    http::{StatusCode, Uri, header},
    middleware::Next,
    response::Response,
};
use tower::ServiceExt;

use crate::errors::{ErrorBody, msg};

/// Routes a path that ends in `/` as the same path without it, in place (no
/// redirect), so `/items/` is `/items`. Every other path no route takes goes
/// to the router's own fallback, which its layers wrap (the request metrics
/// count it), and whose bare 404 `describe_bare_errors` gives its body.
pub fn answer_trailing_slashes(router: Router) -> Router {
    let inner = router.clone();
    router.fallback(move |request: Request| retry_without_trailing_slash(inner.clone(), request))
}

async fn retry_without_trailing_slash(inner: Router, mut request: Request) -> Response {
    let path = request.uri().path();
    let trimmed = path.trim_end_matches('/');
    if !trimmed.is_empty() && trimmed.len() < path.len() {
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = Uri::builder().path_and_query(path_and_query).build() {
            *request.uri_mut() = uri;
        }
    }
    match inner.oneshot(request).await {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    }
}

/// Gives the router's own bodiless 404, 405 and 408 answers the contract's body.
pub async fn describe_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let message = match response.status() {
        StatusCode::NOT_FOUND => msg::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => msg::METHOD_NOT_ALLOWED,
        StatusCode::REQUEST_TIMEOUT => msg::REQUEST_TIMEOUT,
        _ => return response,
    };
    if response.extensions().get::<ErrorBody>().is_some()
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let status = response.status();
    let (parts, _) = response.into_parts();
    let mut described = ErrorBody::Message(message.into()).into_response(status);
    // Keep what the router said besides the body, such as `Allow` on a 405.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH {
            described.headers_mut().insert(name, value.clone());
        }
    }
    described
}
