//! `x-apigen.websocket`: a WebSocket API beside the REST one. Each route names the component
//! schema its messages follow and what handles them: the user's handler, or a subscription to
//! the topic a published entity's changes go to, bound from the message and the caller.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::actions::Access;
use super::hints::{child, At, Reader};
use super::names::{field_name, Scope};
use super::security::{self, Auth, OpSecurity, SchemeKind};
use super::storage::Entity;
use super::{TypeId, TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;

const KEYS: &[&str] = &["routeSelection", "security", "routes"];
const ROUTE_KEYS: &[&str] = &[
    "message",
    "description",
    "subscribe",
    "unsubscribe",
    "access",
];

/// The route API Gateway sends messages to that no other route takes.
pub const DEFAULT_ROUTE: &str = "$default";

/// The WebSocket API of a spec.
#[derive(Debug, Clone)]
pub struct WebSocket {
    /// API Gateway's route selection expression (`$request.body.action`).
    pub selection: String,
    /// What `$connect` requires.
    pub security: OpSecurity,
    /// The routes, in the spec's order; `$default` among them when declared.
    pub routes: Vec<Route>,
    pub pointer: String,
}

/// One route of the WebSocket API.
#[derive(Debug, Clone)]
pub struct Route {
    /// The route key: the value of the selection expression's field (`say`).
    pub action: String,
    /// The component schema of its messages; `None` for `$default`, which takes anything.
    pub message: Option<TypeId>,
    /// The component schema of the handler's answer to the sender, if it answers.
    pub reply: Option<TypeId>,
    pub description: Option<String>,
    pub kind: RouteKind,
    /// The Rust name of its handler or topic function (`say`).
    pub function: String,
    pub pointer: String,
}

/// What handles a route's messages.
#[derive(Debug, Clone)]
pub enum RouteKind {
    /// The user's handler.
    Handler,
    /// Adds the sender to the subscribers of the entity's topic.
    Subscribe(Topic),
    /// Removes the sender from them.
    Unsubscribe(Topic),
}

/// A published entity's topic as a route binds it.
#[derive(Debug, Clone)]
pub struct Topic {
    /// Index into `Api::entities`.
    pub entity: usize,
    /// Where each variable of the entity's `publish` template comes from, in order.
    pub vars: Vec<(String, Source)>,
    /// Who may subscribe.
    pub access: Access,
}

/// Where a topic variable comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The message's property of the same name.
    Message,
    /// The caller's claim: the owner of the items the topic carries.
    Claim(String),
}

impl WebSocket {
    /// The scheme `$connect` is verified with (every alternative uses the same schemes).
    pub fn scheme(&self) -> Option<usize> {
        match &self.security {
            OpSecurity::Secured(alternatives) => alternatives.first()?.first().map(|n| n.scheme),
            OpSecurity::Public => None,
        }
    }

    /// Whether any route subscribes to or pushes entity changes.
    pub fn publishes(&self, entities: &[Entity]) -> bool {
        entities.iter().any(|e| e.publish.is_some())
    }
}

/// The stream a table of published entities needs: the stream consumer reads both images, the
/// old one to tell a deleted item's topic.
pub const STREAM_VIEW: &str = "NEW_AND_OLD_IMAGES";

/// Gives every table holding a published entity the stream its changes are read from.
pub fn prepare_streams(
    entities: &[Entity],
    tables: &mut [super::Table],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for entity in entities.iter().filter(|e| e.publish.is_some()) {
        let table = &mut tables[entity.table];
        match table.stream.as_deref() {
            None => table.stream = Some(STREAM_VIEW.to_string()),
            Some(STREAM_VIEW) => {}
            Some(other) => diagnostics.push(
                Diagnostic::error(
                    child(&entity.pointer, "publish"),
                    format!("`{}` publishes its changes, which are read from table `{}`'s stream, but that stream is `{other}`", entity.schema, table.name),
                )
                .help(format!("set the table's `stream: {STREAM_VIEW}` (or remove it: `publish` sets it)")),
            ),
        }
    }
}

/// What a WebSocket API and `publish` need of each other and of the rest of the spec.
pub fn check_needs(
    websocket: Option<&WebSocket>,
    entities: &[Entity],
    root_at: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match websocket {
        None => {
            for entity in entities.iter().filter(|e| e.publish.is_some()) {
                diagnostics.push(
                    Diagnostic::error(
                        child(&entity.pointer, "publish"),
                        format!("`{}` publishes its changes, but the spec has no WebSocket API to push them to", entity.schema),
                    )
                    .help("declare `x-apigen: {websocket: {routes: ...}}` with a route that subscribes to it, or remove `publish`"),
                );
            }
        }
        Some(_) if entities.is_empty() => diagnostics.push(
            Diagnostic::error(
                child(root_at, "websocket"),
                "a WebSocket API keeps its connections in DynamoDB, with the spec's entities, and this spec has none",
            )
            .help("declare an entity (`x-apigen-entity` on a schema), e.g. one whose changes the API pushes with `publish`"),
        ),
        Some(_) => {}
    }
}

