//! References the model does not follow, made ones it does: path items
//! (`components.pathItems` in 3.1) are inlined, and a schema `$ref` that
//! points inside another schema or at an `$anchor` is given a component of
//! its own. Applies to 3.0 and 3.1 documents alike.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::json_pointer::{escape_segment, pointer};

/// Inlines path items that `$ref` another in the document (`components.pathItems`
/// in 3.1). Fields written beside the reference win. One that points outside
/// the document stays a reference, which the model skips with a warning.
pub fn resolve_path_items(doc: &mut Value) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    let mut resolved = Vec::new();
    for (path, item) in paths {
        let Some(reference) = item.get("$ref").and_then(Value::as_str) else {
            continue;
        };
        let mut target = reference.strip_prefix('#').and_then(|p| doc.pointer(p));
        // A chain of references, as far as it goes in this document.
        for _ in 0..8 {
            match target.and_then(|t| t.get("$ref")).and_then(Value::as_str) {
                Some(next) => target = next.strip_prefix('#').and_then(|p| doc.pointer(p)),
                None => break,
            }
        }
        if let Some(found) = target.and_then(Value::as_object) {
            let mut merged = found.clone();
            for (k, v) in item.as_object().into_iter().flatten() {
                if k != "$ref" {
                    merged.insert(k.clone(), v.clone());
                }
            }
            resolved.push((path.clone(), Value::Object(merged)));
        }
    }
    let paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .expect("read above");
    for (path, item) in resolved {
        paths.insert(path, item);
    }
}

/// The model names component schemas; a `$ref` into one (`$defs`,
/// `properties`) or to a 3.1 `$anchor` gets its target copied into
/// `components.schemas` under a free name, and points there instead.
/// Returns where a `$dynamicRef` names no anchor, as apigen leaves those
/// unchecked.
pub fn hoist_schema_refs(doc: &mut Value) -> Vec<String> {
    let mut refs = Vec::new();
    let mut anchors = HashMap::new();
    let mut unresolved = Vec::new();
    collect_refs(doc, &mut String::new(), &mut refs, &mut anchors);
    if refs.is_empty() {
        return unresolved;
    }
    let mut taken: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut hoisted = Vec::new();
    let mut by_target: HashMap<String, String> = HashMap::new();
    for (reference, dynamic, at) in refs {
        if renamed.contains_key(&reference) {
            continue;
        }
        let target = match reference.strip_prefix('#') {
            Some(p) if p.starts_with('/') => Some(p.to_string()),
            Some(anchor) => anchors.get(anchor).cloned(),
            None => None,
        };
        let Some(target) = target else {
            if dynamic {
                unresolved.push(at);
            }
            continue;
        };
        let segments: Vec<&str> = target.split('/').skip(1).collect();
        let component = segments.len() == 3 && segments[..2] == ["components", "schemas"];
        let in_schema = segments.len() > 3 && segments[..2] == ["components", "schemas"]
            || segments.contains(&"schema")
            || !reference.starts_with("#/");
        let new_ref = if component {
            format!("#{target}")
        } else if let Some(done) = by_target.get(&target) {
            // `#anchor` and the pointer to the same schema share one copy.
            String::clone(done)
        } else if in_schema {
            let Some(value) = doc.pointer(&target) else {
                continue;
            };
            let name = free_name(&segments, &taken);
            taken.push(name.clone());
            hoisted.push((name.clone(), value.clone()));
            let new_ref = pointer(["components", "schemas", &name]).replacen('/', "#/", 1);
            by_target.insert(target, new_ref.clone());
            new_ref
        } else {
            continue;
        };
        if new_ref != reference {
            renamed.insert(reference, new_ref);
        }
    }
    if renamed.is_empty() {
        return unresolved;
    }
    if !hoisted.is_empty() {
        let root = doc.as_object_mut().expect("an object");
        let components = root.entry("components").or_insert_with(|| json!({}));
        if let Some(c) = components.as_object_mut() {
            let schemas = c.entry("schemas").or_insert_with(|| json!({}));
            if let Some(schemas) = schemas.as_object_mut() {
                for (name, value) in hoisted {
                    schemas.insert(name, value);
                }
            }
        }
    }
    rewrite_refs(doc, &renamed);
    unresolved
}

