//! Which repository action serves each operation: read from
//! `x-apigen-action`, or inferred from the method, path and schemas, then
//! bound to the operation's parameters, body and responses.

use serde_json::Value;

use super::actions::{Access, BoundAction, OwnerKey, PageShape, Range, RangeOp, SortOrder, Verb};
use super::filters;
use super::hints::{child, list, At, Reader, ACTION};
use super::names::Scope;
use super::operations::{Media, Method, Operation, Param, ParamIn, Response, ResponseHeader};
use super::storage::{Entity, Part, Table, Template, VarKind};
use super::types::{Field, Shape, StrFormat, Ty, TypeId, TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;

/// A `range` as written: parameter names, not yet bound.
struct DeclaredRange {
    param: String,
    op: String,
    /// `between`'s upper bound.
    to: Option<At<String>>,
}

/// What an `x-apigen-action` says, before binding.
struct Declared {
    verb: Verb,
    entity: String,
    index: Option<String>,
    order: SortOrder,
    range: Option<DeclaredRange>,
    bind: Vec<(String, String)>,
    /// `access`, where it was written.
    access: Option<(Access, String)>,
    /// `condition`: field → allowed values, each where it was written.
    condition: Vec<(At<String>, Vec<Value>)>,
    filter: Vec<filters::Declared>,
}

const ACTION_KEYS: &[&str] = &[
    "create",
    "get",
    "put",
    "update",
    "delete",
    "query",
    "list",
    "index",
    "order",
    "range",
    "bind",
    "access",
    "condition",
    "filter",
];

pub struct Context<'a> {
    /// Every schema that carries an entity hint, valid or not: an action on
    /// one whose hint has errors is not reported again.
    pub declared: &'a [String],
    pub space: &'a TypeSpace,
    pub entities: &'a [Entity],
    pub tables: &'a [Table],
}

/// Resolves the action of every operation.
pub fn resolve(ops: &mut [Operation], cx: &Context, diagnostics: &mut Vec<Diagnostic>) {
    for i in 0..ops.len() {
        let at = child(&ops[i].pointer, ACTION);
        match ops[i].hint.clone() {
            Some(Value::String(s)) if s == "none" => {
                ops[i].reason = "declared `none`: hand-written".into();
            }
            Some(hint) => {
                let mut r = Reader { diagnostics };
                let Some(declared) = read_declared(&mut r, &hint, &at) else {
                    ops[i].reason = "declared action has errors".into();
                    continue;
                };
                if cx.declared.contains(&declared.entity)
                    && !cx.entities.iter().any(|e| e.schema == declared.entity)
                {
                    ops[i].reason = format!("entity `{}` has errors", declared.entity);
                    continue;
                }
                match bind(&ops[i], &declared, cx, &at) {
                    Ok((action, warnings)) => {
                        diagnostics.extend(warnings);
                        ops[i].reason =
                            format!("declared `{}: {}`", declared.verb.as_str(), declared.entity);
                        ops[i].action = Some(action);
                    }
                    Err(d) => {
                        diagnostics.push(*d);
                        ops[i].reason = "declared action has errors".into();
                    }
                }
            }
            None => {
                let (action, reason) = infer(ops, i, cx);
                ops[i].action = action;
                ops[i].reason = reason;
            }
        }
        add_version_headers(&mut ops[i], cx.entities);
    }
}

/// A versioned entity's actions always speak ETag and If-Match, whether or not the spec
/// declares those headers: the ETag of what `get`, `create`, `put` and `update` answer, and an
/// optional If-Match on `put`, `update` and `delete`. Otherwise a spec that leaves them out
/// would answer no ETag, and silently ignore the If-Match of a client that has one.
fn add_version_headers(op: &mut Operation, entities: &[Entity]) {
    let Some(action) = &mut op.action else {
        return;
    };
    if entities[action.entity].version.is_none() {
        return;
    }
    let answers_item = matches!(
        action.verb,
        Verb::Create | Verb::Get | Verb::Put | Verb::Update
    );
    if answers_item {
        let success = [Some(action.success), action.created];
        for r in success.into_iter().flatten() {
            let response = &mut op.responses[r];
            if response.header("ETag").is_some() {
                continue;
            }
            let taken: Vec<&str> = response.headers.iter().map(|h| h.ident.as_str()).collect();
            let mut idents = Scope::with_reserved(&taken);
            idents.claim("body".into());
            response.headers.push(ResponseHeader {
                name: "ETag".into(),
                ident: idents.claim("etag".into()),
                required: false,
                shape: Shape::string(),
                doc: Some("The item's version, for `If-Match`.".into()),
            });
        }
    }
    if action.if_match.is_none() && matches!(action.verb, Verb::Put | Verb::Update | Verb::Delete) {
        let taken: Vec<&str> = op.params.iter().map(|p| p.ident.as_str()).collect();
        let mut idents = Scope::with_reserved(&taken);
        idents.claim("body".into());
        action.if_match = Some(op.params.len());
        op.params.push(Param {
            name: "If-Match".into(),
            ident: idents.claim("if_match".into()),
            location: ParamIn::Header,
            required: false,
            shape: Shape::string(),
            doc: Some("The ETag of the version this request is based on (412 when the item has changed since).".into()),
            explode: false,
            deep_object: false,
            default: None,
            pointer: op.pointer.clone(),
        });
    }
}

