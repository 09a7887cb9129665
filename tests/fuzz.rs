//! A fuzz target for the whole pipeline: whatever text a user hands apigen,
//! it answers with a project or with diagnostics, never with a panic (nor
//! a stack overflow, nor a hang).
//!
//! Cases are the specs in `specs/`, `tests/specs/` and the base spec of
//! `tests/diagnostics.rs`, mutated three ways. As text (truncated, cut,
//! spliced with tokens YAML and the hints care about, lines moved and
//! re-indented), which mostly exercises the loader. As a parsed value (a
//! node replaced, dropped or renamed, a subtree copied elsewhere, which can
//! make `$ref` cycles). And by grammar: a schema, one of its keywords or a
//! hint rewritten with values the OpenAPI parser accepts, so that the model
//! and the emitters see them. Each case is loaded, modelled and emitted
//! without writing anything, and its diagnostics are rendered.
//!
//! The seed is fixed, so a run is reproducible. A failing case is shrunk
//! to its fewest mutations, then the spec is cut down line by line while
//! it fails the same way, and that spec is printed. The default case count
//! keeps the test near a minute in the debug profile; to search longer, or
//! elsewhere:
//!
//! ```text
//! APIGEN_FUZZ_CASES=100000 cargo test --test fuzz
//! APIGEN_FUZZ_SEED=anything APIGEN_FUZZ_CASES=100000 cargo test --test fuzz
//! ```
//!
//! A case that runs for 20 seconds is reported as a hang with its spec. A
//! stack overflow or running out of memory kills the process before it can
//! say which case did it: `APIGEN_FUZZ_LAST=/tmp/case.yaml` writes each
//! case's spec to that file before running it.

mod common;

use std::cell::RefCell;
use std::path::Path;

use apigen::load::{self, LoadError};
use apigen::{emit, model, Report};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Map, Value};

/// Cases in the default run: about a minute of the debug test profile on
/// a two-core machine.
const DEFAULT_CASES: u32 = 950;

const SEED: [u8; 32] = *b"apigen never panics on any spec!";

// ---------------------------------------------------------------------------
// Seeds

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Yaml,
    Json,
}

#[derive(Debug)]
struct Seed {
    name: String,
    format: Format,
    text: String,
    value: Value,
    /// Every node of `value`, as JSON pointers, in document order.
    nodes: Vec<String>,
    /// Names under `components.schemas`.
    schemas: Vec<String>,
    /// Property and parameter names, for key templates and bindings.
    words: Vec<String>,
}

fn seeds() -> Vec<Seed> {
    let root = common::repo();
    let mut files = common::specs();
    files.extend(common::unseen_specs());
    let mut seeds: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("a readable spec");
            (p.display().to_string(), text)
        })
        .collect();
    let diagnostics = std::fs::read_to_string(root.join("tests/diagnostics.rs"))
        .expect("tests/diagnostics.rs is readable");
    let start = "const BASE: &str = r#\"";
    let base = diagnostics
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("\"#;"))
        .map(|(base, _)| base.to_string())
        .expect("tests/diagnostics.rs has a BASE spec");
    seeds.push(("BASE".into(), base));
    assert!(seeds.len() >= 4, "the seed specs are found: {seeds:?}");
    seeds
        .into_iter()
        .filter_map(|(name, text)| {
            let format = if name.ends_with(".json") {
                Format::Json
            } else {
                Format::Yaml
            };
            let value: Value = match format {
                Format::Json => serde_json::from_str(&text).expect("a seed is valid JSON"),
                // Numbers beyond 64 bits (tests/specs/openapi-31.yaml) are valid YAML that
                // serde_json's value cannot hold; the loader's own tests cover them.
                Format::Yaml => match serde_norway::from_str(&text) {
                    Ok(value) => value,
                    Err(e) if e.to_string().contains("number out of range") => return None,
                    Err(e) => panic!("a seed is valid YAML: {name}: {e}"),
                },
            };
            let mut nodes = Vec::new();
            collect_nodes(&value, String::new(), &mut nodes);
            let schemas = value
                .pointer("/components/schemas")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut words = vec!["id".to_string(), "missing".to_string()];
            for at in &nodes {
                if let Some((parent, last)) = parent_of(at) {
                    if parent.ends_with("/properties") || last == "name" && !at.starts_with("/info")
                    {
                        let word = if last == "name" {
                            value
                                .pointer(at)
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        } else {
                            Some(last)
                        };
                        words.extend(word.filter(|w| !words.contains(w)));
                    }
                }
            }
            Some(Seed {
                name,
                format,
                text,
                value,
                nodes,
                schemas,
                words,
            })
        })
        .collect()
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn collect_nodes(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_nodes(v, format!("{at}/{}", escape(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_nodes(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Mutations

/// Text spliced into a spec.
const TOKENS: &[&str] = &[
    "$ref: '#/components/schemas/X'",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    ": ",
    "x-apigen-entity",
    "x-apigen-action",
    "x-apigen-entity: {}",
    "{id}",
    "#",
    "\n",
    "\n  ",
    "\n      ",
    "\n- ",
    "-1",
    "1e400",
    "null",
    "~",
    "&a",
    "*a",
    "!!binary",
    "é",
    "日本",
    "\u{1F600}",
    "\u{0}",
    "\u{FEFF}",
    "\u{202E}",
    "\t",
];

#[derive(Debug, Clone)]
enum TextMutation {
    Truncate(Index),
    Delete(Index, Index),
    Insert(Index, usize),
    DuplicateLine(Index),
    DeleteLine(Index),
    SwapLines(Index, Index),
    Indent(Index, usize),
}

fn text_mutation() -> impl Strategy<Value = TextMutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(TextMutation::Truncate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TextMutation::Delete(a, b)),
        3 => (any::<Index>(), 0..TOKENS.len()).prop_map(|(at, t)| TextMutation::Insert(at, t)),
        1 => any::<Index>().prop_map(TextMutation::DuplicateLine),
        1 => any::<Index>().prop_map(TextMutation::DeleteLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TextMutation::SwapLines(a, b)),
        1 => (any::<Index>(), 0..13usize).prop_map(|(l, n)| TextMutation::Indent(l, n)),
    ]
}

/// The char boundaries of `text`, including its end.
fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect()
}

fn apply_text(text: &mut String, m: &TextMutation) {
    let at = |i: &Index, text: &str| {
        let b = boundaries(text);
        b[i.index(b.len())]
    };
    match m {
        TextMutation::Truncate(i) => {
            let end = at(i, text);
            text.truncate(end);
        }
        TextMutation::Delete(a, b) => {
            let (a, b) = (at(a, text), at(b, text));
            text.replace_range(a.min(b)..a.max(b), "");
        }
        TextMutation::Insert(i, token) => {
            let pos = at(i, text);
            text.insert_str(pos, TOKENS[*token]);
        }
        TextMutation::DuplicateLine(i) => with_lines(text, |lines| {
            let i = i.index(lines.len());
            lines.insert(i, lines[i].clone());
        }),
        TextMutation::DeleteLine(i) => with_lines(text, |lines| {
            lines.remove(i.index(lines.len()));
        }),
        TextMutation::SwapLines(a, b) => with_lines(text, |lines| {
            let n = lines.len();
            lines.swap(a.index(n), b.index(n));
        }),
        TextMutation::Indent(i, width) => with_lines(text, |lines| {
            let n = lines.len();
            let line = &mut lines[i.index(n)];
            *line = format!("{}{}", " ".repeat(*width), line.trim_start_matches(' '));
        }),
    }
}

fn with_lines(text: &mut String, edit: impl FnOnce(&mut Vec<String>)) {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    edit(&mut lines);
    *text = lines.join("\n");
}

/// What a node can be replaced with.
#[derive(Debug, Clone)]
enum Replacement {
    Null,
    Bool(bool),
    Number(usize),
    Text(usize),
    /// `#/components/schemas/<an existing schema>`.
    SchemaPointer(Index),
    EmptyObject,
    EmptyArray,
    /// `{$ref: <an existing schema>}`.
    RefToSchema(Index),
    /// `{$ref: <any node of the document, or nothing>}`.
    RefToNode(Index, bool),
    /// A copy of another node of the same document.
    Subtree(Index),
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.5",
    "-0.0",
    "3.25",
    "1e300",
    "-1e300",
    "1e-300",
    "65536",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1000000000000",
];

const TEXTS: &[&str] = &[
    "",
    " ",
    "{id}",
    "ITEM#{id}",
    "{",
    "}",
    "{}",
    "{{id}}",
    "#{",
    "X#{name}",
    "#/components/schemas/",
    "#/components/schemas/Nope",
    "#/",
    "#",
    "object",
    "array",
    "string",
    "integer",
    "number",
    "boolean",
    "null",
    "date-time",
    "uuid",
    "int32",
    "float",
    "^[a-z]+$",
    "(?=x)",
    "[",
    "\\",
    "a{1000}{1000}",
    "Item",
    "Main",
    "GSI1",
    "id",
    "name",
    "self",
    "type",
    "r#type",
    "2fa",
    "@type",
    "application/json",
    "text/plain",
    "*/*",
    "/items/{id}",
    "/{a}/{a}",
    "{a",
    "é",
    "日本",
    "\u{1F600}",
    "\u{0}",
    "\"",
    "'",
    "\n",
    "*/",
    "\\u{0}",
];

fn replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        1 => Just(Replacement::Null),
        1 => any::<bool>().prop_map(Replacement::Bool),
        2 => (0..NUMBERS.len()).prop_map(Replacement::Number),
        3 => (0..TEXTS.len()).prop_map(Replacement::Text),
        1 => any::<Index>().prop_map(Replacement::SchemaPointer),
        1 => Just(Replacement::EmptyObject),
        1 => Just(Replacement::EmptyArray),
        3 => any::<Index>().prop_map(Replacement::RefToSchema),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(i, m)| Replacement::RefToNode(i, m)),
        3 => any::<Index>().prop_map(Replacement::Subtree),
    ]
}

