//! Brings a document into the OpenAPI 3.0 shape that the typed parser
//! reads. Only schema positions are rewritten: an `examples` key means one
//! thing in a schema and another in a media type.
//!
//! For 3.1 this is where each JSON Schema 2020-12 keyword is either turned
//! into its 3.0 equivalent or reported as not checked (docs/openapi-3.1.md
//! lists which). Some repairs apply to 3.0 documents too: path item
//! references, `$ref`s into a schema, and bounds the typed parser's integer
//! fields cannot hold.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::numbers::{fit_numbers, numbers_from_text, numeric_exclusive};
use super::refs::{hoist_schema_refs, resolve_path_items};
use super::SpecVersion;
use crate::diagnostic::Diagnostic;
use crate::json_pointer::{escape_segment, pointer};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The dialect OpenAPI 3.1 documents use unless they name another.
const OAS_DIALECT: &str = "https://spec.openapis.org/oas/3.1/dialect/base";

/// Keywords whose meaning carries no check: kept, never warned about.
const ANNOTATIONS: &[&str] = &[
    "$comment",
    "$anchor",
    "$dynamicAnchor",
    "$id",
    "$schema",
    "$vocabulary",
    "title",
    "description",
    "summary",
    "deprecated",
    "readOnly",
    "writeOnly",
    "example",
    "examples",
    "default",
    "contentMediaType",
    "contentEncoding",
    "externalDocs",
    "xml",
    "discriminator",
];

/// Rewrites a document in place; returns the warnings it has for the author.
pub fn normalize(doc: &mut Value, version: SpecVersion) -> Vec<Diagnostic> {
    let mut n = Normalizer {
        v31: version == SpecVersion::V31,
        diagnostics: Vec::new(),
        unchecked: BTreeMap::new(),
    };
    if doc.as_object().is_none() {
        return n.diagnostics;
    }
    if n.v31 {
        n.root_31(doc);
    }
    resolve_path_items(doc);
    if n.v31 {
        if let Some(c) = doc.get_mut("components").and_then(Value::as_object_mut) {
            c.remove("pathItems");
        }
    }
    for at in hoist_schema_refs(doc) {
        n.note("$dynamicRef", &at);
    }
    let root = doc.as_object_mut().expect("checked above");
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        for (kind, f) in [
            (
                "schemas",
                Normalizer::schema as fn(&mut Normalizer, &mut Value, &str),
            ),
            ("parameters", Normalizer::parameter),
            ("headers", Normalizer::parameter),
            ("requestBodies", Normalizer::body),
            ("responses", Normalizer::response),
        ] {
            if let Some(map) = components.get_mut(kind).and_then(Value::as_object_mut) {
                for (name, item) in map.iter_mut() {
                    f(&mut n, item, &pointer(["components", kind, name]));
                }
            }
        }
    }
    if let Some(paths) = root.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            n.path_item(item, &pointer(["paths", path]));
        }
    }
    n.report_unchecked();
    n.diagnostics
}

struct Normalizer {
    v31: bool,
    diagnostics: Vec<Diagnostic>,
    /// Keyword → where it was written, for one warning per keyword.
    unchecked: BTreeMap<&'static str, Vec<String>>,
}

