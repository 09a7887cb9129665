//! Scripted journeys through every operation with a storage action, read
//! from the model: what a careful client does to a service, and what the
//! service must answer. Reads are checked against an oracle: the items
//! this run knows to exist, filtered and ordered as the index says.

use std::collections::BTreeMap;

use apigen::model::actions::{RangeOp, Verb};
use apigen::model::{Api, Operation, Shape, Ty, TypeKind};
use serde_json::{json, Map, Value};

use crate::client::{Request, Session};
use crate::entities::{action, body_shape, bump, encode, ordered, text, views, Bounds, View};

/// The items that exist, per entity, as the journeys made them.
#[derive(Default)]
pub struct Live {
    items: BTreeMap<usize, Vec<Value>>,
}

impl Live {
    fn of(&self, v: &View) -> Vec<Value> {
        self.items.get(&v.index).cloned().unwrap_or_default()
    }

    fn upsert(&mut self, v: &View, item: &Value) {
        let items = self.items.entry(v.index).or_default();
        let id = v.identity(item);
        items.retain(|i| v.identity(i) != id);
        items.push(item.clone());
    }

    fn remove(&mut self, v: &View, item: &Value) {
        let id = v.identity(item);
        if let Some(items) = self.items.get_mut(&v.index) {
            items.retain(|i| v.identity(i) != id);
        }
    }
}

/// Runs every journey that applies to the API; returns the names of those run.
pub fn run(s: &mut Session, api: &Api) -> Vec<String> {
    s.volatile = api
        .entities
        .iter()
        .filter_map(|e| e.id.as_ref())
        .filter(|id| id.generate != apigen::model::storage::Generate::Client)
        .map(|id| id.field.clone())
        .chain(
            api.operations
                .iter()
                .filter_map(|o| o.action.as_ref()?.page.as_ref()?.cursor.clone()),
        )
        .collect();
    let mut live = Live::default();
    let mut passed = Vec::new();
    let mut done = |name: String| {
        if !passed.contains(&name) {
            passed.push(name);
        }
    };
    for v in views(api) {
        if v.seed_op().is_none() {
            continue;
        }
        let name = v.name().to_string();
        crud(s, &v, &mut live);
        let verbs = v.words(&[
            (Verb::Create, "create"),
            (Verb::Get, "read"),
            (Verb::Put, "put"),
            (Verb::Update, "update"),
            (Verb::Delete, "delete"),
        ]);
        done(format!("{name}: {}", verbs.join(", ")));
        if not_found(s, &v) {
            done(format!("{name}: 404 for a missing item"));
        }
        let cases = invalid_input(s, &v);
        done(format!(
            "{name}: 400 for {cases} kinds of invalid input, nothing stored"
        ));
        if conflict_on_create(s, &v, &mut live) {
            done(format!("{name}: 409 on create of an existing item"));
        }
        if unique_values(s, &v, &mut live) {
            done(format!(
                "{name}: 409 on a taken unique value, free again after change and delete"
            ));
        }
        if if_match(s, &v, &mut live) {
            done(format!("{name}: 412 on a stale If-Match"));
        }
        if let Some(refused) = conditions(s, &v, &mut live) {
            done(format!(
                "{name}: 409 naming the field when the item does not meet a write's condition ({refused}), nothing written"
            ));
        }
        if preconditions(s, &v, &mut live) {
            done(format!(
                "{name}: empty patches, body versions, If-Match *, lists and weak tags"
            ));
        }
        if !v.reads().is_empty() {
            for n in 7..=11 {
                seed(s, &v, &mut live, n);
            }
            reads(s, &v, &live, "after seeding");
            done(format!("{name}: pagination, order and range of every read"));
            if tampered_cursor(s, &v, &live) {
                done(format!("{name}: 400 for a tampered cursor"));
            }
            if index_follows(s, &v, &mut live) {
                reads(s, &v, &live, "after index fields changed");
                done(format!(
                    "{name}: index entries follow field changes (sparse indexes included)"
                ));
            }
        }
    }
    passed
}

fn success(op: &Operation) -> u16 {
    op.responses[action(op).success]
        .status
        .code()
        .unwrap_or(200)
}

fn content_type(op: &Operation) -> String {
    op.body
        .as_ref()
        .map(|b| b.content_type.clone())
        .unwrap_or_else(|| "application/json".into())
}

fn etag(version: &Value) -> String {
    format!("\"{version}\"")
}

/// The DynamoDB requests an action may make: the minimum. `None` for `put`,
/// which reads the item first (to keep its creation time and version, and
/// to answer 201 or 200): it is measured and reported, not held to a number.
fn cost(v: &View, verb: Verb, read_scan: bool) -> Option<Vec<(&'static str, u64)>> {
    costs(verb, read_scan, !v.entity.unique.is_empty())
}

/// The cost of writing or deleting `item`: its guard items go with it only if it holds a
/// unique value (an optional one may be absent).
fn cost_of(v: &View, verb: Verb, item: &Value) -> Option<Vec<(&'static str, u64)>> {
    if without_unique(v, item).is_empty() {
        return cost(v, verb, false);
    }
    Some(match verb {
        // The read that would learn a unique value finds none: a plain delete.
        Verb::Delete => vec![("GetItem", 1), ("DeleteItem", 1)],
        _ => costs(verb, false, false)?,
    })
}

/// A label's note for an item of an entity with unique fields that holds none of them.
fn without_unique(v: &View, item: &Value) -> &'static str {
    let holds = v.entity.unique.iter().any(|f| !item[f.as_str()].is_null());
    if v.entity.unique.is_empty() || holds {
        ""
    } else {
        " (no unique value)"
    }
}

