//! `src/generated/entities.rs` (table and entity definitions) and
//! `src/generated/actions.rs` (the default body of every operation with a
//! storage action).

use std::fmt::Write;

use super::models::field_type;
use super::operations::{response_name, variant_has_fields};
use super::rust::lit;
use crate::model::actions::{BoundAction, Verb};
use crate::model::names::const_name;
use crate::model::storage::{Generate, KeyKind, Part, Template, VarKind};
use crate::model::{Api, Entity, Operation, Table, TypeKind};

pub fn table_static(t: &Table) -> String {
    format!("{}_TABLE", const_name(&t.name))
}

pub fn entity_static(e: &Entity) -> String {
    format!("{}_ENTITY", const_name(&e.schema))
}

fn kind(k: KeyKind) -> &'static str {
    match k {
        KeyKind::S => "store::KeyKind::S",
        KeyKind::N => "store::KeyKind::N",
        KeyKind::B => "store::KeyKind::B",
    }
}

fn template(t: &Template) -> String {
    let parts: Vec<String> = t
        .parts
        .iter()
        .map(|p| match p {
            Part::Lit(s) => format!("store::Part::Lit({})", lit(s)),
            Part::Var {
                field,
                kind: VarKind::String,
            } => format!("store::Part::Str({})", lit(field)),
            Part::Var {
                field,
                kind: VarKind::Integer,
            } => format!("store::Part::Int({})", lit(field)),
            Part::Var {
                field,
                kind: VarKind::DateTime,
            } => format!("store::Part::DateTime({})", lit(field)),
        })
        .collect();
    format!("store::Template(&[{}])", parts.join(", "))
}

fn key_def(pk: &Template, sk: Option<&Template>) -> String {
    let sk = match sk {
        Some(s) => format!("Some({})", template(s)),
        None => "None".into(),
    };
    format!("store::KeyDef {{ pk: {}, sk: {sk} }}", template(pk))
}

