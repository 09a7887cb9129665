//! The validated model of an API that every emitter reads. Building it runs
//! every check of the hint vocabulary and reports all problems at once.

pub mod access;
pub mod actions;
pub mod advice;
pub mod binder;
pub mod defaults;
pub mod edge;
pub mod examples;
pub mod filters;
pub mod functions;
pub mod gateway;
pub mod hints;
pub mod names;
pub mod operations;
pub mod paths;
pub mod regions;
pub mod routes;
pub mod schema;
pub mod security;
pub mod storage;
pub mod types;
pub mod websocket;

use heck::ToKebabCase;
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::json_pointer::pointer;
use crate::load::Spec;
use hints::{child, Reader};
pub use operations::{Body, Media, Method, Operation, Param, ParamIn, Response, Status};
pub use storage::{Entity, Table};
pub use types::*;

/// API Gateway flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    Http,
    Rest,
}

pub use functions::Functions;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Package, binary and stack name (kebab-case).
    pub name: String,
    pub api: ApiKind,
    pub functions: Functions,
    pub memory: u64,
    pub timeout: u64,
}

impl Settings {
    /// The library crate's name as Rust code spells it.
    pub fn crate_ident(&self) -> String {
        self.name.replace('-', "_")
    }
}

#[derive(Debug, Clone)]
pub struct Api {
    pub settings: Settings,
    pub title: String,
    pub version: String,
    pub description: Option<String>,
    pub types: TypeSpace,
    pub operations: Vec<Operation>,
    pub tables: Vec<Table>,
    pub entities: Vec<Entity>,
    /// Entities read together from a shared partition.
    pub collections: Vec<storage::Collection>,
    /// Security schemes; each operation says which it needs.
    pub auth: security::Auth,
    /// How the operations are deployed as API Gateway routes.
    pub routes: gateway::Routes,
    /// The Lambda functions serving them.
    pub functions: Vec<functions::Function>,
    /// The stage, CORS, throttling, domain, logs and alarms.
    pub edge: edge::Edge,
    /// The WebSocket API beside the REST one, if the spec declares one.
    pub websocket: Option<websocket::WebSocket>,
    /// The spec's own examples, for the project's round-trip test.
    pub examples: Vec<examples::SpecExample>,
    /// Warnings found while building (errors stop the build).
    pub warnings: Vec<Diagnostic>,
}

impl Api {
    pub fn entity_of(&self, id: TypeId) -> Option<&Entity> {
        self.entities.iter().find(|e| e.type_id == id)
    }

    pub fn has_storage(&self) -> bool {
        !self.entities.is_empty()
    }

    /// Whether any operation, or the WebSocket API, needs a credential.
    pub fn has_security(&self) -> bool {
        self.operations.iter().any(|o| o.security.is_secured())
            || self
                .websocket
                .as_ref()
                .is_some_and(|w| w.security.is_secured())
    }

    /// The schemes, scopes and access rule an operation is called with.
    pub fn who_may_call(&self, op: &Operation) -> String {
        let mut out = op.security.describe(&self.auth);
        if let Some(action) = &op.action {
            let entity = &self.entities[action.entity];
            if op.security.is_secured() {
                out.push_str(&format!("; {}", action.access.describe()));
                match &action.owner {
                    Some(owner) if !owner.confined => {
                        out.push_str(&format!(" (every owner's `{}` items)", entity.schema));
                    }
                    Some(owner) => {
                        // An API key has no claims: its subject is the caller.
                        let keys_only = matches!(&op.security, security::OpSecurity::Secured(alternatives)
                            if alternatives.iter().flatten().all(|n| matches!(self.auth.schemes[n.scheme].kind, security::SchemeKind::ApiKey { .. })));
                        let source = if keys_only && owner.claim == "sub" {
                            "the API key's subject".to_string()
                        } else {
                            format!("the `{}` claim", owner.claim)
                        };
                        let opening = action.access.describe_opening();
                        let bound = match (owner.param, opening) {
                            (Some(p), Some(opening)) => format!(
                                "from {source}, or from parameter `{}` for {opening}",
                                op.params[p].name,
                            ),
                            _ => format!("from {source}"),
                        };
                        out.push_str(&format!(" (`{}.{}` {bound})", entity.schema, owner.field));
                    }
                    None => {}
                }
            }
        }
        out
    }
}