fn costs(verb: Verb, read_scan: bool, unique: bool) -> Option<Vec<(&'static str, u64)>> {
    Some(match (verb, unique) {
        (Verb::Put, _) => return None,
        (Verb::Create, false) => vec![("PutItem", 1)],
        (Verb::Create, true) => vec![("TransactWriteItems", 1)],
        (Verb::Get, _) => vec![("GetItem", 1)],
        (Verb::Update, _) => vec![("UpdateItem", 1)],
        (Verb::Delete, false) => vec![("DeleteItem", 1)],
        (Verb::List | Verb::Query, _) if read_scan => vec![("Scan", 1)],
        (Verb::List | Verb::Query, _) => vec![("Query", 1)],
        // A unique value's guard item must go with its item: one read to
        // learn the value, one transaction.
        (Verb::Delete, true) => vec![("GetItem", 1), ("TransactWriteItems", 1)],
    })
}

/// Creates the `n`-th item through `create` (or `put`).
fn seed(s: &mut Session, v: &View, live: &mut Live, n: usize) -> Value {
    seed_at(s, v, live, n).0
}

/// Creates the `n`-th item; also answers the Location the service gave it.
fn seed_at(s: &mut Session, v: &View, live: &mut Live, n: usize) -> (Value, Option<String>) {
    let op = v.seed_op().expect("a seeding operation");
    let a = action(op);
    let status = match a.verb {
        Verb::Put => a
            .created
            .and_then(|i| op.responses[i].status.code())
            .unwrap_or(201),
        _ => success(op),
    };
    let body = v.body(op, n, false);
    let request =
        Request::new(op.method.upper(), v.path(op, None, n)).json(&content_type(op), &body);
    let label = format!(
        "{} {}{}",
        v.name(),
        if a.verb == Verb::Put {
            "put (new)"
        } else {
            "create"
        },
        without_unique(v, &body)
    );
    let step = format!("{} #{n}", op.id);
    let reply = s.counted(&label, cost_of(v, a.verb, &body).as_deref(), |s| {
        s.expect(&step, request, status)
    });
    let item = reply.json();
    for field in v.entity.server_fields() {
        s.check(!item[field].is_null(), || {
            format!("{step}: the server sets `{field}`")
        });
    }
    for (field, default) in &v.entity.defaults {
        if body.get(field).is_none() {
            s.check(&item[field.as_str()] == default, || {
                format!("{step}: `{field}`, left out, is stored as its default {default}")
            });
        }
    }
    if let Some(version) = &v.entity.version {
        s.check(item[version.as_str()] == 1, || {
            format!("{step}: a new item is version 1")
        });
        s.check(reply.header("etag") == Some("\"1\""), || {
            format!("{step}: ETag \"1\"")
        });
    }
    let declared = op.responses.iter().any(|r| r.header("Location").is_some());
    let location = reply.header("location").map(str::to_string);
    s.check(!declared || location.is_some(), || {
        format!("{step}: the spec promises a Location")
    });
    live.upsert(v, &item);
    (item, location)
}

fn crud(s: &mut Session, v: &View, live: &mut Live) {
    let name = v.name().to_string();
    let (item, location) = seed_at(s, v, live, 1);
    if let Some(location) = location {
        let reply = s.expect("GET Location", Request::get(location), 200);
        s.check(reply.json() == item, || {
            "Location names the created item".into()
        });
    }
    if let Some(get) = v.op(Verb::Get) {
        let path = v.path(get, Some(&item), 0);
        let reply = s.counted(
            &format!("{name} get"),
            cost(v, Verb::Get, false).as_deref(),
            |s| s.expect(&format!("{} (created)", get.id), Request::get(&path), 200),
        );
        s.check(reply.json() == item, || {
            format!("{}: what was read differs from what was created", get.id)
        });
        if let Some(version) = &v.entity.version {
            s.check(
                reply.header("etag") == Some(etag(&item[version.as_str()]).as_str()),
                || "GET answers the version as ETag".into(),
            );
        }
    }
    let mut current = item.clone();
    if let Some(put) = v.op(Verb::Put) {
        let body = v.body(put, 1, false);
        let path = v.path(put, Some(&current), 1);
        let request = Request::new(put.method.upper(), &path).json(&content_type(put), &body);
        let label = format!("{name} put (replace)");
        let reply = s.counted(&label, cost(v, Verb::Put, false).as_deref(), |s| {
            s.expect(&format!("{} (replace)", put.id), request, success(put))
        });
        let replaced = reply.json();
        if let Some(version) = &v.entity.version {
            s.check(replaced[version.as_str()] == 2, || {
                "a replaced item is version 2".into()
            });
        }
        current = replaced;
        live.upsert(v, &current);
    }
    if let Some(update) = v.op(Verb::Update) {
        let patch = safe_patch(v, update);
        let path = v.path(update, Some(&current), 0);
        let request =
            Request::new(update.method.upper(), &path).json(&content_type(update), &patch);
        let reply = s.counted(
            &format!("{name} update"),
            cost(v, Verb::Update, false).as_deref(),
            |s| {
                s.expect(
                    &format!("{} (merge patch)", update.id),
                    request,
                    success(update),
                )
            },
        );
        let updated = reply.json();
        for (field, value) in patch.as_object().into_iter().flatten() {
            s.check(updated[field] == *value, || {
                format!("the patch sets `{field}` to {value}")
            });
        }
        if let Some(version) = &v.entity.version {
            let before = current[version.as_str()].as_i64().unwrap_or(0);
            s.check(updated[version.as_str()] == before + 1, || {
                "an update adds 1 to the version".into()
            });
        }
        current = updated;
        live.upsert(v, &current);
        // null removes an optional field (RFC 7396).
        if let Some(field) = removable(v, update) {
            let request = Request::new(update.method.upper(), &path)
                .json(&content_type(update), &json!({ field.clone(): null }));
            let reply = s.expect(
                &format!("{} (null removes {field})", update.id),
                request,
                success(update),
            );
            let updated = reply.json();
            s.check(updated[field.as_str()].is_null(), || {
                format!("`{field}: null` removes the field")
            });
            current = updated;
            live.upsert(v, &current);
        }
        if let Some(get) = v.op(Verb::Get) {
            let reply = s.expect(
                &format!("{} (updated)", get.id),
                Request::get(v.path(get, Some(&current), 0)),
                200,
            );
            s.check(reply.json() == current, || {
                "a read after update shows the update".into()
            });
        }
    }
    if let Some(delete) = v.op(Verb::Delete) {
        let path = v.path(delete, Some(&current), 0);
        s.counted(
            &format!("{name} delete{}", without_unique(v, &current)),
            cost_of(v, Verb::Delete, &current).as_deref(),
            |s| s.expect(&delete.id, Request::new("DELETE", &path), success(delete)),
        );
        live.remove(v, &current);
        if let Some(get) = v.op(Verb::Get) {
            s.expect(
                &format!("{} (deleted)", get.id),
                Request::get(v.path(get, Some(&current), 0)),
                404,
            );
        }
        s.expect(
            &format!("{} (again)", delete.id),
            Request::new("DELETE", &path),
            404,
        );
    }
}

