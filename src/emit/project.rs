//! The project's non-model files: Cargo.toml, template.yaml, README.md,
//! main.rs and the static runtime, rendered from the templates.

use std::collections::BTreeSet;

use serde::Serialize;

use super::runtime::{runtime_requirement, VENDOR};
use super::templates::RUNTIME;
use super::{EmitError, EmitOptions, FilePlan, Owner};
use crate::model::actions::Verb;
use crate::model::{Api, ApiKind, Media, Operation, ParamIn};

#[derive(Serialize)]
struct TableView {
    name: String,
    resource: String,
    env: String,
    pk: String,
    sk: Option<String>,
    attributes: Vec<Attribute>,
    indexes: Vec<IndexView>,
    ttl: Option<String>,
    stream: Option<String>,
    global: bool,
    /// Multi-region strong consistency: the regions are exactly the listed ones.
    strong: bool,
    witness: Option<String>,
    replicas: Vec<ReplicaView>,
    pitr: bool,
    deletion_protection: bool,
    actions: Vec<&'static str>,
    queried_indexes: Vec<String>,
}

/// A listed replica region, and the template condition that says the stack is deployed there
/// (its replica is then the deploying region's, not listed twice).
#[derive(Serialize)]
struct ReplicaView {
    region: String,
    condition: String,
}

/// The condition that the stack is deployed in `region`: `InUsEast1`.
pub fn region_condition(region: &str) -> String {
    format!("In{}", crate::model::names::type_name(region))
}

/// Every region condition the tables' replicas use, once each, in order.
fn region_conditions(api: &Api) -> Vec<ReplicaView> {
    let mut out: Vec<ReplicaView> = Vec::new();
    for t in &api.tables {
        if t.consistency == crate::model::storage::Consistency::Strong {
            continue;
        }
        for region in &t.replicas {
            if !out.iter().any(|r| &r.region == region) {
                out.push(ReplicaView {
                    region: region.clone(),
                    condition: region_condition(region),
                });
            }
        }
    }
    out
}

#[derive(Serialize)]
struct Attribute {
    name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct IndexView {
    name: String,
    pk: String,
    sk: Option<String>,
    projection: &'static str,
}

#[derive(Serialize)]
struct StubView {
    code: String,
}

#[derive(Serialize)]
struct OperationView {
    id: String,
    method: String,
    path: String,
    summary: String,
    action: String,
}

/// A function with the access its operations need to each table.
#[derive(Serialize)]
struct FunctionView<'a> {
    #[serde(flatten)]
    function: &'a super::template::ApiFunction,
    tables: Vec<TableAccess>,
}

#[derive(Serialize)]
struct TableAccess {
    resource: String,
    actions: Vec<&'static str>,
    queried_indexes: Vec<String>,
}

/// A function serving a hand-written operation may use the store in any way the API's actions
/// do: apigen cannot know what that code calls, so it gets their access (narrow it in
/// template.overrides.yaml).
fn function_views<'s>(api: &Api, sam: &'s super::template::Sam) -> Vec<FunctionView<'s>> {
    let every: Vec<usize> = (0..api.operations.len()).collect();
    sam.api_functions
        .iter()
        .map(|function| FunctionView {
            function,
            tables: (0..api.tables.len())
                .filter_map(|i| {
                    let hand_written = function
                        .operations
                        .iter()
                        .any(|&o| api.operations[o].action.is_none());
                    let ops = if hand_written && api.has_storage() {
                        &every
                    } else {
                        &function.operations
                    };
                    let (actions, queried_indexes) = table_access(api, i, ops);
                    (!actions.is_empty()).then(|| TableAccess {
                        resource: api.tables[i].resource.clone(),
                        actions,
                        queried_indexes,
                    })
                })
                .collect(),
        })
        .collect()
}

