//! Brings an OpenAPI 3.1 document into the 3.0 shape that the typed parser
//! reads. Only schema positions are rewritten: an `examples` key means one
//! thing in a schema and another in a media type.

use serde_json::{json, Map, Value};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Rewrites a 3.1 document in place and returns how many webhooks it dropped.
pub fn normalize_31(doc: &mut Value) -> usize {
    let Some(root) = doc.as_object_mut() else {
        return 0;
    };
    root.insert("openapi".into(), json!("3.0.3"));
    root.remove("jsonSchemaDialect");
    let webhooks = root
        .remove("webhooks")
        .and_then(|w| w.as_object().map(Map::len))
        .unwrap_or(0);
    root.entry("paths").or_insert_with(|| json!({}));
    if let Some(license) = root.get_mut("info").and_then(|i| i.get_mut("license")) {
        if let Some(l) = license.as_object_mut() {
            l.remove("identifier");
        }
    }
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("pathItems");
        for_each_value(components.get_mut("schemas"), schema);
        for_each_value(components.get_mut("parameters"), parameter);
        for_each_value(components.get_mut("headers"), parameter);
        for_each_value(components.get_mut("requestBodies"), body);
        for_each_value(components.get_mut("responses"), response);
    }
    if let Some(paths) = root.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            path_item(item);
        }
    }
    webhooks
}

fn for_each_value(container: Option<&mut Value>, f: fn(&mut Value)) {
    if let Some(map) = container.and_then(Value::as_object_mut) {
        map.values_mut().for_each(f);
    }
}

fn for_each_item(container: Option<&mut Value>, f: fn(&mut Value)) {
    if let Some(list) = container.and_then(Value::as_array_mut) {
        list.iter_mut().for_each(f);
    }
}

fn path_item(item: &mut Value) {
    for_each_item(item.get_mut("parameters"), parameter);
    for method in METHODS {
        if let Some(op) = item.get_mut(method) {
            for_each_item(op.get_mut("parameters"), parameter);
            if let Some(b) = op.get_mut("requestBody") {
                body(b);
            }
            for_each_value(op.get_mut("responses"), response);
            if let Some(o) = op.as_object_mut() {
                // Callbacks are skipped with a warning by the model; their
                // 3.1-only syntax must not stop the parser first.
                o.remove("callbacks");
            }
        }
    }
}

fn parameter(p: &mut Value) {
    if let Some(s) = p.get_mut("schema") {
        schema(s);
    }
    for_each_value(p.get_mut("content"), media);
}

fn body(b: &mut Value) {
    for_each_value(b.get_mut("content"), media);
}

fn response(r: &mut Value) {
    for_each_value(r.get_mut("content"), media);
    for_each_value(r.get_mut("headers"), parameter);
}

fn media(m: &mut Value) {
    if let Some(s) = m.get_mut("schema") {
        schema(s);
    }
}

/// Rewrites one schema and everything nested in it.
pub fn schema(value: &mut Value) {
    let Some(s) = value.as_object_mut() else {
        // `true` / `false` schemas: an empty schema, or one nothing matches.
        if let Some(b) = value.as_bool() {
            *value = if b { json!({}) } else { json!({"not": {}}) };
        }
        return;
    };
    if let Some(Value::Array(types)) = s.get("type").cloned() {
        let non_null: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if non_null.len() != types.len() {
            s.insert("nullable".into(), json!(true));
        }
        match non_null.len() {
            0 => {
                s.remove("type");
            }
            1 => {
                s.insert("type".into(), non_null[0].clone());
            }
            _ => {
                s.remove("type");
                let variants = non_null.into_iter().map(|t| json!({ "type": t })).collect();
                s.insert("anyOf".into(), Value::Array(variants));
            }
        }
    } else if s.get("type").and_then(Value::as_str) == Some("null") {
        s.remove("type");
        s.insert("nullable".into(), json!(true));
    }
    if let Some(c) = s.remove("const") {
        s.insert("enum".into(), json!([c]));
    }
    if let Some(Value::Array(examples)) = s.remove("examples") {
        if let Some(first) = examples.into_iter().next() {
            s.entry("example").or_insert(first);
        }
    }
    for (bound, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        if let Some(n) = s.get(exclusive).filter(|v| v.is_number()).cloned() {
            s.insert(bound.into(), n);
            s.insert(exclusive.into(), json!(true));
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(members)) = s.get_mut(key) {
            let before = members.len();
            members.retain(|m| !is_null_schema(m));
            if members.len() != before {
                s.insert("nullable".into(), json!(true));
                if let Some(Value::Array(members)) = s.get(key) {
                    if members.is_empty() {
                        // `oneOf: [{type: "null"}]`: only null.
                        s.remove(key);
                    } else if members.len() == 1 {
                        let only = members[0].clone();
                        s.remove(key);
                        s.insert("allOf".into(), json!([only]));
                    }
                }
            }
        }
    }
    s.remove("prefixItems");
    s.remove("$schema");
    s.remove("$id");
    s.remove("$defs");
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = s.get_mut(key) {
            if key != "additionalProperties" || inner.is_object() {
                schema(inner);
            }
        }
    }
    if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(schema);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for_each_item(s.get_mut(key), schema);
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") || v.get("type") == Some(&json!(["null"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_arrays_become_nullable() {
        let mut s = json!({"type": ["string", "null"], "const": "x", "exclusiveMinimum": 3});
        schema(&mut s);
        assert_eq!(
            s,
            json!({"type": "string", "nullable": true, "enum": ["x"], "minimum": 3, "exclusiveMinimum": true})
        );
    }

    #[test]
    fn null_member_of_one_of_becomes_nullable() {
        let mut s = json!({"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]});
        schema(&mut s);
        assert_eq!(
            s,
            json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
        );
    }
}
