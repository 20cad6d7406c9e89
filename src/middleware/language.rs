//! Says error messages in the caller's language: the signed-in user's
//! `language`, else the best of `Accept-Language`, else English.

use std::sync::{Arc, OnceLock};

use axum::{body::Body, extract::Request, http::header, middleware::Next, response::Response};

use crate::{errors::ErrorBody, infra::state::AppState, models::users::DEFAULT_LANGUAGE};

/// The language of the signed-in caller, filled in by the auth extractor,
/// which alone knows who is calling.
#[derive(Debug, Clone, Default)]
pub struct CallerLanguage(Arc<OnceLock<String>>);

impl CallerLanguage {
    pub fn set(&self, language: &str) {
        // Only the first authenticated user of a request counts.
        let _ = self.0.set(language.to_string());
    }
}

/// Runs inside the `Extension<Arc<AppState>>` layer, which gives it the
/// translations.
pub async fn translate_errors(mut request: Request, next: Next) -> Response {
    let Some(state) = request.extensions().get::<Arc<AppState>>().cloned() else {
        return next.run(request).await;
    };
    let translations = &state.translations;
    let caller = CallerLanguage::default();
    request.extensions_mut().insert(caller.clone());
    let accept_language = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);

    let response = next.run(request).await;
    let Some(body) = response.extensions().get::<ErrorBody>().cloned() else {
        return response;
    };
    let language = caller
        .0
        .get()
        .cloned()
        .or_else(|| accept_language.and_then(|accept| translations.negotiate(&accept)));
    let Some(language) = language.filter(|language| language != DEFAULT_LANGUAGE) else {
        return response;
    };

    let translated = body.to_json(|message| translations.translate(&language, message));
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_LANGUAGE,
        header::HeaderValue::from_str(&language)
            .unwrap_or(header::HeaderValue::from_static(DEFAULT_LANGUAGE)),
    );
    Response::from_parts(parts, Body::from(translated.to_string()))
}