/// IAM actions the operations `ops` perform on a table, and the indexes they query.
fn table_access(api: &Api, table: usize, ops: &[usize]) -> (Vec<&'static str>, Vec<String>) {
    let mut actions = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for op in ops.iter().map(|&i| &api.operations[i]) {
        let Some(a) = &op.action else { continue };
        let e = &api.entities[a.entity];
        if e.table != table {
            continue;
        }
        let guarded = !e.unique.is_empty();
        match a.verb {
            Verb::Create => {
                actions.insert("PutItem");
            }
            Verb::Get => {
                actions.insert("GetItem");
            }
            Verb::Put => {
                actions.extend(["GetItem", "PutItem"]);
                if guarded {
                    actions.insert("DeleteItem");
                }
            }
            Verb::Update => {
                actions.extend(["GetItem", "UpdateItem"]);
                if guarded {
                    actions.extend(["PutItem", "DeleteItem"]);
                }
            }
            Verb::Delete => {
                actions.insert("DeleteItem");
                if guarded {
                    actions.insert("GetItem");
                }
            }
            Verb::Query | Verb::List => {
                if a.scan {
                    actions.insert("Scan");
                } else {
                    actions.insert("Query");
                }
                if let Some(i) = a.index {
                    let ix = &api.tables[table].indexes[i];
                    indexes.insert(ix.name.clone());
                    if ix.projection == crate::model::storage::Projection::KeysOnly {
                        actions.insert("GetItem");
                    }
                }
            }
        }
    }
    (actions.into_iter().collect(), indexes.into_iter().collect())
}

fn tables(api: &Api) -> Vec<TableView> {
    api.tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut attributes: Vec<Attribute> = Vec::new();
            let mut add = |name: &str, kind: &'static str| {
                if !attributes.iter().any(|a| a.name == name) {
                    attributes.push(Attribute {
                        name: name.to_string(),
                        kind,
                    });
                }
            };
            add(&t.pk.name, t.pk.kind.as_str());
            if let Some(sk) = &t.sk {
                add(&sk.name, sk.kind.as_str());
            }
            for ix in &t.indexes {
                add(&ix.pk.name, ix.pk.kind.as_str());
                if let Some(sk) = &ix.sk {
                    add(&sk.name, sk.kind.as_str());
                }
            }
            let every: Vec<usize> = (0..api.operations.len()).collect();
            let (actions, queried_indexes) = table_access(api, i, &every);
            let global = !t.replicas.is_empty();
            TableView {
                name: t.name.clone(),
                resource: t.resource.clone(),
                env: t.env.clone(),
                pk: t.pk.name.clone(),
                sk: t.sk.as_ref().map(|s| s.name.clone()),
                attributes,
                indexes: t
                    .indexes
                    .iter()
                    .map(|ix| IndexView {
                        name: ix.name.clone(),
                        pk: ix.pk.name.clone(),
                        sk: ix.sk.as_ref().map(|s| s.name.clone()),
                        projection: match ix.projection {
                            crate::model::storage::Projection::All => "ALL",
                            crate::model::storage::Projection::KeysOnly => "KEYS_ONLY",
                        },
                    })
                    .collect(),
                ttl: t.uses_ttl.then(|| t.ttl_attribute.clone()),
                // A global table with replicas replicates through its stream.
                stream: t
                    .stream
                    .clone()
                    .or_else(|| global.then(|| "NEW_AND_OLD_IMAGES".to_string())),
                global,
                strong: t.consistency == crate::model::storage::Consistency::Strong,
                witness: t.witness.clone(),
                replicas: t
                    .replicas
                    .iter()
                    .map(|region| ReplicaView {
                        region: region.clone(),
                        condition: region_condition(region),
                    })
                    .collect(),
                pitr: t.point_in_time_recovery,
                deletion_protection: t.deletion_protection,
                actions,
                queried_indexes,
            }
        })
        .collect()
}

/// An entity's typed repository, as the project README lists it.
#[derive(Serialize)]
struct RepositoryView {
    entity: String,
    trait_name: String,
    new_type: String,
    changes_type: String,
    create: String,
    get: String,
    batch_get: String,
    put: String,
    update: String,
    delete: String,
    queries: Vec<String>,
}