/// What reading the hint needs from the rest of the model.
pub struct Context<'a> {
    pub raw: &'a Value,
    pub auth: &'a Auth,
    pub components: &'a BTreeMap<String, TypeId>,
    pub types: &'a TypeSpace,
    pub entities: &'a [Entity],
}

/// Reads `x-apigen.websocket`, if the spec has one.
pub fn read(
    r: &mut Reader,
    root: &Map<String, Value>,
    root_at: &str,
    cx: &Context,
) -> Option<WebSocket> {
    let value = root.get("websocket")?;
    let at = child(root_at, "websocket");
    let hint = r.object(value, &at, "`websocket`", KEYS)?;
    let selection = read_selection(r, hint, &at);
    let security = read_security(r, &at, cx);
    let Some(routes_value) = hint.get("routes") else {
        r.diagnostics.push(
            Diagnostic::error(&at, "the WebSocket API has no `routes`")
                .help("add `routes: {say: {message: {$ref: '#/components/schemas/Say'}}}`"),
        );
        return None;
    };
    let routes_at = child(&at, "routes");
    let Some(declared) = routes_value.as_object() else {
        r.diagnostics.push(
            Diagnostic::error(
                &routes_at,
                "`routes` must be a mapping from route keys to routes",
            )
            .help("write `routes: {say: {message: {$ref: '#/components/schemas/Say'}}}`"),
        );
        return None;
    };
    if declared.is_empty() {
        r.diagnostics.push(
            Diagnostic::error(&routes_at, "the WebSocket API has no routes")
                .help("add `say: {message: {$ref: '#/components/schemas/Say'}}`"),
        );
        return None;
    }
    let mut functions = Scope::default();
    let mut routes = Vec::new();
    for (action, route) in declared {
        let route_at = child(&routes_at, action);
        if let Some(route) = read_route(r, action, route, &route_at, &security, cx, &mut functions)
        {
            routes.push(route);
        }
    }
    Some(WebSocket {
        selection: selection.value,
        security,
        routes,
        pointer: at,
    })
}

fn read_selection(r: &mut Reader, hint: &Map<String, Value>, at: &str) -> At<String> {
    let default = At {
        value: "$request.body.action".to_string(),
        pointer: child(at, "routeSelection"),
    };
    let Some(expression) = r.string(hint, "routeSelection", at) else {
        return default;
    };
    let path = expression.value.strip_prefix("$request.body.");
    let valid = path.is_some_and(|path| {
        path.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
    });
    if !valid {
        r.diagnostics.push(
            Diagnostic::error(
                &expression.pointer,
                format!("`{}` is not a route selection expression apigen can serve", expression.value),
            )
            .help("write `$request.body.<field>` (dotted for a nested field), e.g. `$request.body.action`"),
        );
        return default;
    }
    expression
}

fn read_security(r: &mut Reader, at: &str, cx: &Context) -> OpSecurity {
    let place = security::OperationAt {
        pointer: at,
        name: "the WebSocket API's `$connect`".to_string(),
    };
    let resolved = security::resolve(&[place], cx.raw, cx.auth, r.diagnostics);
    let security = resolved.into_iter().next().unwrap_or_default();
    if let OpSecurity::Secured(alternatives) = &security {
        let where_at = if cx.raw.pointer(at).and_then(|h| h.get("security")).is_some() {
            child(at, "security")
        } else {
            "/security".to_string()
        };
        let schemes: Vec<usize> = alternatives.iter().flatten().map(|n| n.scheme).collect();
        for scheme in schemes {
            let scheme = &cx.auth.schemes[scheme];
            if !matches!(scheme.kind, SchemeKind::Jwt(_) | SchemeKind::Custom(_)) {
                r.diagnostics.push(
                    Diagnostic::error(
                        &where_at,
                        format!(
                            "`{}` ({}) cannot secure a WebSocket API: API Gateway verifies a WebSocket connection only with a Lambda authorizer, which apigen writes for JWT schemes and schemes with `x-apigen-authorizer: lambda`",
                            scheme.name,
                            scheme.kind.describe()
                        ),
                    )
                    .help("give `x-apigen.websocket` a `security` with a JWT scheme or a Lambda-authorized one, or `security: []` for a public API"),
                );
            }
        }
    }
    security
}

