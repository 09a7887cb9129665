//! Building responses, and the router's fallbacks.

use std::fmt;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::problem::ApiError;

/// A JSON response with the given status and content type (e.g. "application/json").
pub fn json<T: Serialize>(status: StatusCode, content_type: &'static str, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw(status, content_type, bytes),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// A response with no body.
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// A text or bytes response.
pub fn raw(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    // Going through axum's fallible header conversion turns a malformed content type into a
    // 500 answer instead of a panic.
    (status, [(CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// Adds a header; a value that is not a valid header value is dropped with a warning log, never a
/// panic.
pub fn with_header(
    mut response: Response,
    name: &'static str,
    value: impl fmt::Display,
) -> Response {
    let header = HeaderName::try_from(name);
    let value = HeaderValue::try_from(value.to_string());
    match (header, value) {
        (Ok(header), Ok(value)) => {
            response.headers_mut().append(header, value);
        }
        // The value is not logged: headers often carry tokens.
        _ => tracing::warn!(
            header = name,
            "dropped a response header that is not valid HTTP"
        ),
    }
    response
}

/// A generated service's router: `routes` over `state`, answering paths it has no route for
/// 404 and methods a route lacks 405 (problem+json), and naming each request's operation (from
/// `operations`) for its logs and metrics.
pub fn router<S: Clone + Send + Sync + 'static>(
    routes: axum::Router<S>,
    state: S,
    operations: crate::observe::Operations,
) -> axum::Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            operations,
            crate::observe::Operations::name,
        ))
}

/// Router fallback for paths that match no operation, answered as a problem.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no route for this path")
}

/// Router fallback for a known path with a method it does not accept, answered as a problem.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this path does not accept this method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::*;
    use serde_json::json;

    #[tokio::test]
    async fn json_raw_and_empty_responses() {
        let response = json(StatusCode::CREATED, "application/json", &json!({"a": 1}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body_json(response).await, json!({"a": 1}));

        let response = raw(StatusCode::OK, "text/plain; charset=utf-8", "hi");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );

        let response = empty(StatusCode::NO_CONTENT);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.headers().get(CONTENT_TYPE).is_none());
    }

    #[test]
    fn with_header_drops_invalid_values() {
        let response = with_header(empty(StatusCode::OK), "ETag", "\"v1\"");
        let response = with_header(response, "X-Bad", "line\nbreak");
        assert_eq!(response.headers()["etag"], "\"v1\"");
        assert!(response.headers().get("x-bad").is_none());
    }
}
