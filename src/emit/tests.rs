//! `tests/api.rs` of the generated project: drives the router against the
//! in-memory store through every operation with a storage action, on its
//! success and failure paths.

use std::fmt::Write;

use serde_json::Value;

use super::examples::{example, fitting_example};
use crate::model::actions::{BoundAction, Verb};
use crate::model::{Api, Entity, Media, Operation, ParamIn, Shape, StrFormat, Ty};

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
        let store = runtime::dynamo_store(&format!("test-{}", ulid::Ulid::new())).await;
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

/// The path values for an operation: bound parameters from `item`, others
/// from examples.
fn path_values(api: &Api, op: &Operation, action: &BoundAction, item: &str) -> String {
    let values: Vec<String> = op
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.location == ParamIn::Path)
        .map(|(i, p)| {
            let value = match action.bindings.iter().find(|(_, b)| *b == i) {
                Some((field, _)) if !item.is_empty() => format!("text(&{item}, {})", lit(field)),
                _ => {
                    let v = example(api, &p.shape, true);
                    let s = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    format!("{}.to_string()", lit(&s))
                }
            };
            format!("({}, {value})", lit(&p.name))
        })
        .collect();
    format!("&[{}]", values.join(", "))
}

/// Required query parameters that are not bound to item fields, as a query string.
fn query_string(
    api: &Api,
    op: &Operation,
    action: &BoundAction,
    item: &str,
    extra: &str,
) -> String {
    let mut parts = Vec::new();
    for (i, p) in op.params.iter().enumerate() {
        let is_range = action.range.as_ref().is_some_and(|r| r.param == i);
        if p.location != ParamIn::Query
            || Some(i) == action.limit
            || Some(i) == action.cursor
            || (is_range && !p.required)
        {
            continue;
        }
        let bound = action
            .bindings
            .iter()
            .find(|(_, b)| *b == i)
            .map(|(f, _)| f.clone());
        match bound {
            Some(field) => parts.push(format!(
                "format!(\"{}={{}}\", text(&{item}, {}))",
                p.name,
                lit(&field)
            )),
            None if p.required => {
                let v = example(api, &p.shape, true);
                let s = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                // Query values must be URL-encoded; examples are plain ASCII.
                let s = s.replace(':', "%3A").replace('+', "%2B");
                parts.push(format!("{}.to_string()", lit(&format!("{}={s}", p.name))));
            }
            None => {}
        }
    }
    if !extra.is_empty() {
        parts.push(extra.to_string());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("[{}].join(\"&\")", parts.join(", "))
    }
}