fn read_declared(r: &mut Reader, hint: &Value, at: &str) -> Option<Declared> {
    let map = match hint {
        Value::String(s) => {
            r.diagnostics.push(
                Diagnostic::error(at, format!("`x-apigen-action: {s}` is not an action")).help(
                    "write `none` for a hand-written operation, or a mapping such as `{get: Pet}`",
                ),
            );
            return None;
        }
        other => r.object(other, at, "`x-apigen-action`", ACTION_KEYS)?,
    };
    let verbs: Vec<Verb> = Verb::ALL
        .into_iter()
        .filter(|v| map.contains_key(v.as_str()))
        .collect();
    let verb = match verbs.as_slice() {
        [v] => *v,
        [] => {
            r.diagnostics.push(
                Diagnostic::error(at, "this action names no verb").help(format!(
                    "add one of {} with the entity as its value, such as `get: Pet`",
                    list(&Verb::ALL.map(Verb::as_str))
                )),
            );
            return None;
        }
        _ => {
            r.diagnostics.push(
                Diagnostic::error(at, "an action has exactly one verb")
                    .help("keep one of the verbs; give each operation its own action"),
            );
            return None;
        }
    };
    let entity = r.string(map, verb.as_str(), at)?.value;
    let index = r.string(map, "index", at).map(|s| s.value);
    let order = match r
        .choice(map, "order", at, &["asc", "desc"])
        .map(|s| s.value)
    {
        Some(o) if o == "desc" => SortOrder::Desc,
        _ => SortOrder::Asc,
    };
    let range = map.get("range").and_then(|v| {
        let r_at = child(at, "range");
        let m = r.object(v, &r_at, "`range`", &["param", "op", "to"])?;
        let param = r.string(m, "param", &r_at)?.value;
        let op = r.choice(m, "op", &r_at, &RangeOp::NAMES)?.value;
        let to = r.string(m, "to", &r_at);
        Some(DeclaredRange { param, op, to })
    });
    let bind = match map.get("bind") {
        Some(Value::Object(b)) => b
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        Some(_) => {
            r.diagnostics.push(
                Diagnostic::error(
                    child(at, "bind"),
                    "`bind` must map parameter names to field names",
                )
                .help("write `bind: {petName: name}`"),
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    if matches!(
        verb,
        Verb::Create | Verb::Get | Verb::Put | Verb::Update | Verb::Delete
    ) && (map.contains_key("index") || map.contains_key("range"))
    {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                format!(
                    "`{}` works on the primary key; `index` and `range` belong to `query`",
                    verb.as_str()
                ),
            )
            .help("remove `index` and `range`, or make the action a `query`"),
        );
    }
    let access = map.get("access").and_then(|v| {
        let a_at = child(at, "access");
        read_access(r, v, &a_at).map(|a| (a, a_at))
    });
    let condition = read_condition(r, map.get("condition"), &child(at, "condition"), verb);
    let filter_at = child(at, "filter");
    let reads = matches!(verb, Verb::Query | Verb::List);
    if map.contains_key("filter") && !reads {
        r.diagnostics.push(
            Diagnostic::error(
                &filter_at,
                format!(
                    "`filter` is for `query` and `list`, and this action is `{}`",
                    verb.as_str()
                ),
            )
            .help("remove `filter`"),
        );
    }
    let filter = filters::read(r, map.get("filter").filter(|_| reads), &filter_at);
    Some(Declared {
        verb,
        entity,
        index,
        order,
        range,
        bind,
        access,
        condition,
        filter,
    })
}

/// `condition: {status: [pending, paid]}` (or `{status: pending}`), on the verbs that write an
/// item that exists.
fn read_condition(
    r: &mut Reader,
    value: Option<&Value>,
    at: &str,
    verb: Verb,
) -> Vec<(At<String>, Vec<Value>)> {
    let Some(value) = value else {
        return Vec::new();
    };
    if !matches!(verb, Verb::Update | Verb::Put | Verb::Delete) {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                format!(
                    "`condition` is for `update`, `put` and `delete`, and this action is `{}`",
                    verb.as_str()
                ),
            )
            .help("remove `condition`"),
        );
        return Vec::new();
    }
    let Some(fields) = value.as_object().filter(|m| !m.is_empty()) else {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                "`condition` must map fields to the values they may hold",
            )
            .help("write `condition: {status: [pending, paid]}`"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (field, allowed) in fields {
        let field_at = child(at, field);
        let values = match allowed {
            Value::Array(values) => values.clone(),
            one => vec![one.clone()],
        };
        let scalar = |v: &Value| v.is_string() || v.is_number() || v.is_boolean();
        if values.is_empty() || values.len() > 100 || !values.iter().all(scalar) {
            r.diagnostics.push(
                Diagnostic::error(
                    &field_at,
                    format!(
                        "`{field}` needs 1 to 100 strings, numbers or booleans to compare with"
                    ),
                )
                .help(format!("write `{field}: [a, b]`")),
            );
            continue;
        }
        out.push((
            At {
                value: field.clone(),
                pointer: field_at,
            },
            values,
        ));
    }
    out
}

/// `owner`, `authenticated`, `{groups: [a, b]}`, or a list of them.
pub(crate) fn read_access(r: &mut Reader, value: &Value, at: &str) -> Option<Access> {
    let mut access = Access::default();
    let rules = match value {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let help = "write `owner`, `authenticated`, `{groups: [admin]}`, or a list of them";
    for (i, rule) in rules.into_iter().enumerate() {
        let r_at = if value.is_array() {
            format!("{at}/{i}")
        } else {
            at.to_string()
        };
        match rule {
            Value::String(s) if s == "owner" => access.owner = true,
            Value::String(s) if s == "authenticated" => access.authenticated = true,
            Value::Object(_) => {
                let map = r.object(rule, &r_at, "an access rule", &["groups"])?;
                let groups = r.strings(map, "groups", &r_at);
                if groups.is_empty() {
                    r.diagnostics.push(
                        Diagnostic::error(&r_at, "an access rule names no groups")
                            .help("write `{groups: [admin]}`"),
                    );
                    return None;
                }
                access.groups.extend(groups.into_iter().map(|g| g.value));
            }
            other => {
                let text = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_string);
                r.diagnostics.push(
                    Diagnostic::error(&r_at, format!("`{text}` is not an access rule")).help(help),
                );
                return None;
            }
        }
    }
    if access == Access::default() {
        r.diagnostics
            .push(Diagnostic::error(at, "`access` names no rule").help(help));
        return None;
    }
    Some(access)
}

type Bound = Result<(BoundAction, Vec<Diagnostic>), Box<Diagnostic>>;

fn err(at: &str, message: String, help: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(at, message).help(help))
}