const ROOT_KEYS: &[&str] = &[
    "name",
    "api",
    "functions",
    "memory",
    "timeout",
    "tables",
    "auth",
    "stage",
    "cors",
    "throttling",
    "domain",
    "logs",
    "alarms",
    "websocket",
];

/// Builds the model. `Err` holds every diagnostic (errors and warnings)
/// when there is at least one error.
pub fn build(spec: &Spec, name_override: Option<&str>) -> Result<Api, Vec<Diagnostic>> {
    let mut diagnostics = spec.warnings.clone();
    let doc = &spec.document;
    let raw = &spec.value;

    // Root settings and tables.
    let mut r = Reader {
        diagnostics: &mut diagnostics,
    };
    let root_at = pointer([hints::ROOT]);
    let empty = serde_json::Map::new();
    let root = match raw.get(hints::ROOT) {
        Some(v) => r
            .object(v, &root_at, "`x-apigen`", ROOT_KEYS)
            .unwrap_or(&empty),
        None => &empty,
    };
    let name_hint = r.string(root, "name", &root_at);
    let name = name_override
        .map(str::to_string)
        .or(name_hint.as_ref().map(|n| n.value.clone()))
        .unwrap_or_else(|| doc.info.title.to_kebab_case());
    let name = if name.is_empty() {
        "api".to_string()
    } else {
        name
    };
    // A name made from the title ("HTTP", "Serde") moves aside by itself.
    let name = if name_override.is_none() && name_hint.is_none() && !names::usable_crate_name(&name)
    {
        format!("{name}-api")
    } else {
        name
    };
    if !valid_package_name(&name) {
        r.diagnostics.push(
            Diagnostic::error(name_hint.map(|n| n.pointer).unwrap_or_else(|| "/info/title".into()), format!("`{name}` is not usable as a Rust package name"))
                .help("set `x-apigen: {name: my-api}` with lowercase letters, digits and dashes, starting with a letter"),
        );
    } else if !names::usable_crate_name(&name) {
        r.diagnostics.push(
            Diagnostic::error(name_hint.map(|n| n.pointer).unwrap_or_else(|| "/info/title".into()), format!("`{name}` is a Rust keyword or the name of a crate the generated project depends on, so its library could not be named"))
                .help(format!("set `x-apigen: {{name: {name}-api}}`, or another name")),
        );
    }
    let api = match r
        .choice(root, "api", &root_at, &["http", "rest"])
        .map(|s| s.value)
    {
        Some(a) if a == "rest" => ApiKind::Rest,
        _ => ApiKind::Http,
    };
    let functions = match r
        .choice(
            root,
            "functions",
            &root_at,
            &["single", "perOperation", "perTag"],
        )
        .map(|s| s.value)
    {
        Some(f) if f == "perOperation" => Functions::PerOperation,
        Some(f) if f == "perTag" => Functions::PerTag,
        _ => Functions::Single,
    };
    let memory = r
        .integer(root, "memory", &root_at, (128, 10240))
        .unwrap_or(256);
    let timeout = r.integer(root, "timeout", &root_at, (1, 29)).unwrap_or(10);
    let mut tables = match root.get("tables") {
        Some(t) => storage::read_tables(&mut r, t, &child(&root_at, "tables")),
        None => Vec::new(),
    };

    // Types.
    let empty_components = indexmap::IndexMap::new();
    let components = doc
        .components
        .as_ref()
        .map(|c| &c.schemas)
        .unwrap_or(&empty_components);
    let mut converter = schema::SchemaConverter::new(components);
    converter.convert_components();
    let mut operations = paths::read_operations(doc, raw, &mut converter, &mut diagnostics);
    diagnostics.append(&mut converter.diagnostics);
    let auth = security::read_schemes(
        &mut Reader {
            diagnostics: &mut diagnostics,
        },
        raw,
        api,
        root.get("auth"),
    );
    let at: Vec<security::OperationAt> = operations
        .iter()
        .map(|op| security::OperationAt {
            pointer: &op.pointer,
            name: format!("{} {}", op.method.upper(), op.path),
        })
        .collect();
    let securities = security::resolve(&at, raw, &auth, &mut diagnostics);
    let edge = edge::read(
        &mut Reader {
            diagnostics: &mut diagnostics,
        },
        root,
        &root_at,
        api,
        &operations,
    );
    for (op, security) in operations.iter_mut().zip(securities) {
        op.security = security;
    }

    // Entities.
    let mut inputs = Vec::new();
    if let Some(schemas) = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            if let Some(hint) = schema.get(hints::ENTITY) {
                let id = converter
                    .component(name)
                    .expect("every component is registered");
                inputs.push(storage::EntityInput {
                    schema: name,
                    type_id: id,
                    hint,
                    at: pointer(["components", "schemas", name, hints::ENTITY]),
                });
            }
        }
    }
    // Message schemas of the WebSocket API are named as components.
    let components_by_name: std::collections::BTreeMap<String, TypeId> = components
        .keys()
        .filter_map(|name| Some((name.clone(), converter.component(name)?)))
        .collect();
    let mut types = converter.space;
    let mut type_names = converter.type_names;
    let mut r = Reader {
        diagnostics: &mut diagnostics,
    };
    let declared: Vec<String> = inputs.iter().map(|i| i.schema.to_string()).collect();
    let mut entities = storage::read_entities(&mut r, inputs, &mut tables, &types);
    // Every repository is implemented by the one store type, so its methods
    // (`get_order`, `query_orders`) share one scope per word form.
    let mut singulars = names::Scope::default();
    let mut plurals = names::Scope::default();
    for e in &mut entities {
        let name = &types.get(e.type_id).name;
        e.key_type = type_names.claim(format!("{name}Key"));
        e.repository = type_names.claim(format!("{name}Repository"));
        let word = names::field_name(&e.schema);
        let word = word.trim_start_matches("r#");
        e.singular = singulars.claim(word.to_string());
        e.plural = plurals.claim(names::plural(word));
        e.new_type = type_names.claim(format!("New{name}"));
        e.changes_type = type_names.claim(format!("{name}Changes"));
        e.transaction_trait = type_names.claim(format!("{name}Transaction"));
        defaults::read(e, raw, &types, &mut diagnostics);
    }
    let collections = access::settle(&mut entities, &tables, &mut type_names);
    websocket::prepare_streams(&entities, &mut tables, &mut diagnostics);
    let websocket = websocket::read(
        &mut Reader {
            diagnostics: &mut diagnostics,
        },
        root,
        &root_at,
        &websocket::Context {
            raw,
            auth: &auth,
            components: &components_by_name,
            types: &types,
            entities: &entities,
        },
    );
    diagnostics.extend(regions::check(&tables, &entities));

    mark_owners_read_only(&mut types, &entities);

    // Actions.
    let cx = binder::Context {
        declared: &declared,
        space: &types,
        entities: &entities,
        tables: &tables,
    };
    binder::resolve(&mut operations, &cx, &mut diagnostics);
    check_access(&operations, &entities, &mut diagnostics);
    websocket::check_needs(websocket.as_ref(), &entities, &root_at, &mut diagnostics);
    let routes = gateway::plan(&operations, &auth).unwrap_or_else(|refusal| {
        diagnostics.push(refusal);
        gateway::Routes::Each
    });

    let lambdas = functions::plan(
        functions,
        &operations,
        &routes,
        &name,
        &child(&root_at, "functions"),
    )
    .unwrap_or_else(|refusal| {
        diagnostics.push(refusal);
        Vec::new()
    });
    if let gateway::Routes::CatchAll { explicit, .. } = &routes {
        for (i, _) in &edge.throttling.operations {
            if !explicit.contains(i) {
                diagnostics.push(
                    Diagnostic::warning(
                        child(&child(&child(&root_at, "throttling"), "operations"), &operations[*i].id),
                        format!(
                            "`{}` is served by the catch-all routes of an API with more than {} routes, so its own limits cannot be deployed; the stage's apply",
                            operations[*i].id,
                            gateway::MAX_ROUTES
                        ),
                    )
                    .help("remove its limits, or split the API into several specs"),
                );
            }
        }
    }
    add_input_types(&mut types, &operations, &mut type_names);
    schema::box_cycles(&mut types);

    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let examples = examples::collect(raw, &types, &operations);
    diagnostics.extend(examples::warnings(&examples));
    diagnostics.extend(advice::advise(&entities, &tables, &types, &operations));
    Ok(Api {
        settings: Settings {
            name,
            api,
            functions,
            memory,
            timeout,
        },
        title: doc.info.title.clone(),
        version: doc.info.version.clone(),
        description: doc.info.description.clone(),
        types,
        operations,
        tables,
        entities,
        collections,
        auth,
        routes,
        functions: lambdas,
        edge,
        websocket,
        examples,
        warnings: diagnostics,
    })
}