fn read_route(
    r: &mut Reader,
    action: &str,
    value: &Value,
    at: &str,
    security: &OpSecurity,
    cx: &Context,
    functions: &mut Scope,
) -> Option<Route> {
    let hint = r.object(value, at, &format!("route `{action}`"), ROUTE_KEYS)?;
    if action.starts_with('$') && action != DEFAULT_ROUTE {
        r.diagnostics.push(
            Diagnostic::error(at, format!("`{action}` is a route apigen answers itself"))
                .help("`$connect` verifies and records connections, `$disconnect` forgets them; name your route without `$`, or use `$default` for messages no route takes"),
        );
        return None;
    }
    if action.is_empty() || action.len() > 128 {
        r.diagnostics.push(
            Diagnostic::error(at, "a route key has 1 to 128 characters").help("rename the route"),
        );
        return None;
    }
    let description = r.string(hint, "description", at).map(|d| d.value);
    let default_route = action == DEFAULT_ROUTE;
    let message = match (hint.get("message"), default_route) {
        (Some(_), true) => {
            r.diagnostics.push(
                Diagnostic::error(
                    child(at, "message"),
                    "`$default` takes any message, so it has no `message` schema",
                )
                .help("remove `message`; the handler receives the message as JSON"),
            );
            return None;
        }
        (None, true) => None,
        (Some(message), false) => Some(read_message(r, message, &child(at, "message"), cx)?),
        (None, false) => {
            r.diagnostics.push(
                Diagnostic::error(at, format!("route `{action}` has no `message`"))
                    .help("add `message: {$ref: '#/components/schemas/...'}`: its messages are checked against that schema"),
            );
            return None;
        }
    };
    let reply = match hint.get("reply") {
        Some(value) => Some(read_message(r, value, &child(at, "reply"), cx)?),
        None => None,
    };
    let subscribe = r.string(hint, "subscribe", at);
    let unsubscribe = r.string(hint, "unsubscribe", at);
    let access_at = child(at, "access");
    let kind = match (subscribe, unsubscribe, message) {
        (Some(_), Some(u), _) => {
            r.diagnostics.push(
                Diagnostic::error(&u.pointer, "a route either subscribes or unsubscribes")
                    .help("declare two routes, e.g. `join` and `leave`"),
            );
            return None;
        }
        (Some(entity), None, Some(message)) => RouteKind::Subscribe(read_topic(
            r, &entity, message, hint, &access_at, security, cx,
        )?),
        (None, Some(entity), Some(message)) => RouteKind::Unsubscribe(read_topic(
            r, &entity, message, hint, &access_at, security, cx,
        )?),
        (Some(t), None, None) | (None, Some(t), None) => {
            r.diagnostics.push(
                Diagnostic::error(&t.pointer, "`$default` cannot subscribe")
                    .help("declare a route with a `message` schema for subscriptions"),
            );
            return None;
        }
        (None, None, _) => {
            if hint.contains_key("access") {
                r.diagnostics.push(
                    Diagnostic::error(&access_at, "`access` decides who may subscribe, and this route does not")
                        .help("check the caller in your handler (`cx.caller`), or make the route subscribe"),
                );
            }
            RouteKind::Handler
        }
    };
    let wanted = if default_route {
        "default".to_string()
    } else {
        field_name(action)
    };
    let function = functions.claim(wanted.trim_start_matches("r#").to_string());
    if reply.is_some() && !matches!(kind, RouteKind::Handler) {
        r.diagnostics.push(
            Diagnostic::error(
                child(at, "reply"),
                "a subscribe or unsubscribe route answers with its acknowledgement",
            )
            .help("remove `reply`"),
        );
        return None;
    }
    Some(Route {
        action: action.to_string(),
        message,
        reply,
        description,
        kind,
        function,
        pointer: at.to_string(),
    })
}

/// `message: {$ref: '#/components/schemas/X'}`, an object schema.
fn read_message(r: &mut Reader, value: &Value, at: &str, cx: &Context) -> Option<TypeId> {
    let reference = value.get("$ref").and_then(Value::as_str);
    let name = reference.and_then(|s| s.strip_prefix("#/components/schemas/"));
    let found = name.and_then(|n| cx.components.get(n).map(|id| (n, *id)));
    let Some((name, id)) = found else {
        r.diagnostics.push(
            Diagnostic::error(at, "a route's `message` and `reply` are references to component schemas")
                .help("write `message: {$ref: '#/components/schemas/Say'}`, and declare `Say` under `components.schemas`"),
        );
        return None;
    };
    if !matches!(cx.types.get(id).kind, TypeKind::Struct(_)) {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                format!("`{name}` is not an object schema, so it cannot carry the route's field"),
            )
            .help("messages are JSON objects: give the schema `type: object` and `properties`"),
        );
        return None;
    }
    Some(id)
}

