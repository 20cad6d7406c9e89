//! Counts each request in the metrics: by method, route template (never the
//! raw path, which carries ids and emails) and status, with the time to its
//! answer's head; and, on a sign-in route, the attempt by way in and outcome.
//! Only when metrics are on: off, nothing is added to a request's path.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Instant,
};

use axum::{
    extract::MatchedPath,
    http::{Method, Request, StatusCode},
    response::Response,
};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::{
    infra::{
        metrics::{RequestLabels, UNMATCHED},
        state::AppState,
    },
    views::auth::SecondFactorAsked,
};

/// Composed with the request log into one layer of the router (a router
/// boxes each layer it is given, and every request clones each box), and
/// written out rather than made with `from_fn`, which boxes each request's
/// future: together, what metrics add to a request is the counting itself.
#[derive(Clone)]
pub struct CountRequests(pub Arc<AppState>);

impl<S> Layer<S> for CountRequests {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            state: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S, B, ResBody> Service<Request<B>> for Counted<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = method_label(request.method());
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str)
            .to_string();
        self.state.metrics.request_started();
        let pending = Pending {
            state: self.state.clone(),
            method,
            route,
            started: Instant::now(),
        };
        CountedFuture {
            inner: self.inner.call(request),
            pending: Some(pending),
        }
    }
}

pin_project! {
    pub struct CountedFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, E, ResBody> Future for CountedFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        if let (Some(pending), Ok(response)) = (this.pending.take(), &output) {
            pending.answered(response);
        }
        Poll::Ready(output)
    }
}

/// A request under way; it stops counting as in flight when dropped,
/// answered or not (a client that went away).
pub struct Pending {
    state: Arc<AppState>,
    method: &'static str,
    route: String,
    started: Instant,
}

impl Pending {
    fn answered<ResBody>(mut self, response: &Response<ResBody>) {
        let took = self.started.elapsed();
        let status = response.status();
        let metrics = &self.state.metrics;
        if let Some(path) = sign_in_path(self.method, &self.route) {
            let asked = response.extensions().get::<SecondFactorAsked>().is_some();
            metrics.sign_in(path, sign_in_outcome(status, asked));
        }
        let labels = RequestLabels {
            method: self.method,
            route: std::mem::take(&mut self.route),
            status: status.as_u16(),
        };
        metrics.request_answered(labels, took);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.state.metrics.request_ended();
    }
}

/// The method, of a known few: one a client makes up is one more label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The way in a route signs in by, if it does.
fn sign_in_path(method: &str, route: &str) -> Option<&'static str> {
    if method != "POST" {
        return None;
    }
    Some(match route {
        "/api/v1/auth/login" => "password",
        "/api/v1/auth/otp/verify" => "code",
        "/api/v1/auth/sso/confirm" => "provider",
        "/api/v1/auth/{provider}/token" => "native_id_token",
        "/api/v1/auth/passkey" => "passkey",
        "/api/v1/auth/2fa/verify" => "second_factor",
        "/api/v1/auth/refresh" => "refresh",
        "/api/v1/auth/register" => "register",
        _ => return None,
    })
}

/// What a sign-in's answer says of it: every refused credential is a 401,
/// an account that may not sign in a 403.
fn sign_in_outcome(status: StatusCode, second_factor_asked: bool) -> &'static str {
    match status.as_u16() {
        200..=299 if second_factor_asked => "second_factor_asked",
        200..=299 => "success",
        401 => "bad_credentials",
        403 => "refused",
        429 => "rate_limited",
        400..=499 => "invalid_request",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_outcomes_come_from_the_status() {
        assert_eq!(sign_in_outcome(StatusCode::OK, false), "success");
        assert_eq!(sign_in_outcome(StatusCode::OK, true), "second_factor_asked");
        assert_eq!(
            sign_in_outcome(StatusCode::UNAUTHORIZED, false),
            "bad_credentials"
        );
        assert_eq!(
            sign_in_outcome(StatusCode::TOO_MANY_REQUESTS, false),
            "rate_limited"
        );
        assert_eq!(
            sign_in_outcome(StatusCode::UNPROCESSABLE_ENTITY, false),
            "invalid_request"
        );
        assert_eq!(
            sign_in_outcome(StatusCode::SERVICE_UNAVAILABLE, false),
            "error"
        );
        assert_eq!(sign_in_path("GET", "/api/v1/auth/login"), None);
        assert_eq!(sign_in_path("POST", "/api/v1/items"), None);
    }
}