/// An action that admits only some callers needs to know who calls.
fn check_access(operations: &[Operation], entities: &[Entity], diagnostics: &mut Vec<Diagnostic>) {
    for op in operations {
        let Some(action) = &op.action else { continue };
        if op.security.is_secured() {
            continue;
        }
        let entity = &entities[action.entity];
        let declared = op.hint.as_ref().and_then(|h| h.get("access")).is_some();
        if entity.owner.is_none() && !declared {
            continue;
        }
        let why = if entity.owner.is_some() {
            format!(
                "`{}` is owned, and nobody could be the owner",
                entity.schema
            )
        } else {
            "its `access` cannot be checked".to_string()
        };
        diagnostics.push(
            Diagnostic::error(hints::child(&op.pointer, hints::ACTION), format!("{} {} needs no credential, so {why}", op.method.upper(), op.path))
                .help("require a scheme in the operation's `security` (or the root `security`), or remove the action and write the operation yourself"),
        );
    }
}

/// The owner comes from the token: a client's value is ignored like a
/// `readOnly` field's, so the request types leave it out.
fn mark_owners_read_only(types: &mut TypeSpace, entities: &[Entity]) {
    for entity in entities {
        let Some(owner) = &entity.owner else { continue };
        if let TypeKind::Struct(s) = &mut types.get_mut(entity.type_id).kind {
            for field in s.fields.iter_mut().filter(|f| f.name == owner.field) {
                field.read_only = true;
            }
        }
    }
}