#[derive(Serialize)]
struct CollectionView {
    members: String,
    trait_name: String,
    method: String,
}

fn repository_views(api: &Api) -> (Vec<RepositoryView>, Vec<CollectionView>) {
    let repositories = api
        .entities
        .iter()
        .map(|e| {
            let one = &e.singular;
            RepositoryView {
                entity: e.schema.clone(),
                trait_name: e.repository.clone(),
                new_type: e.new_type.clone(),
                changes_type: e.changes_type.clone(),
                create: format!("create_{one}"),
                get: format!("get_{one}"),
                batch_get: e.batch_get_method.clone(),
                put: format!("put_{one}"),
                update: format!("update_{one}"),
                delete: format!("delete_{one}"),
                queries: e
                    .patterns
                    .iter()
                    .map(|p| p.method.clone())
                    .chain([e.scan_method.clone()])
                    .collect(),
            }
        })
        .collect();
    let collections = api
        .collections
        .iter()
        .map(|c| CollectionView {
            members: c
                .members
                .iter()
                .map(|i| format!("`{}`", api.entities[*i].schema))
                .collect::<Vec<_>>()
                .join(" and "),
            trait_name: c.repository.clone(),
            method: c.method.clone(),
        })
        .collect();
    (repositories, collections)
}

fn curl(api: &Api, op: &crate::model::Operation) -> String {
    let mut path = op.path.clone();
    for p in op.params.iter().filter(|p| p.location == ParamIn::Path) {
        let value = super::examples::example(api, &p.shape, true);
        let text = match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        path = path.replace(&format!("{{{}}}", p.name), &text);
    }
    let text = |shape| match super::examples::example(api, shape, true) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    let query: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.location == ParamIn::Query && p.required)
        .map(|p| format!("{}={}", p.name, text(&p.shape)))
        .collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let (credentials, credential_query) = super::auth_docs::curl_credentials(api, op);
    // A credential in the query is a shell variable: outside the quotes.
    let variable = match credential_query {
        Some((name, variable)) => {
            let separator = if path.contains('?') { '&' } else { '?' };
            path = format!("{path}{separator}{name}=");
            format!("\"${variable}\"")
        }
        None => String::new(),
    };
    let mut line = format!(
        "curl -i -X {} 'http://127.0.0.1:3000{path}'{variable}{credentials}",
        op.method.upper()
    );
    for p in op
        .params
        .iter()
        .filter(|p| p.location == ParamIn::Header && p.required)
    {
        line.push_str(&format!(" -H '{}: {}'", p.name, text(&p.shape)));
    }
    if let Some(body) = &op.body {
        if let Media::Json(shape) = &body.media {
            let value = super::examples::example(api, shape, true);
            let json = serde_json::to_string(&value)
                .unwrap_or_default()
                .replace('\'', "'\\''");
            line.push_str(&format!(
                " -H 'content-type: {}' -d '{json}'",
                body.content_type
            ));
        }
    }
    line
}