/// Keys a key can be renamed to, or added with a value.
const KEYS: &[&str] = &[
    "$ref",
    "type",
    "properties",
    "items",
    "required",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "additionalProperties",
    "enum",
    "const",
    "nullable",
    "readOnly",
    "writeOnly",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "discriminator",
    "example",
    "examples",
    "default",
    "title",
    "description",
    "x-apigen",
    "x-apigen-entity",
    "x-apigen-action",
    "tables",
    "table",
    "key",
    "pk",
    "sk",
    "keyType",
    "indexes",
    "id",
    "generate",
    "timestamps",
    "version",
    "expires",
    "unique",
    "create",
    "get",
    "list",
    "update",
    "delete",
    "query",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "content",
    "schema",
    "in",
    "name",
    "200",
    "2XX",
    "default",
    "webhooks",
    "callbacks",
    "openapi",
    "components",
    "schemas",
    "paths",
    "/items/{itemId}",
    "",
    "kee",
];

/// Where in the document a value mutation lands. Most land in schemas and
/// hints, where they get past the OpenAPI parser and reach the model.
#[derive(Debug, Clone, Copy)]
enum Area {
    Schemas,
    Hints,
    Anywhere,
}

impl Area {
    fn holds(self, at: &str) -> bool {
        match self {
            Area::Schemas => at.starts_with("/components/schemas/") || at.contains("/schema"),
            Area::Hints => at.contains("/x-apigen"),
            Area::Anywhere => true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Target(Area, Index);

fn target() -> impl Strategy<Value = Target> {
    (
        prop_oneof![
            3 => Just(Area::Schemas),
            2 => Just(Area::Hints),
            1 => Just(Area::Anywhere),
        ],
        any::<Index>(),
    )
        .prop_map(|(area, i)| Target(area, i))
}

#[derive(Debug, Clone)]
enum ValueMutation {
    Replace(Target, Replacement),
    Delete(Target),
    Rename(Target, usize),
    Insert(Target, usize, Replacement),
    Grammar(Grammar),
}

fn value_mutation() -> impl Strategy<Value = ValueMutation> {
    prop_oneof![
        4 => (target(), replacement()).prop_map(|(n, r)| ValueMutation::Replace(n, r)),
        2 => target().prop_map(ValueMutation::Delete),
        2 => (target(), 0..KEYS.len()).prop_map(|(n, k)| ValueMutation::Rename(n, k)),
        2 => (target(), 0..KEYS.len(), replacement())
            .prop_map(|(n, k, r)| ValueMutation::Insert(n, k, r)),
        10 => grammar().prop_map(ValueMutation::Grammar),
    ]
}

fn materialize(r: &Replacement, seed: &Seed, doc: &Value) -> Value {
    let pick_schema = |i: &Index| {
        if seed.schemas.is_empty() {
            "Missing".to_string()
        } else {
            seed.schemas[i.index(seed.schemas.len())].clone()
        }
    };
    match r {
        Replacement::Null => Value::Null,
        Replacement::Bool(b) => Value::Bool(*b),
        Replacement::Number(i) => serde_json::from_str(NUMBERS[*i]).expect("a JSON number"),
        Replacement::Text(i) => Value::String(TEXTS[*i].to_string()),
        Replacement::SchemaPointer(i) => json!(format!("#/components/schemas/{}", pick_schema(i))),
        Replacement::EmptyObject => json!({}),
        Replacement::EmptyArray => json!([]),
        Replacement::RefToSchema(i) => {
            json!({"$ref": format!("#/components/schemas/{}", pick_schema(i))})
        }
        Replacement::RefToNode(i, missing) => {
            let target = &seed.nodes[i.index(seed.nodes.len())];
            let target = if *missing {
                format!("{target}/missing")
            } else {
                target.clone()
            };
            json!({ "$ref": format!("#{target}") })
        }
        Replacement::Subtree(i) => {
            let nodes = current_nodes(doc);
            let at = &nodes[i.index(nodes.len())];
            doc.pointer(at).cloned().unwrap_or(Value::Null)
        }
    }
}

fn current_nodes(doc: &Value) -> Vec<String> {
    let mut nodes = Vec::new();
    collect_nodes(doc, String::new(), &mut nodes);
    nodes
}

/// Splits a pointer into its parent's pointer and its last segment.
fn parent_of(at: &str) -> Option<(&str, String)> {
    let (parent, last) = at.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn apply_value(doc: &mut Value, m: &ValueMutation, seed: &Seed) {
    let nodes = current_nodes(doc);
    let node = |Target(area, i): &Target| {
        let inside: Vec<&String> = nodes.iter().filter(|at| area.holds(at)).collect();
        if inside.is_empty() {
            nodes[i.index(nodes.len())].clone()
        } else {
            inside[i.index(inside.len())].clone()
        }
    };
    match m {
        ValueMutation::Grammar(g) => apply_grammar(doc, g, seed),
        ValueMutation::Replace(i, r) => {
            let new = materialize(r, seed, doc);
            if let Some(slot) = doc.pointer_mut(&node(i)) {
                *slot = new;
            }
        }
        ValueMutation::Delete(i) => {
            let at = node(i);
            let Some((parent, last)) = parent_of(&at) else {
                return;
            };
            match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.shift_remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        if i < items.len() {
                            items.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
        ValueMutation::Rename(i, key) => {
            let at = node(i);
            let Some((parent, last)) = parent_of(&at) else {
                return;
            };
            if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
                // Keep the key's place, so that the document reads the same.
                let renamed: Map<String, Value> = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == last {
                            (KEYS[*key].to_string(), v)
                        } else {
                            (k, v)
                        }
                    })
                    .collect();
                *map = renamed;
            }
        }
        ValueMutation::Insert(i, key, r) => {
            let new = materialize(r, seed, doc);
            // Into the node if it is a mapping, else beside it.
            let at = node(i);
            let target = match doc.pointer(&at) {
                Some(Value::Object(_)) => at.clone(),
                _ => parent_of(&at)
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default(),
            };
            if let Some(Value::Object(map)) = doc.pointer_mut(&target) {
                map.insert(KEYS[*key].to_string(), new);
            }
        }
    }
}

// Grammar-aware mutations: a schema or a hint replaced or edited with
// values that the OpenAPI parser accepts, so that the model and the
// emitters see them.

/// A value to write into the document, built against the seed when the
/// mutation is applied (`$ref` targets, property names).
#[derive(Debug, Clone)]
enum Gen {
    Lit(Value),
    /// The text of a `$ref`.
    RefText(RefTo),
    /// A name from `components.schemas`, by number.
    SchemaName(usize),
    /// A property or parameter name of the seed, by number.
    Word(usize),
    /// A key template: a prefix, then `{word}`.
    Template(&'static str, usize),
    Object(Vec<(String, Gen)>),
    Array(Vec<Gen>),
}

#[derive(Debug, Clone, Copy)]
enum RefTo {
    Schema(usize),
    /// The component the mutated node is in: a self-reference.
    Own,
    Missing,
    /// Any node of the seed, usually not a schema.
    Node(Index),
}

fn lit(json: &str) -> Gen {
    Gen::Lit(serde_json::from_str(json).expect("a JSON literal"))
}

fn lits(items: &'static [&'static str]) -> impl Strategy<Value = Gen> + Clone {
    proptest::sample::select(items).prop_map(lit)
}

fn ref_to() -> impl Strategy<Value = RefTo> + Clone {
    prop_oneof![
        4 => (0..64usize).prop_map(RefTo::Schema),
        2 => Just(RefTo::Own),
        1 => Just(RefTo::Missing),
        1 => any::<Index>().prop_map(RefTo::Node),
    ]
}

fn pair(
    key: &'static str,
    value: impl Strategy<Value = Gen>,
) -> impl Strategy<Value = (String, Gen)> {
    value.prop_map(move |v| (key.to_string(), v))
}

fn keyed(
    keys: &'static [&'static str],
    value: impl Strategy<Value = Gen>,
) -> impl Strategy<Value = (String, Gen)> {
    (proptest::sample::select(keys), value).prop_map(|(k, v)| (k.to_string(), v))
}

fn word() -> impl Strategy<Value = Gen> + Clone {
    (0..256usize).prop_map(Gen::Word)
}

const SCHEMA_NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    "1e300",
    "4294967296",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "1000000",
];
const TYPES: &[&str] = &[
    r#""object""#,
    r#""array""#,
    r#""string""#,
    r#""integer""#,
    r#""number""#,
    r#""boolean""#,
    r#""null""#,
    r#"["string", "null"]"#,
    r#"["integer", "string"]"#,
    r#"["null"]"#,
    r#""thing""#,
];
const FORMATS: &[&str] = &[
    r#""int8""#,
    r#""int32""#,
    r#""int64""#,
    r#""uint8""#,
    r#""uint64""#,
    r#""float""#,
    r#""double""#,
    r#""date-time""#,
    r#""date""#,
    r#""uuid""#,
    r#""email""#,
    r#""uri""#,
    r#""byte""#,
    r#""binary""#,
    r#""ipv4""#,
    r#""password""#,
    r#""""#,
    r#""ümlaut""#,
];
const PATTERNS: &[&str] = &[
    r#""^[a-z]+$""#,
    r#""(?=x)""#,
    r#""[""#,
    r#""\\""#,
    r#""a{1000}{1000}""#,
    r#""^$""#,
    r#""\\d{4}-\\d{2}""#,
    r#""(a|b)*c""#,
    r#""[^\\x00-\\x{10FFFF}]""#,
    r#""\\p{Greek}+""#,
    r#""(x{64}){64}""#,
    r#""\\b""#,
    r#""é+""#,
];
const ENUMS: &[&str] = &[
    "[]",
    "[null]",
    r#"["a", "a"]"#,
    r#"["a", null]"#,
    r#"[1, "a"]"#,
    "[1.5, 2]",
    r#"["", " "]"#,
    r#"["a-b", "a_b", "A B"]"#,
    "[true]",
    "[1, 2, 3]",
    "[-1, 18446744073709551615]",
    r#"["self", "Self", "type", "2fa", "é"]"#,
    "[{}]",
    "[[1]]",
];
const EXAMPLES: &[&str] = &[
    "null",
    "1",
    r#""x""#,
    "{}",
    "[]",
    r#"{"id": 1}"#,
    "1e300",
    r#""\u0000""#,
];
const SIZE_KEYS: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
];
const BOUND_KEYS: &[&str] = &[
    "minimum",
    "maximum",
    "multipleOf",
    "exclusiveMinimum",
    "exclusiveMaximum",
];
const FLAGS: &[&str] = &[
    "nullable",
    "readOnly",
    "writeOnly",
    "uniqueItems",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "deprecated",
];
const LEAF_SCHEMAS: &[&str] = &[
    "{}",
    "true",
    "false",
    r#"{"type": "string"}"#,
    r#"{"type": "integer"}"#,
    r#"{"type": "object"}"#,
    r#"{"type": "array"}"#,
    r#"{"allOf": []}"#,
    r#"{"oneOf": []}"#,
    r#"{"anyOf": []}"#,
    r#"{"not": {}}"#,
    r#"{"type": "string", "format": "date-time"}"#,
    r#"{"type": ["string", "null"]}"#,
    r#"{"const": "x"}"#,
    r#"{"enum": []}"#,
];
const PROPERTY_NAMES: &[&str] = &[
    "id", "name", "type", "self", "", "a-b", "a_b", "2fa", "@type", "body", "status", "é", "PK",
];

