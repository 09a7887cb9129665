//! `tests/api.rs` of the generated project: drives the router against the
//! in-memory store through every operation with a storage action, on its
//! success and failure paths.

use std::fmt::Write;

use serde_json::Value;

use super::examples::{example, fitting_example};
use crate::model::actions::{BoundAction, Verb};
use crate::model::{Api, Entity, Media, Operation, Param, ParamIn, Shape, StrFormat, Ty, TypeKind};

const PRELUDE: &str = r#"
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// Sends one request through the router, as API Gateway would.
async fn send(app: &Router, method: &str, uri: &str, body: Option<&Value>, headers: &[(&str, String)]) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
    let response = app.clone().oneshot(request.body(body).expect("a valid request")).await.expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("a readable body").to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    Reply { status, headers, body }
}

/// Fills `{name}` in a path with `values`.
fn path(template: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(template.to_string(), |p, (name, value)| p.replace(&format!("{{{name}}}"), value))
}

/// A field of an item as path or query text.
fn text(item: &Value, field: &str) -> String {
    match &item[field] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Makes the given fields of a body distinct for the `n`-th item, keeping their shape: the
/// last digit (else the last letter) before any `@` moves `n` places; an integer grows by `n`.
fn vary(mut body: Value, fields: &[&str], n: usize) -> Value {
    for field in fields {
        match body.get_mut(*field) {
            Some(Value::String(s)) => *s = bump(s, n),
            Some(Value::Number(x)) => {
                if let Some(i) = x.as_i64() {
                    *x = (i + n as i64).into();
                }
            }
            _ => {}
        }
    }
    body
}

fn bump(s: &str, n: usize) -> String {
    let end = s.find('@').unwrap_or(s.len());
    let mut chars: Vec<char> = s.chars().collect();
    let head = &chars[..s[..end].chars().count()];
    let last = head.iter().rposition(char::is_ascii_digit).or_else(|| head.iter().rposition(char::is_ascii_alphanumeric));
    if let Some(i) = last {
        let (base, size) = match chars[i] {
            '0'..='9' => (b'0', 10),
            'a'..='z' => (b'a', 26),
            _ => (b'A', 26),
        };
        let offset = (chars[i] as u8 - base) as usize;
        chars[i] = char::from(base + ((offset + n) % size) as u8);
        chars.into_iter().collect()
    } else {
        format!("{s}{n}")
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(reply.body["status"], status.as_u16());
}
"#;

const APP_WITH_STORE: &str = r#"
/// The router over the in-memory store, or over fresh tables on the server
/// `AWS_ENDPOINT_URL_DYNAMODB` names, so that the same tests prove both.
async fn app() -> Router {
    let store = if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
        let store = store::dynamodb(&format!("test-{}", ulid::Ulid::new()), TABLES).await;
        store.ensure_tables(TABLES).await.expect("the test tables can be created");
        store
    } else {
        Store::memory()
    };
    routes::router(Arc::new(Service::new(store)))
}
"#;

const APP_WITHOUT_STORE: &str = r#"
/// The router over the hand-written handlers.
async fn app() -> Router {
    routes::router(Arc::new(Service::new()))
}
"#;

fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// `json!(...)` of a value, as Rust source.
fn json_lit(v: &Value) -> String {
    format!(
        "serde_json::from_str::<Value>({}).expect(\"valid example\")",
        lit(&v.to_string())
    )
}

/// Where a parameter bound to an item field takes its value from.
#[derive(Clone, Copy)]
enum From<'a> {
    /// The field of the JSON item in the named variable.
    Item(&'a str),
    /// The parameter's example: an item that does not exist.
    Example,
    /// The `n`-th item being seeded: with `put`, key fields differ per item.
    Seed(&'a Entity),
}

/// Everything a request to an operation carries besides its method and
/// body, as Rust expressions.
struct Parts {
    /// `path(...)`, with the query string when there is one.
    uri: String,
    /// The query string alone: `[...].join("&")`.
    query: Option<String>,
    /// `&[(name, value), ...]`: required headers and cookies.
    headers: String,
    /// The same, as `.header(name, value)` calls on a request builder.
    header_calls: String,
}

impl Parts {
    fn uses(&self, var: &str) -> bool {
        let needle = format!("&{var},");
        self.uri.contains(&needle) || self.headers.contains(&needle)
    }
}

/// Headers the HTTP layer owns: OpenAPI ignores parameters with these names.
const RESERVED_HEADERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// The value of parameter `i` as a Rust `String` expression, or `None` when
/// the request leaves it out: every required parameter is sent, with a value
/// its schema accepts, and so is every one bound to a field of `from`.
fn param_value(
    api: &Api,
    op: &Operation,
    action: Option<&BoundAction>,
    i: usize,
    from: From,
) -> Option<String> {
    let p = &op.params[i];
    if let Some(a) = action {
        if a.if_match == Some(i) {
            let entity = &api.entities[a.entity];
            return match (from, &entity.version) {
                (From::Item(item), Some(v)) if p.required => Some(format!(
                    "format!(\"\\\"{{}}\\\"\", text(&{item}, {}))",
                    lit(v)
                )),
                _ if p.required => Some("\"\\\"1\\\"\".to_string()".into()),
                _ => None,
            };
        }
        let paging = a.limit == Some(i)
            || a.cursor == Some(i)
            || a.range.as_ref().is_some_and(|r| r.param == i);
        if paging && !p.required {
            return None;
        }
    }
    let bound = action.and_then(|a| a.bindings.iter().find(|(_, b)| *b == i).map(|(f, _)| f));
    let example = || lit(&example_text(api, p));
    match (bound, from) {
        (Some(field), From::Item(item)) => Some(format!("text(&{item}, {})", lit(field))),
        (Some(field), From::Seed(e)) if e.key.vars().contains(&field.as_str()) => {
            Some(format!("bump({}, n)", example()))
        }
        _ if p.required || bound.is_some() && p.location == ParamIn::Path => {
            Some(format!("{}.to_string()", example()))
        }
        _ => None,
    }
}

/// A parameter's example as it travels: arrays joined with commas, objects
/// as `key,value` pairs (the `simple` and `form` styles).
fn example_text(api: &Api, p: &Param) -> String {
    scalar_text(&example(api, &p.shape, true))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| [k.clone(), scalar_text(v)])
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// Query pairs for an example value: exploded arrays repeat the key, and
/// objects spread into their properties (`deepObject`: `key[prop]`).
fn example_pairs(api: &Api, p: &Param) -> Vec<(String, String)> {
    match example(api, &p.shape, true) {
        Value::Array(items) if p.explode => items
            .iter()
            .map(|v| (p.name.clone(), scalar_text(v)))
            .collect(),
        Value::Object(m) if p.deep_object => m
            .iter()
            .map(|(k, v)| (format!("{}[{k}]", p.name), scalar_text(v)))
            .collect(),
        Value::Object(m) if p.explode => {
            m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect()
        }
        other => vec![(p.name.clone(), scalar_text(&other))],
    }
}

/// The request parts of `op`; `extra` is a query expression appended last.
fn parts(
    api: &Api,
    op: &Operation,
    action: Option<&BoundAction>,
    from: From,
    extra: &str,
) -> Parts {
    parts_except(api, op, action, from, extra, None)
}

/// [`parts`] without parameter `skip`, for a test that sends its own.
fn parts_except(
    api: &Api,
    op: &Operation,
    action: Option<&BoundAction>,
    from: From,
    extra: &str,
    skip: Option<usize>,
) -> Parts {
    let mut values = Vec::new();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    for (i, p) in op.params.iter().enumerate() {
        if skip == Some(i) {
            continue;
        }
        let Some(value) = param_value(api, op, action, i, from) else {
            continue;
        };
        match p.location {
            ParamIn::Path => values.push(format!("({}, {value})", lit(&p.name))),
            ParamIn::Query => {
                let computed = !value.ends_with(".to_string()");
                if computed {
                    query.push(format!(
                        "format!(\"{}={{}}\", encode(&{value}))",
                        encode(&p.name)
                    ));
                } else {
                    for (k, v) in example_pairs(api, p) {
                        query.push(format!(
                            "{}.to_string()",
                            lit(&format!("{}={}", encode(&k), encode(&v)))
                        ));
                    }
                }
            }
            ParamIn::Header => {
                if !RESERVED_HEADERS.contains(&p.name.to_ascii_lowercase().as_str()) {
                    headers.push(format!("({}, {value})", lit(&p.name)));
                }
            }
            ParamIn::Cookie => cookies.push(if value.ends_with(".to_string()") {
                Err(format!("{}={}", p.name, example_text(api, p)))
            } else {
                Ok(format!(
                    "format!({}, {value})",
                    lit(&format!(
                        "{}={{}}",
                        p.name.replace('{', "{{").replace('}', "}}")
                    ))
                ))
            }),
        }
    }
    // One `Cookie` header; plain text when no value comes from an item.
    if cookies.iter().all(Result::is_err) && !cookies.is_empty() {
        let text: Vec<String> = cookies.into_iter().filter_map(Result::err).collect();
        headers.push(format!(
            "(\"cookie\", {}.to_string())",
            lit(&text.join("; "))
        ));
    } else if !cookies.is_empty() {
        let exprs: Vec<String> = cookies
            .into_iter()
            .map(|c| c.unwrap_or_else(|text| format!("{}.to_string()", lit(&text))))
            .collect();
        headers.push(format!("(\"cookie\", [{}].join(\"; \"))", exprs.join(", ")));
    }
    if !extra.is_empty() {
        query.push(extra.to_string());
    }
    let path = format!("path({}, &[{}])", lit(&op.path), values.join(", "));
    let query = (!query.is_empty()).then(|| format!("[{}].join(\"&\")", query.join(", ")));
    let uri = match &query {
        None => path,
        Some(q) => format!("format!(\"{{}}?{{}}\", {path}, {q})"),
    };
    Parts {
        uri,
        query,
        header_calls: headers.iter().map(|h| format!(".header{h}")).collect(),
        headers: format!("&[{}]", headers.join(", ")),
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn create_op(api: &Api, entity: usize) -> Option<&Operation> {
    api.operations.iter().find(|o| {
        o.action
            .as_ref()
            .is_some_and(|a| a.verb == Verb::Create && a.entity == entity)
    })
}

/// The operation tests seed items through: `create`, else `put` (which
/// creates what does not exist yet).
fn seed_op(api: &Api, entity: usize) -> Option<&Operation> {
    create_op(api, entity).or_else(|| {
        api.operations.iter().find(|o| {
            o.action
                .as_ref()
                .is_some_and(|a| a.verb == Verb::Put && a.entity == entity)
        })
    })
}

/// A request body for `op` as a Rust expression.
fn body_expr(api: &Api, op: &Operation) -> Option<String> {
    match &op.body.as_ref()?.media {
        Media::Json(shape) => Some(json_lit(&fitting_example(api, shape, true)?)),
        _ => None,
    }
}

/// What of `op`'s request (path parameters, required query and header
/// parameters, a JSON body) has no example its own schema accepts, and where:
/// the tests that would send it are left out (see [`unbuildable_warnings`]).
/// Operations without a storage action are only tested with their path.
fn unbuildable(api: &Api, op: &Operation) -> Option<(String, String)> {
    let stub = op.action.is_none();
    for p in &op.params {
        let sent = p.location == ParamIn::Path
            || !stub && p.required && matches!(p.location, ParamIn::Query | ParamIn::Header);
        if sent && fitting_example(api, &p.shape, true).is_none() {
            return Some((format!("parameter `{}`", p.name), p.pointer.clone()));
        }
    }
    if let Some(Media::Json(shape)) = op.body.as_ref().map(|b| &b.media).filter(|_| !stub) {
        if fitting_example(api, shape, true).is_none() {
            return Some((
                "the request body".into(),
                format!("{}/requestBody", op.pointer),
            ));
        }
    }
    None
}

/// One warning per operation whose generated tests are left out because no
/// example of its request fits the schema within an example's bounds.
pub fn unbuildable_warnings(api: &Api) -> Vec<crate::Diagnostic> {
    api.operations
        .iter()
        .filter_map(|op| {
            let (what, at) = unbuildable(api, op)?;
            Some(
                crate::Diagnostic::warning(
                    at,
                    format!(
                        "no example of {what} fits its schema within an example's bounds, so the generated tests leave `{}` out",
                        op.id
                    ),
                )
                .help("give the schema an `example` that fits it, or lower its `minItems`/`minLength`"),
            )
        })
        .collect()
}

/// The first required, writable field of a body, with a value of the wrong type.
fn broken_field(api: &Api, shape: &Shape) -> Option<(String, Value)> {
    let (_, s) = api.types.struct_of(shape)?;
    let f = s.fields.iter().find(|f| f.required && !f.read_only)?;
    let wrong = match &api.types.resolve(&f.shape).ty {
        Ty::String(_) | Ty::Ref(_) => Value::from(12345),
        Ty::Integer(_) | Ty::Number(_) | Ty::Bool | Ty::Array(_) | Ty::Map(_) => {
            Value::from("not the right type")
        }
        Ty::Any => return None,
    };
    Some((f.name.clone(), wrong))
}

pub fn emit(api: &Api) -> String {
    let krate = api.settings.crate_ident();
    let mut out = String::from(
        "//! Drives the router through every operation with a storage action, on its success and \
         failure paths: against the in-memory store, or against fresh tables on the server that \
         `AWS_ENDPOINT_URL_DYNAMODB` names.\n\n#![allow(unused_imports, dead_code)]\n\n",
    );
    if !api.has_storage() {
        let _ = writeln!(
            out,
            "use {krate}::generated::routes;\nuse {krate}::handlers::Service;\n"
        );
        out.push_str(PRELUDE);
        out.push_str(APP_WITHOUT_STORE);
        emit_stub_tests(api, &mut out);
        return out;
    }
    let _ = writeln!(out, "use apigen_runtime::store::{{self, Store}};\nuse {krate}::generated::entities::TABLES;\nuse {krate}::generated::routes;\nuse {krate}::handlers::Service;\n");
    out.push_str(PRELUDE);
    out.push_str(APP_WITH_STORE);
    // One seeding helper per entity that can be created over HTTP.
    for (i, e) in api.entities.iter().enumerate() {
        let Some(create) = seed_op(api, i) else {
            continue;
        };
        let action = create
            .action
            .as_ref()
            .expect("a seeding operation has an action");
        if unbuildable(api, create).is_some() {
            continue;
        }
        let Some(body) = body_expr(api, create) else {
            continue;
        };
        let unique = seed_fields(api, e, action);
        let from = if action.verb == Verb::Put {
            From::Seed(e)
        } else {
            From::Example
        };
        let Parts { uri, headers, .. } = parts(api, create, Some(action), from, "");
        let _ = writeln!(
            out,
            "/// Creates the `n`-th {name} through `{id}`.\nasync fn seed_{fname}(app: &Router, n: usize) -> Value {{\nlet body = vary({body}, &[{unique}], n);\nlet reply = send(app, \"{method}\", &{uri}, Some(&body), {headers}).await;\nassert!(reply.status.is_success(), \"{id}: {{}} {{}}\", reply.status, reply.body);\nreply.body\n}}\n",
            name = e.schema,
            id = create.id,
            fname = crate::model::names::field_name(&e.schema).trim_start_matches("r#"),
            unique = unique.join(", "),
            method = create.method.upper(),
        );
    }
    for op in &api.operations {
        let Some(action) = &op.action else { continue };
        emit_op_tests(api, op, action, &mut out);
    }
    emit_stub_tests(api, &mut out);
    out
}

/// Fields that must differ between seeded items: unique values and the key
/// fields the client chooses. An enum key field is left alone when another
/// key field can differ: a varied enum value is no longer one of its values.
fn seed_fields(api: &Api, e: &Entity, create: &BoundAction) -> Vec<String> {
    let server = e.server_fields();
    let bound: Vec<&str> = create.bindings.iter().map(|(f, _)| f.as_str()).collect();
    let mut fields: Vec<String> = e.unique.iter().map(|u| lit(u)).collect();
    let chosen: Vec<&str> = e
        .key
        .vars()
        .into_iter()
        .filter(|var| !server.contains(var) && !bound.contains(var))
        .collect();
    let is_enum = |var: &str| {
        let Some((_, s)) = api.types.struct_of(&Shape::new(Ty::Ref(e.type_id))) else {
            return false;
        };
        s.fields.iter().any(|f| {
            let shape = api.types.resolve(&f.shape);
            f.name == var
                && (!shape.rules.enumeration.is_empty()
                    || matches!(shape.ty, Ty::Ref(id) if matches!(api.types.get(id).kind, TypeKind::Enum(_))))
        })
    };
    let free = chosen.iter().any(|var| !is_enum(var));
    for var in chosen.into_iter().filter(|var| !(free && is_enum(var))) {
        if !fields.contains(&lit(var)) {
            fields.push(lit(var));
        }
    }
    fields
}

fn seed(api: &Api, entity: &Entity) -> Option<String> {
    let i = api
        .entities
        .iter()
        .position(|e| e.schema == entity.schema)?;
    let create = seed_op(api, i)?;
    if unbuildable(api, create).is_some() {
        return None;
    }
    body_expr(api, create)?;
    Some(format!(
        "seed_{}",
        crate::model::names::field_name(&entity.schema).trim_start_matches("r#")
    ))
}

/// `item` when the rest of the test reads it, else `_item`, so that a test
/// whose requests name no field of the item stays free of unused variables.
fn binding(var: &str, used: bool) -> String {
    if used {
        var.to_string()
    } else {
        format!("_{var}")
    }
}

fn emit_op_tests(api: &Api, op: &Operation, action: &BoundAction, out: &mut String) {
    if unbuildable(api, op).is_some() {
        return;
    }
    let entity = &api.entities[action.entity];
    let name = &op.ident;
    let method = op.method.upper();
    let seed = seed(api, entity);
    let status = |i: usize| op.responses[i].status.code().unwrap_or(200);
    let a = Some(action);
    let missing = parts(api, op, a, From::Example, "");
    match action.verb {
        Verb::Create => {
            let Some(seed) = seed else { return };
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_creates() {{\nlet app = app().await;\nlet item = {seed}(&app, 1).await;\nassert!(item.is_object(), \"{{item}}\");"
            );
            for f in entity.server_fields() {
                let _ = writeln!(
                    out,
                    "assert!(!item[{}].is_null(), \"the server sets `{f}`: {{item}}\");",
                    lit(f)
                );
            }
            if let Some(v) = &entity.version {
                let _ = writeln!(out, "assert_eq!(item[{}], 1);", lit(v));
            }
            out.push_str("}\n\n");
            let shape = match op.body.as_ref().map(|b| &b.media) {
                Some(Media::Json(s)) => s,
                _ => return,
            };
            let body = body_expr(api, op).unwrap_or_default();
            let Parts {
                uri,
                headers,
                header_calls,
                ..
            } = &missing;
            if let Some((field, wrong)) = broken_field(api, shape) {
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_rejects_an_invalid_body() {{\nlet app = app().await;\nlet mut body = {body};\nbody[{f}] = {w};\nlet reply = send(&app, \"{method}\", &{uri}, Some(&body), {headers}).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\nlet errors = reply.body[\"errors\"].as_array().expect(\"violations are listed\");\nassert!(errors.iter().any(|e| e[\"pointer\"] == {p}), \"{{errors:?}}\");\n}}\n",
                    f = lit(&field),
                    w = json_lit(&wrong),
                    p = lit(&format!("/{}", field.replace('~', "~0").replace('/', "~1"))),
                );
            }
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_needs_a_json_content_type() {{\nlet app = app().await;\nlet request = Request::builder().method(\"{method}\").uri({uri}){header_calls}.body(Body::from({body}.to_string())).expect(\"a valid request\");\nlet response = app.oneshot(request).await.expect(\"the router never fails\");\nassert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);\n}}\n\n#[tokio::test]\nasync fn {name}_rejects_malformed_json() {{\nlet app = app().await;\nlet request = Request::builder().method(\"{method}\").uri({uri}).header(header::CONTENT_TYPE, \"application/json\"){header_calls}.body(Body::from(\"{{not json\")).expect(\"a valid request\");\nlet response = app.oneshot(request).await.expect(\"the router never fails\");\nassert_eq!(response.status(), StatusCode::BAD_REQUEST);\n}}\n"
            );
            let fields = seed_fields(api, entity, action);
            if fields.len() > entity.unique.len() {
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_refuses_an_existing_key() {{\nlet app = app().await;\nlet _first = {seed}(&app, 1).await;\nlet body = vary({body}, &[{f}], 1);\nlet reply = send(&app, \"{method}\", &{uri}, Some(&body), {headers}).await;\nassert_problem(&reply, StatusCode::CONFLICT);\n}}\n",
                    f = fields.join(", ")
                );
            }
            if !entity.unique.is_empty() {
                let unique: Vec<String> = entity.unique.iter().map(|u| lit(u)).collect();
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_refuses_a_taken_unique_value() {{\nlet app = app().await;\nlet _first = {seed}(&app, 1).await;\nlet body = vary({body}, &[{u}], 1);\nlet reply = send(&app, \"{method}\", &{uri}, Some(&body), {headers}).await;\nassert_problem(&reply, StatusCode::CONFLICT);\n}}\n",
                    u = unique.join(", ")
                );
            }
        }
        Verb::Get => {
            let Some(seed) = seed else { return };
            let Parts { uri, headers, .. } = parts(api, op, a, From::Item("item"), "");
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_reads_what_was_created() {{\nlet app = app().await;\nlet item = {seed}(&app, 1).await;\nlet reply = send(&app, \"GET\", &{uri}, None, {headers}).await;\nassert_eq!(reply.status, StatusCode::OK, \"{{}}\", reply.body);\nassert_eq!(reply.body, item);\n}}\n"
            );
            let Parts { uri, headers, .. } = &missing;
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_answers_404_for_a_missing_item() {{\nlet app = app().await;\nlet reply = send(&app, \"GET\", &{uri}, None, {headers}).await;\nassert_problem(&reply, StatusCode::NOT_FOUND);\n}}\n"
            );
        }
        Verb::Update | Verb::Put => {
            let Some(seed) = seed else { return };
            let Some(body) = body_expr(api, op) else {
                return;
            };
            let existing = parts(api, op, a, From::Item("item"), "");
            let item = binding("item", existing.uses("item"));
            let Parts { uri, headers, .. } = &existing;
            let expected = status(action.success);
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_changes_an_item() {{\nlet app = app().await;\nlet {item} = {seed}(&app, 1).await;\nlet reply = send(&app, \"{method}\", &{uri}, Some(&{body}), {headers}).await;\nassert_eq!(reply.status.as_u16(), {expected}, \"{{}}\", reply.body);"
            );
            if let Some(v) = &entity.version {
                let _ = writeln!(out, "assert_eq!(reply.body[{}], 2);", lit(v));
            }
            out.push_str("}\n\n");
            if let (Some(_), Some(p)) = (&entity.version, action.if_match) {
                // A stale version in place of the current one.
                let stale = parts_except(api, op, a, From::Item("item"), "", Some(p));
                let item = binding("item", stale.uses("item"));
                let headers = stale.headers.replacen(
                    "&[",
                    &format!(
                        "&[({}, \"\\\"99\\\"\".to_string()), ",
                        lit(&op.params[p].name)
                    ),
                    1,
                );
                let uri = &stale.uri;
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_refuses_a_stale_if_match() {{\nlet app = app().await;\nlet {item} = {seed}(&app, 1).await;\nlet reply = send(&app, \"{method}\", &{uri}, Some(&{body}), {headers}).await;\nassert_problem(&reply, StatusCode::PRECONDITION_FAILED);\n}}\n",
                );
            }
            let if_match_required = action.if_match.is_some_and(|p| op.params[p].required);
            if action.verb == Verb::Update && !if_match_required {
                let Parts { uri, headers, .. } = &missing;
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_answers_404_for_a_missing_item() {{\nlet app = app().await;\nlet reply = send(&app, \"{method}\", &{uri}, Some(&{body}), {headers}).await;\nassert_problem(&reply, StatusCode::NOT_FOUND);\n}}\n"
                );
            }
        }
        Verb::Delete => {
            let Some(seed) = seed else { return };
            let existing = parts(api, op, a, From::Item("item"), "");
            let item = binding("item", existing.uses("item"));
            let Parts { uri, headers, .. } = &existing;
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_removes_an_item() {{\nlet app = app().await;\nlet {item} = {seed}(&app, 1).await;\nlet reply = send(&app, \"DELETE\", &{uri}, None, {headers}).await;\nassert_eq!(reply.status.as_u16(), {s}, \"{{}}\", reply.body);\nlet again = send(&app, \"DELETE\", &{uri}, None, {headers}).await;\nassert_problem(&again, StatusCode::NOT_FOUND);\n}}\n",
                s = status(action.success)
            );
        }
        Verb::Query | Verb::List => {
            let Some(seed) = seed else { return };
            let Some(page) = &action.page else { return };
            let items = lit(&page.items);
            let has_limit =
                action.limit.is_some() && page.cursor.is_some() && action.cursor.is_some();
            let Parts { uri, headers, .. } = parts(api, op, a, From::Item("first"), "");
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_lists_created_items() {{\nlet app = app().await;\nlet first = {seed}(&app, 1).await;\nfor n in 2..=3 {{ {seed}(&app, n).await; }}\nlet reply = send(&app, \"GET\", &{uri}, None, {headers}).await;\nassert_eq!(reply.status, StatusCode::OK, \"{{}}\", reply.body);\nlet items = reply.body[{items}].as_array().expect(\"a page holds items\");\nassert!(items.contains(&first), \"{{items:?}}\");\n}}\n"
            );
            if has_limit {
                let limit = encode(&op.params[action.limit.unwrap_or_default()].name);
                let cursor_param = encode(&op.params[action.cursor.unwrap_or_default()].name);
                let cursor_field = lit(page.cursor.as_deref().unwrap_or_default());
                let first = parts(
                    api,
                    op,
                    a,
                    From::Item("first"),
                    &format!("\"{limit}=2\".to_string()"),
                );
                let next = parts(
                    api,
                    op,
                    a,
                    From::Item("first"),
                    &format!("format!(\"{limit}=2&{cursor_param}={{}}\", encode(&cursor))"),
                );
                let tampered = parts(
                    api,
                    op,
                    a,
                    From::Item("first"),
                    &format!("\"{cursor_param}=not-a-cursor\".to_string()"),
                );
                let bind_first = if tampered.uses("first") {
                    "let first = "
                } else {
                    ""
                };
                let (u1, u2, u3) = (first.uri, next.uri, &tampered.uri);
                let h3 = &tampered.headers;
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_pages_through_every_item_once() {{\nlet app = app().await;\nlet first = {seed}(&app, 1).await;\nfor n in 2..=5 {{ {seed}(&app, n).await; }}\nlet mut seen = Vec::new();\nlet mut cursor = String::new();\nfor page in 0..10 {{\nlet uri = if page == 0 {{ {u1} }} else {{ {u2} }};\nlet reply = send(&app, \"GET\", &uri, None, {headers}).await;\nassert_eq!(reply.status, StatusCode::OK, \"{{}}\", reply.body);\nlet items = reply.body[{items}].as_array().expect(\"a page holds items\").clone();\nassert!(items.len() <= 2);\nseen.extend(items);\nmatch reply.body[{cursor_field}].as_str() {{ Some(next) => cursor = next.to_string(), None => break }}\n}}\nassert_eq!(seen.len(), 5, \"{{seen:?}}\");\nassert!(seen.contains(&first));\nlet mut unique = seen.clone();\nunique.dedup();\nassert_eq!(unique.len(), 5);\n}}\n\n#[tokio::test]\nasync fn {name}_rejects_a_tampered_cursor() {{\nlet app = app().await;\n{bind_first}{seed}(&app, 1).await;\nlet reply = send(&app, \"GET\", &{u3}, None, {h3}).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\n}}\n"
                );
            }
        }
    }
}

/// Hand-written operations still get their requests validated before
/// the user's code runs, whatever that code does.
fn emit_stub_tests(api: &Api, out: &mut String) {
    for op in api.operations.iter().filter(|o| o.action.is_none()) {
        if unbuildable(api, op).is_some() {
            continue;
        }
        let method = op.method.upper();
        let mut path = op.path.clone();
        let mut broken = None;
        for p in op.params.iter().filter(|p| p.location == ParamIn::Path) {
            let resolved = api.types.resolve(&p.shape);
            let v = match example(api, &p.shape, true) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let invalid = matches!(
                resolved.ty,
                Ty::Integer(_) | Ty::Number(_) | Ty::String(StrFormat::Uuid)
            ) || resolved.rules.pattern.is_some();
            if invalid && broken.is_none() {
                broken = Some(p.name.clone());
                path = path.replace(&format!("{{{}}}", p.name), "not%20valid");
            } else {
                path = path.replace(&format!("{{{}}}", p.name), &v);
            }
        }
        // Every other parameter is valid, so that the path is the one violation.
        let Parts { query, headers, .. } = parts(api, op, None, From::Example, "");
        let path = match query {
            None => lit(&path),
            Some(q) => format!("&format!(\"{{}}?{{}}\", {}, {q})", lit(&path)),
        };
        if let Some(param) = broken {
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_validates_its_path() {{\nlet reply = send(&app().await, \"{method}\", {path}, None, {headers}).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\nassert_eq!(reply.body[\"errors\"][0][\"pointer\"], {pointer});\n}}\n",
                name = op.ident,
                pointer = lit(&format!("/{param}"))
            );
        } else if op
            .body
            .as_ref()
            .is_some_and(|b| b.required && b.media.typed().is_some())
        {
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_needs_a_body() {{\nlet reply = send(&app().await, \"{method}\", {path}, None, {headers}).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\n}}\n",
                name = op.ident,
            );
        }
    }
}

#[cfg(test)]
mod unit {
    use std::path::Path;

    /// tests/api.rs for the operations of a spec.
    fn api_tests(spec: &str) -> String {
        let loaded = crate::load::parse(Path::new("t.yaml"), spec.to_string()).expect("parses");
        let api = crate::model::build(&loaded, None).expect("valid");
        super::emit(&api)
    }

    const SPEC: &str = r#"openapi: 3.0.3
info: {title: T, version: '1'}
x-apigen: {tables: {Main: {pk: PK, sk: SK}}}
paths:
  /me:
    parameters:
      - {name: X-User, in: header, required: true, schema: {type: string, format: uuid}}
      - {name: v, in: query, required: true, schema: {type: string, enum: [b1, b2]}}
      - {name: sid, in: cookie, required: true, schema: {type: string, minLength: 4}}
      - {name: trace, in: query, schema: {type: string}}
    put:
      operationId: putMe
      x-apigen-action: {put: User, bind: {X-User: id}}
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
    get:
      operationId: getMe
      x-apigen-action: {get: User, bind: {X-User: id}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
components:
  schemas:
    User:
      type: object
      required: [id, name]
      properties: {id: {type: string, format: uuid}, name: {type: string}}
      x-apigen-entity: {id: {field: id, generate: client}, key: {pk: "USER#{id}", sk: USER}}
"#;

    #[test]
    fn every_request_carries_the_required_parameters_with_valid_values() {
        let out = api_tests(SPEC);
        // Seeding moves the key per item; reading takes it from the item.
        assert!(out.contains("(\"X-User\", bump("), "{out}");
        assert!(out.contains("(\"X-User\", text(&item, \"id\"))"), "{out}");
        assert!(out.contains("\"v=b1\".to_string()"), "{out}");
        assert!(out.contains("(\"cookie\", \"sid=exam"), "{out}");
        assert!(
            !out.contains("trace="),
            "optional parameters are left out: {out}"
        );
        // `PUT /me` reads no field of the item in its path.
        assert!(out.contains("let item = seed_user(&app, 1)"), "{out}");
        assert!(
            !out.contains("send(&app, \"GET\", &path(\"/me\", &[]), None, &[])"),
            "{out}"
        );
    }

    #[test]
    fn a_seeded_item_no_request_reads_is_not_an_unused_variable() {
        // The key comes from the body, as in the user's `PUT /me`.
        let out = api_tests(
            &SPEC
                .replace("{put: User, bind: {X-User: id}}", "{put: User}")
                .replace("{get: User, bind: {X-User: id}}", "none"),
        );
        assert!(out.contains("let _item = seed_user(&app, 1)"), "{out}");
    }
}