/// Binds a declared action to the operation, checking everything it needs.
fn bind(op: &Operation, d: &Declared, cx: &Context, at: &str) -> Bound {
    let verb_at = child(at, d.verb.as_str());
    if !methods(d.verb).contains(&op.method) {
        let served: Vec<String> = methods(d.verb).iter().map(|m| m.upper()).collect();
        return Err(err(
            &verb_at,
            format!(
                "`{}` does not fit {} {}",
                d.verb.as_str(),
                op.method.upper(),
                op.path
            ),
            format!(
                "`{}` serves {}; {}",
                d.verb.as_str(),
                served.join(" or "),
                suggest_verb(op.method)
            ),
        ));
    }
    let Some(entity_index) = cx.entities.iter().position(|e| e.schema == d.entity) else {
        let names: Vec<&str> = cx.entities.iter().map(|e| e.schema.as_str()).collect();
        return Err(err(
            &verb_at,
            format!("action names entity `{}`, which does not exist", d.entity),
            if names.is_empty() {
                format!(
                    "add `x-apigen-entity` to schema `{}` under `components.schemas`",
                    d.entity
                )
            } else {
                format!("name one of the entities: {}", list(&names))
            },
        ));
    };
    let entity = &cx.entities[entity_index];
    let table = &cx.tables[entity.table];
    let def = cx.space.get(entity.type_id);
    let TypeKind::Struct(schema) = &def.kind else {
        unreachable!("entities are structs")
    };
    let mut warnings = Vec::new();

    let mut condition = Vec::new();
    for (field, values) in &d.condition {
        let Some(f) = schema.fields.iter().find(|f| f.name == field.value) else {
            let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(err(
                &field.pointer,
                format!(
                    "`condition` names field `{}`, which `{}` does not have",
                    field.value, entity.schema
                ),
                format!("name one of its fields: {}", list(&names)),
            ));
        };
        for (i, value) in values.iter().enumerate() {
            if let Err(misfit) = super::examples::fits(cx.space, &f.shape, value, false) {
                let value_at = if values.len() > 1 {
                    child(&field.pointer, &i.to_string())
                } else {
                    field.pointer.clone()
                };
                return Err(err(
                    &value_at,
                    format!(
                        "{value} is never a value of `{}`: {}",
                        field.value, misfit.reason
                    ),
                    format!("compare `{}` with values its schema allows", field.value),
                ));
            }
        }
        condition.push((field.value.clone(), values.clone()));
    }

    // Parameters bound to entity fields.
    let mut bindings: Vec<(String, usize)> = Vec::new();
    for (param, field) in &d.bind {
        let Some(p) = op.params.iter().position(|p| &p.name == param) else {
            return Err(err(
                &child(at, "bind"),
                format!("`bind` names parameter `{param}`, which this operation does not have"),
                "name one of the operation's parameters".into(),
            ));
        };
        if !schema.fields.iter().any(|f| &f.name == field) {
            return Err(err(
                &child(at, "bind"),
                format!(
                    "`bind` names field `{field}`, which `{}` does not have",
                    entity.schema
                ),
                "name one of the entity's properties".into(),
            ));
        }
        bindings.push((field.clone(), p));
    }
    let id_param = format!("{}Id", lower_first(&entity.schema));
    for (i, p) in op.params.iter().enumerate() {
        // A filter's parameter tests its field; it binds no key variable.
        let filters = filters::params(&d.filter).any(|name| name == p.name);
        if !matches!(p.location, ParamIn::Path | ParamIn::Query)
            || bindings.iter().any(|(_, b)| *b == i)
            || (filters && p.location == ParamIn::Query)
        {
            continue;
        }
        let field = if schema.fields.iter().any(|f| f.name == p.name) {
            Some(p.name.clone())
        } else if p.location == ParamIn::Path && p.name == id_param {
            Some(
                entity
                    .id
                    .as_ref()
                    .map(|i| i.field.clone())
                    .unwrap_or_else(|| "id".into()),
            )
        } else {
            None
        };
        if let Some(field) = field {
            if !bindings.iter().any(|(f, _)| *f == field)
                && (p.location == ParamIn::Path || !d.verb.is_item())
            {
                bindings.push((field, i));
            }
        }
    }

    let index = match (&d.index, d.verb) {
        (Some(name), Verb::Query | Verb::List) => match table.index(name) {
            Some(i) if entity.index_for(i).is_some() => Some(i),
            Some(_) => {
                return Err(err(
                    &child(at, "index"),
                    format!(
                        "entity `{}` has no key template for index `{name}`",
                        entity.schema
                    ),
                    format!(
                        "add it under the entity's `indexes`: `{name}: {{pk: \"…\", sk: \"…\"}}`"
                    ),
                ))
            }
            None => {
                let names: Vec<&str> = table.indexes.iter().map(|i| i.name.as_str()).collect();
                return Err(err(
                    &child(at, "index"),
                    format!("table `{}` has no index `{name}`", table.name),
                    if names.is_empty() {
                        "declare the index on the table under `indexes`".into()
                    } else {
                        format!("use one of {}", list(&names))
                    },
                ));
            }
        },
        _ => None,
    };
    let key_of = |index: Option<usize>| -> (&Template, Option<&Template>) {
        match index {
            None => (&entity.key.pk, entity.key.sk.as_ref()),
            Some(i) => {
                let k = &entity.index_for(i).expect("checked above").key;
                (&k.pk, k.sk.as_ref())
            }
        }
    };

    let owner_field = entity.owner.as_ref().map(|o| o.field.as_str());
    let access = match &d.access {
        Some((access, a_at)) => {
            if access.owner && entity.owner.is_none() {
                return Err(err(
                    a_at,
                    format!("`access: owner` on `{}`, which has no owner", entity.schema),
                    format!("give `{}` an owner (`x-apigen-entity: {{owner: {{field: ownerId}}}}`), or use `authenticated` or `{{groups: [...]}}`", entity.schema),
                ));
            }
            if access.authenticated && entity.owner.is_some() {
                // HINTS binds the owner from a parameter only for group
                // members: `authenticated` would hand every caller every
                // owner's items.
                return Err(err(
                    a_at,
                    format!("`access: authenticated` on `{}`, which is owned, would let every verified caller reach every owner's items", entity.schema),
                    format!("write `owner` (the default), or `{{groups: [admin]}}` for the callers who may reach other owners' items; for items every caller may read, leave `{}` without `owner`", entity.schema),
                ));
            }
            access.clone()
        }
        None => Access {
            owner: entity.owner.is_some(),
            authenticated: entity.owner.is_none(),
            groups: Vec::new(),
        },
    };
    let mut scan = false;
    let mut index = index;
    match d.verb {
        Verb::Get | Verb::Put | Verb::Update | Verb::Delete => {
            let server = entity.server_fields();
            for var in entity
                .key
                .vars()
                .into_iter()
                .filter(|v| Some(*v) != owner_field)
            {
                let from_body = d.verb == Verb::Put && body_has(op, cx.space, var);
                if bindings.iter().all(|(f, _)| f != var)
                    && !from_body
                    && !(d.verb == Verb::Put && server.contains(&var))
                {
                    return Err(err(
                        &verb_at,
                        format!("key variable `{{{var}}}` of `{}` is not bound by any parameter of {} {}", entity.schema, op.method.upper(), op.path),
                        format!("add a path parameter `{{{var}}}`, or bind one with `bind: {{paramName: {var}}}`"),
                    ));
                }
            }
        }
        Verb::Create => {
            let server = entity.server_fields();
            for var in entity
                .key
                .vars()
                .into_iter()
                .filter(|v| Some(*v) != owner_field)
            {
                if bindings.iter().all(|(f, _)| f != var)
                    && !server.contains(&var)
                    && !body_has(op, cx.space, var)
                {
                    if body_has_read_only(op, cx.space, var) {
                        return Err(err(
                            &verb_at,
                            format!("key variable `{{{var}}}` of `{}` is read-only, so clients cannot send it, and nothing else sets it: every request would be refused", entity.schema),
                            format!("drop `readOnly` from `{var}`, bind it from a path parameter `{{{var}}}`, or let the server make it with `id: {{field: {var}, generate: ulid}}`"),
                        ));
                    }
                    return Err(err(
                        &verb_at,
                        format!("key variable `{{{var}}}` of `{}` comes from nowhere: not a parameter, not in the body, not set by the server", entity.schema),
                        format!("add `{var}` to the request body's schema, or a path parameter `{{{var}}}`"),
                    ));
                }
            }
        }
        Verb::Query => {
            let (pk, _) = key_of(index);
            for var in pk.vars().filter(|v| Some(*v) != owner_field) {
                if bindings.iter().all(|(f, _)| f != var) {
                    let where_ = index
                        .map(|i| format!("index `{}`", table.indexes[i].name))
                        .unwrap_or_else(|| "the primary key".into());
                    return Err(err(
                        &verb_at,
                        format!("partition key variable `{{{var}}}` of {where_} is not bound by any parameter"),
                        format!("add a path or query parameter named `{var}`, or bind one with `bind: {{paramName: {var}}}`"),
                    ));
                }
            }
        }
        Verb::List => {
            if let Some(i) = index {
                if !key_of(Some(i)).0.is_constant() {
                    return Err(err(
                        &child(at, "index"),
                        format!("`list` needs an index whose partition key has no variables, and `{}` has `{}`", table.indexes[i].name, key_of(Some(i)).0.source),
                        "use `query` to read one partition, or an index with a constant pk such as `pk: \"ORDERS\"`".into(),
                    ));
                }
            } else {
                index = entity
                    .indexes
                    .iter()
                    .find(|ix| ix.key.pk.is_constant())
                    .map(|ix| ix.index);
                if index.is_none() {
                    scan = true;
                    warnings.push(
                        Diagnostic::warning(&verb_at, format!("`list: {}` is served by a Scan of table `{}` filtered by type", entity.schema, table.name))
                            .help(format!(
                                "a Scan reads the whole table; give `{}` an index with a constant partition key (`indexes: {{{}: {{pk: \"{}\", sk: …}}}}`) to list it with a Query",
                                entity.schema,
                                table.indexes.first().map_or("GSI1", |i| i.name.as_str()),
                                entity.type_value
                            )),
                    );
                }
            }
        }
    }

    let range = match &d.range {
        Some(declared) => {
            let query_param = |name: &str, at: &str| {
                op.params
                    .iter()
                    .position(|p| p.name == name && p.location == ParamIn::Query)
                    .ok_or_else(|| {
                        err(
                            at,
                            format!("`range` names query parameter `{name}`, which this operation does not have"),
                            format!("declare `- {{name: {name}, in: query, schema: {{type: string}}}}`"),
                        )
                    })
            };
            let range_at = child(at, "range");
            let p = query_param(&declared.param, &range_at)?;
            let op_kind = match (RangeOp::single(&declared.op), &declared.to) {
                (Some(single), None) => single,
                (None, Some(to)) => RangeOp::Between {
                    to: query_param(&to.value, &to.pointer)?,
                },
                (None, None) => {
                    return Err(err(
                        &range_at,
                        "`between` needs its upper bound".into(),
                        format!(
                            "name the query parameter that holds it: `range: {{op: between, param: {}, to: until}}`",
                            declared.param
                        ),
                    ))
                }
                (Some(_), Some(to)) => {
                    return Err(err(
                        &to.pointer,
                        format!("`to` is the upper bound of `between`, and this range is `{}`", declared.op),
                        "remove `to`, or write `op: between`".into(),
                    ))
                }
            };
            if matches!(op_kind, RangeOp::Between { to } if to == p) {
                return Err(err(
                    &range_at,
                    "`between` needs two parameters, and `param` and `to` name the same one".into(),
                    "name the lower bound in `param` and the upper one in `to`".into(),
                ));
            }
            let Some(sk) = key_of(index).1 else {
                return Err(err(
                    &range_at,
                    "`range` needs a sort key, and this index has none".into(),
                    "remove `range`, or query an index with a sort key".into(),
                ));
            };
            let first = sk.parts.iter().find_map(|p| match p {
                Part::Var { kind, field } => Some((*kind, field.clone())),
                Part::Lit(_) => None,
            });
            if op_kind == RangeOp::BeginsWith && matches!(first, Some((VarKind::Integer, _))) {
                return Err(err(
                    &range_at,
                    format!("`beginsWith` cannot match integer `{}`: sort keys hold integers in a fixed-width form", first.map(|f| f.1).unwrap_or_default()),
                    "compare integers with `gt`, `gte`, `lt`, `lte` or `between`".into(),
                ));
            }
            Some(Range {
                param: p,
                op: op_kind,
            })
        }
        None => None,
    };

    let find_param = |names: &[&str], location: ParamIn| {
        op.params.iter().position(|p| {
            location == p.location && names.iter().any(|n| p.name.eq_ignore_ascii_case(n))
        })
    };
    let limit = find_param(&["limit", "pageSize", "page_size"], ParamIn::Query);
    let cursor = find_param(
        &["cursor", "nextCursor", "pageToken", "page_token", "next"],
        ParamIn::Query,
    );
    let if_match = find_param(&["If-Match"], ParamIn::Header);

    let filter = {
        // DynamoDB refuses filters on the key attributes of what it reads: the index's, or the
        // table's for the primary key and a Scan.
        let read = index.map(|i| &table.indexes[i]);
        let (pk, sk) = match read {
            Some(ix) => (&ix.pk, ix.sk.as_ref()),
            None => (&table.pk, table.sk.as_ref()),
        };
        let mut key_fields = vec![pk.name.as_str()];
        key_fields.extend(sk.map(|k| k.name.as_str()));
        let mut taken: Vec<usize> = bindings.iter().map(|(_, p)| *p).collect();
        taken.extend(range.as_ref().map(|r| r.param));
        if let Some(RangeOp::Between { to }) = range.as_ref().map(|r| r.op) {
            taken.push(to);
        }
        taken.extend(limit);
        taken.extend(cursor);
        let target = filters::Target {
            space: cx.space,
            entity: &entity.schema,
            fields: &schema.fields,
            key_fields: &key_fields,
            keys_only: read
                .filter(|ix| ix.projection == super::storage::Projection::KeysOnly)
                .map(|ix| ix.name.as_str()),
            taken: &taken,
        };
        filters::bind(&d.filter, op, &target)?
    };

    // Body checks.
    if matches!(d.verb, Verb::Create | Verb::Put | Verb::Update) {
        match op.body.as_ref().map(|b| &b.media) {
            Some(Media::Json(shape)) => {
                if d.verb != Verb::Update {
                    let body_struct = cx.space.struct_of(shape);
                    let server = entity.server_fields();
                    for f in schema.fields.iter().filter(|f| f.required && !f.read_only) {
                        let from_body = body_struct.is_some_and(|(_, s)| s.fields.iter().any(|x| x.name == f.name && (x.required || x.read_only)));
                        let bound = bindings.iter().any(|(b, _)| *b == f.name);
                        if !from_body && !bound && !server.contains(&f.name.as_str()) {
                            return Err(err(
                                &op.pointer,
                                format!("required field `{}` of `{}` is not a required property of this request body", f.name, entity.schema),
                                format!("add `{}` to the body schema's `required` list, or mark it `readOnly` in `{}`", f.name, entity.schema),
                            ));
                        }
                    }
                }
            }
            _ => {
                return Err(err(
                    &op.pointer,
                    format!("`{}` needs a JSON request body", d.verb.as_str()),
                    format!("add `requestBody: {{required: true, content: {{application/json: {{schema: {{$ref: '#/components/schemas/{}'}}}}}}}}`", entity.schema),
                ))
            }
        }
    }

    // Response checks.
    let wants_item = |shape: &Shape| shape.is_ref_to(entity.type_id);
    let find = |codes: &[u16], pred: &dyn Fn(&Response) -> bool| {
        op.responses.iter().position(|r| {
            !r.problem && r.status.code().is_some_and(|c| codes.contains(&c)) && pred(r)
        })
    };
    let item_response = |r: &Response| r.json().is_some_and(wants_item);
    let (success, created, page) = match d.verb {
        Verb::Create => (find(&[201, 200], &item_response), None, None),
        Verb::Get | Verb::Update => (find(&[200], &item_response), None, None),
        Verb::Put => {
            let ok = find(&[200], &item_response);
            let created = find(&[201], &item_response);
            (ok.or(created), created.or(ok), None)
        }
        Verb::Delete => (find(&[204, 200], &|r| r.media.is_none()), None, None),
        Verb::Query | Verb::List => {
            let found = op.responses.iter().enumerate().find_map(|(i, r)| {
                if r.status.code() != Some(200) {
                    return None;
                }
                page_shape(cx.space, r.json()?, entity.type_id).map(|p| (i, p))
            });
            match found {
                Some((i, p)) => (Some(i), None, Some(p)),
                None => (None, None, None),
            }
        }
    };
    let Some(success) = success else {
        let expected = match d.verb {
            Verb::Create => format!("a 201 response with `$ref: '#/components/schemas/{}'`", entity.schema),
            Verb::Get | Verb::Update | Verb::Put => format!("a 200 response with `$ref: '#/components/schemas/{}'`", entity.schema),
            Verb::Delete => "a 204 response with no content".into(),
            Verb::Query | Verb::List => format!("a 200 response with an object holding `items: {{type: array, items: {{$ref: '#/components/schemas/{}'}}}}` and `nextCursor: {{type: string}}`", entity.schema),
        };
        return Err(err(
            &child(&op.pointer, "responses"),
            format!("`{}: {}` needs {expected}", d.verb.as_str(), entity.schema),
            format!("declare {expected}"),
        ));
    };
    if let Some(p) = &page {
        if p.cursor.is_none() {
            warnings.push(
                Diagnostic::warning(
                    child(&op.pointer, "responses"),
                    "this page has no cursor property, so only the first page can be read",
                )
                .help("add `nextCursor: {type: [string, \"null\"]}` to the page schema"),
            );
        }
    }
    let owner = match &entity.owner {
        None => None,
        Some(o) => {
            let (pk, _) = key_of(index);
            let confined = !scan && pk.vars().any(|v| v == o.field);
            if !confined && (access.owner || !access.opens()) {
                let where_ = match (scan, index) {
                    (true, _) => format!("a Scan of table `{}`", table.name),
                    (false, Some(i)) => format!(
                        "index `{}`, whose partition key `{}` has no `{{{}}}`",
                        table.indexes[i].name, pk.source, o.field
                    ),
                    (false, None) => "the primary key".into(),
                };
                return Err(err(
                    &verb_at,
                    format!("`{}: {}` reads {where_}, so it cannot be confined to the caller's items", d.verb.as_str(), entity.schema),
                    format!("query an index whose partition key holds `{{{}}}`, or open it to groups only: `access: {{groups: [admin]}}`", o.field),
                ));
            }
            Some(OwnerKey {
                field: o.field.clone(),
                claim: o.claim.clone(),
                param: bindings
                    .iter()
                    .find(|(f, _)| *f == o.field)
                    .map(|(_, p)| *p),
                confined,
            })
        }
    };
    Ok((
        BoundAction {
            access,
            owner,
            verb: d.verb,
            entity: entity_index,
            index,
            order: d.order,
            range,
            bindings,
            limit,
            cursor,
            if_match,
            scan,
            success,
            created,
            page,
            condition,
            filter,
        },
        warnings,
    ))
}