fn schema_gen() -> BoxedStrategy<Gen> {
    let leaf = prop_oneof![
        3 => ref_to().prop_map(|r| Gen::Object(vec![("$ref".into(), Gen::RefText(r))])),
        2 => lits(LEAF_SCHEMAS),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        proptest::collection::vec(schema_keyword(inner), 1..4)
            .prop_map(Gen::Object)
            .boxed()
    })
    .boxed()
}

fn schema_keyword(inner: BoxedStrategy<Gen>) -> BoxedStrategy<(String, Gen)> {
    let name = prop_oneof![
        proptest::sample::select(PROPERTY_NAMES)
            .prop_map(|s| lit(&serde_json::to_string(s).unwrap())),
        word(),
    ];
    prop_oneof![
        3 => pair("type", lits(TYPES)),
        1 => pair("format", lits(FORMATS)),
        2 => keyed(SIZE_KEYS, lits(SCHEMA_NUMBERS)),
        2 => keyed(BOUND_KEYS, lits(SCHEMA_NUMBERS)),
        1 => pair("pattern", lits(PATTERNS)),
        2 => pair("enum", lits(ENUMS)),
        1 => pair("const", lits(EXAMPLES)),
        2 => pair("required", proptest::collection::vec(name.clone(), 0..3).prop_map(Gen::Array)),
        3 => pair(
            "properties",
            proptest::collection::vec(
                (proptest::sample::select(PROPERTY_NAMES), inner.clone())
                    .prop_map(|(k, v)| (k.to_string(), v)),
                0..3
            )
            .prop_map(Gen::Object)
        ),
        2 => pair("items", inner.clone()),
        1 => pair("additionalProperties", prop_oneof![lits(&["true", "false"]), inner.clone()]),
        3 => keyed(
            &["allOf", "oneOf", "anyOf"],
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Gen::Array)
        ),
        1 => pair("not", inner),
        1 => keyed(FLAGS, lits(&["true", "false", "1"])),
        2 => pair("$ref", ref_to().prop_map(Gen::RefText)),
        1 => pair(
            "discriminator",
            (name.clone(), proptest::option::of((name, ref_to())))
                .prop_map(|(property, mapping)| {
                    let mut d = vec![("propertyName".to_string(), property)];
                    if let Some((value, target)) = mapping {
                        d.push(("mapping".into(), Gen::Object(vec![("x".into(), value), ("y".into(), Gen::RefText(target))])));
                    }
                    Gen::Object(d)
                })
        ),
        1 => keyed(&["example", "default", "examples"], lits(EXAMPLES)),
        1 => pair("x-apigen-entity", entity_gen()),
    ]
    .boxed()
}