pub fn emit(
    api: &Api,
    options: &EmitOptions,
    templates: &[(String, String)],
    plan: &mut FilePlan,
) -> Result<(), EmitError> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    for (name, text) in templates {
        if name.ends_with(".tera") {
            tera.add_raw_template(name, text)
                .map_err(|e| template_error(name, &e))?;
        }
    }
    let summary = api
        .description
        .as_deref()
        .and_then(super::description::summary);
    let description = summary
        .clone()
        .unwrap_or_else(|| format!("{} (generated by apigen)", api.title));
    let mut modules = vec!["api", "models", "operations", "routes", "schemas"];
    if api.has_storage() {
        modules.extend(["actions", "entities"]);
    }
    if api.has_security() {
        modules.push("security");
    }
    if api.websocket.is_some() {
        modules.push("messages");
    }
    modules.sort_unstable();
    let stubs: Vec<StubView> = api
        .operations
        .iter()
        .filter(|o| o.action.is_none())
        .map(|o| StubView { code: stub(o) })
        .collect();
    let operations: Vec<OperationView> = api
        .operations
        .iter()
        .map(|o| OperationView {
            id: o.id.clone(),
            method: o.method.upper(),
            path: o.path.clone(),
            summary: o.summary.clone().unwrap_or_default(),
            action: match &o.action {
                Some(a) => format!("`{}: {}`", a.verb.as_str(), api.entities[a.entity].schema),
                None => "hand-written".into(),
            },
        })
        .collect();
    let mut cx = tera::Context::new();
    cx.insert("name", &api.settings.name);
    cx.insert("crate", &api.settings.crate_ident());
    cx.insert("title", &api.title);
    cx.insert("summary", &summary.clone().unwrap_or_default());
    // The whole description where it fits: the README as markdown, the crate docs as text.
    let whole = api
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty() && Some(*d) != summary.as_deref());
    cx.insert("full_description", &whole.unwrap_or(""));
    cx.insert(
        "crate_doc",
        &whole.map(super::description::crate_doc).unwrap_or_default(),
    );
    cx.insert("description", &description);
    cx.insert("storage", &api.has_storage());
    cx.insert(
        "split",
        &(api.settings.functions != crate::model::Functions::Single),
    );
    cx.insert("security", &api.has_security());
    cx.insert("websocket", &websocket_view(api));
    cx.insert("custom_authorizer", &custom_authorizer(api));
    cx.insert("runtime_version", &runtime_requirement());
    cx.insert(
        "runtime_path",
        &options
            .runtime
            .clone()
            .unwrap_or_else(|| VENDOR.to_string()),
    );
    cx.insert("vendored", &options.runtime.is_none());
    cx.insert(
        "examples",
        &api.examples.iter().filter(|e| e.misfit.is_none()).count(),
    );
    cx.insert("memory", &api.settings.memory);
    cx.insert("timeout", &api.settings.timeout);
    cx.insert("rest", &(api.settings.api == ApiKind::Rest));
    cx.insert("tables", &tables(api));
    cx.insert("region_conditions", &region_conditions(api));
    let sam = super::template::sam(api);
    let table_actions: Vec<(String, Vec<&'static str>)> = tables(api)
        .into_iter()
        .map(|t| (t.resource, t.actions))
        .collect();
    cx.insert("stack", &super::stack::stack(api, &sam, &table_actions));
    cx.insert("api_functions", &function_views(api, &sam));
    cx.insert("sam", &sam);
    cx.insert("domain", &api.edge.domain.as_ref().map(|d| d.name.clone()));
    cx.insert("modules", &modules);
    cx.insert("stubs", &stubs);
    cx.insert("operations", &operations);
    cx.insert("curls", &curls(api));
    cx.insert("auth", &super::auth_docs::view(api));
    let (repositories, collections) = repository_views(api);
    cx.insert("repositories", &repositories);
    cx.insert("collections", &collections);
    cx.insert(
        "warnings",
        &api.warnings
            .iter()
            .map(|w| w.message.clone())
            .collect::<Vec<_>>(),
    );

    let render = |name: &str| tera.render(name, &cx).map_err(|e| template_error(name, &e));
    let gen = Owner::Generator;
    let user = Owner::User;
    plan.add("Cargo.toml", render("Cargo.toml.tera")?, user);
    plan.add("README.md", format!("<!-- @generated by apigen from openapi.yaml: do not edit. Regenerate with `apigen generate`. -->\n{}", render("README.md.tera")?), gen);
    let template = render("template.yaml.tera")?;
    let template = match &options.overrides {
        Some(source) => crate::overrides::merge(&template, source)
            .map_err(|report| EmitError::Overrides(Box::new(report)))?,
        None => template,
    };
    plan.add("template.yaml", template, gen);
    plan.add(
        crate::overrides::FILE,
        crate::overrides::starter().to_string(),
        user,
    );
    plan.add("samconfig.toml", render("samconfig.toml.tera")?, gen);
    plan.add("openapi.yaml", options.spec_text.clone(), Owner::Spec);
    plan.add(
        "src/main.rs",
        user_file("main.rs", &render("src/main.rs.tera")?)?,
        user,
    );
    plan.add(
        "src/lib.rs",
        super::rust::format_file("lib.rs", &render("src/lib.rs.tera")?)?,
        gen,
    );
    plan.add(
        "src/generated/mod.rs",
        super::rust::format_file("generated/mod.rs", &render("src/generated/mod.rs.tera")?)?,
        gen,
    );
    plan.add(
        "src/handlers.rs",
        user_file("handlers.rs", &render("src/handlers.rs.tera")?)?,
        user,
    );
    if api.has_storage() {
        plan.add(
            "src/hooks.rs",
            user_file("hooks.rs", &render("src/hooks.rs.tera")?)?,
            user,
        );
    }
    // Tokens are for JWT schemes; API keys and the rest need no minting.
    if super::auth_docs::view(api).is_some_and(|a| a.token_args.is_some()) {
        plan.add(
            "examples/token.rs",
            super::rust::format_file("examples/token.rs", &render("examples/token.rs.tera")?)?,
            gen,
        );
    }
    if api.functions.len() > 1 || api.functions.iter().any(|f| f.binary.is_some()) {
        for f in &api.functions {
            let Some(binary) = &f.binary else { continue };
            let mut fx = cx.clone();
            let ids: Vec<&str> = f
                .operations
                .iter()
                .map(|&i| api.operations[i].id.as_str())
                .collect();
            fx.insert(
                "function",
                &serde_json::json!({"resource": f.resource, "label": f.label, "operations": ids}),
            );
            let path = format!("src/bin/{binary}.rs");
            let text = tera
                .render("src/bin/function.rs.tera", &fx)
                .map_err(|e| template_error("src/bin/function.rs.tera", &e))?;
            let text = super::rust::format_file(&path, &text)?;
            plan.add(&path, text, gen);
        }
    }
    if custom_authorizer(api) {
        plan.add(
            "src/authorizer.rs",
            user_file("authorizer.rs", &render("src/authorizer.rs.tera")?)?,
            user,
        );
        plan.add(
            "src/bin/authorizer.rs",
            super::rust::format_file("bin/authorizer.rs", &render("src/bin/authorizer.rs.tera")?)?,
            gen,
        );
    }
    if options.runtime.is_none() {
        for (path, text) in RUNTIME {
            plan.add(
                &format!("{VENDOR}/{path}"),
                text.to_string(),
                Owner::Vendored,
            );
        }
    }
    for (name, text) in templates {
        if name.ends_with(".tera") {
            continue;
        }
        let path = match name.as_str() {
            "gitignore" => ".gitignore".to_string(),
            "dot-cargo/config.toml" => ".cargo/config.toml".to_string(),
            other => other.to_string(),
        };
        if path.ends_with(".rs") {
            // Static sources are kept as written (comments included), but still
            // checked, so that a broken override is caught here.
            syn::parse_file(text).map_err(|e| EmitError::Syntax {
                file: path.clone(),
                message: e.to_string(),
            })?;
        }
        plan.add(&path, text.clone(), gen);
    }
    Ok(())
}