/// Whether every body a client may send holds `field`: required, and not
/// read-only (the server drops read-only fields from what clients send).
fn body_has(op: &Operation, space: &TypeSpace, field: &str) -> bool {
    body_field(op, space, field).is_some_and(|f| f.required && !f.read_only)
}

fn body_has_read_only(op: &Operation, space: &TypeSpace, field: &str) -> bool {
    body_field(op, space, field).is_some_and(|f| f.read_only)
}

fn body_field<'a>(op: &Operation, space: &'a TypeSpace, field: &str) -> Option<&'a Field> {
    match op.body.as_ref().map(|b| &b.media) {
        Some(Media::Json(shape)) => space
            .struct_of(shape)
            .and_then(|(_, s)| s.fields.iter().find(|f| f.name == field)),
        _ => None,
    }
}

/// The HTTP methods a verb may serve.
fn methods(verb: Verb) -> &'static [Method] {
    match verb {
        Verb::Create => &[Method::Post, Method::Put],
        Verb::Get => &[Method::Get],
        Verb::Put => &[Method::Put],
        Verb::Update => &[Method::Patch, Method::Post],
        Verb::Delete => &[Method::Delete],
        Verb::Query | Verb::List => &[Method::Get],
    }
}

fn suggest_verb(method: Method) -> String {
    let verbs: Vec<&str> = Verb::ALL
        .iter()
        .filter(|v| methods(**v).contains(&method))
        .map(|v| v.as_str())
        .collect();
    if verbs.is_empty() {
        format!(
            "no action serves {}; write `x-apigen-action: none`",
            method.upper()
        )
    } else {
        format!("for {} use {}", method.upper(), list(&verbs))
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A response schema that is a page of `entity`.
fn page_shape(space: &TypeSpace, shape: &Shape, entity: TypeId) -> Option<PageShape> {
    let (type_id, s) = space.struct_of(shape)?;
    let items = s
        .fields
        .iter()
        .find(|f| matches!(&f.shape.ty, Ty::Array(inner) if inner.is_ref_to(entity)))?;
    let is_string = |f: &&Field| matches!(space.resolve(&f.shape).ty, Ty::String(StrFormat::Plain));
    let strings: Vec<&Field> = s.fields.iter().filter(is_string).collect();
    let cursor = strings
        .iter()
        .find(|f| {
            let n = f.name.to_lowercase();
            n.contains("cursor") || n.contains("next") || n.contains("token")
        })
        .or(strings.first())
        .copied();
    Some(PageShape {
        type_id,
        items: items.name.clone(),
        cursor_nullable: cursor.is_some_and(|c| c.shape.nullable),
        cursor: cursor.map(|c| c.name.clone()),
    })
}

/// Infers an action for operation `i`, or says why none was inferred.
fn infer(ops: &[Operation], i: usize, cx: &Context) -> (Option<BoundAction>, String) {
    let op = &ops[i];
    if cx.entities.is_empty() {
        return (
            None,
            "no action: the spec declares no entities; hand-written".into(),
        );
    }
    let is_item_path = op.path.trim_end_matches('/').ends_with('}');
    let entity_of_shape = |shape: &Shape| -> Option<usize> {
        let id = match &shape.ty {
            Ty::Ref(id) => *id,
            _ => return None,
        };
        cx.entities
            .iter()
            .position(|e| e.type_id == id || cx.space.get(id).input_of == Some(e.type_id))
    };
    let body_entity = op.body.as_ref().and_then(|b| match &b.media {
        Media::Json(s) => entity_of_shape(s),
        _ => None,
    });
    let response_entity = op
        .success()
        .find_map(|r| r.json().and_then(entity_of_shape));
    let page_entity = op.success().find_map(|r| {
        let shape = r.json()?;
        cx.entities
            .iter()
            .position(|e| page_shape(cx.space, shape, e.type_id).is_some())
    });
    let sibling_entity = || {
        ops.iter()
            .filter(|o| o.path == op.path && o.method != op.method)
            .find_map(|o| o.success().find_map(|r| r.json().and_then(entity_of_shape)))
    };
    let (verb, entity) = match (op.method, is_item_path) {
        (Method::Post, false) => (Verb::Create, body_entity.or(response_entity)),
        (Method::Get, true) => (Verb::Get, response_entity),
        (Method::Put, true) => (Verb::Put, body_entity.or(response_entity)),
        (Method::Patch, true) => (Verb::Update, response_entity.or(body_entity)),
        (Method::Delete, true) => (Verb::Delete, response_entity.or_else(sibling_entity)),
        (Method::Get, false) => (Verb::Query, page_entity),
        _ => {
            return (
                None,
                format!(
                    "no action: {} {} matches no storage pattern; hand-written",
                    op.method.upper(),
                    op.path
                ),
            )
        }
    };
    let Some(entity) = entity else {
        return (
            None,
            format!(
                "no action: {} {} uses no entity schema; hand-written",
                op.method.upper(),
                op.path
            ),
        );
    };
    let name = cx.entities[entity].schema.clone();
    let attempt = |verb: Verb, index: Option<String>| Declared {
        verb,
        entity: name.clone(),
        index,
        order: SortOrder::Asc,
        range: None,
        bind: Vec::new(),
        access: None,
        condition: Vec::new(),
        filter: Vec::new(),
    };
    let mut candidates = vec![attempt(verb, None)];
    if verb == Verb::Query {
        let e = &cx.entities[entity];
        for ix in &e.indexes {
            candidates.push(attempt(
                Verb::Query,
                Some(cx.tables[e.table].indexes[ix.index].name.clone()),
            ));
        }
        candidates.push(attempt(Verb::List, None));
    }
    let mut last_error = String::new();
    for d in candidates {
        match bind(op, &d, cx, &op.pointer) {
            Ok((action, _)) => {
                let how = match &d.index {
                    Some(ix) => format!("`{}: {name}, index: {ix}`", d.verb.as_str()),
                    None => format!("`{}: {name}`", d.verb.as_str()),
                };
                let scan = if action.scan {
                    " (served by a Scan)"
                } else {
                    ""
                };
                return (
                    Some(action),
                    format!(
                        "inferred {how}{scan}: {} on a {} path with {name} schemas",
                        op.method.upper(),
                        if is_item_path {
                            "single-item"
                        } else {
                            "collection"
                        }
                    ),
                );
            }
            Err(e) => last_error = e.message,
        }
    }
    (
        None,
        format!(
            "no action: looks like `{}: {name}`, but {last_error}; hand-written",
            verb.as_str()
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A versioned `Note` whose operations declare neither ETag nor If-Match.
    const UNDECLARED: &str = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
x-apigen: {tables: {Main: {pk: PK, sk: SK}}}
paths:
  /notes:
    post:
      operationId: createNote
      x-apigen-action: {create: Note}
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
      responses:
        '201': {description: c, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
  /notes/{noteId}:
    parameters: [{name: noteId, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getNote
      x-apigen-action: {get: Note}
      responses:
        '200': {description: g, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
    put:
      operationId: putNote
      x-apigen-action: {put: Note}
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
      responses:
        '200': {description: r, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
        '201': {description: c, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
    patch:
      operationId: updateNote
      x-apigen-action: {update: Note}
      parameters: [{name: if_match, in: query, schema: {type: string}}]
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
      responses:
        '200': {description: u, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
    delete:
      operationId: deleteNote
      x-apigen-action: {delete: Note}
      responses:
        '204': {description: d}
components:
  schemas:
    Note:
      type: object
      required: [id, version]
      properties:
        id: {type: string, readOnly: true}
        text: {type: string}
        version: {type: integer, readOnly: true}
      x-apigen-entity: {version: version}
"#;

    fn api(text: &str) -> crate::model::Api {
        let spec = crate::load::parse(Path::new("t.yaml"), text.to_string()).expect("parses");
        crate::model::build(&spec, None).expect("builds")
    }

    #[test]
    fn versioned_actions_always_answer_etag_and_read_if_match() {
        let api = api(UNDECLARED);
        let op = |id: &str| api.operations.iter().find(|o| o.id == id).expect(id);
        for id in ["createNote", "getNote", "putNote", "updateNote"] {
            let op = op(id);
            let action = op.action.as_ref().expect("an action");
            for r in [Some(action.success), action.created].into_iter().flatten() {
                let etag = op.responses[r].header("ETag");
                assert!(
                    etag.is_some_and(|h| !h.required && h.ident == "etag"),
                    "{id}"
                );
            }
        }
        for id in ["putNote", "updateNote", "deleteNote"] {
            let op = op(id);
            let p = op.action.as_ref().and_then(|a| a.if_match).expect(id);
            let param = &op.params[p];
            assert_eq!(
                (param.name.as_str(), param.location),
                ("If-Match", ParamIn::Header)
            );
            assert!(!param.required, "{id}");
        }
        // The query parameter already holds the name `if_match`.
        let update = op("updateNote");
        let p = update
            .action
            .as_ref()
            .and_then(|a| a.if_match)
            .expect("If-Match");
        assert_eq!(update.params[p].ident, "if_match_2");
        for id in ["getNote", "createNote"] {
            assert!(op(id).params.iter().all(|p| p.name != "If-Match"), "{id}");
        }
    }

    #[test]
    fn unversioned_entities_get_no_version_headers() {
        let api =
            api(&UNDECLARED.replace("x-apigen-entity: {version: version}", "x-apigen-entity: {}"));
        for op in &api.operations {
            assert!(op.params.iter().all(|p| p.name != "If-Match"), "{}", op.id);
            assert!(
                op.responses.iter().all(|r| r.header("ETag").is_none()),
                "{}",
                op.id
            );
        }
    }

    /// A spec with entity `Pet` (primary key by `petId`, index GSI1 by
    /// owner) in table `Main`, and these paths (YAML, indented by two).
    fn pets(paths: &str) -> String {
        format!(
            r#"openapi: 3.0.3
info: {{title: t, version: '1'}}
x-apigen:
  tables:
    Main:
      pk: PK
      sk: SK
      indexes:
        GSI1: {{pk: GSI1PK, sk: GSI1SK}}
        GSI2: {{pk: GSI2PK, sk: GSI2SK}}
paths:
{paths}components:
  schemas:
    Pet:
      type: object
      required: [petId, owner, name]
      properties:
        petId: {{type: string}}
        owner: {{type: string}}
        name: {{type: string}}
      x-apigen-entity:
        key: {{pk: "PET#{{petId}}", sk: "PET"}}
        indexes:
          GSI1: {{pk: "OWNER#{{owner}}", sk: "{{name}}#{{petId}}"}}
    PetPage:
      type: object
      required: [items]
      properties:
        items: {{type: array, items: {{$ref: '#/components/schemas/Pet'}}}}
        nextCursor: {{type: string, nullable: true}}
"#
        )
    }

    const PET: &str = "{description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}";
    const PAGE: &str = "{description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/PetPage'}}}}";
    const PET_BODY: &str = "{required: true, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}";

    /// One operation on `path`: its method, `x-apigen-action` (or none),
    /// parameters and responses, as flow YAML.
    fn one(path: &str, method: &str, action: Option<&str>, params: &str, extra: &str) -> String {
        let action = action
            .map(|a| format!("      x-apigen-action: {a}\n"))
            .unwrap_or_default();
        format!("  {path}:\n    {method}:\n      operationId: op\n{action}      parameters: [{params}]\n{extra}")
    }

    fn responses(list: &[(&str, &str)]) -> String {
        let mut out = "      responses:\n".to_string();
        for (code, r) in list {
            out.push_str(&format!("        '{code}': {r}\n"));
        }
        out
    }

    const PET_ID: &str = "{name: petId, in: path, required: true, schema: {type: string}}";

    fn bound(paths: &str) -> (Operation, crate::model::Api) {
        let api = api(&pets(paths));
        let op = api
            .operations
            .iter()
            .find(|o| o.id == "op")
            .expect("op")
            .clone();
        (op, api)
    }

    fn action_of(paths: &str) -> BoundAction {
        let (op, _) = bound(paths);
        op.action
            .unwrap_or_else(|| panic!("no action: {}", op.reason))
    }

    /// The one error the model reports for these paths.
    fn error_of(paths: &str) -> Diagnostic {
        let spec = crate::load::parse(Path::new("t.yaml"), pets(paths)).expect("parses");
        let found = crate::model::build(&spec, None).expect_err("has errors");
        let errors: Vec<Diagnostic> = found.into_iter().filter(Diagnostic::is_error).collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.into_iter().next().expect("one")
    }

    #[test]
    fn a_declared_get_binds_the_path_parameter_of_the_key_field() {
        let a = action_of(&one(
            "/pets/{petId}",
            "get",
            Some("{get: Pet}"),
            PET_ID,
            &responses(&[("404", "{description: no}"), ("200", PET)]),
        ));
        assert_eq!((a.verb, a.entity, a.index), (Verb::Get, 0, None));
        assert_eq!(a.bindings, [("petId".to_string(), 0)]);
        // The 200 (declared second), not the 404.
        assert_eq!(a.success, 1);
    }

    #[test]
    fn bind_maps_a_parameter_of_another_name_to_a_key_field() {
        let a = action_of(&one(
            "/pets/{id}",
            "get",
            Some("{get: Pet, bind: {id: petId}}"),
            "{name: id, in: path, required: true, schema: {type: string}}",
            &responses(&[("200", PET)]),
        ));
        assert_eq!(a.bindings, [("petId".to_string(), 0)]);
        assert_eq!(a.binding("petId"), Some(0));
    }

    #[test]
    fn bind_naming_a_parameter_the_operation_lacks_is_an_error_at_bind() {
        let d = error_of(&one(
            "/pets/{petId}",
            "get",
            Some("{get: Pet, bind: {nope: petId}}"),
            PET_ID,
            &responses(&[("200", PET)]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets~1{petId}/get/x-apigen-action/bind");
        assert_eq!(
            d.message,
            "`bind` names parameter `nope`, which this operation does not have"
        );
    }

    #[test]
    fn bind_naming_a_field_the_entity_lacks_is_an_error() {
        let d = error_of(&one(
            "/pets/{petId}",
            "get",
            Some("{get: Pet, bind: {petId: nope}}"),
            PET_ID,
            &responses(&[("200", PET)]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets~1{petId}/get/x-apigen-action/bind");
        assert_eq!(
            d.message,
            "`bind` names field `nope`, which `Pet` does not have"
        );
    }

    #[test]
    fn a_verb_that_does_not_fit_the_method_is_an_error_suggesting_verbs() {
        let d = error_of(&one(
            "/pets/{petId}",
            "post",
            Some("{get: Pet}"),
            PET_ID,
            &responses(&[("200", PET)]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets~1{petId}/post/x-apigen-action/get");
        assert_eq!(d.message, "`get` does not fit POST /pets/{petId}");
        assert_eq!(
            d.help.as_deref(),
            Some("`get` serves GET; for POST use `create`, `update`")
        );
    }

    #[test]
    fn an_unknown_entity_is_an_error_listing_the_entities() {
        let d = error_of(&one(
            "/pets/{petId}",
            "get",
            Some("{get: Dog}"),
            PET_ID,
            &responses(&[("200", PET)]),
        ));
        assert_eq!(d.message, "action names entity `Dog`, which does not exist");
        assert_eq!(d.help.as_deref(), Some("name one of the entities: `Pet`"));
    }

    #[test]
    fn a_key_variable_no_parameter_binds_is_an_error() {
        let d = error_of(&one(
            "/pets/{id}",
            "get",
            Some("{get: Pet}"),
            "{name: id, in: path, required: true, schema: {type: string}}",
            &responses(&[("200", PET)]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets~1{id}/get/x-apigen-action/get");
        assert_eq!(
            d.message,
            "key variable `{petId}` of `Pet` is not bound by any parameter of GET /pets/{id}"
        );
    }

    #[test]
    fn read_errors_in_the_hint_itself() {
        let cases = [
            ("get", "`x-apigen-action: get` is not an action"),
            ("{get: Pet, delete: Pet}", "an action has exactly one verb"),
            ("{index: GSI1}", "this action names no verb"),
            (
                "{get: Pet, index: GSI1}",
                "`get` works on the primary key; `index` and `range` belong to `query`",
            ),
        ];
        for (hint, message) in cases {
            let d = error_of(&one(
                "/pets/{petId}",
                "get",
                Some(hint),
                PET_ID,
                &responses(&[("200", PET)]),
            ));
            assert_eq!(
                d.pointer, "/paths/~1pets~1{petId}/get/x-apigen-action",
                "{hint}"
            );
            assert_eq!(d.message, message, "{hint}");
        }
    }

    #[test]
    fn a_query_on_an_index_binds_its_partition_key_and_reads_paging_parameters() {
        let a = action_of(&one(
            "/owners/{owner}/pets",
            "get",
            Some("{query: Pet, index: GSI1, order: desc}"),
            "{name: owner, in: path, required: true, schema: {type: string}}, {name: limit, in: query, schema: {type: integer}}, {name: cursor, in: query, schema: {type: string}}",
            &responses(&[("200", PAGE)]),
        ));
        assert_eq!(
            (a.verb, a.index, a.order),
            (Verb::Query, Some(0), SortOrder::Desc)
        );
        assert_eq!(a.bindings, [("owner".to_string(), 0)]);
        assert_eq!(
            (a.limit, a.cursor, a.range.is_none()),
            (Some(1), Some(2), true)
        );
        let page = a.page.expect("a page");
        assert_eq!(
            (page.items.as_str(), page.cursor.as_deref()),
            ("items", Some("nextCursor"))
        );
        assert!(page.cursor_nullable);
    }

    #[test]
    fn range_binds_a_query_parameter_with_its_operator() {
        let a = action_of(&one(
            "/owners/{owner}/pets",
            "get",
            Some("{query: Pet, index: GSI1, range: {param: from, op: beginsWith}}"),
            "{name: owner, in: path, required: true, schema: {type: string}}, {name: from, in: query, schema: {type: string}}",
            &responses(&[("200", PAGE)]),
        ));
        let range = a.range.expect("a range");
        assert_eq!((range.param, range.op), (1, RangeOp::BeginsWith));
    }

    #[test]
    fn range_naming_a_missing_query_parameter_is_an_error_at_range() {
        let d = error_of(&one(
            "/owners/{owner}/pets",
            "get",
            Some("{query: Pet, index: GSI1, range: {param: from, op: gt}}"),
            "{name: owner, in: path, required: true, schema: {type: string}}",
            &responses(&[("200", PAGE)]),
        ));
        assert_eq!(
            d.pointer,
            "/paths/~1owners~1{owner}~1pets/get/x-apigen-action/range"
        );
        assert_eq!(
            d.message,
            "`range` names query parameter `from`, which this operation does not have"
        );
    }

    #[test]
    fn an_index_the_table_lacks_or_the_entity_does_not_fill_is_an_error_at_index() {
        let owner = "{name: owner, in: path, required: true, schema: {type: string}}";
        let d = error_of(&one(
            "/owners/{owner}/pets",
            "get",
            Some("{query: Pet, index: GSI9}"),
            owner,
            &responses(&[("200", PAGE)]),
        ));
        assert_eq!(
            d.pointer,
            "/paths/~1owners~1{owner}~1pets/get/x-apigen-action/index"
        );
        assert_eq!(d.message, "table `Main` has no index `GSI9`");
        assert_eq!(d.help.as_deref(), Some("use one of `GSI1`, `GSI2`"));
        let d = error_of(&one(
            "/owners/{owner}/pets",
            "get",
            Some("{query: Pet, index: GSI2}"),
            owner,
            &responses(&[("200", PAGE)]),
        ));
        assert_eq!(
            d.message,
            "entity `Pet` has no key template for index `GSI2`"
        );
    }

    #[test]
    fn a_list_without_a_constant_index_is_a_scan_with_a_warning() {
        let (op, api) = bound(&one(
            "/pets",
            "get",
            Some("{list: Pet}"),
            "",
            &responses(&[("200", PAGE)]),
        ));
        let a = op.action.expect("an action");
        assert_eq!((a.verb, a.index, a.scan), (Verb::List, None, true));
        assert!(
            api.warnings.iter().any(|w| w.message
                == "`list: Pet` is served by a Scan of table `Main` filtered by type"
                && w.pointer == "/paths/~1pets/get/x-apigen-action/list"),
            "{:#?}",
            api.warnings
        );
    }

    #[test]
    fn a_list_uses_an_index_with_a_constant_partition_key() {
        let paths = one(
            "/pets",
            "get",
            Some("{list: Pet}"),
            "",
            &responses(&[("200", PAGE)]),
        );
        let text = pets(&paths).replace(
            "          GSI1: {pk: \"OWNER#{owner}\"",
            "          GSI2: {pk: \"PETS\", sk: \"{petId}\"}\n          GSI1: {pk: \"OWNER#{owner}\"",
        );
        let api = api(&text);
        let a = api.operations[0].action.as_ref().expect("an action");
        assert_eq!((a.index, a.scan), (Some(1), false));
    }

    #[test]
    fn create_needs_its_key_a_json_body_and_every_required_field() {
        let d = error_of(&one(
            "/pets",
            "post",
            Some("{create: Pet}"),
            "",
            &responses(&[("201", PET)]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets/post/x-apigen-action/create");
        assert_eq!(d.message, "key variable `{petId}` of `Pet` comes from nowhere: not a parameter, not in the body, not set by the server");
        let d = error_of(&one(
            "/pets/{petId}",
            "post",
            Some("{create: Pet}"),
            PET_ID,
            &responses(&[("201", PET)]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets~1{petId}/post");
        assert_eq!(d.message, "`create` needs a JSON request body");
        let partial = "      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [petId, name], properties: {petId: {type: string}, name: {type: string}}}}}}\n";
        let d = error_of(&one(
            "/pets",
            "post",
            Some("{create: Pet}"),
            "",
            &format!("{partial}{}", responses(&[("201", PET)])),
        ));
        assert_eq!(
            d.message,
            "required field `owner` of `Pet` is not a required property of this request body"
        );
    }

    #[test]
    fn a_missing_success_response_is_an_error_saying_what_to_declare() {
        let d = error_of(&one(
            "/pets/{petId}",
            "get",
            Some("{get: Pet}"),
            PET_ID,
            &responses(&[("404", "{description: no}")]),
        ));
        assert_eq!(d.pointer, "/paths/~1pets~1{petId}/get/responses");
        assert_eq!(
            d.message,
            "`get: Pet` needs a 200 response with `$ref: '#/components/schemas/Pet'`"
        );
    }

    #[test]
    fn put_answers_replaced_with_200_and_created_with_201() {
        let body = format!("      requestBody: {PET_BODY}\n");
        let a = action_of(&one(
            "/pets/{petId}",
            "put",
            Some("{put: Pet}"),
            PET_ID,
            &format!("{body}{}", responses(&[("201", PET), ("200", PET)])),
        ));
        assert_eq!((a.verb, a.success, a.created), (Verb::Put, 1, Some(0)));
    }

    #[test]
    fn an_undeclared_item_get_is_inferred_and_says_so() {
        let (op, _) = bound(&one(
            "/pets/{petId}",
            "get",
            None,
            PET_ID,
            &responses(&[("200", PET)]),
        ));
        let a = op.action.expect("inferred");
        assert_eq!((a.verb, a.index), (Verb::Get, None));
        assert_eq!(
            op.reason,
            "inferred `get: Pet`: GET on a single-item path with Pet schemas"
        );
    }

    #[test]
    fn an_undeclared_collection_get_tries_the_primary_key_then_each_index() {
        // The primary key needs `petId`; GSI1's partition needs `owner`, which the path has.
        let (op, _) = bound(&one(
            "/owners/{owner}/pets",
            "get",
            None,
            "{name: owner, in: path, required: true, schema: {type: string}}",
            &responses(&[("200", PAGE)]),
        ));
        let a = op.action.expect("inferred");
        assert_eq!((a.verb, a.index), (Verb::Query, Some(0)));
        assert!(
            op.reason.starts_with("inferred `query: Pet, index: GSI1`"),
            "{}",
            op.reason
        );
    }

    #[test]
    fn an_operation_on_no_entity_is_left_hand_written_with_the_reason() {
        let (op, _) = bound(&one(
            "/health",
            "get",
            None,
            "",
            &responses(&[("200", "{description: ok}")]),
        ));
        assert!(op.action.is_none());
        assert_eq!(
            op.reason,
            "no action: GET /health uses no entity schema; hand-written"
        );
        let (op, _) = bound(&one(
            "/pets/{petId}",
            "get",
            Some("none"),
            PET_ID,
            &responses(&[("200", PET)]),
        ));
        assert!(op.action.is_none());
        assert_eq!(op.reason, "declared `none`: hand-written");
    }
}