impl Normalizer {
    fn root_31(&mut self, doc: &mut Value) {
        let root = doc.as_object_mut().expect("an object");
        root.insert("openapi".into(), json!("3.0.3"));
        if let Some(dialect) = root.remove("jsonSchemaDialect") {
            if dialect.as_str() != Some(OAS_DIALECT) {
                self.diagnostics.push(
                    Diagnostic::warning("/jsonSchemaDialect", format!("schemas are read as the OpenAPI 3.1 dialect, not {dialect}"))
                        .help(format!("apigen knows JSON Schema 2020-12 with OpenAPI's vocabulary; remove `jsonSchemaDialect` or set it to {OAS_DIALECT}")),
                );
            }
        }
        if let Some(webhooks) = root.remove("webhooks") {
            let count = webhooks.as_object().map_or(0, Map::len);
            if count > 0 {
                self.diagnostics.push(
                    Diagnostic::warning("/webhooks", format!("{count} webhook(s) skipped"))
                        .help("apigen serves the API's paths; webhooks are requests the API sends, so no handler is generated for them"),
                );
            }
        }
        // A document may describe only webhooks or only components since 3.1.
        root.entry("paths").or_insert_with(|| json!({}));
        // The typed parser knows neither; the raw document keeps nothing
        // apigen reads from them.
        if let Some(l) = root
            .get_mut("info")
            .and_then(|i| i.get_mut("license"))
            .and_then(Value::as_object_mut)
        {
            l.remove("identifier");
        }
    }