/// One curl line per operation, writes before reads and deletes: a `put` creates the item that
/// a `get` of the same example key then finds, where listing them in the spec's order would
/// answer the `get` with a 404 first. (Server-made ids cannot be chained this way.)
fn curls(api: &Api) -> Vec<String> {
    use crate::model::Method;
    let rank = |m: Method| match m {
        Method::Post => 0,
        Method::Put => 1,
        Method::Patch => 2,
        Method::Delete => 4,
        _ => 3,
    };
    let mut ops: Vec<&Operation> = api.operations.iter().collect();
    ops.sort_by_key(|o| rank(o.method));
    ops.into_iter().map(|o| curl(api, o)).collect()
}

/// Whether a Lambda authorizer of the user's decides on some operation.
fn custom_authorizer(api: &Api) -> bool {
    use crate::model::security::{uses, SchemeKind};
    let security: Vec<_> = api.operations.iter().map(|o| o.security.clone()).collect();
    uses(&api.auth, &security, |k| matches!(k, SchemeKind::Custom(_)))
}

/// A file written once for the user: formatted, without the generated marker.
fn user_file(name: &str, source: &str) -> Result<String, EmitError> {
    let text = super::rust::format_file(name, source)?;
    Ok(text
        .strip_prefix(super::rust::HEADER)
        .unwrap_or(&text)
        .to_string())
}

