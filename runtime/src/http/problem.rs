//! Errors answered as `application/problem+json` (RFC 9457).

use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::respond::{raw, with_header};
use super::violations::Violations;

/// A detail is cut to this, whatever wrote it: serde's messages quote the offending input.
pub(super) const MAX_DETAIL: usize = 512;

/// Where in the request a violation was found, so clients can point at the faulty input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// The request body.
    Body,
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A cookie.
    Cookie,
}

/// One reason a request was refused, precise enough for a client to fix its input.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// Where the faulty input is (`in` in the answer, as OpenAPI names it).
    #[serde(rename = "in")]
    pub location: Location,
    /// JSON pointer: into the body for `Body`, `/<parameter name>` for parameters.
    pub pointer: String,
    /// What is wrong, e.g. "must be >= 1".
    pub detail: String,
}

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    /// The response's status code.
    pub status: StatusCode,
    /// What went wrong, for the client to read.
    pub detail: String,
    /// The violations listed in the answer (`errors`); empty unless validation failed.
    pub violations: Vec<Violation>,
    /// Violations found beyond those listed.
    pub unlisted: usize,
    /// The `WWW-Authenticate` challenge sent with a 401 (RFC 9110 11.6.1).
    pub challenge: Option<String>,
}

impl ApiError {
    /// Any status, for the cases the shorthands below do not cover. A long detail is cut short.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut detail = detail.into();
        clip(&mut detail, MAX_DETAIL);
        Self {
            status,
            detail,
            violations: Vec::new(),
            unlisted: 0,
            challenge: None,
        }
    }

    /// The request cannot be processed as sent (400).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// Validation failed; the violations are listed (up to a cap) so the client can fix them
    /// all in one go.
    pub fn invalid(violations: impl Into<Violations>) -> Self {
        let Violations {
            listed, unlisted, ..
        } = violations.into();
        let detail = match (listed.len() + unlisted, unlisted) {
            (1, _) => "the request is invalid (1 problem)".to_owned(),
            (count, 0) => format!("the request is invalid ({count} problems)"),
            (count, _) => format!(
                "the request is invalid ({count} problems; the first {} are listed)",
                listed.len()
            ),
        };
        Self {
            status: StatusCode::BAD_REQUEST,
            detail,
            violations: listed,
            unlisted,
            challenge: None,
        }
    }

    /// The body is larger than any API Gateway would pass on (413).
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than 6 MiB",
        )
    }

    /// The caller is not authenticated (401): no credential, or one that does not verify. The
    /// challenge (`WWW-Authenticate`) tells the client which credential to send.
    pub fn unauthorized(challenge: Option<String>, detail: impl Into<String>) -> Self {
        Self {
            challenge,
            ..Self::new(StatusCode::UNAUTHORIZED, detail)
        }
    }

    /// The caller is authenticated but may not do this (403).
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// The addressed resource does not exist (404).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// The request clashes with the current state of a resource (409).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// A conditional request (e.g. `If-Match`) did not hold (412).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// The default body of every generated handler until someone writes it (501).
    pub fn not_implemented(operation_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "operation `{operation_id}` is not implemented yet: write it in src/handlers.rs"
            ),
        )
    }

    /// A failure on our side (500): the cause goes to the logs only, because it may reveal
    /// internals (table names, SDK messages) that callers must not see.
    pub fn internal(error: impl fmt::Display) -> Self {
        tracing::error!(error = %error, "answering 500 Internal Server Error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong on our side; it has been logged",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl std::error::Error for ApiError {}

/// The RFC 9457 document; `about:blank` means the status code says it all.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[Violation]>::is_empty")]
    errors: &'a [Violation],
    /// How many violations were found beyond those in `errors`.
    #[serde(skip_serializing_if = "is_zero")]
    unlisted: usize,
    /// The id the request's log lines and API Gateway's access log carry, so that a client
    /// reporting a problem can name the request.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &self.violations,
            unlisted: self.unlisted,
            request_id: crate::observe::request_id(),
        };
        let response = match serde_json::to_vec(&problem) {
            Ok(body) => raw(self.status, "application/problem+json", body),
            // Strings and numbers always serialize; this arm only keeps the code panic-free.
            Err(_) => self.status.into_response(),
        };
        match self.challenge {
            Some(challenge) => with_header(response, "WWW-Authenticate", challenge),
            None => response,
        }
    }
}

/// Cuts `text` to at most `max` bytes (and a `…`).
fn clip(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::*;
    use crate::http::{method_not_allowed, not_found};
    use axum::http::header::CONTENT_TYPE;
    use serde_json::json;

    #[tokio::test]
    async fn problems_are_rfc_9457_documents() {
        let error = ApiError::invalid(vec![Violation {
            location: Location::Query,
            pointer: "/limit".to_owned(),
            detail: "is required".to_owned(),
        }]);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            body_json(response).await,
            json!({
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "the request is invalid (1 problem)",
                "errors": [{"in": "query", "pointer": "/limit", "detail": "is required"}],
            })
        );

        let body = body_json(not_found().await.into_response()).await;
        assert_eq!(
            body,
            json!({
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "no route for this path",
            })
        );
    }

    #[test]
    fn shorthand_errors() {
        let cases = [
            (ApiError::bad_request("x"), 400),
            (ApiError::conflict("x"), 409),
            (ApiError::precondition_failed("x"), 412),
            (ApiError::not_found("x"), 404),
            (ApiError::forbidden("x"), 403),
            (ApiError::unauthorized(None, "x"), 401),
        ];
        for (error, status) in cases {
            assert_eq!(error.status.as_u16(), status);
        }
        let error = ApiError::not_implemented("listOrders");
        assert_eq!(error.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(
            error.to_string(),
            "501 Not Implemented: operation `listOrders` is not implemented yet: \
             write it in src/handlers.rs"
        );
    }

    #[tokio::test]
    async fn unauthorized_answers_carry_their_challenge() {
        let challenge = r#"Bearer realm="api""#;
        let response =
            ApiError::unauthorized(Some(challenge.to_owned()), "no token").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], challenge);
        let body = body_json(response).await;
        assert_eq!(body["detail"], "no token");
        let response = ApiError::forbidden("missing scope").into_response();
        assert!(response.headers().get("www-authenticate").is_none());
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let error = ApiError::internal("dynamodb table orders-prod is missing");
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.detail.contains("orders-prod"));
        let response = method_not_allowed().await.into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