const PREFIXES: &[&str] = &[
    "", "X#", "ITEM#", "#", "{", "}", "{{", "A#{", "#}", "é#", "{x}#",
];
const INDEX_NAMES: &[&str] = &["GSI1", "GSI2", "GSI9", "ByFleet", "", "Main"];
const TABLE_NAMES: &[&str] = &["Main", "Other", "Devices", "Readings", "", "2x", "a-b"];

fn template() -> impl Strategy<Value = Gen> + Clone {
    prop_oneof![
        4 => (proptest::sample::select(PREFIXES), 0..256usize).prop_map(|(p, w)| Gen::Template(p, w)),
        1 => lits(&[r#""ITEM""#, r#""""#, r#""{""#, r#""{}""#, r#""{id}{id}""#, "1", "null"]),
    ]
}

fn key_gen() -> impl Strategy<Value = Gen> + Clone {
    prop_oneof![
        6 => (template(), proptest::option::of(template())).prop_map(|(pk, sk)| {
            let mut k = vec![("pk".to_string(), pk)];
            k.extend(sk.map(|sk| ("sk".to_string(), sk)));
            Gen::Object(k)
        }),
        1 => lits(&["{}", r#"{"sk": "X"}"#, r#""PK""#, "[]"]),
    ]
}

fn entity_gen() -> BoxedStrategy<Gen> {
    let keyword = prop_oneof![
        1 => pair("table", lits(&[r#""Main""#, r#""Other""#, r#""Devices""#, r#""Readings""#, "1"])),
        1 => pair("type", lits(&[r#""ITEM""#, r#""""#, r#""ORDER""#, "[]"])),
        2 => pair("id", prop_oneof![
            word(),
            (word(), lits(&[r#""ulid""#, r#""uuid""#, r#""client""#, r#""nope""#]))
                .prop_map(|(f, g)| Gen::Object(vec![("field".into(), f), ("generate".into(), g)])),
        ]),
        4 => pair("key", key_gen()),
        2 => pair(
            "indexes",
            proptest::collection::vec(
                (proptest::sample::select(INDEX_NAMES), key_gen()).prop_map(|(k, v)| (k.to_string(), v)),
                0..3
            )
            .prop_map(Gen::Object)
        ),
        1 => pair("timestamps", (word(), word()).prop_map(|(c, u)| Gen::Object(vec![("created".into(), c), ("updated".into(), u)]))),
        1 => keyed(&["version", "expires"], word()),
        1 => pair("unique", proptest::collection::vec(word(), 0..3).prop_map(Gen::Array)),
        1 => keyed(&["kee", "tabel"], word()),
    ];
    prop_oneof![
        8 => proptest::collection::vec(keyword, 0..5).prop_map(Gen::Object),
        1 => lits(&["null", "true", r#""Main""#, "[]"]),
    ]
    .boxed()
}

const VERBS: &[&str] = &[
    "create", "get", "put", "update", "delete", "query", "list", "upsert",
];

fn action_gen() -> BoxedStrategy<Gen> {
    let extra = prop_oneof![
        pair(
            "index",
            proptest::sample::select(INDEX_NAMES).prop_map(|s| Gen::Lit(json!(s)))
        ),
        pair("order", lits(&[r#""asc""#, r#""desc""#, r#""up""#])),
        pair(
            "range",
            (
                word(),
                lits(&[
                    r#""gt""#,
                    r#""gte""#,
                    r#""lt""#,
                    r#""lte""#,
                    r#""beginsWith""#,
                    r#""eq""#
                ])
            )
                .prop_map(|(p, op)| Gen::Object(vec![("param".into(), p), ("op".into(), op)]))
        ),
        pair(
            "bind",
            (word(), word()).prop_map(|(f, p)| Gen::Object(vec![("x".into(), f), ("y".into(), p)]))
        ),
        pair(
            "bind",
            (word(), word())
                .prop_map(|(f, p)| Gen::Object(vec![(String::new(), f), ("id".into(), p)]))
        ),
    ];
    prop_oneof![
        6 => (
            proptest::collection::vec(
                (proptest::sample::select(VERBS), prop_oneof![3 => (0..64usize).prop_map(Gen::SchemaName), 1 => word()])
                    .prop_map(|(v, e)| (v.to_string(), e)),
                0..3
            ),
            proptest::collection::vec(extra, 0..3)
        )
            .prop_map(|(mut verbs, extra)| {
                verbs.extend(extra);
                Gen::Object(verbs)
            }),
        1 => lits(&[r#""none""#, r#""list""#, "null", "{}"]),
    ]
    .boxed()
}

fn table_gen() -> impl Strategy<Value = Gen> {
    let attribute = || prop_oneof![lits(&[r#""PK""#, r#""SK""#, r#""""#, "1"]), word()];
    let keyword = prop_oneof![
        2 => pair("pk", attribute()),
        2 => pair("sk", attribute()),
        1 => pair("keyType", (lits(&[r#""S""#, r#""N""#, r#""B""#, r#""X""#]), lits(&[r#""S""#, r#""N""#, r#""B""#]))
            .prop_map(|(pk, sk)| Gen::Object(vec![("pk".into(), pk), ("sk".into(), sk)]))),
        2 => pair("indexes", proptest::collection::vec(
            (proptest::sample::select(INDEX_NAMES), attribute(), proptest::option::of(attribute()), lits(&[r#""ALL""#, r#""KEYS_ONLY""#, r#""SOME""#]))
                .prop_map(|(name, pk, sk, projection)| {
                    let mut ix = vec![("pk".to_string(), pk), ("projection".to_string(), projection)];
                    ix.extend(sk.map(|sk| ("sk".to_string(), sk)));
                    (name.to_string(), Gen::Object(ix))
                }),
            0..3,
        ).prop_map(Gen::Object)),
        1 => keyed(&["typeAttribute", "ttlAttribute"], attribute()),
        1 => pair("stream", lits(&[r#""NEW_IMAGE""#, r#""KEYS_ONLY""#, r#""ALL""#])),
        1 => pair("replicas", lits(&["[]", r#"["eu-west-1"]"#, "[1]"])),
        1 => keyed(&["pointInTimeRecovery", "deletionProtection"], lits(&["true", "false", r#""yes""#])),
    ];
    proptest::collection::vec(keyword, 0..5).prop_map(Gen::Object)
}

fn root_gen() -> impl Strategy<Value = Gen> {
    let keyword = prop_oneof![
        1 => pair("name", lits(&[r#""api""#, r#""My API""#, r#""""#, r#""a-b""#, r#""2fa""#, r#""é""#])),
        1 => pair("api", lits(&[r#""http""#, r#""rest""#, r#""grpc""#])),
        1 => pair("functions", lits(&[r#""single""#, r#""perOperation""#, r#""many""#])),
        1 => keyed(&["memory", "timeout"], lits(SCHEMA_NUMBERS)),
        4 => pair("tables", proptest::collection::vec(
            (proptest::sample::select(TABLE_NAMES), table_gen()).prop_map(|(k, v)| (k.to_string(), v)),
            0..3,
        ).prop_map(Gen::Object)),
    ];
    proptest::collection::vec(keyword, 0..4).prop_map(Gen::Object)
}

/// Key-value pairs that fit inside one hint or another.
fn hint_keyword() -> impl Strategy<Value = (String, Gen)> {
    prop_oneof![
        pair("pk", template()),
        pair("sk", template()),
        pair("key", key_gen()),
        keyed(
            &["table", "type", "version", "expires", "id", "field"],
            word()
        ),
        keyed(VERBS, (0..64usize).prop_map(Gen::SchemaName)),
        keyed(
            &["index", "order", "projection", "stream"],
            lits(&[r#""GSI1""#, r#""desc""#, r#""ALL""#, r#""""#])
        ),
        keyed(&["pk", "sk"], lits(&[r#""PK""#, "null", "{}"])),
    ]
}

#[derive(Debug, Clone)]
enum Grammar {
    /// A schema replaced by another.
    Schema(Index, Gen),
    /// One keyword of a schema set.
    Keyword(Index, (String, Gen)),
    /// A component's `x-apigen-entity` replaced.
    Entity(Index, Gen),
    /// An operation's `x-apigen-action` replaced.
    Action(Index, Gen),
    /// The root `x-apigen` replaced.
    Root(Gen),
    /// One key set inside a hint.
    InHint(Index, (String, Gen)),
}

fn grammar() -> impl Strategy<Value = Grammar> {
    prop_oneof![
        3 => (any::<Index>(), schema_gen()).prop_map(|(i, g)| Grammar::Schema(i, g)),
        4 => (any::<Index>(), schema_keyword(schema_gen())).prop_map(|(i, k)| Grammar::Keyword(i, k)),
        2 => (any::<Index>(), entity_gen()).prop_map(|(i, g)| Grammar::Entity(i, g)),
        2 => (any::<Index>(), action_gen()).prop_map(|(i, g)| Grammar::Action(i, g)),
        1 => root_gen().prop_map(Grammar::Root),
        3 => (any::<Index>(), hint_keyword()).prop_map(|(i, k)| Grammar::InHint(i, k)),
    ]
}

/// The pointers of every schema in a document: components, their
/// properties, items and members, and the schemas of parameters, bodies,
/// responses and headers.
fn schema_nodes(doc: &Value) -> Vec<String> {
    fn schema(value: &Value, at: &str, out: &mut Vec<String>) {
        out.push(at.to_string());
        let Some(map) = value.as_object() else { return };
        for (k, v) in map {
            let here = format!("{at}/{}", escape(k));
            match k.as_str() {
                "items" | "not" => schema(v, &here, out),
                "additionalProperties" if v.is_object() => schema(v, &here, out),
                "properties" => {
                    for (name, p) in v.as_object().into_iter().flatten() {
                        schema(p, &format!("{here}/{}", escape(name)), out);
                    }
                }
                "allOf" | "oneOf" | "anyOf" => {
                    for (i, m) in v.as_array().into_iter().flatten().enumerate() {
                        schema(m, &format!("{here}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
    }
    fn other(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let here = format!("{at}/{}", escape(k));
                    if k == "schema" {
                        schema(v, &here, out);
                    } else if k.starts_with("x-apigen") {
                        continue;
                    } else {
                        other(v, &here, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    other(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (name, s) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        schema(
            s,
            &format!("/components/schemas/{}", escape(name)),
            &mut out,
        );
    }
    if let Some(paths) = doc.get("paths") {
        other(paths, "/paths", &mut out);
    }
    for part in ["parameters", "requestBodies", "responses", "headers"] {
        if let Some(v) = doc.pointer(&format!("/components/{part}")) {
            other(v, &format!("/components/{part}"), &mut out);
        }
    }
    out
}

fn operation_nodes(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, _) in item.as_object().into_iter().flatten() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                out.push(format!("/paths/{}/{method}", escape(path)));
            }
        }
    }
    out
}

fn component_nodes(doc: &Value) -> Vec<String> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, _)| format!("/components/schemas/{}", escape(name)))
        .collect()
}

/// The component schema a pointer is in, if any.
fn own_component(at: &str) -> Option<String> {
    let rest = at.strip_prefix("/components/schemas/")?;
    let name = rest.split('/').next()?;
    Some(name.replace("~1", "/").replace("~0", "~"))
}

fn build_gen(gen: &Gen, seed: &Seed, at: &str) -> Value {
    let schema_name = |n: usize| {
        if seed.schemas.is_empty() {
            "Missing".to_string()
        } else {
            seed.schemas[n % seed.schemas.len()].clone()
        }
    };
    match gen {
        Gen::Lit(v) => v.clone(),
        Gen::RefText(to) => {
            let target = match to {
                RefTo::Schema(n) => format!("/components/schemas/{}", escape(&schema_name(*n))),
                RefTo::Own => match own_component(at) {
                    Some(name) => format!("/components/schemas/{}", escape(&name)),
                    None => format!("/components/schemas/{}", escape(&schema_name(0))),
                },
                RefTo::Missing => "/components/schemas/Missing".into(),
                RefTo::Node(i) => seed.nodes[i.index(seed.nodes.len())].clone(),
            };
            json!(format!("#{target}"))
        }
        Gen::SchemaName(n) => json!(schema_name(*n)),
        Gen::Word(n) => json!(seed.words[n % seed.words.len()]),
        Gen::Template(prefix, n) => {
            json!(format!("{prefix}{{{}}}", seed.words[n % seed.words.len()]))
        }
        Gen::Object(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), build_gen(v, seed, at)))
                .collect(),
        ),
        Gen::Array(items) => Value::Array(items.iter().map(|v| build_gen(v, seed, at)).collect()),
    }
}

fn apply_grammar(doc: &mut Value, m: &Grammar, seed: &Seed) {
    let pick = |nodes: Vec<String>, i: &Index| -> Option<String> {
        (!nodes.is_empty()).then(|| nodes[i.index(nodes.len())].clone())
    };
    let set = |doc: &mut Value, at: &str, key: &str, value: Value| match doc.pointer_mut(at) {
        Some(Value::Object(map)) => {
            map.insert(key.to_string(), value);
        }
        Some(slot) => *slot = json!({ key: value }),
        None => {}
    };
    match m {
        Grammar::Schema(i, gen) => {
            if let Some(at) = pick(schema_nodes(doc), i) {
                let value = build_gen(gen, seed, &at);
                if let Some(slot) = doc.pointer_mut(&at) {
                    *slot = value;
                }
            }
        }
        Grammar::Keyword(i, (key, gen)) => {
            if let Some(at) = pick(schema_nodes(doc), i) {
                let value = build_gen(gen, seed, &at);
                set(doc, &at, key, value);
            }
        }
        Grammar::Entity(i, gen) => {
            if let Some(at) = pick(component_nodes(doc), i) {
                let value = build_gen(gen, seed, &at);
                set(doc, &at, "x-apigen-entity", value);
            }
        }
        Grammar::Action(i, gen) => {
            if let Some(at) = pick(operation_nodes(doc), i) {
                let value = build_gen(gen, seed, &at);
                set(doc, &at, "x-apigen-action", value);
            }
        }
        Grammar::Root(gen) => {
            let value = build_gen(gen, seed, "");
            set(doc, "", "x-apigen", value);
        }
        Grammar::InHint(i, (key, gen)) => {
            let hints: Vec<String> = current_nodes(doc)
                .into_iter()
                .filter(|at| {
                    at.contains("/x-apigen") && doc.pointer(at).is_some_and(Value::is_object)
                })
                .collect();
            if let Some(at) = pick(hints, i) {
                let value = build_gen(gen, seed, &at);
                set(doc, &at, key, value);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    seed: Index,
    /// Re-serialize as JSON rather than YAML after value mutations.
    json: bool,
    values: Vec<ValueMutation>,
    texts: Vec<TextMutation>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<Index>(),
        any::<bool>(),
        prop_oneof![
            1 => Just(Vec::new()),
            3 => proptest::collection::vec(value_mutation(), 1..=4),
        ],
        prop_oneof![
            2 => Just(Vec::new()),
            1 => proptest::collection::vec(text_mutation(), 1..=3),
        ],
    )
        .prop_map(|(seed, json, values, texts)| Case {
            seed,
            json,
            values,
            texts,
        })
}

/// The file name and text of a case.
fn render_case(case: &Case, seeds: &[Seed]) -> (&'static str, String) {
    let seed = &seeds[case.seed.index(seeds.len())];
    let (format, mut text) = if case.values.is_empty() && !case.json {
        (seed.format, seed.text.clone())
    } else {
        let mut doc = seed.value.clone();
        for m in &case.values {
            apply_value(&mut doc, m, seed);
        }
        if case.json {
            (
                Format::Json,
                serde_json::to_string_pretty(&doc).expect("a JSON value serializes"),
            )
        } else {
            (
                Format::Yaml,
                serde_norway::to_string(&doc).expect("a JSON value serializes as YAML"),
            )
        }
    };
    for m in &case.texts {
        apply_text(&mut text, m);
    }
    let file = match format {
        Format::Json => "spec.json",
        Format::Yaml => "spec.yaml",
    };
    (file, text)
}

// ---------------------------------------------------------------------------
// The property

/// How far a case got, for the summary.
#[derive(Debug, Default)]
struct Reached {
    cases: usize,
    /// The longest a case took.
    slowest: std::time::Duration,
    /// Emitter errors: not failures, but worth a look.
    emit_errors: Vec<String>,
    loaded: usize,
    modelled: usize,
    emitted: usize,
}

fn check_report(report: &Report) -> Result<(), TestCaseError> {
    let rendered = report.render(false);
    if report.has_errors() {
        prop_assert!(
            report.errors().any(|d| !d.message.trim().is_empty()),
            "a report with errors has no error message:\n{rendered}"
        );
        prop_assert!(rendered.contains("error"), "{rendered}");
    }
    Ok(())
}

/// Runs the whole pipeline but the writing.
fn pipeline(file: &str, text: String, reached: &mut Reached) -> Result<(), TestCaseError> {
    reached.cases += 1;
    let spec = match load::parse(Path::new(file), text.clone()) {
        Ok(spec) => spec,
        Err(LoadError::Invalid(report)) => {
            prop_assert!(report.has_errors(), "a failed load reports an error");
            return check_report(&report);
        }
        Err(e) => return Err(TestCaseError::fail(format!("unexpected load error: {e}"))),
    };
    reached.loaded += 1;
    let api = match model::build(&spec, None) {
        Ok(api) => api,
        Err(diagnostics) => {
            let report = spec.report(diagnostics);
            prop_assert!(report.has_errors(), "a failed build reports an error");
            return check_report(&report);
        }
    };
    reached.modelled += 1;
    if !api.warnings.is_empty() {
        check_report(&spec.report(api.warnings.clone()))?;
    }
    let options = emit::EmitOptions {
        spec_text: text,
        templates: None,
        runtime: None,
        hooks: true,
        overrides: None,
    };
    match emit::emit(&api, &options) {
        Ok(plan) => {
            prop_assert!(!plan.files.is_empty());
            reached.emitted += 1;
        }
        Err(e) => reached.emit_errors.push(e.to_string()),
    }
    Ok(())
}

/// The fixed seed, or `APIGEN_FUZZ_SEED` (any text) to search elsewhere.
fn seed() -> [u8; 32] {
    match std::env::var("APIGEN_FUZZ_SEED") {
        Ok(text) => {
            let mut seed = [0u8; 32];
            for (i, b) in text.bytes().enumerate() {
                seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(b);
            }
            seed
        }
        Err(_) => SEED,
    }
}

fn cases() -> u32 {
    match std::env::var("APIGEN_FUZZ_CASES") {
        Ok(n) => n
            .trim()
            .parse()
            .expect("APIGEN_FUZZ_CASES is a whole number"),
        Err(_) => DEFAULT_CASES,
    }
}

thread_local! {
    /// The last panic's message and place, kept by the quiet hook.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// How a spec fails, if it does: a panic's message and place, or the
/// property that does not hold.
#[derive(Debug, Clone, PartialEq)]
enum Failure {
    Panic { message: String, place: String },
    Property(String),
}

impl Failure {
    /// Whether `other` is the same failure, for reduction: a panic at the
    /// same place, whatever its message.
    fn same_as(&self, other: &Failure) -> bool {
        match (self, other) {
            (Failure::Panic { place: a, .. }, Failure::Panic { place: b, .. }) => a == b,
            (Failure::Property(a), Failure::Property(b)) => a.lines().next() == b.lines().next(),
            _ => false,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic { message, place } => write!(f, "panic at {place}: {message}"),
            Failure::Property(message) => f.write_str(message),
        }
    }
}

fn failure(file: &str, text: &str, reached: &mut Reached) -> Option<Failure> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pipeline(file, text.to_string(), reached)
    }));
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure::Property(e.to_string())),
        Err(_) => {
            let (message, place) = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_default();
            Some(Failure::Panic { message, place })
        }
    }
}

/// Removes lines of a failing spec for as long as it fails the same way,
/// halving the size of the blocks removed, so that the report shows the
/// few lines that matter rather than a whole seed.
fn reduce(file: &str, text: &str, wanted: &Failure) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    const MAX_TRIES: usize = 3000;
    let tries = std::cell::Cell::new(0);
    let fails = |candidate: &[&str]| {
        tries.set(tries.get() + 1);
        failure(file, &candidate.join("\n"), &mut Reached::default())
            .is_some_and(|f| f.same_as(wanted))
    };
    // First whole YAML blocks: a line with the lines indented under it.
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut changed = true;
    while changed {
        changed = false;
        let mut at = 0;
        while at < lines.len() && tries.get() < MAX_TRIES {
            let end = at
                + 1
                + lines[at + 1..]
                    .iter()
                    .take_while(|l| l.trim().is_empty() || indent(l) > indent(lines[at]))
                    .count();
            let mut candidate = lines.clone();
            candidate.drain(at..end);
            if fails(&candidate) {
                lines = candidate;
                changed = true;
            } else {
                at += 1;
            }
        }
    }
    // Then any run of lines, halving their length.
    let mut block = lines.len().div_ceil(2);
    while block >= 1 && tries.get() < MAX_TRIES {
        let mut at = 0;
        while at < lines.len() && tries.get() < MAX_TRIES {
            let mut candidate = lines.clone();
            candidate.drain(at..(at + block).min(lines.len()));
            if fails(&candidate) {
                lines = candidate;
            } else {
                at += block;
            }
        }
        if block == 1 {
            break;
        }
        block = block.div_ceil(2);
    }
    lines.join("\n")
}

/// A case that runs this long is taken to hang. The slowest cases take
/// about a second in the debug profile.
const HANG: std::time::Duration = std::time::Duration::from_secs(20);

/// Watches the running case. A hang, a stack overflow or running out of
/// memory cannot be caught and shrunk like a panic: a hang is reported
/// with its spec and ends the process, and `APIGEN_FUZZ_LAST=<file>` writes
/// every case's spec to `<file>` before it runs, so that after a crash the
/// file holds the culprit.
struct Watchdog {
    current: std::sync::Arc<std::sync::Mutex<Option<(std::time::Instant, String)>>>,
    last: Option<std::path::PathBuf>,
}

impl Watchdog {
    fn start() -> Self {
        let current: std::sync::Arc<std::sync::Mutex<Option<(std::time::Instant, String)>>> =
            Default::default();
        let watched = std::sync::Arc::clone(&current);
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let guard = watched.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((started, spec)) = guard.as_ref() {
                if started.elapsed() > HANG {
                    // Past the test harness's capture, which would be lost.
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "a case has run for over {HANG:?}: apigen hangs on this spec\n{spec}"
                    );
                    std::process::exit(101);
                }
            }
        });
        Self {
            current,
            last: std::env::var_os("APIGEN_FUZZ_LAST").map(Into::into),
        }
    }

    fn case(&self, file: &str, text: &str) -> std::time::Instant {
        if let Some(path) = &self.last {
            std::fs::write(path, text).expect("APIGEN_FUZZ_LAST is writable");
        }
        let started = std::time::Instant::now();
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            started,
            format!("--- {file} ---\n{text}\n--- end of {file} ---"),
        ));
        started
    }

    fn idle(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[test]
fn no_spec_makes_apigen_panic() {
    let seeds = seeds();
    // Every seed is a valid spec: the mutations start from working input.
    for seed in &seeds {
        let file = match seed.format {
            Format::Json => "spec.json",
            Format::Yaml => "spec.yaml",
        };
        let spec = load::parse(Path::new(file), seed.text.clone())
            .unwrap_or_else(|e| panic!("seed {}: {e}", seed.name));
        model::build(&spec, None)
            .unwrap_or_else(|d| panic!("seed {}: {}", seed.name, spec.report(d)));
    }
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed()));
    let reached = RefCell::new(Reached::default());
    // The most recent failure; once shrinking is done, the smallest case.
    let last_failure: RefCell<Option<(&str, String, Failure)>> = RefCell::new(None);
    // Shrinking re-runs a failing case many times: keep the panics quiet,
    // and report the smallest one.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, place)));
    }));
    let watchdog = Watchdog::start();
    let result = runner.run(&case(), |case| {
        let (file, text) = render_case(&case, &seeds);
        let started = watchdog.case(file, &text);
        let failed = failure(file, &text, &mut reached.borrow_mut());
        watchdog.idle();
        let took = started.elapsed();
        let mut r = reached.borrow_mut();
        r.slowest = r.slowest.max(took);
        drop(r);
        match failed {
            None => Ok(()),
            Some(f) => {
                let message = f.to_string();
                *last_failure.borrow_mut() = Some((file, text, f));
                Err(TestCaseError::fail(message))
            }
        }
    });
    let reduced = match (&result, last_failure.into_inner()) {
        (Err(_), Some((file, text, f))) => Some((file, reduce(file, &text, &f), f)),
        _ => None,
    };
    std::panic::set_hook(default_hook);
    let reached = reached.into_inner();
    eprintln!(
        "{} cases: {} loaded, {} modelled, {} emitted; the slowest took {:?}",
        reached.cases, reached.loaded, reached.modelled, reached.emitted, reached.slowest
    );
    for e in reached.emit_errors.iter().take(3) {
        eprintln!("emit error: {e}");
    }
    if let Err(e) = result {
        let (file, spec, f) = reduced.expect("a failure was recorded");
        panic!("{e}\n\nThe smallest failing spec (lines removed while it still fails the same way):\n--- {file} ---\n{spec}\n--- end of {file} ---\n{f}");
    }
}
