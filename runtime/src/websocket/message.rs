//! What the service sends on its own: errors in answer to a message, and acknowledgements of
//! subscriptions.

use serde::Serialize;

use crate::http::{ApiError, Violation};

/// The answer to a message that could not be handled: a problem document (RFC 9457's fields)
/// with `"type": "error"` and the action it answers, so a client can tell it from pushes. The
/// connection stays open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorMessage {
    /// Always `"error"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The action of the message it answers, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The HTTP status the same problem has on the REST side.
    pub status: u16,
    /// The status's reason phrase.
    pub title: &'static str,
    /// What was wrong.
    pub detail: String,
    /// Each violation of the message's schema.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
    /// How many violations were found beyond those in `errors`.
    #[serde(skip_serializing_if = "is_zero")]
    pub unlisted: usize,
    /// The id the message's log lines carry.
    #[serde(rename = "requestId")]
    pub request_id: String,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl ErrorMessage {
    /// The message for `error`, answering `action`.
    pub fn new(action: Option<&str>, error: ApiError, request_id: &str) -> Self {
        Self {
            kind: "error",
            action: action.map(str::to_owned),
            status: error.status.as_u16(),
            title: error.status.canonical_reason().unwrap_or("Error"),
            detail: error.detail,
            errors: error.violations,
            unlisted: error.unlisted,
            request_id: request_id.to_owned(),
        }
    }

    /// The message as the text sent.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"type":"error","status":500}"#.into())
    }
}

/// The answer to a subscribe or unsubscribe message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ack {
    /// `"subscribed"` or `"unsubscribed"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The action answered.
    pub action: String,
    /// The topic.
    pub topic: String,
}
