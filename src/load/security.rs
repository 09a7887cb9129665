//! Security schemes the typed parser does not know: 3.1's `mutualTLS`, and
//! a missing or misspelt `type`. The typed parser would refuse the whole
//! document over one, with a message that lists no 3.1 type and no way out,
//! so each is held out while it reads and put back in the raw value, from
//! which `model::security` reads every scheme: it refuses a wrong type with
//! the types it takes, and checks what API Gateway can deploy of the others.

use serde_json::{json, Value};

/// The scheme types `openapiv3` reads.
const READ: [&str; 4] = ["apiKey", "http", "oauth2", "openIdConnect"];

/// A scheme taken out of the document while the typed parser reads it.
pub struct Held {
    name: String,
    scheme: Value,
}

/// Swaps every scheme of another type, or of none, for a placeholder the typed parser
/// reads; [`restore`] puts them back and [`forget`] drops the placeholders
/// from the typed document.
pub fn hold_unread_schemes(doc: &mut Value) -> Vec<Held> {
    let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    else {
        return Vec::new();
    };
    let mut held = Vec::new();
    for (name, scheme) in schemes.iter_mut() {
        let unread = scheme.get("$ref").is_none()
            && !scheme
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| READ.contains(&t));
        if unread {
            let placeholder = json!({"type": "http", "scheme": "none"});
            held.push(Held {
                name: name.clone(),
                scheme: std::mem::replace(scheme, placeholder),
            });
        }
    }
    held
}

/// Puts the held schemes back where they were, in their order.
pub fn restore(doc: &mut Value, held: &[Held]) {
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        for h in held {
            if let Some(slot) = schemes.get_mut(&h.name) {
                *slot = h.scheme.clone();
            }
        }
    }
}

/// Removes the placeholders from the typed document.
pub fn forget(document: &mut openapiv3::OpenAPI, held: &[Held]) {
    if let Some(components) = document.components.as_mut() {
        for h in held {
            components.security_schemes.shift_remove(&h.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_of_other_types_are_kept_in_the_raw_document_only() {
        let mut doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "T", "version": "1"},
            "paths": {},
            "components": {"securitySchemes": {
                "mtls": {"type": "mutualTLS", "description": "certificates"},
                "key": {"type": "apiKey", "name": "k", "in": "header"},
                "saml": {"type": "saml"},
                "untyped": {"in": "header"},
                "same": {"$ref": "#/components/securitySchemes/key"},
            }},
        });
        let before = doc.clone();
        let held = hold_unread_schemes(&mut doc);
        let mut typed: openapiv3::OpenAPI = serde_json::from_value(doc.clone()).expect("reads");
        restore(&mut doc, &held);
        forget(&mut typed, &held);
        assert_eq!(doc, before);
        let components = typed.components.expect("components");
        let names: Vec<&String> = components.security_schemes.keys().collect();
        assert_eq!(names, ["key", "same"]);
    }
}