    fn path_item(&mut self, item: &mut Value, at: &str) {
        self.each_item(
            item.get_mut("parameters"),
            &format!("{at}/parameters"),
            Self::parameter,
        );
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let at = format!("{at}/{method}");
            // Optional since 3.1: an operation with no documented responses.
            op.entry("responses").or_insert_with(|| json!({}));
            if let Some(params) = op.get_mut("parameters") {
                self.each_item(Some(params), &format!("{at}/parameters"), Self::parameter);
            }
            if let Some(b) = op.get_mut("requestBody") {
                self.body(b, &format!("{at}/requestBody"));
            }
            self.each_value(
                op.get_mut("responses"),
                &format!("{at}/responses"),
                Self::response,
            );
            if self.v31 {
                // Callbacks are skipped with a warning by the model; their
                // 3.1-only syntax must not stop the parser first.
                op.remove("callbacks");
            }
        }
    }

    fn each_value(
        &mut self,
        container: Option<&mut Value>,
        at: &str,
        f: fn(&mut Self, &mut Value, &str),
    ) {
        if let Some(map) = container.and_then(Value::as_object_mut) {
            for (key, value) in map.iter_mut() {
                f(self, value, &format!("{at}/{}", escape_segment(key)));
            }
        }
    }

    fn each_item(
        &mut self,
        container: Option<&mut Value>,
        at: &str,
        f: fn(&mut Self, &mut Value, &str),
    ) {
        if let Some(list) = container.and_then(Value::as_array_mut) {
            for (i, value) in list.iter_mut().enumerate() {
                f(self, value, &format!("{at}/{i}"));
            }
        }
    }

    fn parameter(&mut self, p: &mut Value, at: &str) {
        if let Some(s) = p.get_mut("schema") {
            self.schema(s, &format!("{at}/schema"));
        }
        self.each_value(p.get_mut("content"), &format!("{at}/content"), Self::media);
    }

    fn body(&mut self, b: &mut Value, at: &str) {
        self.each_value(b.get_mut("content"), &format!("{at}/content"), Self::media);
    }

    fn response(&mut self, r: &mut Value, at: &str) {
        self.each_value(r.get_mut("content"), &format!("{at}/content"), Self::media);
        self.each_value(
            r.get_mut("headers"),
            &format!("{at}/headers"),
            Self::parameter,
        );
    }

    fn media(&mut self, m: &mut Value, at: &str) {
        if let Some(s) = m.get_mut("schema") {
            self.schema(s, &format!("{at}/schema"));
        }
    }

    fn note(&mut self, keyword: &'static str, at: &str) {
        self.unchecked
            .entry(keyword)
            .or_default()
            .push(format!("{at}/{}", escape_segment(keyword)));
    }

    /// Rewrites one schema and everything nested in it.
    fn schema(&mut self, value: &mut Value, at: &str) {
        let Some(s) = value.as_object_mut() else {
            // `true` / `false` schemas: an empty schema, or one nothing matches.
            if let Some(b) = value.as_bool() {
                *value = if b { json!({}) } else { json!({"not": {}}) };
            }
            return;
        };
        if s.contains_key("$ref") {
            self.ref_siblings(s, at);
            return;
        }
        numbers_from_text(s, at, &mut self.diagnostics);
        if self.v31 {
            self.schema_31(s, at);
        }
        numeric_exclusive(s);
        fit_numbers(s, at, &mut self.diagnostics);
        for key in ["items", "additionalProperties", "not"] {
            if let Some(inner) = s.get_mut(key) {
                if key != "additionalProperties" || inner.is_object() {
                    self.schema(inner, &format!("{at}/{key}"));
                }
            }
        }
        if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, p) in props.iter_mut() {
                self.schema(p, &format!("{at}/properties/{}", escape_segment(name)));
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(list) = s.get_mut(key).and_then(Value::as_array_mut) {
                for (i, member) in list.iter_mut().enumerate() {
                    self.schema(member, &format!("{at}/{key}/{i}"));
                }
            }
        }
    }

    /// Beside a `$ref`, 3.0 reads nothing and 3.1 reads everything; the
    /// typed parser keeps only the reference, so say what that loses.
    fn ref_siblings(&mut self, s: &mut Map<String, Value>, at: &str) {
        if !self.v31 {
            return;
        }
        let ignored = s
            .keys()
            .any(|k| k != "$ref" && !k.starts_with("x-") && !ANNOTATIONS.contains(&k.as_str()));
        if ignored {
            self.note("$ref", at);
        }
    }

    fn schema_31(&mut self, s: &mut Map<String, Value>, at: &str) {
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
            self.note("type", at);
        }
        if let Some(c) = s.remove("const") {
            s.insert("enum".into(), json!([c]));
        }
        // The model's example test reads every `examples` entry from the raw
        // document; the typed one wants one `example`.
        if let Some(first) = s
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            let first = first.clone();
            s.entry("example").or_insert(first);
        }
        if s.get("contentEncoding").and_then(Value::as_str) == Some("base64")
            && s.get("type").and_then(Value::as_str) == Some("string")
        {
            s.entry("format").or_insert(json!("byte"));
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
        self.prefix_items(s, at);
        self.unevaluated(s, at);
        if let Some(Value::Object(deps)) = s.remove("dependentRequired") {
            // A property that needs others is, when present, theirs to check
            // together; the model has no such rule yet.
            if !deps.is_empty() {
                self.note("dependentRequired", at);
            }
        }
        for (keyword, also) in [
            ("if", &["then", "else"][..]),
            ("dependentSchemas", &[]),
            ("patternProperties", &[]),
            ("propertyNames", &[]),
            ("contains", &["minContains", "maxContains"]),
            ("contentSchema", &[]),
        ] {
            let present = s.remove(keyword).is_some();
            let others = also.iter().filter(|k| s.remove(**k).is_some()).count() > 0;
            if present || others {
                self.note(keyword, at);
            }
        }
        // Reported where the references are resolved.
        s.remove("$dynamicRef");
        s.remove("$defs");
    }

    /// `prefixItems` of one schema repeated, with `items` absent, `false`
    /// or that same schema, is an array of it; anything else is not checked.
    fn prefix_items(&mut self, s: &mut Map<String, Value>, at: &str) {
        let Some(prefix) = s.remove("prefixItems") else {
            return;
        };
        let Value::Array(prefix) = prefix else { return };
        let Some(first) = prefix.first().cloned() else {
            return;
        };
        let same = prefix.iter().all(|p| *p == first);
        let closed = s.get("items") == Some(&Value::Bool(false));
        if same && (closed || s.get("items") == Some(&first)) {
            s.insert("items".into(), first);
            if closed {
                s.insert("maxItems".into(), json!(prefix.len()));
            }
        } else {
            if closed
                || s.get("items")
                    .is_some_and(|i| i.is_object() && i.as_object().is_some_and(Map::is_empty))
            {
                s.remove("items");
            }
            self.note("prefixItems", at);
        }
    }

    /// Without composition, `unevaluatedProperties` is `additionalProperties`
    /// and `unevaluatedItems` is `items`; otherwise they are not checked.
    fn unevaluated(&mut self, s: &mut Map<String, Value>, at: &str) {
        let composed = ["allOf", "oneOf", "anyOf", "if", "dependentSchemas", "$ref"]
            .iter()
            .any(|k| s.contains_key(*k));
        if let Some(v) = s.remove("unevaluatedProperties") {
            if composed || s.contains_key("patternProperties") {
                self.note("unevaluatedProperties", at);
            } else {
                s.entry("additionalProperties").or_insert(v);
            }
        }
        if let Some(v) = s.remove("unevaluatedItems") {
            if composed || s.contains_key("contains") {
                self.note("unevaluatedItems", at);
            } else if !s.contains_key("items") {
                s.insert("items".into(), v);
            }
        }
    }

    /// One warning per keyword, at its first place, counting the others.
    fn report_unchecked(&mut self) {
        for (keyword, places) in std::mem::take(&mut self.unchecked) {
            let more = match places.len() - 1 {
                0 => String::new(),
                1 => " (here and in 1 other schema)".to_string(),
                n => format!(" (here and in {n} other schemas)"),
            };
            let (message, help) = unchecked_text(keyword);
            self.diagnostics.push(
                Diagnostic::warning(places[0].clone(), format!("{message}{more}")).help(help),
            );
        }
    }
}