fn valid_package_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Request bodies whose schema has readOnly properties get a twin type
/// without them, so that clients need not (and cannot) send them.
fn add_input_types(types: &mut TypeSpace, operations: &[Operation], names: &mut names::Scope) {
    for op in operations {
        let Some(Media::Json(shape)) = op.body.as_ref().map(|b| &b.media) else {
            continue;
        };
        let Ty::Ref(id) = shape.ty else { continue };
        if types.get(id).input.is_some() {
            continue;
        }
        let TypeKind::Struct(s) = &types.get(id).kind else {
            continue;
        };
        if !s.fields.iter().any(|f| f.read_only) {
            continue;
        }
        let mut twin = types.get(id).clone();
        twin.name = names.claim(format!("{}Input", twin.name));
        twin.input_of = Some(id);
        twin.doc = Some(format!(
            "[`{}`] as a client sends it: without the read-only fields the server sets.",
            types.get(id).name
        ));
        if let TypeKind::Struct(s) = &mut twin.kind {
            s.fields.retain(|f| !f.read_only);
        }
        types.defs.push(twin);
        let twin_id = TypeId(types.defs.len() - 1);
        types.get_mut(id).input = Some(twin_id);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn api(text: &str) -> super::Api {
        let spec = crate::load::parse(Path::new("t.yaml"), text.to_string()).expect("parses");
        super::build(&spec, None).expect("builds")
    }

    #[test]
    fn repository_method_words_are_plurals_and_unique() {
        let api = api(r#"
openapi: 3.0.3
info: {title: t, version: '1'}
x-apigen: {tables: {Main: {pk: PK, sk: SK}}}
paths: {}
components:
  schemas:
    Category:
      type: object
      required: [id]
      properties: {id: {type: string}}
      x-apigen-entity: {type: CATEGORY}
    Order:
      type: object
      required: [id]
      properties: {id: {type: string}}
      x-apigen-entity: {type: ORDER}
    Orders:
      type: object
      required: [id]
      properties: {id: {type: string}}
      x-apigen-entity: {type: ORDERS}
"#);
        let words: Vec<(&str, &str, &str)> = api
            .entities
            .iter()
            .map(|e| (e.schema.as_str(), e.singular.as_str(), e.plural.as_str()))
            .collect();
        assert_eq!(
            words,
            [
                ("Category", "category", "categories"),
                ("Order", "order", "orders"),
                // Already plural, and `orders` is taken.
                ("Orders", "orders", "orders_2"),
            ]
        );
    }
}