/// A URI expression: the filled path, with the query when there is one.
fn uri(template: &str, values: &str, query: &str) -> String {
    if query.is_empty() {
        format!("path({template}, {values})")
    } else {
        format!("format!(\"{{}}?{{}}\", path({template}, {values}), {query})")
    }
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

/// Path values for seeding the `n`-th item: with `put`, the key fields in
/// the path differ per item.
fn seed_path_values(api: &Api, op: &Operation, action: &BoundAction, entity: &Entity) -> String {
    if action.verb != Verb::Put {
        return path_values(api, op, action, "");
    }
    let keys = entity.key.vars();
    let values: Vec<String> = op
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.location == ParamIn::Path)
        .map(|(i, p)| {
            let s = match example(api, &p.shape, true) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let key_field = action
                .bindings
                .iter()
                .any(|(f, b)| *b == i && keys.contains(&f.as_str()));
            let value = if key_field {
                format!("bump({}, n)", lit(&s))
            } else {
                format!("{}.to_string()", lit(&s))
            };
            format!("({}, {value})", lit(&p.name))
        })
        .collect();
    format!("&[{}]", values.join(", "))
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
    let _ = writeln!(out, "use {krate}::generated::entities::TABLES;\nuse {krate}::generated::store::Store;\nuse {krate}::generated::{{routes, runtime}};\nuse {krate}::handlers::Service;\n");
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
        let unique = seed_fields(e, action);
        let _ = writeln!(
            out,
            "/// Creates the `n`-th {name} through `{id}`.\nasync fn seed_{fname}(app: &Router, n: usize) -> Value {{\nlet body = vary({body}, &[{unique}], n);\nlet reply = send(app, \"{method}\", &path({path}, {values}), Some(&body), &[]).await;\nassert!(reply.status.is_success(), \"{id}: {{}} {{}}\", reply.status, reply.body);\nreply.body\n}}\n",
            name = e.schema,
            id = create.id,
            fname = crate::model::names::field_name(&e.schema).trim_start_matches("r#"),
            unique = unique.join(", "),
            method = create.method.upper(),
            path = lit(&create.path),
            values = seed_path_values(api, create, action, e),
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
/// fields the client chooses.
fn seed_fields(e: &Entity, create: &BoundAction) -> Vec<String> {
    let server = e.server_fields();
    let bound: Vec<&str> = create.bindings.iter().map(|(f, _)| f.as_str()).collect();
    let mut fields: Vec<String> = e.unique.iter().map(|u| lit(u)).collect();
    for var in e.key.vars() {
        if !server.contains(&var) && !bound.contains(&var) && !fields.contains(&lit(var)) {
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

fn emit_op_tests(api: &Api, op: &Operation, action: &BoundAction, out: &mut String) {
    if unbuildable(api, op).is_some() {
        return;
    }
    let entity = &api.entities[action.entity];
    let name = &op.ident;
    let method = op.method.upper();
    let template = lit(&op.path);
    let seed = seed(api, entity);
    let status = |i: usize| op.responses[i].status.code().unwrap_or(200);
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
            let values = path_values(api, op, action, "");
            if let Some((field, wrong)) = broken_field(api, shape) {
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_rejects_an_invalid_body() {{\nlet app = app().await;\nlet mut body = {body};\nbody[{f}] = {w};\nlet reply = send(&app, \"{method}\", &path({template}, {values}), Some(&body), &[]).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\nlet errors = reply.body[\"errors\"].as_array().expect(\"violations are listed\");\nassert!(errors.iter().any(|e| e[\"pointer\"] == {p}), \"{{errors:?}}\");\n}}\n",
                    f = lit(&field),
                    w = json_lit(&wrong),
                    p = lit(&format!("/{}", field.replace('~', "~0").replace('/', "~1"))),
                );
            }
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_needs_a_json_content_type() {{\nlet app = app().await;\nlet request = Request::builder().method(\"{method}\").uri(path({template}, {values})).body(Body::from({body}.to_string())).expect(\"a valid request\");\nlet response = app.oneshot(request).await.expect(\"the router never fails\");\nassert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);\n}}\n\n#[tokio::test]\nasync fn {name}_rejects_malformed_json() {{\nlet app = app().await;\nlet request = Request::builder().method(\"{method}\").uri(path({template}, {values})).header(header::CONTENT_TYPE, \"application/json\").body(Body::from(\"{{not json\")).expect(\"a valid request\");\nlet response = app.oneshot(request).await.expect(\"the router never fails\");\nassert_eq!(response.status(), StatusCode::BAD_REQUEST);\n}}\n"
            );
            let fields = seed_fields(entity, action);
            if fields.len() > entity.unique.len() {
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_refuses_an_existing_key() {{\nlet app = app().await;\nlet _first = {seed}(&app, 1).await;\nlet body = vary({body}, &[{f}], 1);\nlet reply = send(&app, \"{method}\", &path({template}, {values}), Some(&body), &[]).await;\nassert_problem(&reply, StatusCode::CONFLICT);\n}}\n",
                    f = fields.join(", ")
                );
            }
            if !entity.unique.is_empty() {
                let unique: Vec<String> = entity.unique.iter().map(|u| lit(u)).collect();
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_refuses_a_taken_unique_value() {{\nlet app = app().await;\nlet _first = {seed}(&app, 1).await;\nlet body = vary({body}, &[{u}], 1);\nlet reply = send(&app, \"{method}\", &path({template}, {values}), Some(&body), &[]).await;\nassert_problem(&reply, StatusCode::CONFLICT);\n}}\n",
                    u = unique.join(", ")
                );
            }
        }
        Verb::Get => {
            let Some(seed) = seed else { return };
            let values = path_values(api, op, action, "item");
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_reads_what_was_created() {{\nlet app = app().await;\nlet item = {seed}(&app, 1).await;\nlet reply = send(&app, \"GET\", &path({template}, {values}), None, &[]).await;\nassert_eq!(reply.status, StatusCode::OK, \"{{}}\", reply.body);\nassert_eq!(reply.body, item);\n}}\n"
            );
            let missing = path_values(api, op, action, "");
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_answers_404_for_a_missing_item() {{\nlet app = app().await;\nlet reply = send(&app, \"GET\", &path({template}, {missing}), None, &[]).await;\nassert_problem(&reply, StatusCode::NOT_FOUND);\n}}\n"
            );
        }
        Verb::Update | Verb::Put => {
            let Some(seed) = seed else { return };
            let Some(body) = body_expr(api, op) else {
                return;
            };
            let values = path_values(api, op, action, "item");
            let expected = status(action.success);
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_changes_an_item() {{\nlet app = app().await;\nlet item = {seed}(&app, 1).await;\nlet reply = send(&app, \"{method}\", &path({template}, {values}), Some(&{body}), &[]).await;\nassert_eq!(reply.status.as_u16(), {expected}, \"{{}}\", reply.body);"
            );
            if let Some(v) = &entity.version {
                let _ = writeln!(out, "assert_eq!(reply.body[{}], 2);", lit(v));
            }
            out.push_str("}\n\n");
            if let (Some(_), Some(p)) = (&entity.version, action.if_match) {
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_refuses_a_stale_if_match() {{\nlet app = app().await;\nlet item = {seed}(&app, 1).await;\nlet reply = send(&app, \"{method}\", &path({template}, {values}), Some(&{body}), &[({h}, \"\\\"99\\\"\".to_string())]).await;\nassert_problem(&reply, StatusCode::PRECONDITION_FAILED);\n}}\n",
                    h = lit(&op.params[p].name)
                );
            }
            if action.verb == Verb::Update {
                let missing = path_values(api, op, action, "");
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_answers_404_for_a_missing_item() {{\nlet app = app().await;\nlet reply = send(&app, \"{method}\", &path({template}, {missing}), Some(&{body}), &[]).await;\nassert_problem(&reply, StatusCode::NOT_FOUND);\n}}\n"
                );
            }
        }
        Verb::Delete => {
            let Some(seed) = seed else { return };
            let values = path_values(api, op, action, "item");
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_removes_an_item() {{\nlet app = app().await;\nlet item = {seed}(&app, 1).await;\nlet reply = send(&app, \"DELETE\", &path({template}, {values}), None, &[]).await;\nassert_eq!(reply.status.as_u16(), {s}, \"{{}}\", reply.body);\nlet again = send(&app, \"DELETE\", &path({template}, {values}), None, &[]).await;\nassert_problem(&again, StatusCode::NOT_FOUND);\n}}\n",
                s = status(action.success)
            );
        }
        Verb::Query | Verb::List => {
            let Some(seed) = seed else { return };
            let Some(page) = &action.page else { return };
            let values = path_values(api, op, action, "first");
            let items = lit(&page.items);
            let has_limit =
                action.limit.is_some() && page.cursor.is_some() && action.cursor.is_some();
            let query = query_string(api, op, action, "first", "");
            let list_uri = uri(&template, &values, &query);
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_lists_created_items() {{\nlet app = app().await;\nlet first = {seed}(&app, 1).await;\nfor n in 2..=3 {{ {seed}(&app, n).await; }}\nlet reply = send(&app, \"GET\", &{list_uri}, None, &[]).await;\nassert_eq!(reply.status, StatusCode::OK, \"{{}}\", reply.body);\nlet items = reply.body[{items}].as_array().expect(\"a page holds items\");\nassert!(items.contains(&first), \"{{items:?}}\");\n}}\n"
            );
            if has_limit {
                let limit = &op.params[action.limit.unwrap_or_default()].name;
                let cursor_param = &op.params[action.cursor.unwrap_or_default()].name;
                let cursor_field = lit(page.cursor.as_deref().unwrap_or_default());
                let u1 = uri(
                    &template,
                    &values,
                    &query_string(
                        api,
                        op,
                        action,
                        "first",
                        &format!("\"{limit}=2\".to_string()"),
                    ),
                );
                let u2 = uri(
                    &template,
                    &values,
                    &query_string(
                        api,
                        op,
                        action,
                        "first",
                        &format!("format!(\"{limit}=2&{cursor_param}={{cursor}}\")"),
                    ),
                );
                let u3 = uri(
                    &template,
                    &values,
                    &query_string(
                        api,
                        op,
                        action,
                        "first",
                        &format!("\"{cursor_param}=not-a-cursor\".to_string()"),
                    ),
                );
                let bind_first = if u3.contains("first") {
                    "let first = "
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "#[tokio::test]\nasync fn {name}_pages_through_every_item_once() {{\nlet app = app().await;\nlet first = {seed}(&app, 1).await;\nfor n in 2..=5 {{ {seed}(&app, n).await; }}\nlet mut seen = Vec::new();\nlet mut cursor = String::new();\nfor page in 0..10 {{\nlet uri = if page == 0 {{ {u1} }} else {{ {u2} }};\nlet reply = send(&app, \"GET\", &uri, None, &[]).await;\nassert_eq!(reply.status, StatusCode::OK, \"{{}}\", reply.body);\nlet items = reply.body[{items}].as_array().expect(\"a page holds items\").clone();\nassert!(items.len() <= 2);\nseen.extend(items);\nmatch reply.body[{cursor_field}].as_str() {{ Some(next) => cursor = next.to_string(), None => break }}\n}}\nassert_eq!(seen.len(), 5, \"{{seen:?}}\");\nassert!(seen.contains(&first));\nlet mut unique = seen.clone();\nunique.dedup();\nassert_eq!(unique.len(), 5);\n}}\n\n#[tokio::test]\nasync fn {name}_rejects_a_tampered_cursor() {{\nlet app = app().await;\n{bind_first}{seed}(&app, 1).await;\nlet reply = send(&app, \"GET\", &{u3}, None, &[]).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\n}}\n"
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
        if let Some(param) = broken {
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_validates_its_path() {{\nlet reply = send(&app().await, \"{method}\", {path}, None, &[]).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\nassert_eq!(reply.body[\"errors\"][0][\"pointer\"], {pointer});\n}}\n",
                name = op.ident,
                path = lit(&path),
                pointer = lit(&format!("/{param}"))
            );
        } else if op
            .body
            .as_ref()
            .is_some_and(|b| b.required && b.media.typed().is_some())
        {
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {name}_needs_a_body() {{\nlet reply = send(&app().await, \"{method}\", {path}, None, &[]).await;\nassert_problem(&reply, StatusCode::BAD_REQUEST);\n}}\n",
                name = op.ident,
                path = lit(&path)
            );
        }
    }
}