/// Every `$ref` (and `$dynamicRef`) in the document, with where it is
/// written, and every `$anchor`/`$dynamicAnchor` with the schema holding it.
fn collect_refs(
    value: &Value,
    at: &mut String,
    refs: &mut Vec<(String, bool, String)>,
    anchors: &mut HashMap<String, String>,
) {
    match value {
        Value::Object(map) => {
            for (key, dynamic) in [("$ref", false), ("$dynamicRef", true)] {
                if let Some(r) = map.get(key).and_then(Value::as_str) {
                    refs.push((r.to_string(), dynamic, at.clone()));
                }
            }
            for key in ["$anchor", "$dynamicAnchor"] {
                if let Some(a) = map.get(key).and_then(Value::as_str) {
                    anchors.entry(a.to_string()).or_insert_with(|| at.clone());
                }
            }
            for (key, item) in map {
                if matches!(
                    key.as_str(),
                    "example" | "examples" | "default" | "enum" | "const"
                ) {
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&escape_segment(key));
                collect_refs(item, at, refs, anchors);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                collect_refs(item, at, refs, anchors);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

fn rewrite_refs(value: &mut Value, renamed: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for key in ["$ref", "$dynamicRef"] {
                let new = map
                    .get(key)
                    .and_then(Value::as_str)
                    .and_then(|r| renamed.get(r))
                    .cloned();
                if let Some(new) = new {
                    map.remove("$dynamicRef");
                    map.insert("$ref".into(), Value::String(new));
                }
            }
            for (key, item) in map.iter_mut() {
                if !matches!(
                    key.as_str(),
                    "example" | "examples" | "default" | "enum" | "const"
                ) {
                    rewrite_refs(item, renamed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_refs(i, renamed)),
        _ => {}
    }
}

/// `Dimensions` for `.../$defs/Dimensions`, else the owner and the last
/// segment (`GadgetSize`), numbered when taken.
fn free_name(segments: &[&str], taken: &[String]) -> String {
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    let last = unescape(segments.last().copied().unwrap_or("Schema"));
    let owner = segments
        .get(2)
        .filter(|_| segments.starts_with(&["components", "schemas"]))
        .map(|s| unescape(s))
        .unwrap_or_default();
    let mut candidates = Vec::new();
    if segments.len() >= 2 && matches!(segments[segments.len() - 2], "$defs" | "definitions") {
        candidates.push(last.clone());
    }
    candidates.push(format!(
        "{owner}{}",
        heck::ToUpperCamelCase::to_upper_camel_case(last.as_str())
    ));
    for c in &candidates {
        if !taken.iter().any(|t| t == c) && !c.is_empty() {
            return c.clone();
        }
    }
    let base = candidates.last().cloned().unwrap_or_default();
    (2..)
        .map(|i| format!("{base}{i}"))
        .find(|c| !taken.iter().any(|t| t == c))
        .expect("a free name")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::load::{normalize::normalize, SpecVersion};

    fn doc_31(doc: Value) -> (Value, Vec<Diagnostic>) {
        let mut doc = doc;
        let warnings = normalize(&mut doc, SpecVersion::V31);
        (doc, warnings)
    }

    #[test]
    fn path_item_references_are_inlined() {
        let (doc, w) = doc_31(json!({
            "openapi": "3.1.0",
            "paths": {
                "/a": {"$ref": "#/components/pathItems/A", "summary": "mine"},
                "/b": {"$ref": "#/components/pathItems/Missing"},
            },
            "components": {"pathItems": {"A": {"summary": "theirs", "get": {"responses": {}}}}},
        }));
        assert_eq!(
            doc["paths"]["/a"],
            json!({"summary": "mine", "get": {"responses": {}}})
        );
        assert!(doc["components"].get("pathItems").is_none());
        assert!(w.is_empty());
        assert_eq!(doc["paths"]["/b"]["$ref"], "#/components/pathItems/Missing");
    }

    #[test]
    fn refs_into_schemas_and_anchors_are_hoisted() {
        let (doc, _) = doc_31(json!({
            "openapi": "3.1.0",
            "components": {"schemas": {
                "A": {
                    "type": "object",
                    "properties": {
                        "d": {"$ref": "#/components/schemas/A/$defs/Dimensions"},
                        "e": {"$ref": "#edge"},
                        "n": {"$ref": "#/components/schemas/A/properties/name"},
                        "name": {"type": "string"},
                    },
                    "$defs": {
                        "Dimensions": {"type": "object"},
                        "Edge": {"$anchor": "edge", "type": "string"},
                    },
                },
                "B": {"$anchor": "b", "type": "string"},
                "D": {"$ref": "#/components/schemas/A/$defs/Edge"},
                "C": {"$ref": "#b"},
            }},
        }));
        let schemas = &doc["components"]["schemas"];
        let props = &schemas["A"]["properties"];
        assert_eq!(props["d"]["$ref"], "#/components/schemas/Dimensions");
        assert_eq!(schemas["Dimensions"], json!({"type": "object"}));
        assert_eq!(props["e"]["$ref"], "#/components/schemas/Edge");
        assert_eq!(props["n"]["$ref"], "#/components/schemas/AName");
        assert_eq!(schemas["AName"], json!({"type": "string"}));
        assert_eq!(schemas["C"]["$ref"], "#/components/schemas/B");
        assert_eq!(schemas["D"]["$ref"], "#/components/schemas/Edge");
        assert!(schemas.get("AEdge").is_none());
        assert!(schemas["A"].get("$defs").is_none());
    }

    #[test]
    fn dynamic_refs_resolve_to_their_anchor() {
        let (doc, w) = doc_31(json!({
            "openapi": "3.1.0",
            "components": {"schemas": {
                "Node": {"$dynamicAnchor": "node", "type": "object", "properties": {"next": {"$dynamicRef": "#node"}, "other": {"$dynamicRef": "#nowhere"}}},
            }},
        }));
        let props = &doc["components"]["schemas"]["Node"]["properties"];
        assert_eq!(props["next"], json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(props["other"], json!({}));
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0].pointer,
            "/components/schemas/Node/properties/other/$dynamicRef"
        );
    }
}
