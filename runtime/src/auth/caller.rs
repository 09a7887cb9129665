//! The verified caller handed to handlers.

use serde_json::{Map, Value};

/// The verified caller, handed to handlers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The scheme that verified it.
    pub scheme: &'static str,
    /// `sub`, the API key's id, the IAM principal, or the certificate's subject.
    pub subject: String,
    /// The scopes granted (`scope` or `scp`).
    pub scopes: Vec<String>,
    /// The groups the caller belongs to (the `groups_claim`).
    pub groups: Vec<String>,
    /// Every claim of the token, or the context a custom authorizer passed.
    pub claims: Map<String, Value>,
    /// The API key's id when one was required too (REST).
    pub api_key: Option<String>,
}

impl Caller {
    /// A caller with no scopes, groups or claims: the start of what a custom authorizer returns.
    pub fn new(scheme: &'static str, subject: impl Into<String>) -> Self {
        Self {
            scheme,
            subject: subject.into(),
            scopes: Vec::new(),
            groups: Vec::new(),
            claims: Map::new(),
            api_key: None,
        }
    }

    /// With these scopes.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// With these groups.
    pub fn with_groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// With one more claim.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// A claim as text (`sub` is the subject; numbers as digits); None when absent or not scalar.
    pub fn claim(&self, name: &str) -> Option<String> {
        if name == "sub" {
            return Some(self.subject.clone());
        }
        match self.claims.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// Whether the caller was granted this scope.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }

    /// Whether the caller is a member of this group.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|member| member == group)
    }
}

/// Splits a list claim: a JSON array of strings, or text (space-separated, as in `scope`, or in
/// the `[a b]` form API Gateway's HTTP API flattens arrays to, or comma-separated as REST APIs
/// pass Cognito groups).
pub(super) fn list_claim(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(text) => split_list(text),
        _ => Vec::new(),
    }
}

pub(super) fn split_list(text: &str) -> Vec<String> {
    let inner = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    inner
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The scopes of a token's claims: `scope` (space-separated) or `scp` (array or string).
pub(super) fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    ["scope", "scp"]
        .iter()
        .filter_map(|name| claims.get(*name))
        .flat_map(list_claim)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_read_as_text() {
        let caller = Caller::new("users", "alice")
            .with_claim("tenant", "acme")
            .with_claim("level", 3)
            .with_claim("roles", json!(["a"]));
        assert_eq!(caller.claim("sub").as_deref(), Some("alice"));
        assert_eq!(caller.claim("tenant").as_deref(), Some("acme"));
        assert_eq!(caller.claim("level").as_deref(), Some("3"));
        assert_eq!(caller.claim("roles"), None);
        assert_eq!(caller.claim("missing"), None);
    }

    #[test]
    fn list_claims_in_every_form() {
        assert_eq!(list_claim(&json!(["a", "b", 1])), ["a", "b"]);
        assert_eq!(list_claim(&json!("[admin editors]")), ["admin", "editors"]);
        assert_eq!(list_claim(&json!("admin,editors")), ["admin", "editors"]);
        assert_eq!(
            list_claim(&json!("notes/read notes/write")),
            ["notes/read", "notes/write"]
        );
        assert!(list_claim(&json!(7)).is_empty());
        let claims = json!({"scp": ["x"], "scope": "y z"});
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        assert_eq!(scopes_of(&claims), ["y", "z", "x"]);
    }
}