/// A merge patch that changes no key, unique or version field.
pub fn safe_patch(v: &View, update: &Operation) -> Value {
    let shape = body_shape(update).expect("a JSON body");
    let mut patch = apigen::emit::example(v.api, shape, true);
    if let Some(obj) = patch.as_object_mut() {
        let mut drop: Vec<String> = v.entity.unique.clone();
        drop.extend(v.entity.key.vars().into_iter().map(str::to_string));
        drop.extend(v.entity.version.clone());
        for index in &v.entity.indexes {
            drop.extend(index.key.vars().into_iter().map(str::to_string));
        }
        obj.retain(|k, val| !drop.contains(k) && !val.is_null());
    }
    patch
}

/// An optional field the patch may remove with null, if there is one.
fn removable(v: &View, update: &Operation) -> Option<String> {
    let (_, patch) = v.api.types.struct_of(body_shape(update)?)?;
    let entity = v
        .api
        .types
        .struct_of(&Shape::new(Ty::Ref(v.entity.type_id)))?
        .1;
    let keys: Vec<String> = v
        .entity
        .indexes
        .iter()
        .flat_map(|i| i.key.vars())
        .map(str::to_string)
        .collect();
    patch
        .fields
        .iter()
        .filter(|f| f.shape.nullable && !keys.contains(&f.name))
        .find(|f| {
            entity
                .fields
                .iter()
                .any(|e| e.name == f.name && !e.required)
        })
        .map(|f| f.name.clone())
}

fn not_found(s: &mut Session, v: &View) -> bool {
    let mut any = false;
    for verb in [Verb::Get, Verb::Update, Verb::Delete] {
        let Some(op) = v.op(verb) else { continue };
        let path = v.path(op, None, 0);
        let mut request = Request::new(op.method.upper(), &path);
        if verb == Verb::Update {
            request = request.json(&content_type(op), &safe_patch(v, op));
        }
        s.expect(&format!("{} (missing item)", op.id), request, 404);
        any = true;
    }
    any
}

/// Every kind of invalid input the operations of an entity can receive;
/// each is a 400 (415 for a body that is not JSON) that touches no table.
fn invalid_input(s: &mut Session, v: &View) -> usize {
    let mut kinds = std::collections::BTreeSet::new();
    let label = format!("{} invalid input (any kind)", v.name());
    s.counted(&label, Some(&[]), |s| {
        for verb in [Verb::Create, Verb::Put, Verb::Update] {
            let Some(op) = v.op(verb) else { continue };
            let Some(shape) = body_shape(op) else {
                continue;
            };
            let path = if verb == Verb::Create {
                v.path(op, None, 0)
            } else {
                v.path(op, None, 3)
            };
            let ct = content_type(op);
            let good = if verb == Verb::Update {
                safe_patch(v, op)
            } else {
                v.body(op, 3, false)
            };
            let send = |s: &mut Session, what: &str, request: Request, status: u16| {
                s.expect(&format!("{} ({what})", op.id), request, status);
            };
            send(
                s,
                "malformed JSON",
                Request::new(op.method.upper(), &path).raw(&ct, "{\"unfinished\": "),
                400,
            );
            kinds.insert("malformed JSON");
            send(
                s,
                "not JSON",
                Request::new(op.method.upper(), &path).raw("text/plain", &good.to_string()),
                415,
            );
            kinds.insert("a body that is not JSON (415)");
            send(
                s,
                "not an object",
                Request::new(op.method.upper(), &path).json(&ct, &json!([1, 2])),
                400,
            );
            kinds.insert("a body that is not an object");
            if let Some((field, wrong)) = wrong_type(v.api, shape) {
                let mut body = good.clone();
                body[field.as_str()] = wrong;
                let reply = s.call(
                    &format!("{} (wrong type of {field})", op.id),
                    Request::new(op.method.upper(), &path).json(&ct, &body),
                );
                s.check_status(&op.id, &reply, 400);
                let pointer = format!("/{field}");
                s.check(
                    reply.json()["errors"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["pointer"] == pointer.as_str())),
                    || format!("the problem points at {pointer}"),
                );
                kinds.insert("a value of the wrong type");
            }
            if verb != Verb::Update {
                if let Some(field) = required_writable(v.api, shape) {
                    let mut body = good.clone();
                    body.as_object_mut().map(|o| o.remove(&field));
                    send(
                        s,
                        &format!("missing {field}"),
                        Request::new(op.method.upper(), &path).json(&ct, &body),
                        400,
                    );
                    kinds.insert("a missing required field");
                }
            }
            for (field, bad, what) in violations(v.api, shape) {
                let mut body = good.clone();
                body[field.as_str()] = bad;
                send(
                    s,
                    &format!("{what} in {field}"),
                    Request::new(op.method.upper(), &path).json(&ct, &body),
                    400,
                );
                kinds.insert(what);
            }
        }
        for op in [Verb::Get, Verb::Delete]
            .into_iter()
            .filter_map(|verb| v.op(verb))
        {
            let path = v.path(op, None, 0);
            for p in op
                .params
                .iter()
                .filter(|p| p.location == apigen::model::ParamIn::Path)
            {
                let r = &p.shape.rules;
                let checked = r.pattern.is_some()
                    || matches!(
                        p.shape.ty,
                        Ty::String(apigen::model::StrFormat::Uuid) | Ty::Integer(_)
                    );
                if !checked {
                    continue;
                }
                let example = text(&apigen::emit::example(v.api, &p.shape, true));
                let bad = path.replacen(&encode(&example), "not%20valid%21", 1);
                s.expect(
                    &format!("{} (invalid {})", op.id, p.name),
                    Request::new(op.method.upper(), bad),
                    400,
                );
                kinds.insert("an invalid path parameter");
            }
        }
        for op in v.reads() {
            let a = action(op);
            let Some(limit) = a.limit.map(|i| &op.params[i]) else {
                continue;
            };
            let path = v.path(op, None, 0);
            let mut bad = vec!["0".to_string(), "ten".to_string()];
            if let Some(max) = limit.shape.rules.maximum {
                bad.push(format!("{}", max as i64 + 1));
            }
            for value in bad {
                let query: Vec<String> = v
                    .query(op, &Value::Null)
                    .into_iter()
                    .map(|(k, v)| format!("{k}={}", encode(&v)))
                    .chain([format!("{}={value}", limit.name)])
                    .collect();
                let uri = format!("{path}?{}", query.join("&"));
                s.expect(
                    &format!("{} (limit={value})", op.id),
                    Request::get(uri),
                    400,
                );
                kinds.insert("a limit out of range or not a number");
            }
        }
    });
    kinds.len()
}