pub fn emit_entities(api: &Api) -> String {
    let mut out = format!(
        "//! Where each entity is stored (tables, key templates, the fields the server manages), and a \
         typed repository per entity.\n\n\
         use super::models::*;\nuse super::store;\n\n{KEY_FIELDS}"
    );
    for t in &api.tables {
        let sk = match &t.sk {
            Some(sk) => format!(
                "Some(store::KeyAttr {{ name: {}, kind: {} }})",
                lit(&sk.name),
                kind(sk.kind)
            ),
            None => "None".into(),
        };
        let indexes: Vec<String> = t
            .indexes
            .iter()
            .map(|i| {
                let isk = match &i.sk {
                    Some(sk) => format!("Some(store::KeyAttr {{ name: {}, kind: {} }})", lit(&sk.name), kind(sk.kind)),
                    None => "None".into(),
                };
                format!(
                    "store::IndexDef {{ name: {}, pk: store::KeyAttr {{ name: {}, kind: {} }}, sk: {isk}, keys_only: {} }}",
                    lit(&i.name),
                    lit(&i.pk.name),
                    kind(i.pk.kind),
                    i.projection == crate::model::storage::Projection::KeysOnly
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "/// Table `{}` (`{}` in template.yaml; its name comes from `{}`).\npub static {}: store::TableDef = store::TableDef {{ name: {}, env: {}, pk: store::KeyAttr {{ name: {}, kind: {} }}, sk: {sk}, indexes: &[{}], type_attribute: {}, ttl_attribute: {} }};\n",
            t.name,
            t.resource,
            t.env,
            table_static(t),
            lit(&t.name),
            lit(&t.env),
            lit(&t.pk.name),
            kind(t.pk.kind),
            indexes.join(", "),
            lit(&t.type_attribute),
            lit(&t.ttl_attribute)
        );
    }
    let all: Vec<String> = api
        .tables
        .iter()
        .map(|t| format!("&{}", table_static(t)))
        .collect();
    let _ = writeln!(
        out,
        "/// Every table the API uses.\npub static TABLES: &[&store::TableDef] = &[{}];\n",
        all.join(", ")
    );
    for e in &api.entities {
        let t = &api.tables[e.table];
        let type_name = &api.types.get(e.type_id).name;
        let indexes: Vec<String> = e
            .indexes
            .iter()
            .map(|ix| {
                format!(
                    "store::EntityIndexDef {{ index: &{}.indexes[{}], key: {} }}",
                    table_static(t),
                    ix.index,
                    key_def(&ix.key.pk, ix.key.sk.as_ref())
                )
            })
            .collect();
        let id = match &e.id {
            Some(id) => format!(
                "Some(store::IdDef {{ field: {}, generate: store::Generate::{} }})",
                lit(&id.field),
                match id.generate {
                    Generate::Ulid => "Ulid",
                    Generate::Uuid => "Uuid",
                    Generate::Client => "Client",
                }
            ),
            None => "None".into(),
        };
        let opt = |v: &Option<String>| match v {
            Some(s) => format!("Some({})", lit(s)),
            None => "None".into(),
        };
        let expires = match &e.expires {
            Some(x) => format!(
                "Some(store::ExpiresDef {{ field: {}, epoch: {} }})",
                lit(&x.field),
                x.epoch
            ),
            None => "None".into(),
        };
        let TypeKind::Struct(s) = &api.types.get(e.type_id).kind else {
            continue;
        };
        let read_only: Vec<String> = s
            .fields
            .iter()
            .filter(|f| f.read_only)
            .map(|f| lit(&f.name))
            .collect();
        let unique: Vec<String> = e.unique.iter().map(|u| lit(u)).collect();
        let _ = writeln!(
            out,
            "/// How [`{type_name}`] is stored.\npub static {}: store::EntityDef = store::EntityDef {{ name: {}, type_value: {}, table: &{}, key: {}, indexes: &[{}], id: {id}, created: {}, updated: {}, version: {}, expires: {expires}, unique: &[{}], read_only: &[{}] }};\n",
            entity_static(e),
            lit(&e.schema),
            lit(&e.type_value),
            table_static(t),
            key_def(&e.key.pk, e.key.sk.as_ref()),
            indexes.join(", "),
            opt(&e.created),
            opt(&e.updated),
            opt(&e.version),
            unique.join(", "),
            read_only.join(", ")
        );
        let _ = writeln!(
            out,
            "impl store::Entity for {type_name} {{\nconst DEF: &'static store::EntityDef = &{};\n}}\n",
            entity_static(e)
        );
        emit_repository(api, e, &mut out);
    }
    out
}

/// The words in an entity's repository methods: `order` and `orders`.
fn method_words(e: &Entity) -> (String, String) {
    (e.singular.clone(), e.plural.clone())
}

/// A typed key and a repository trait per entity, implemented by `Store`
/// (DynamoDB or memory: the engine below is shared, so the semantics are too).
fn emit_repository(api: &Api, e: &Entity, out: &mut String) {
    let type_name = &api.types.get(e.type_id).name;
    let TypeKind::Struct(s) = &api.types.get(e.type_id).kind else {
        return;
    };
    let key = &e.key_type;
    let _ = writeln!(
        out,
        "/// The primary key of a [`{type_name}`]: the fields its key templates use.\n#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct {key} {{"
    );
    for var in e.key.vars() {
        let Some(f) = s.fields.iter().find(|f| f.name == var) else {
            continue;
        };
        if super::rust::unraw(&f.ident) != f.name {
            let _ = writeln!(out, "#[serde(rename = {})]", lit(&f.name));
        }
        let _ = writeln!(
            out,
            "pub {}: {},",
            f.ident,
            super::rust::bare_type(&api.types, &f.shape)
        );
    }
    out.push_str("}\n\n");
    let (snake, plural) = method_words(e);
    let repo = &e.repository;
    let ret = |t: &str| {
        format!("impl std::future::Future<Output = Result<{t}, store::StoreError>> + Send")
    };
    let _ = writeln!(
        out,
        "/// Typed access to stored [`{type_name}`]s. [`store::Store`] implements it for DynamoDB and for memory alike.\npub trait {repo} {{\n\
         /// Creates one from a client's fields (read-only ones are dropped unless named in `bound`, the fields taken from the path); the server sets the id, timestamps and version.\n\
         fn create_{snake}(&self, fields: serde_json::Map<String, serde_json::Value>, bound: &[&str]) -> {};\n\
         /// Reads one.\nfn get_{snake}(&self, key: &{key}) -> {};\n\
         /// Creates or replaces one; `true` when it was created.\nfn put_{snake}(&self, key: &{key}, fields: serde_json::Map<String, serde_json::Value>, bound: &[&str], expected_version: Option<i64>) -> {};\n\
         /// Applies a merge patch: fields with a value are set, fields with `null` removed.\nfn update_{snake}(&self, key: &{key}, patch: serde_json::Map<String, serde_json::Value>, expected_version: Option<i64>) -> {};\n\
         /// Deletes one.\nfn delete_{snake}(&self, key: &{key}, expected_version: Option<i64>) -> {};\n\
         /// Reads one page of a query or list.\nfn query_{plural}(&self, query: store::Query) -> {};\n}}\n",
        ret(type_name),
        ret(&format!("Option<{type_name}>")),
        ret(&format!("({type_name}, bool)")),
        ret(type_name),
        ret("()"),
        ret(&format!("store::Page<{type_name}>")),
    );
    let _ = writeln!(
        out,
        "impl {repo} for store::Store {{\n\
         async fn create_{snake}(&self, fields: serde_json::Map<String, serde_json::Value>, bound: &[&str]) -> Result<{type_name}, store::StoreError> {{ self.create(fields, bound).await }}\n\
         async fn get_{snake}(&self, key: &{key}) -> Result<Option<{type_name}>, store::StoreError> {{ self.get(key_fields(key)?).await }}\n\
         async fn put_{snake}(&self, key: &{key}, fields: serde_json::Map<String, serde_json::Value>, bound: &[&str], expected_version: Option<i64>) -> Result<({type_name}, bool), store::StoreError> {{ self.put(key_fields(key)?, fields, bound, expected_version).await }}\n\
         async fn update_{snake}(&self, key: &{key}, patch: serde_json::Map<String, serde_json::Value>, expected_version: Option<i64>) -> Result<{type_name}, store::StoreError> {{ self.update(key_fields(key)?, patch, expected_version).await }}\n\
         async fn delete_{snake}(&self, key: &{key}, expected_version: Option<i64>) -> Result<(), store::StoreError> {{ self.delete::<{type_name}>(key_fields(key)?, expected_version).await }}\n\
         async fn query_{plural}(&self, query: store::Query) -> Result<store::Page<{type_name}>, store::StoreError> {{ self.query(query).await }}\n}}\n"
    );
}

const KEY_FIELDS: &str = r#"
/// A typed key as the fields the store renders key templates from.
fn key_fields<K: serde::Serialize>(key: &K) -> Result<serde_json::Map<String, serde_json::Value>, store::StoreError> {
    match serde_json::to_value(key) {
        Ok(serde_json::Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(store::StoreError::Invalid("a key must be an object of fields".into())),
        Err(e) => Err(store::StoreError::Invalid(format!("cannot read the key: {e}"))),
    }
}

"#;

pub fn emit_actions(api: &Api) -> String {
    let mut out = String::from(
        "//! The built-in storage actions: the default body of each operation that has one.\n\n\
         #[allow(unused_imports)]\nuse super::entities::*;\nuse super::http;\n#[allow(unused_imports)]\nuse super::models::*;\nuse super::operations::*;\nuse super::store;\n\n",
    );
    out.push_str(HELPERS);
    for op in &api.operations {
        if let Some(action) = &op.action {
            emit_action(api, op, action, &mut out);
        }
    }
    out
}

const HELPERS: &str = r#"
/// A value as JSON; serializing generated types cannot fail, but a failure is still an error, not a panic.
fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, http::ApiError> {
    serde_json::to_value(value).map_err(http::ApiError::internal)
}

/// The fields of a request body, as the store takes them.
#[allow(dead_code)]
fn fields<T: serde::Serialize>(body: &T) -> Result<serde_json::Map<String, serde_json::Value>, http::ApiError> {
    match json(body)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(http::ApiError::bad_request("the request body must be a JSON object")),
    }
}

/// The typed key of an item, from the fields bound from the path.
#[allow(dead_code)]
fn typed_key<K: serde::de::DeserializeOwned>(fields: serde_json::Map<String, serde_json::Value>) -> Result<K, http::ApiError> {
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| http::ApiError::bad_request(format!("the key is not valid: {e}")))
}

/// A field's value as text, for building a Location header.
#[allow(dead_code)]
fn text(item: &serde_json::Value, field: &str) -> String {
    match item.get(field) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// A parameter's value as the text a sort key holds.
#[allow(dead_code)]
fn key_text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The ETag of an item, from its version field.
#[allow(dead_code)]
fn etag(item: &serde_json::Value, field: &str) -> Option<String> {
    item.get(field).and_then(serde_json::Value::as_i64).map(store::etag)
}

"#;

/// Key (or bound) fields of an item, read from the request's parameters.
fn bound_fields(op: &Operation, action: &BoundAction, only: Option<&[&str]>) -> String {
    let any = action
        .bindings
        .iter()
        .any(|(f, _)| only.is_none_or(|o| o.contains(&f.as_str())));
    let mut out = String::from(if any {
        "let mut key = serde_json::Map::new();\n"
    } else {
        "let key = serde_json::Map::new();\n"
    });
    for (field, p) in &action.bindings {
        if only.is_some_and(|o| !o.contains(&field.as_str())) {
            continue;
        }
        let param = &op.params[*p];
        if param.required {
            let _ = writeln!(
                out,
                "key.insert({}.into(), json(&request.{})?);",
                lit(field),
                param.ident
            );
        } else {
            let _ = writeln!(
                out,
                "if let Some(value) = &request.{} {{ key.insert({}.into(), json(value)?); }}",
                param.ident,
                lit(field)
            );
        }
    }
    out
}

/// `let key = OrderKey { .. };` straight from the request's parameters when
/// their types are the key's, else through the fields (converted by serde).
fn typed_key_line(api: &Api, op: &Operation, action: &BoundAction, entity: &Entity) -> String {
    let TypeKind::Struct(s) = &api.types.get(entity.type_id).kind else {
        unreachable!("entities are structs")
    };
    let key = &entity.key_type;
    let mut fields = Vec::new();
    for var in entity.key.vars() {
        let field = s.fields.iter().find(|f| f.name == var);
        let param = action.binding(var).map(|p| &op.params[p]);
        match (field, param) {
            (Some(f), Some(p))
                if p.required
                    && super::rust::type_of(&api.types, &p.shape)
                        == super::rust::bare_type(&api.types, &f.shape) =>
            {
                fields.push(format!("{}: request.{}", f.ident, p.ident));
            }
            _ => {
                return format!(
                    "{}let key: {key} = typed_key(key)?;\n",
                    bound_fields(op, action, Some(&entity.key.vars()))
                );
            }
        }
    }
    format!("let key = {key} {{ {} }};\n", fields.join(", "))
}

/// `let expected = ..`: the version the `If-Match` header requires of the item at `key`
/// (`creates`: the action creates a missing item).
fn if_match(api: &Api, op: &Operation, action: &BoundAction, creates: bool) -> String {
    let header = match action.if_match {
        Some(p) if op.params[p].required => {
            format!("Some(request.{}.as_str())", op.params[p].ident)
        }
        Some(p) => format!("request.{}.as_deref()", op.params[p].ident),
        None => return "let expected = None;\n".into(),
    };
    let entity = &api.types.get(api.entities[action.entity].type_id).name;
    format!("let expected = store.if_match::<{entity}, _>(&key, {header}, {creates}).await?;\n")
}

/// Constructs the response variant at `index` holding `item`.
fn respond(api: &Api, op: &Operation, index: usize, item: &str, entity: &Entity) -> String {
    let r = &op.responses[index];
    let name = response_name(op);
    if !variant_has_fields(r) {
        return if r.media.is_some() {
            format!("{name}::{}({item})", r.variant)
        } else {
            format!("{name}::{}", r.variant)
        };
    }
    let mut fields = Vec::new();
    if r.media.is_some() {
        fields.push(format!("body: {item}"));
    }
    for h in &r.headers {
        let value = if h.name.eq_ignore_ascii_case("etag") && entity.version.is_some() {
            format!(
                "etag(&doc, {})",
                lit(entity.version.as_deref().unwrap_or_default())
            )
        } else if h.name.eq_ignore_ascii_case("location") {
            format!("Some({})", location(api, entity))
        } else {
            "None".into()
        };
        if h.required {
            fields.push(format!("{}: {value}.unwrap_or_default()", h.ident));
        } else {
            fields.push(format!("{}: {value}", h.ident));
        }
    }
    format!("{name}::{} {{ {} }}", r.variant, fields.join(", "))
}

/// A `format!` building the URL of an item: the path of the entity's `get`
/// operation with its parameters filled in from the item.
fn location(api: &Api, entity: &Entity) -> String {
    let get = api.operations.iter().find(|o| {
        o.action
            .as_ref()
            .is_some_and(|a| a.verb == Verb::Get && api.entities[a.entity].schema == entity.schema)
    });
    let Some(get) = get else {
        return "String::new()".into();
    };
    let action = get.action.as_ref().expect("found by its action");
    let mut template = String::new();
    let mut args = Vec::new();
    let mut rest = get.path.as_str();
    while let Some(start) = rest.find('{') {
        template.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or(rest.len() - 1);
        let name = &rest[start + 1..end];
        let field = get
            .params
            .iter()
            .position(|p| p.name == name)
            .and_then(|p| {
                action
                    .bindings
                    .iter()
                    .find(|(_, b)| *b == p)
                    .map(|(f, _)| f.clone())
            })
            .unwrap_or_else(|| name.to_string());
        template.push_str("{}");
        args.push(format!("text(&doc, {})", lit(&field)));
        rest = &rest[end + 1..];
    }
    template.push_str(rest);
    format!("format!({}, {})", lit(&template), args.join(", "))
}

fn emit_action(api: &Api, op: &Operation, action: &BoundAction, out: &mut String) {
    let mut function = String::new();
    emit_action_function(api, op, action, &mut function);
    // A list with no parameters reads nothing from its request.
    let uses_request = regex::Regex::new(r"\brequest\.")
        .expect("a valid pattern")
        .is_match(&function);
    if !uses_request {
        function = function.replacen(
            "store: &store::Store, request: ",
            "store: &store::Store, _request: ",
            1,
        );
    }
    out.push_str(&function);
}

fn emit_action_function(api: &Api, op: &Operation, action: &BoundAction, out: &mut String) {
    let entity = &api.entities[action.entity];
    let _ = writeln!(
        out,
        "/// `{} {}`: `{}` on `{}`.\npub async fn {}(store: &store::Store, request: {}Request) -> Result<{}, http::ApiError> {{",
        op.method.upper(),
        op.path,
        action.verb.as_str(),
        entity.schema,
        op.ident,
        op.type_name,
        response_name(op)
    );
    let bound_names: Vec<String> = action.bindings.iter().map(|(f, _)| lit(f)).collect();
    let needs_doc = |index: usize| {
        op.responses[index]
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("etag") || h.name.eq_ignore_ascii_case("location"))
    };
    let doc_line = |index: usize, item: &str| {
        if needs_doc(index) {
            format!("let doc = json(&{item})?;\n")
        } else {
            String::new()
        }
    };
    let (snake, plural) = method_words(entity);
    let key = &entity.key_type;
    match action.verb {
        Verb::Create => {
            out.push_str(&bound_fields(op, action, None));
            out.push_str("let mut fields = fields(&request.body)?;\nfields.extend(key);\n");
            let _ = writeln!(
                out,
                "let item = store.create_{snake}(fields, &[{}]).await?;",
                bound_names.join(", ")
            );
            out.push_str(&doc_line(action.success, "item"));
            let _ = writeln!(
                out,
                "Ok({})",
                respond(api, op, action.success, "item", entity)
            );
        }
        Verb::Get => {
            out.push_str(&typed_key_line(api, op, action, entity));
            let _ = writeln!(
                out,
                "let item = store.get_{snake}(&key).await?.ok_or_else(|| http::ApiError::not_found({}))?;",
                lit(&format!("no {} has this key", entity.schema))
            );
            out.push_str(&doc_line(action.success, "item"));
            let _ = writeln!(
                out,
                "Ok({})",
                respond(api, op, action.success, "item", entity)
            );
        }
        Verb::Put => {
            out.push_str(&bound_fields(op, action, None));
            let _ = writeln!(
                out,
                "let mut fields = fields(&request.body)?;\nfields.extend(key.clone());\nlet key: {key} = typed_key(key)?;"
            );
            out.push_str(&if_match(api, op, action, true));
            let _ = writeln!(
                out,
                "let (item, created) = store.put_{snake}(&key, fields, &[{}], expected).await?;",
                bound_names.join(", ")
            );
            let created = action.created.unwrap_or(action.success);
            if needs_doc(created) || needs_doc(action.success) {
                out.push_str("let doc = json(&item)?;\n");
            }
            let _ = writeln!(
                out,
                "Ok(if created {{ {} }} else {{ {} }})",
                respond(api, op, created, "item", entity),
                respond(api, op, action.success, "item", entity)
            );
        }
        Verb::Update => {
            out.push_str(&typed_key_line(api, op, action, entity));
            out.push_str(&if_match(api, op, action, false));
            let _ = writeln!(
                out,
                "let item = store.update_{snake}(&key, fields(&request.body)?, expected).await?;"
            );
            out.push_str(&doc_line(action.success, "item"));
            let _ = writeln!(
                out,
                "Ok({})",
                respond(api, op, action.success, "item", entity)
            );
        }
        Verb::Delete => {
            out.push_str(&typed_key_line(api, op, action, entity));
            out.push_str(&if_match(api, op, action, false));
            let _ = writeln!(out, "store.delete_{snake}(&key, expected).await?;");
            let _ = writeln!(
                out,
                "Ok({})",
                respond(api, op, action.success, "item", entity)
            );
        }
        Verb::Query | Verb::List => {
            out.push_str(
                &bound_fields(op, action, None)
                    .replace("let mut key", "let mut values")
                    .replace("let key", "let values")
                    .replace("key.insert", "values.insert"),
            );
            let index = match action.index {
                Some(i) => format!("Some({})", lit(&api.tables[entity.table].indexes[i].name)),
                None => "None".into(),
            };
            let range = match &action.range {
                Some(r) => {
                    let p = &op.params[r.param];
                    let value = if p.required {
                        format!("Some(&request.{})", p.ident)
                    } else {
                        format!("request.{}.as_ref()", p.ident)
                    };
                    format!(
                        "{value}.map(json).transpose()?.map(|v| (store::RangeOp::{}, key_text(v)))",
                        r.op.rust()
                    )
                }
                None => "None".into(),
            };
            let limit = match action.limit {
                Some(p) if op.params[p].required => format!(
                    "usize::try_from(request.{}).unwrap_or(1).clamp(1, 1000)",
                    op.params[p].ident
                ),
                Some(p) => {
                    let default = op.params[p]
                        .default
                        .as_ref()
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(50);
                    format!("request.{}.map_or({default}, |n| usize::try_from(n).unwrap_or(1)).clamp(1, 1000)", op.params[p].ident)
                }
                None => "50".into(),
            };
            let cursor = match action.cursor {
                Some(p) if op.params[p].required => {
                    format!("Some(request.{}.clone())", op.params[p].ident)
                }
                Some(p) => format!("request.{}.clone()", op.params[p].ident),
                None => "None".into(),
            };
            let _ = writeln!(
                out,
                "let page = store.query_{plural}(store::Query {{ index: {index}, values, range: {range}, descending: {}, limit: {limit}, cursor: {cursor}, scan: {} }}).await?;",
                action.order == crate::model::actions::SortOrder::Desc,
                action.scan
            );
            let shape = action.page.as_ref().expect("queries have a page shape");
            let page_def = api.types.get(shape.type_id);
            let TypeKind::Struct(s) = &page_def.kind else {
                unreachable!("pages are structs")
            };
            let mut fields = Vec::new();
            for f in &s.fields {
                let ty = field_type(api, f);
                let value = if f.name == shape.items {
                    if f.optional() {
                        "Some(page.items)".to_string()
                    } else {
                        "page.items".to_string()
                    }
                } else if Some(&f.name) == shape.cursor.as_ref() {
                    match (f.optional(), f.shape.nullable) {
                        (true, true) => "Some(page.next_cursor)".into(),
                        (false, false) => "page.next_cursor.unwrap_or_default()".into(),
                        _ => "page.next_cursor".into(),
                    }
                } else if ty.starts_with("Option<") {
                    "None".into()
                } else {
                    "Default::default()".into()
                };
                fields.push(format!("{}: {value}", f.ident));
            }
            if let crate::model::Additional::Typed(_) = &s.additional {
                fields.push("additional_properties: Default::default()".into());
            }
            let body = format!("{} {{ {} }}", page_def.name, fields.join(", "));
            let _ = writeln!(
                out,
                "Ok({})",
                respond(api, op, action.success, &body, entity)
            );
        }
    }
    out.push_str("}\n\n");
}