/// The hand-written method an operation without a storage action needs,
/// as `src/handlers.rs` starts it: a 501 until it is written.
/// What the templates say of the WebSocket API: its stubs and whether it is secured.
#[derive(Serialize)]
struct WebSocketView {
    stubs: Vec<String>,
    secured: bool,
    publishes: bool,
    /// `$connect` verifies JWTs, in a Lambda authorizer of the crate's own.
    jwt: bool,
    selection: String,
    routes: Vec<WebSocketRouteView>,
}

#[derive(Serialize)]
struct WebSocketRouteView {
    action: String,
    message: String,
    does: String,
}

fn websocket_view(api: &Api) -> Option<WebSocketView> {
    use crate::model::websocket::RouteKind;
    let ws = api.websocket.as_ref()?;
    let stubs = ws
        .routes
        .iter()
        .filter(|r| matches!(r.kind, RouteKind::Handler))
        .map(|route| {
            let message = match route.message {
                Some(id) => api.types.get(api.types.get(id).input.unwrap_or(id)).name.clone(),
                None => "serde_json::Value".to_string(),
            };
            let reply = match route.reply {
                Some(id) => format!("Option<{}>", api.types.get(id).name),
                None => "()".to_string(),
            };
            let action = &route.action;
            format!(
                "async fn {function}(\n    &self,\n    _context: websocket::Context,\n    _message: {message},\n) -> Result<{reply}, http::ApiError> {{\n    Err(http::ApiError::not_implemented({action:?}))\n}}\n",
                function = route.function,
            )
        })
        .collect();
    let routes = ws
        .routes
        .iter()
        .map(|route| {
            let entity = |t: &crate::model::websocket::Topic| {
                let e = &api.entities[t.entity];
                let source = e
                    .publish
                    .as_ref()
                    .map(|p| p.source.clone())
                    .unwrap_or_default();
                (e.schema.clone(), source)
            };
            WebSocketRouteView {
                action: route.action.clone(),
                message: match route.message {
                    Some(id) => format!("`{}`", api.types.get(id).name),
                    None => "any".to_string(),
                },
                does: match &route.kind {
                    RouteKind::Handler => format!("your `{}` in src/handlers.rs", route.function),
                    RouteKind::Subscribe(t) => {
                        let (entity, topic) = entity(t);
                        format!("subscribes to `{topic}`: each change of a `{entity}`")
                    }
                    RouteKind::Unsubscribe(t) => {
                        let (_, topic) = entity(t);
                        format!("unsubscribes from `{topic}`")
                    }
                },
            }
        })
        .collect();
    Some(WebSocketView {
        selection: ws.selection.clone(),
        routes,
        stubs,
        secured: ws.security.is_secured(),
        publishes: api.entities.iter().any(|e| e.publish.is_some()),
        jwt: ws.scheme().is_some_and(|i| {
            matches!(
                api.auth.schemes[i].kind,
                crate::model::security::SchemeKind::Jwt(_)
            )
        }),
    })
}

pub fn stub(op: &Operation) -> String {
    let caller = if op.security.is_secured() {
        "    _caller: auth::Caller,\n"
    } else {
        ""
    };
    format!(
        "async fn {ident}(\n    &self,\n    _context: http::RequestContext,\n{caller}    _request: {ty}Request,\n) -> Result<{ty}Response, http::ApiError> {{\n    Err(http::ApiError::not_implemented({id:?}))\n}}\n",
        ident = op.ident,
        ty = op.type_name,
        id = op.id,
    )
}

fn template_error(name: &str, e: &tera::Error) -> EmitError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    EmitError::Template {
        name: name.to_string(),
        message,
    }
}