/// What a warning about each unchecked keyword says.
fn unchecked_text(keyword: &str) -> (String, String) {
    let (message, help) = match keyword {
        "$ref" => (
            "keywords beside `$ref` are not checked: the service checks the referenced schema only".to_string(),
            "move the constraints into the referenced schema, or write `allOf: [{$ref: ...}]` with them beside it".to_string(),
        ),
        "type" => (
            "`type: 'null'` alone is read as any JSON value or null: a value other than `null` is not refused".to_string(),
            "`null` is checked where it is one of several types (`type: [string, 'null']`) or a `oneOf` member".to_string(),
        ),
        "if" => (
            "`if`/`then`/`else` is not checked".to_string(),
            "values are checked against the rest of the schema only; write the condition in your handler if it matters".to_string(),
        ),
        "contains" => (
            "`contains` (with `minContains`/`maxContains`) is not checked".to_string(),
            "array items are checked against `items` only".to_string(),
        ),
        "prefixItems" => (
            "`prefixItems` is not checked: the array's items are read as `items` says".to_string(),
            "give every position the same schema (and `items: false`) to have it checked, or check positions in your handler".to_string(),
        ),
        "$dynamicRef" => (
            "`$dynamicRef` is not followed: the value is accepted as any JSON".to_string(),
            "write a `$ref` to the schema meant".to_string(),
        ),
        "dependentRequired" => (
            "`dependentRequired` is not checked".to_string(),
            "a request that has a property without the ones it depends on is accepted; check them in your handler".to_string(),
        ),
        "patternProperties" | "propertyNames" => (
            format!("`{keyword}` is not checked"),
            "the object's property names and extra values are accepted as `additionalProperties` says".to_string(),
        ),
        _ => (
            format!("`{keyword}` is not checked"),
            "the value is checked against the rest of the schema only".to_string(),
        ),
    };
    (
        message,
        format!("{help} (docs/openapi-3.1.md lists what apigen checks)"),
    )
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") || v.get("type") == Some(&json!(["null"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_31(mut s: Value) -> (Value, Vec<Diagnostic>) {
        let mut n = Normalizer {
            v31: true,
            diagnostics: Vec::new(),
            unchecked: BTreeMap::new(),
        };
        n.schema(&mut s, "/s");
        n.report_unchecked();
        (s, n.diagnostics)
    }

    fn doc_31(doc: Value) -> (Value, Vec<Diagnostic>) {
        let mut doc = doc;
        let warnings = normalize(&mut doc, SpecVersion::V31);
        (doc, warnings)
    }

    #[test]
    fn type_arrays_become_nullable() {
        let (s, _) =
            schema_31(json!({"type": ["string", "null"], "const": "x", "exclusiveMinimum": 3}));
        assert_eq!(
            s,
            json!({"type": "string", "nullable": true, "enum": ["x"], "minimum": 3, "exclusiveMinimum": true})
        );
    }

    #[test]
    fn the_stricter_of_two_bounds_holds() {
        let (s, _) = schema_31(
            json!({"type": "number", "minimum": 5, "exclusiveMinimum": 0, "maximum": 10, "exclusiveMaximum": 8}),
        );
        assert_eq!(
            s,
            json!({"type": "number", "minimum": 5, "maximum": 8, "exclusiveMaximum": true})
        );
    }

    #[test]
    fn null_member_of_one_of_becomes_nullable() {
        let (s, _) =
            schema_31(json!({"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}));
        assert_eq!(
            s,
            json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
        );
    }

    #[test]
    fn null_alone_is_nullable_any_with_a_warning() {
        let (s, w) = schema_31(json!({"type": "null"}));
        assert_eq!(s, json!({"nullable": true}));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].pointer, "/s/type");
        let (_, w) = schema_31(json!({"type": ["null", "string"]}));
        assert!(w.is_empty());
    }

    #[test]
    fn boolean_schemas() {
        assert_eq!(schema_31(json!(true)).0, json!({}));
        assert_eq!(schema_31(json!(false)).0, json!({"not": {}}));
    }

    #[test]
    fn examples_keep_every_entry_and_give_the_first_as_example() {
        let (s, _) = schema_31(json!({"type": "integer", "examples": [1, 2]}));
        assert_eq!(
            s,
            json!({"type": "integer", "examples": [1, 2], "example": 1})
        );
    }

    #[test]
    fn base64_content_is_a_byte_string() {
        let (s, w) = schema_31(
            json!({"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}),
        );
        assert_eq!(s["format"], "byte");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn prefix_items_of_one_schema_are_items() {
        let (s, w) = schema_31(
            json!({"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}], "items": false}),
        );
        assert_eq!(
            s,
            json!({"type": "array", "items": {"type": "number"}, "maxItems": 2})
        );
        assert!(w.is_empty());
        let (s, w) = schema_31(
            json!({"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]}),
        );
        assert_eq!(s, json!({"type": "array"}));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].pointer, "/s/prefixItems");
    }

    #[test]
    fn unevaluated_without_composition_is_additional() {
        let (s, w) = schema_31(json!({"type": "object", "unevaluatedProperties": false}));
        assert_eq!(s, json!({"type": "object", "additionalProperties": false}));
        assert!(w.is_empty());
        let (s, w) = schema_31(json!({"type": "array", "unevaluatedItems": {"type": "string"}}));
        assert_eq!(s, json!({"type": "array", "items": {"type": "string"}}));
        assert!(w.is_empty());
        let (_, w) =
            schema_31(json!({"allOf": [{"type": "object"}], "unevaluatedProperties": false}));
        assert_eq!(w[0].pointer, "/s/unevaluatedProperties");
    }

    #[test]
    fn unchecked_keywords_warn_once_per_keyword() {
        let (s, w) = schema_31(json!({
            "type": "object",
            "properties": {
                "a": {"type": "object", "patternProperties": {"^x": {}}},
                "b": {"type": "object", "patternProperties": {"^y": {}}},
                "c": {"type": "array", "contains": {"const": 1}, "minContains": 1},
            },
            "if": {"required": ["a"]}, "then": {"required": ["b"]},
            "dependentRequired": {"a": ["b"]},
            "dependentSchemas": {"a": {}},
            "propertyNames": {"maxLength": 3},
            "$comment": "fine",
        }));
        let found: Vec<(&str, &str)> = w
            .iter()
            .map(|d| (d.pointer.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(found.len(), 6, "{found:#?}");
        assert!(found.contains(&(
            "/s/properties/a/patternProperties",
            "`patternProperties` is not checked (here and in 1 other schema)"
        )));
        assert!(found.contains(&(
            "/s/properties/c/contains",
            "`contains` (with `minContains`/`maxContains`) is not checked"
        )));
        assert!(found.iter().any(|(p, _)| *p == "/s/if"));
        assert!(w.iter().all(|d| d
            .help
            .as_deref()
            .is_some_and(|h| h.contains("docs/openapi-3.1.md"))));
        assert!(
            s.get("if").is_none()
                && s.get("then").is_none()
                && s.get("patternProperties").is_none()
        );
        assert_eq!(s["$comment"], "fine");
    }

    #[test]
    fn integer_bounds_fit_64_bits() {
        let mut s = json!({"type": "integer", "minimum": -9.223372036854776e18, "maximum": 1e30, "multipleOf": 0.5, "maxLength": 1e30, "minItems": 1.5});
        let mut d = Vec::new();
        fit_numbers(s.as_object_mut().unwrap(), "/s", &mut d);
        assert_eq!(
            s,
            json!({"type": "integer", "minimum": i64::MIN, "maxLength": u64::MAX, "minItems": 2})
        );
        assert!(d.is_empty());
        let (s, d) = schema_31(
            json!({"type": ["integer", "null"], "minimum": 1e30, "exclusiveMaximum": 2.5, "maximum": "1e400"}),
        );
        assert_eq!(
            s,
            json!({"type": "integer", "nullable": true, "maximum": 2})
        );
        let pointers: Vec<&str> = d.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/s/maximum", "/s/minimum"]);
        let (s, _) =
            schema_31(json!({"type": "integer", "minimum": 2.5, "exclusiveMinimum": true}));
        assert_eq!(s, json!({"type": "integer", "minimum": 3}));
    }

    #[test]
    fn operations_without_responses_have_none() {
        let (doc, _) = doc_31(json!({"openapi": "3.1.0", "paths": {"/a": {"post": {}}}}));
        assert_eq!(doc["paths"]["/a"]["post"]["responses"], json!({}));
    }

    #[test]
    fn webhooks_only_documents_get_empty_paths() {
        let (doc, w) = doc_31(
            json!({"openapi": "3.1.0", "webhooks": {"a": {}}, "jsonSchemaDialect": OAS_DIALECT, "info": {"license": {"name": "MIT", "identifier": "MIT"}}}),
        );
        assert_eq!(doc["paths"], json!({}));
        assert_eq!(doc["info"]["license"], json!({"name": "MIT"}));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].pointer, "/webhooks");
    }

    #[test]
    fn another_dialect_is_read_with_a_warning() {
        let (doc, w) = doc_31(
            json!({"openapi": "3.1.0", "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema"}),
        );
        assert!(doc.get("jsonSchemaDialect").is_none());
        assert_eq!(w[0].pointer, "/jsonSchemaDialect");
    }

    #[test]
    fn thirty_documents_keep_their_shape() {
        let mut doc = json!({"openapi": "3.0.3", "paths": {"/a": {"get": {"callbacks": {}, "responses": {}}}},
            "components": {"schemas": {"A": {"type": "integer", "maximum": 18446744073709551615u64, "examples": [1]}}}});
        let w = normalize(&mut doc, SpecVersion::V30);
        assert!(w.is_empty());
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc["paths"]["/a"]["get"].get("callbacks").is_some());
        assert_eq!(
            doc["components"]["schemas"]["A"],
            json!({"type": "integer", "examples": [1]})
        );
    }
}
