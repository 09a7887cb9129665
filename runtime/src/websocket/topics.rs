//! Topics as the generator declares them: a published entity's `publish` template, bound from
//! a subscribe message's fields and, for owned entities, from the caller's claims; and who may
//! subscribe.

use axum::http::StatusCode;
use serde_json::Value;

use crate::auth::{Access, Caller};
use crate::http::ApiError;
use crate::store::{render_text, Template};

/// The topic a subscribe or unsubscribe route names.
#[derive(Debug, Clone, Copy)]
pub struct TopicDef {
    /// The published entity's topic template (`ROOM#{roomId}`).
    pub template: Template,
    /// Template fields bound from the caller's claims, never from the message:
    /// `(field, claim)`, the owner of an owned entity's items.
    pub claims: &'static [(&'static str, &'static str)],
    /// Who may subscribe; `None` on a public API, where anyone may.
    pub access: Option<Access>,
}

impl TopicDef {
    /// The topic `message` names for `caller`: 403 for a caller the access rule refuses, 401
    /// for a connection without the caller the rule needs.
    pub fn topic(&self, caller: Option<&Caller>, message: &Value) -> Result<String, ApiError> {
        let mut fields = message.as_object().cloned().unwrap_or_default();
        if let Some(access) = &self.access {
            let caller = caller.ok_or_else(|| {
                ApiError::unauthorized(None, "this connection has no verified caller")
            })?;
            if !access.allows(caller) {
                let detail = match access.groups {
                    [] => "you may not subscribe to this topic".to_owned(),
                    groups => format!("subscribing needs one of the groups {}", groups.join(", ")),
                };
                return Err(ApiError::forbidden(detail));
            }
            // A group member may name any owner; everyone else is their own.
            if !access.through_group(caller) {
                for (field, claim) in self.claims {
                    let value = caller.claim(claim).ok_or_else(|| {
                        ApiError::forbidden(format!("the token has no `{claim}` claim"))
                    })?;
                    fields.insert((*field).to_owned(), Value::String(value));
                }
            }
        }
        match render_text(&self.template, &fields) {
            Ok(Some(topic)) => Ok(topic),
            Ok(None) => Err(ApiError::bad_request("the message does not name a topic")),
            Err(error) => Err(ApiError::new(StatusCode::BAD_REQUEST, error.to_string())),
        }
    }
}