/// The topic of `entity` a subscribe or unsubscribe route binds from `message`.
fn read_topic(
    r: &mut Reader,
    entity_name: &At<String>,
    message: TypeId,
    hint: &Map<String, Value>,
    access_at: &str,
    security: &OpSecurity,
    cx: &Context,
) -> Option<Topic> {
    let Some(index) = cx
        .entities
        .iter()
        .position(|e| e.schema == entity_name.value)
    else {
        let names: Vec<&str> = cx.entities.iter().map(|e| e.schema.as_str()).collect();
        r.diagnostics.push(
            Diagnostic::error(
                &entity_name.pointer,
                format!("`{}` is not an entity", entity_name.value),
            )
            .help(match names.is_empty() {
                true => "name a schema with `x-apigen-entity` and `publish`".to_string(),
                false => format!("name one of {}", super::hints::list(&names)),
            }),
        );
        return None;
    };
    let entity = &cx.entities[index];
    let Some(template) = &entity.publish else {
        r.diagnostics.push(
            Diagnostic::error(
                &entity_name.pointer,
                format!(
                    "`{}` publishes no changes, so there is nothing to subscribe to",
                    entity.schema
                ),
            )
            .help(format!(
                "add `publish: \"TOPIC#{{field}}\"` to the `x-apigen-entity` of `{}`",
                entity.schema
            )),
        );
        return None;
    };
    let access = match hint.get("access") {
        Some(value) => super::binder::read_access(r, value, access_at)?,
        None => Access {
            owner: entity.owner.is_some(),
            authenticated: entity.owner.is_none(),
            groups: Vec::new(),
        },
    };
    if !security.is_secured() && (entity.owner.is_some() || hint.contains_key("access")) {
        let why = match entity.owner.is_some() {
            true => format!(
                "`{}` is owned, and nobody could be the owner",
                entity.schema
            ),
            false => "its `access` cannot be checked".to_string(),
        };
        r.diagnostics.push(
            Diagnostic::error(
                &entity_name.pointer,
                format!("the WebSocket API needs no credential, so {why}"),
            )
            .help("give `x-apigen.websocket` (or the spec) a `security`"),
        );
        return None;
    }
    let TypeKind::Struct(fields) = &cx.types.get(message).kind else {
        return None;
    };
    let message_name = &cx.types.get(message).name;
    let owner = entity.owner.as_ref();
    let mut vars = Vec::new();
    let mut ok = true;
    for var in template.vars() {
        // The owner comes from the token for callers the owner rule admits.
        if let Some(owner) =
            owner.filter(|o| o.field == var && access.owner && access.groups.is_empty())
        {
            vars.push((var.to_string(), Source::Claim(owner.claim.clone())));
            continue;
        }
        match fields.fields.iter().find(|f| f.name == var) {
            Some(f) if f.required => vars.push((var.to_string(), Source::Message)),
            Some(_) => {
                ok = false;
                r.diagnostics.push(
                    Diagnostic::error(
                        &entity_name.pointer,
                        format!(
                            "the topic `{}` needs `{var}`, which `{message_name}` does not require",
                            template.source
                        ),
                    )
                    .help(format!(
                        "add `{var}` to the `required` list of `{message_name}`"
                    )),
                );
            }
            None => {
                ok = false;
                r.diagnostics.push(
                    Diagnostic::error(
                        &entity_name.pointer,
                        format!(
                            "the topic `{}` needs `{var}`, which `{message_name}` does not have",
                            template.source
                        ),
                    )
                    .help(format!(
                        "add a required property `{var}` to `{message_name}`"
                    )),
                );
            }
        }
    }
    if let Some(owner) = owner {
        let confined = template.vars().any(|v| v == owner.field);
        if access.owner && !confined {
            ok = false;
            r.diagnostics.push(
                Diagnostic::error(&entity_name.pointer, format!("`{}` is owned, but its topic `{}` holds every owner's items, so a subscriber would see other callers' data", entity.schema, template.source))
                    .help(format!("put `{{{}}}` in `publish`, or give the route `access: {{groups: [admin]}}`", owner.field)),
            );
        }
    }
    ok.then_some(Topic {
        entity: index,
        vars,
        access,
    })
}