/// The first writable field and a value of the wrong JSON type for it.
fn wrong_type(api: &Api, shape: &Shape) -> Option<(String, Value)> {
    let (_, st) = api.types.struct_of(shape)?;
    let mut fields: Vec<_> = st.fields.iter().filter(|f| !f.read_only).collect();
    fields.sort_by_key(|f| !f.required);
    fields.into_iter().find_map(|f| {
        let wrong = match &api.types.resolve(&f.shape).ty {
            Ty::String(_) | Ty::Ref(_) => json!(12345),
            Ty::Integer(_) | Ty::Number(_) | Ty::Bool | Ty::Array(_) | Ty::Map(_) => {
                json!("not the right type")
            }
            Ty::Any => return None,
        };
        Some((f.name.clone(), wrong))
    })
}

fn required_writable(api: &Api, shape: &Shape) -> Option<String> {
    let (_, st) = api.types.struct_of(shape)?;
    st.fields
        .iter()
        .find(|f| f.required && !f.read_only)
        .map(|f| f.name.clone())
}

/// One value per kind of constraint the body's fields declare.
fn violations(api: &Api, shape: &Shape) -> Vec<(String, Value, &'static str)> {
    let mut out: Vec<(String, Value, &'static str)> = Vec::new();
    let Some((_, st)) = api.types.struct_of(shape) else {
        return out;
    };
    let mut seen = std::collections::BTreeSet::new();
    for f in st.fields.iter().filter(|f| !f.read_only) {
        let resolved = api.types.resolve(&f.shape);
        let r = &resolved.rules;
        let candidates: Vec<(Value, &'static str)> = match &resolved.ty {
            Ty::String(_) => {
                let mut c = Vec::new();
                if let Some(max) = r.max_length {
                    c.push((json!("x".repeat(max + 1)), "a string over its maxLength"));
                }
                if r.min_length.is_some_and(|m| m > 0) {
                    c.push((json!(""), "a string under its minLength"));
                }
                if r.pattern.is_some() {
                    c.push((json!("!?"), "a string not matching its pattern"));
                }
                c
            }
            Ty::Integer(_) | Ty::Number(_) => {
                let mut c = Vec::new();
                if let Some(max) = r.maximum {
                    c.push((json!(max as i64 + 1), "a number over its maximum"));
                }
                if let Some(min) = r.minimum {
                    c.push((json!(min as i64 - 1), "a number under its minimum"));
                }
                c
            }
            Ty::Array(_) => {
                let mut c = Vec::new();
                if r.min_items.is_some_and(|m| m > 0) {
                    c.push((json!([]), "an array under its minItems"));
                }
                c
            }
            Ty::Ref(id) if matches!(api.types.get(*id).kind, TypeKind::Enum(_)) => {
                vec![(json!("not-a-member"), "a value outside its enum")]
            }
            _ => Vec::new(),
        };
        for (value, what) in candidates {
            if seen.insert(what) {
                out.push((f.name.clone(), value, what));
            }
        }
    }
    out
}

/// A second create of an item whose key the client chose is a 409 and
/// changes nothing.
fn conflict_on_create(s: &mut Session, v: &View, live: &mut Live) -> bool {
    let Some(create) = v.op(Verb::Create) else {
        return false;
    };
    if v.client_keys(create).is_empty() {
        return false;
    }
    let item = seed(s, v, live, 2);
    let body = v.body(create, 2, false);
    let request = Request::new(create.method.upper(), v.path(create, None, 2))
        .json(&content_type(create), &body);
    s.counted(
        &format!("{} create (existing key)", v.name()),
        cost(v, Verb::Create, false).as_deref(),
        |s| s.expect(&format!("{} (existing key)", create.id), request, 409),
    );
    if let Some(get) = v.op(Verb::Get) {
        let reply = s.expect(
            &format!("{} (after 409)", get.id),
            Request::get(v.path(get, Some(&item), 0)),
            200,
        );
        s.check(reply.json() == item, || {
            "a refused create changes nothing".into()
        });
    }
    true
}

/// A unique value is taken by one item at a time: 409 for another, and free
/// again once its item changes it or is deleted.
fn unique_values(s: &mut Session, v: &View, live: &mut Live) -> bool {
    let Some(create) = v.op(Verb::Create) else {
        return false;
    };
    if v.entity.unique.is_empty() {
        return false;
    }
    let holder = seed(s, v, live, 3);
    let taking = |n: usize, from: &Value| {
        let mut body = v.body(create, n, false);
        for field in &v.entity.unique {
            body[field.as_str()] = from[field.as_str()].clone();
        }
        Request::new(create.method.upper(), v.path(create, None, n))
            .json(&content_type(create), &body)
    };
    s.expect(
        &format!("{} (taken unique value)", create.id),
        taking(4, &holder),
        409,
    );
    let Some(update) = v.op(Verb::Update) else {
        return true;
    };
    // The holder moves to a new value: the old one is free.
    let mut patch = Map::new();
    for field in &v.entity.unique {
        patch.insert(
            field.clone(),
            json!(bump(&text(&holder[field.as_str()]), 13)),
        );
    }
    let patch = Value::Object(patch);
    let path = v.path(update, Some(&holder), 0);
    let request = Request::new(update.method.upper(), &path).json(&content_type(update), &patch);
    let moved = s
        .counted(
            &format!("{} update (unique value changes)", v.name()),
            None,
            |s| {
                s.expect(
                    &format!("{} (new unique value)", update.id),
                    request,
                    success(update),
                )
            },
        )
        .json();
    live.upsert(v, &moved);
    let reply = s.expect(
        &format!("{} (freed unique value)", create.id),
        taking(4, &holder),
        201,
    );
    let second = reply.json();
    live.upsert(v, &second);
    // Taking a value by update is refused too.
    let mut back = Map::new();
    for field in &v.entity.unique {
        back.insert(field.clone(), holder[field.as_str()].clone());
    }
    let request = Request::new(update.method.upper(), &path)
        .json(&content_type(update), &Value::Object(back));
    s.expect(&format!("{} (taken unique value)", update.id), request, 409);
    if let Some(delete) = v.op(Verb::Delete) {
        let path = v.path(delete, Some(&second), 0);
        s.counted(
            &format!("{} delete", v.name()),
            cost(v, Verb::Delete, false).as_deref(),
            |s| {
                s.expect(
                    &format!("{} (holder of a unique value)", delete.id),
                    Request::new("DELETE", &path),
                    success(delete),
                )
            },
        );
        live.remove(v, &second);
        let third = s
            .expect(
                &format!("{} (value freed by delete)", create.id),
                taking(5, &holder),
                201,
            )
            .json();
        live.upsert(v, &third);
    }
    true
}

/// Writes that name a stale version in If-Match are refused with 412 and
/// change nothing.
fn if_match(s: &mut Session, v: &View, live: &mut Live) -> bool {
    let Some(version) = v.entity.version.clone() else {
        return false;
    };
    let guarded: Vec<&Operation> = [Verb::Update, Verb::Put, Verb::Delete]
        .into_iter()
        .filter_map(|verb| v.op(verb))
        .filter(|op| action(op).if_match.is_some())
        .collect();
    if guarded.is_empty() {
        return false;
    }
    let item = seed(s, v, live, 6);
    let mut current = item.clone();
    if let Some(update) = guarded.iter().find(|o| action(o).verb == Verb::Update) {
        let header = &update.params[action(update).if_match.expect("guarded")].name;
        let path = v.path(update, Some(&item), 0);
        let patch = safe_patch(v, update);
        let fresh = Request::new(update.method.upper(), &path)
            .json(&content_type(update), &patch)
            .header(header, etag(&item[version.as_str()]));
        current = s
            .expect(
                &format!("{} (current If-Match)", update.id),
                fresh.clone(),
                success(update),
            )
            .json();
        live.upsert(v, &current);
        s.expect(&format!("{} (stale If-Match)", update.id), fresh, 412);
    }
    for op in &guarded {
        let a = action(op);
        if a.verb == Verb::Update {
            continue;
        }
        let header = &op.params[a.if_match.expect("guarded")].name;
        let path = v.path(op, Some(&item), 6);
        let mut request = Request::new(op.method.upper(), &path).header(header, "\"999\"");
        if a.verb == Verb::Put {
            request = request.json(&content_type(op), &v.body(op, 6, false));
        }
        s.expect(&format!("{} (stale If-Match)", op.id), request, 412);
    }
    if let Some(get) = v.op(Verb::Get) {
        let reply = s.expect(
            &format!("{} (after 412)", get.id),
            Request::get(v.path(get, Some(&current), 0)),
            200,
        );
        s.check(reply.json() == current, || {
            "a refused write changes nothing".into()
        });
    }
    true
}

/// Each write with a `condition`, on an item whose field holds a value the condition does not
/// allow (the first of the field's enum values that it leaves out): a 409 whose problem names
/// the field, and the item as it was. Answers the operations refused, if any.
fn conditions(s: &mut Session, v: &View, live: &mut Live) -> Option<String> {
    let seed_op = v.seed_op()?;
    let mut refused = Vec::new();
    for op in v.ops() {
        let a = action(op);
        for (field, allowed) in &a.condition {
            let Some(outside) = v
                .enum_values(field)
                .into_iter()
                .find(|x| !allowed.contains(x))
            else {
                continue;
            };
            let mut body = v.body(seed_op, 30 + refused.len(), false);
            let Some(fields) = body.as_object_mut() else {
                continue;
            };
            if !fields.contains_key(field) {
                continue;
            }
            fields.insert(field.clone(), outside.clone());
            let path = v.path(seed_op, None, 30 + refused.len());
            let request =
                Request::new(seed_op.method.upper(), path).json(&content_type(seed_op), &body);
            let item = s
                .expect(
                    &format!("{} ({field} {outside})", seed_op.id),
                    request,
                    success(seed_op),
                )
                .json();
            live.upsert(v, &item);
            let mut request = Request::new(op.method.upper(), v.path(op, Some(&item), 0));
            match a.verb {
                Verb::Update => request = request.json(&content_type(op), &safe_patch(v, op)),
                Verb::Put => request = request.json(&content_type(op), &v.body(op, 31, false)),
                _ => {}
            }
            let step = format!("{} (on {field} {outside})", op.id);
            let reply = s.expect(&step, request, 409);
            let detail = reply.json()["detail"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            s.check(detail.contains(&format!("`{field}`")), || {
                format!("{step}: the problem names `{field}`: {detail}")
            });
            if let Some(get) = v.op(Verb::Get) {
                let now = s.expect(
                    &format!("{} (after the refused {})", get.id, op.id),
                    Request::get(v.path(get, Some(&item), 0)),
                    200,
                );
                s.check(now.json() == item, || {
                    format!("{step}: a write refused by its condition changes nothing")
                });
            }
            refused.push(op.id.clone());
        }
    }
    (!refused.is_empty()).then(|| refused.join(", "))
}

/// The rest of what versions promise: an empty merge patch writes nothing (and still honours
/// If-Match), a `version` in the body is a precondition like If-Match, `*` matches any current
/// item, a list matches when it names the current version, and a weak tag never matches.
fn preconditions(s: &mut Session, v: &View, live: &mut Live) -> bool {
    let Some(version) = v.entity.version.clone() else {
        return false;
    };
    let Some(update) = v.op(Verb::Update) else {
        return false;
    };
    let Some(p) = action(update).if_match else {
        return false;
    };
    let header = update.params[p].name.clone();
    let item = seed(s, v, live, 5);
    let path = v.path(update, Some(&item), 0);
    let ct = content_type(update);
    let patch = |body: &Value| Request::new(update.method.upper(), &path).json(&ct, body);
    let step = |what: &str| format!("{} ({what})", update.id);
    let tag = |item: &Value| etag(&item[version.as_str()]);
    let ok = success(update);

    let label = format!("{} empty patch", v.name());
    let reply = s.counted(&label, Some(&[("GetItem", 1)]), |s| {
        s.expect(&step("empty patch"), patch(&json!({})), ok)
    });
    s.check(reply.json() == item, || {
        "an empty patch answers the item unchanged, version included".into()
    });
    s.check(reply.header("etag") == Some(tag(&item).as_str()), || {
        "an empty patch answers the current ETag".into()
    });
    let stale = patch(&json!({})).header(&header, "\"99\"");
    s.expect(&step("empty patch, stale If-Match"), stale, 412);
    let fresh = patch(&json!({})).header(&header, tag(&item));
    s.expect(&step("empty patch, current If-Match"), fresh, ok);
    let missing = Request::new(update.method.upper(), v.path(update, None, 0));
    let missing = |h: &str| missing.clone().json(&ct, &json!({})).header(&header, h);
    s.expect(&step("empty patch, missing item"), missing("*"), 404);
    s.expect(
        &step("empty patch, missing item, If-Match"),
        missing("\"1\""),
        404,
    );

    let body_has_version = body_shape(update)
        .and_then(|shape| v.api.types.struct_of(shape))
        .is_some_and(|(_, st)| st.fields.iter().any(|f| f.name == version));
    if body_has_version {
        let mut body = safe_patch(v, update);
        body[version.as_str()] = item[version.as_str()].clone();
        let changes = body.as_object().is_some_and(|b| b.len() > 1);
        let landed = s.expect(&step("body version"), patch(&body), ok).json();
        s.check(landed[version.as_str()] == 1 + i64::from(changes), || {
            "a patch with the current version in its body lands".into()
        });
        live.upsert(v, &landed);
        if changes {
            s.expect(&step("stale body version"), patch(&body), 412);
        }
        let disagree = patch(&body).header(&header, "\"98\"");
        s.expect(&step("If-Match and body version disagree"), disagree, 412);
    }

    let safe = safe_patch(v, update);
    let mut current = s
        .expect(&step("If-Match: *"), patch(&safe).header(&header, "*"), ok)
        .json();
    live.upsert(v, &current);
    let list = format!("\"999\", {}", tag(&current));
    current = s
        .expect(
            &step("If-Match list"),
            patch(&safe).header(&header, list),
            ok,
        )
        .json();
    live.upsert(v, &current);
    let weak = format!("W/{}", tag(&current));
    s.expect(
        &step("weak If-Match"),
        patch(&safe).header(&header, weak),
        412,
    );
    if let Some(put) = v.op(Verb::Put).filter(|o| action(o).if_match.is_some()) {
        let put_header = &put.params[action(put).if_match.expect("checked")].name;
        // Item 4 is never created: a single digit keeps generated ids valid (ULIDs start 0-7).
        let request = Request::new(put.method.upper(), v.path(put, None, 4))
            .json(&content_type(put), &v.body(put, 4, false))
            .header(put_header, "*");
        s.expect(
            &format!("{} (If-Match: * on a missing item)", put.id),
            request,
            412,
        );
    }
    if let Some(get) = v.op(Verb::Get) {
        let reply = s.expect(
            &format!("{} (after the preconditions)", get.id),
            Request::get(v.path(get, Some(&current), 0)),
            200,
        );
        s.check(reply.json() == current, || {
            "refused writes and empty patches change nothing".into()
        });
        s.check(reply.header("etag") == Some(tag(&current).as_str()), || {
            "GET answers the current ETag".into()
        });
    }
    if let Some(delete) = v.op(Verb::Delete).filter(|o| action(o).if_match.is_some()) {
        let delete_header = &delete.params[action(delete).if_match.expect("checked")].name;
        let path = v.path(delete, Some(&current), 0);
        let weak =
            Request::new("DELETE", &path).header(delete_header, format!("W/{}", tag(&current)));
        s.expect(&format!("{} (weak If-Match)", delete.id), weak, 412);
        let list = Request::new("DELETE", &path)
            .header(delete_header, format!("\"999\", {}", tag(&current)));
        s.expect(
            &format!("{} (If-Match list)", delete.id),
            list,
            success(delete),
        );
        live.remove(v, &current);
    }
    true
}

/// Reads every page of every read with a small limit, for each distinct set
/// of bound values among the live items, and compares with the oracle.
fn reads(s: &mut Session, v: &View, live: &Live, when: &str) {
    let items = live.of(v);
    for op in v.reads() {
        let a = action(op);
        let key = v.read_key(a);
        let mut probes: Vec<Value> = Vec::new();
        for item in &items {
            if key.vars().iter().any(|f| item[*f].is_null()) {
                continue;
            }
            let bound: Vec<&Value> = a.bindings.iter().map(|(f, _)| &item[f.as_str()]).collect();
            if !probes.iter().any(|p| {
                a.bindings
                    .iter()
                    .map(|(f, _)| &p[f.as_str()])
                    .collect::<Vec<_>>()
                    == bound
            }) {
                probes.push(item.clone());
            }
        }
        for probe in probes.iter().take(3) {
            read_all(s, v, op, &items, probe, Bounds::default(), when);
            // Each filter alone, then all together, with values the probe passes.
            let filters = v.filter_values(op, probe);
            for one in filters.chunks(1) {
                let bounds = Bounds {
                    filter: one,
                    ..Bounds::default()
                };
                read_all(s, v, op, &items, probe, bounds, when);
            }
            if filters.len() > 1 {
                let bounds = Bounds {
                    filter: &filters,
                    ..Bounds::default()
                };
                read_all(s, v, op, &items, probe, bounds, when);
            }
            if let Some(field) = v.range_field(op) {
                let (expected, _) = v.expected(op, &items, probe, Bounds::default());
                if let Some(middle) = expected.get(expected.len() / 2) {
                    let bound = text(&middle[field.as_str()]);
                    let from = Bounds {
                        from: Some(&bound),
                        ..Bounds::default()
                    };
                    read_all(s, v, op, &items, probe, from, when);
                    if matches!(
                        a.range.as_ref().map(|r| r.op),
                        Some(RangeOp::Between { .. })
                    ) {
                        let to = Bounds {
                            to: Some(&bound),
                            ..Bounds::default()
                        };
                        read_all(s, v, op, &items, probe, to, when);
                        // Both bounds: from the first item to the middle one, in value order.
                        let first = text(&expected[0][field.as_str()]);
                        let (low, high) = ordered(v, op, &first, &bound);
                        let both = Bounds {
                            from: Some(low),
                            to: Some(high),
                            ..Bounds::default()
                        };
                        read_all(s, v, op, &items, probe, both, when);
                    }
                }
            }
        }
    }
}

fn read_uri(
    v: &View,
    op: &Operation,
    probe: &Value,
    range: Bounds,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> String {
    let a = action(op);
    let mut query: Vec<String> = v
        .query(op, probe)
        .into_iter()
        .map(|(k, val)| format!("{k}={}", encode(&val)))
        .collect();
    if let (Some(r), Some(bound)) = (&a.range, range.from) {
        query.push(format!("{}={}", op.params[r.param].name, encode(bound)));
    }
    if let (Some(RangeOp::Between { to }), Some(bound)) = (a.range.as_ref().map(|r| r.op), range.to)
    {
        query.push(format!("{}={}", op.params[to].name, encode(bound)));
    }
    for (param, value) in range.filter {
        let name = &op.params[*param].name;
        let values = match value {
            Value::Array(values) => values.clone(),
            one => vec![one.clone()],
        };
        for value in values {
            query.push(format!("{name}={}", encode(&text(&value))));
        }
    }
    if let (Some(i), Some(limit)) = (a.limit, limit) {
        query.push(format!("{}={limit}", op.params[i].name));
    }
    if let (Some(i), Some(cursor)) = (a.cursor, cursor) {
        query.push(format!("{}={}", op.params[i].name, encode(cursor)));
    }
    let path = v.path(op, Some(probe), 0);
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn read_all(
    s: &mut Session,
    v: &View,
    op: &Operation,
    items: &[Value],
    probe: &Value,
    range: Bounds,
    when: &str,
) {
    let a = action(op);
    let page = a.page.as_ref().expect("a read has a page");
    let (expected, ordered) = v.expected(op, items, probe, range);
    // A filtered page may be short, even empty: the pages end within those of the unfiltered read.
    let unfiltered = Bounds {
        filter: &[],
        ..range
    };
    let most_pages = v.expected(op, items, probe, unfiltered).0.len() + 2;
    let paged = a.limit.is_some() && a.cursor.is_some() && page.cursor.is_some();
    let mut got: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let filtered = if range.filter.is_empty() {
        ""
    } else {
        " (filtered)"
    };
    let label = format!(
        "{} {} page{filtered}",
        v.name(),
        if a.verb == Verb::List {
            "list"
        } else {
            "query"
        }
    );
    let filters: Vec<&str> = range
        .filter
        .iter()
        .map(|(p, _)| op.params[*p].name.as_str())
        .collect();
    let step = format!(
        "{} ({when}{}{})",
        op.id,
        if range.any() { ", with range" } else { "" },
        if filters.is_empty() {
            String::new()
        } else {
            format!(", filtered by {}", filters.join(" and "))
        }
    );
    loop {
        let uri = read_uri(v, op, probe, range, paged.then_some(2), cursor.as_deref());
        let reply = s.counted(&label, cost(v, a.verb, a.scan).as_deref(), |s| {
            s.call_unrecorded(&step, Request::get(uri))
        });
        s.check_status(&step, &reply, 200);
        let body = reply.json();
        let page_items = body[page.items.as_str()]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if paged {
            s.check(page_items.len() <= 2, || {
                format!("{step}: a page holds at most `limit` items")
            });
        }
        got.extend(page_items);
        pages += 1;
        s.check(pages <= most_pages, || {
            format!("{step}: the pages do not end")
        });
        match page.cursor.as_deref().map(|c| &body[c]) {
            Some(Value::String(c)) if paged => cursor = Some(c.clone()),
            _ => break,
        }
    }
    let ids = |list: &[Value]| list.iter().map(|i| v.identity(i)).collect::<Vec<_>>();
    let (mut want, mut have) = (ids(&expected), ids(&got));
    let mut unique = have.clone();
    unique.sort();
    unique.dedup();
    s.check(unique.len() == have.len(), || {
        format!("{step}: an item came back twice: {have:?}")
    });
    if !ordered {
        want.sort();
        have.sort();
    }
    s.check(want == have, || {
        format!(
            "{step}: expected these items{}:\n{want:#?}\ngot:\n{have:#?}",
            if ordered { " in this order" } else { "" }
        )
    });
    s.check(got == expected || !ordered, || {
        format!("{step}: the items read differ from those written")
    });
    s.transcript.push(format!(
        "{step} -> {} items, each once, as the index orders them",
        got.len()
    ));
}

/// A cursor that was changed by the client is a 400, not another page.
fn tampered_cursor(s: &mut Session, v: &View, live: &Live) -> bool {
    let items = live.of(v);
    for op in v.reads() {
        let a = action(op);
        let Some(page) = &a.page else { continue };
        let (Some(field), Some(_), Some(_)) = (&page.cursor, a.limit, a.cursor) else {
            continue;
        };
        let key = v.read_key(a);
        let Some(probe) = items
            .iter()
            .find(|i| key.vars().iter().all(|f| !i[*f].is_null()))
        else {
            continue;
        };
        let (expected, _) = v.expected(op, &items, probe, Bounds::default());
        if expected.len() < 2 {
            continue;
        }
        let reply = s.call_unrecorded(
            &op.id,
            Request::get(read_uri(v, op, probe, Bounds::default(), Some(1), None)),
        );
        let Some(cursor) = reply.json()[field.as_str()].as_str().map(str::to_string) else {
            s.fail(&format!(
                "{}: a first page of one item out of {} has a cursor",
                op.id,
                expected.len()
            ));
        };
        let mut chars: Vec<char> = cursor.chars().collect();
        let middle = chars.len() / 2;
        chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        s.counted(
            &format!("{} invalid input (any kind)", v.name()),
            Some(&[]),
            |s| {
                for (what, bad) in [
                    ("tampered cursor", tampered.as_str()),
                    ("garbage cursor", "not-a-cursor!"),
                ] {
                    s.expect(
                        &format!("{} ({what})", op.id),
                        Request::get(read_uri(
                            v,
                            op,
                            probe,
                            Bounds::default(),
                            Some(1),
                            Some(bad),
                        )),
                        400,
                    );
                }
            },
        );
        return true;
    }
    false
}

/// Changing a field an index key is made of moves the item in that index;
/// removing it takes the item out of a sparse index, setting it puts it in.
fn index_follows(s: &mut Session, v: &View, live: &mut Live) -> bool {
    let Some(update) = v.op(Verb::Update) else {
        return false;
    };
    let Some((_, patch_type)) = body_shape(update).and_then(|b| v.api.types.struct_of(b)) else {
        return false;
    };
    let mut changed = false;
    for index in &v.entity.indexes {
        for field in index.key.vars() {
            let Some(f) = patch_type.fields.iter().find(|f| f.name == field) else {
                continue;
            };
            let items = live.of(v);
            let path_of = |item: &Value| v.path(update, Some(item), 0);
            // An item in the index moves (or leaves it, if the field may be null).
            if let Some(item) = items.iter().find(|i| !i[field].is_null()) {
                let new = other_value(v.api, &f.shape, &item[field]);
                if let Some(new) = new {
                    let request = Request::new(update.method.upper(), path_of(item))
                        .json(&content_type(update), &json!({ field: new }));
                    let moved = s
                        .expect(
                            &format!("{} (move in {})", update.id, field),
                            request,
                            success(update),
                        )
                        .json();
                    live.upsert(v, &moved);
                    changed = true;
                }
            }
            let items = live.of(v);
            if f.shape.nullable {
                if let Some(item) = items.iter().rev().find(|i| !i[field].is_null()) {
                    let request = Request::new(update.method.upper(), path_of(item))
                        .json(&content_type(update), &json!({ field: null }));
                    let left = s
                        .expect(
                            &format!("{} (leave the sparse index)", update.id),
                            request,
                            success(update),
                        )
                        .json();
                    live.upsert(v, &left);
                    changed = true;
                }
                if let Some(item) = items.iter().find(|i| i[field].is_null()) {
                    let value = apigen::emit::example(v.api, &f.shape, true);
                    let request = Request::new(update.method.upper(), path_of(item))
                        .json(&content_type(update), &json!({ field: value }));
                    let joined = s
                        .expect(
                            &format!("{} (join the sparse index)", update.id),
                            request,
                            success(update),
                        )
                        .json();
                    live.upsert(v, &joined);
                    changed = true;
                }
            }
        }
    }
    changed
}

/// A valid value of `shape` other than `current`.
fn other_value(api: &Api, shape: &Shape, current: &Value) -> Option<Value> {
    let resolved = api.types.resolve(shape);
    match &resolved.ty {
        Ty::Ref(id) => match &api.types.get(*id).kind {
            TypeKind::Enum(e) => e
                .values
                .iter()
                .map(|v| v.value.clone())
                .find(|v| v != current),
            _ => None,
        },
        Ty::Integer(_) => {
            let i = current.as_i64()?;
            let max = resolved.rules.maximum.map(|m| m as i64).unwrap_or(i64::MAX);
            let next = if i + 40 <= max { i + 40 } else { i - 1 };
            Some(json!(next))
        }
        Ty::String(_) => Some(json!(bump(&text(current), 1))),
        _ => None,
    }
}
