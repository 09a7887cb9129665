//! `tests/api.rs` of the generated project: drives the router against the
//! in-memory store through every operation with a storage action, on its
//! success and failure paths.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::examples::{example, fitting_example};
use super::rust::{generated_at, inner_docs, runtime, unraw, Site};
use crate::model::actions::{BoundAction, Verb};
use crate::model::{Api, Entity, Media, Operation, Param, ParamIn, Shape, StrFormat, Ty, TypeKind};

fn prelude() -> TokenStream {
    quote! {
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
    }
}

/// How the tests' requests carry credentials in a secured API: a test caller with every scope and
/// group the spec names, trusted by a test authenticator, added to every request that does not
/// ask to be anonymous (`x-test-anonymous`).
fn test_caller(api: &Api, site: Site) -> TokenStream {
    use crate::model::security::{Credential, OpSecurity, SchemeKind};
    let security = generated_at(site, "security");
    let auth = runtime("auth");
    let mut scopes: Vec<&str> = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    let mut used = vec![false; api.auth.schemes.len()];
    for op in &api.operations {
        if let OpSecurity::Secured(alternatives) = &op.security {
            for need in alternatives.iter().flatten() {
                used[need.scheme] = true;
                scopes.extend(need.scopes.iter().map(String::as_str));
            }
        }
        if let Some(action) = &op.action {
            groups.extend(action.access.groups.iter().map(String::as_str));
        }
    }
    scopes.sort_unstable();
    scopes.dedup();
    groups.sort_unstable();
    groups.dedup();
    let mut headers = Vec::new();
    let mut queries = Vec::new();
    for (scheme, _) in api.auth.schemes.iter().zip(&used).filter(|(_, u)| **u) {
        match &scheme.kind {
            SchemeKind::Jwt(_) => {
                headers.push(quote! { ("authorization", format!("Bearer {token}")) })
            }
            SchemeKind::ApiKey { header, .. } => {
                let header = header.to_ascii_lowercase();
                headers.push(quote! { (#header, "test-key".to_string()) });
            }
            SchemeKind::Custom(custom) => match &custom.credential {
                Credential::Header(h) => {
                    let header = h.to_ascii_lowercase();
                    headers.push(quote! { (#header, "test-credential".to_string()) });
                }
                Credential::Query(q) => queries.push(format!("{}=test-credential", encode(q))),
            },
            SchemeKind::Iam | SchemeKind::MutualTls => {}
        }
    }
    let query = queries.join("&");
    let jwt = api
        .auth
        .schemes
        .iter()
        .zip(&used)
        .any(|(s, u)| *u && matches!(s.kind, SchemeKind::Jwt(_)));
    let mint = jwt.then(|| {
        quote! {
            let token = key
                .mint(&#security::AUTH, &#auth::dev::TokenOptions {
                    subject: "test-user".into(),
                    scopes: vec![#(#scopes.into()),*],
                    groups: vec![#(#groups.into()),*],
                    ..Default::default()
                })
                .expect("a token");
        }
    });
    quote! {
        /// Who the tests call as, and the authenticator that trusts them.
        struct TestCaller {
            authenticator: Arc<#auth::Authenticator>,
            headers: Vec<(&'static str, String)>,
        }

        static CALLER: std::sync::LazyLock<TestCaller> = std::sync::LazyLock::new(|| {
            let key = #auth::dev::DevKey::generate().expect("a development key");
            #mint
            let config = #auth::LocalConfig {
                jwks: Some(key.jwks().expect("the key's JWKS")),
                api_keys: vec![("test".into(), "test-key".into())],
                unverified_caller: Some("test-user".into()),
                ..Default::default()
            };
            let authenticator = #auth::Authenticator::local(&#security::AUTH, config)
                .with_authorizer(|request| Box::pin(async move {
                    if request.credential == "test-credential" {
                        Ok(#auth::Caller::new(request.scheme, "test-user"))
                    } else {
                        Err(#auth::Denied::new("not the test credential"))
                    }
                }));
            TestCaller { authenticator: Arc::new(authenticator), headers: vec![#(#headers),*] }
        });

        /// Adds the test caller's credentials to a request, unless it asks to go without.
        async fn with_credentials(mut request: Request<Body>) -> Request<Body> {
            if request.headers_mut().remove("x-test-anonymous").is_some() {
                return request;
            }
            for (name, value) in &CALLER.headers {
                if !request.headers().contains_key(*name) {
                    let value = value.parse().expect("a header value");
                    request.headers_mut().insert(*name, value);
                }
            }
            let query: &str = #query;
            if !query.is_empty() {
                let uri = request.uri().to_string();
                let joined = if uri.contains('?') { format!("{uri}&{query}") } else { format!("{uri}?{query}") };
                *request.uri_mut() = joined.parse().expect("a URI");
            }
            request
        }

        /// The router as a secured API's tests call it.
        fn secured(router: Router) -> Router {
            router.layer(axum::middleware::map_request(with_credentials))
        }
    }
}

fn app_with_store(secured: bool) -> TokenStream {
    let router = if secured {
        quote! { secured(routes::router(Arc::new(Service::new(store)), CALLER.authenticator.clone())) }
    } else {
        quote! { routes::router(Arc::new(Service::new(store))) }
    };
    quote! {
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
            #router
        }
    }
}

fn app_without_store(secured: bool) -> TokenStream {
    let router = if secured {
        quote! { secured(routes::router(Arc::new(Service::new()), CALLER.authenticator.clone())) }
    } else {
        quote! { routes::router(Arc::new(Service::new())) }
    };
    quote! {
        /// The router over the hand-written handlers.
        async fn app() -> Router {
            #router
        }
    }
}

/// Every secured operation answers a request without credentials with 401 and a challenge, before
/// it reads the request.
fn emit_auth_tests(api: &Api) -> TokenStream {
    let mut calls = Vec::new();
    for op in api.operations.iter().filter(|o| o.security.is_secured()) {
        let method = op.method.upper();
        let mut path = op.path.clone();
        for p in op.params.iter().filter(|p| p.location == ParamIn::Path) {
            let v = match example(api, &p.shape, true) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            path = path.replace(&format!("{{{}}}", p.name), &encode(&v));
        }
        calls.push(quote! { (#method, #path) });
    }
    if calls.is_empty() {
        return TokenStream::new();
    }
    quote! {
        #[tokio::test]
        async fn secured_operations_refuse_requests_without_credentials() {
            let app = app().await;
            for (method, uri) in [#(#calls),*] {
                let anonymous = [("x-test-anonymous", "1".to_string())];
                let reply = send(&app, method, uri, None, &anonymous).await;
                assert_problem(&reply, StatusCode::UNAUTHORIZED);
                assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE), "{method} {uri}: no challenge");
            }
        }
    }
}

/// A JSON value as an expression that builds it.
fn json_value(v: &Value) -> TokenStream {
    let text = v.to_string();
    quote! { serde_json::from_str::<Value>(#text).expect("valid example") }
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

/// The value a request gives a parameter.
enum Arg<'a> {
    /// Text fixed when the test is written: the parameter's example, or an `If-Match` of the
    /// first version.
    Fixed(String),
    /// A field of the JSON item in the named variable.
    Field { item: &'a str, field: String },
    /// The item's version, as an `If-Match` value.
    Version { item: &'a str, field: String },
    /// The example, moved for the `n`-th seeded item.
    Bump(String),
}

impl Arg<'_> {
    /// The item variable the value reads, if any.
    fn item(&self) -> Option<&str> {
        match self {
            Self::Field { item, .. } | Self::Version { item, .. } => Some(item),
            Self::Fixed(_) | Self::Bump(_) => None,
        }
    }

    /// A `String` expression.
    fn expr(&self) -> TokenStream {
        match self {
            Self::Fixed(text) => quote! { #text.to_string() },
            Self::Field { item, field } => {
                let item = format_ident!("{item}");
                quote! { text(&#item, #field) }
            }
            Self::Version { item, field } => {
                let item = format_ident!("{item}");
                quote! { format!("\"{}\"", text(&#item, #field)) }
            }
            Self::Bump(example) => quote! { bump(#example, n) },
        }
    }
}

/// Everything a request to an operation carries besides its method and
/// body, as Rust expressions.
struct Parts {
    /// `path(...)`, with the query string when there is one.
    uri: TokenStream,
    /// The query string alone: `[...].join("&")`.
    query: Option<TokenStream>,
    /// `(name, value)` pairs: required headers and cookies.
    headers: Vec<TokenStream>,
    /// The item variables the values read.
    items: Vec<String>,
}

impl Parts {
    fn uses(&self, var: &str) -> bool {
        self.items.iter().any(|i| i == var)
    }

    /// `&[(name, value), ...]`.
    fn headers(&self) -> TokenStream {
        let headers = &self.headers;
        quote! { &[#(#headers),*] }
    }

    /// The headers as `.header(name, value)` calls on a request builder.
    fn header_calls(&self) -> TokenStream {
        let headers = &self.headers;
        quote! { #(.header #headers)* }
    }
}

/// Headers the HTTP layer owns: OpenAPI ignores parameters with these names.
const RESERVED_HEADERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// The value of parameter `i`, or `None` when the request leaves it out: every required
/// parameter is sent, with a value its schema accepts, and so is every one bound to a field
/// of `from`.
fn param_value<'a>(
    api: &Api,
    op: &Operation,
    action: Option<&BoundAction>,
    i: usize,
    from: From<'a>,
) -> Option<Arg<'a>> {
    let p = &op.params[i];
    if let Some(a) = action {
        if a.if_match == Some(i) {
            let entity = &api.entities[a.entity];
            return match (from, &entity.version) {
                (From::Item(item), Some(v)) if p.required => Some(Arg::Version {
                    item,
                    field: v.clone(),
                }),
                _ if p.required => Some(Arg::Fixed("\"1\"".into())),
                _ => None,
            };
        }
        let paging = a.limit == Some(i)
            || a.cursor == Some(i)
            || a.range.as_ref().is_some_and(|r| r.uses(i));
        if paging && !p.required {
            return None;
        }
    }
    let bound = action.and_then(|a| a.bindings.iter().find(|(_, b)| *b == i).map(|(f, _)| f));
    match (bound, from) {
        (Some(field), From::Item(item)) => Some(Arg::Field {
            item,
            field: field.clone(),
        }),
        (Some(field), From::Seed(e)) if e.key.vars().contains(&field.as_str()) => {
            Some(Arg::Bump(example_text(api, p)))
        }
        _ if p.required || bound.is_some() && p.location == ParamIn::Path => {
            Some(Arg::Fixed(example_text(api, p)))
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
    extra: Option<TokenStream>,
) -> Parts {
    parts_except(api, op, action, from, extra, None)
}

/// [`parts`] without parameter `skip`, for a test that sends its own.
fn parts_except(
    api: &Api,
    op: &Operation,
    action: Option<&BoundAction>,
    from: From,
    extra: Option<TokenStream>,
    skip: Option<usize>,
) -> Parts {
    let mut values = Vec::new();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    let mut items = Vec::new();
    let mut read = |arg: &Arg| {
        if let Some(item) = arg.item() {
            items.push(item.to_string());
        }
        arg.expr()
    };
    for (i, p) in op.params.iter().enumerate() {
        if skip == Some(i) {
            continue;
        }
        let Some(arg) = param_value(api, op, action, i, from) else {
            continue;
        };
        let fixed = matches!(arg, Arg::Fixed(_));
        let name = &p.name;
        match p.location {
            ParamIn::Path => {
                let value = read(&arg);
                values.push(quote! { (#name, #value) });
            }
            ParamIn::Query => {
                if fixed {
                    for (k, v) in example_pairs(api, p) {
                        let pair = format!("{}={}", encode(&k), encode(&v));
                        query.push(quote! { #pair.to_string() });
                    }
                } else {
                    let template = format!("{}={{}}", encode(&p.name));
                    let value = read(&arg);
                    query.push(quote! { format!(#template, encode(&#value)) });
                }
            }
            ParamIn::Header => {
                if !RESERVED_HEADERS.contains(&p.name.to_ascii_lowercase().as_str()) {
                    let value = read(&arg);
                    headers.push(quote! { (#name, #value) });
                }
            }
            ParamIn::Cookie => cookies.push(if fixed {
                Err(format!("{}={}", p.name, example_text(api, p)))
            } else {
                let template = format!("{}={{}}", p.name.replace('{', "{{").replace('}', "}}"));
                let value = read(&arg);
                Ok(quote! { format!(#template, #value) })
            }),
        }
    }
    // One `Cookie` header; plain text when no value comes from an item.
    if cookies.iter().all(Result::is_err) && !cookies.is_empty() {
        let text: Vec<String> = cookies.into_iter().filter_map(Result::err).collect();
        let text = text.join("; ");
        headers.push(quote! { ("cookie", #text.to_string()) });
    } else if !cookies.is_empty() {
        let exprs = cookies
            .into_iter()
            .map(|c| c.unwrap_or_else(|text| quote! { #text.to_string() }));
        headers.push(quote! { ("cookie", [#(#exprs),*].join("; ")) });
    }
    query.extend(extra);
    let op_path = &op.path;
    let path = quote! { path(#op_path, &[#(#values),*]) };
    let query = (!query.is_empty()).then(|| quote! { [#(#query),*].join("&") });
    let uri = match &query {
        None => path,
        Some(q) => quote! { format!("{}?{}", #path, #q) },
    };
    Parts {
        uri,
        query,
        headers,
        items,
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
fn body_expr(api: &Api, op: &Operation) -> Option<TokenStream> {
    match &op.body.as_ref()?.media {
        Media::Json(shape) => Some(json_value(&fitting_example(api, shape, true)?)),
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

pub fn emit(api: &Api) -> TokenStream {
    let krate = api.settings.crate_ident();
    let site = Site::Tests { krate: &krate };
    let krate_ident = super::rust::ident(&krate);
    let mut out = inner_docs(
        "Drives the router through every operation with a storage action, on its success and \
         failure paths: against the in-memory store, or against fresh tables on the server that \
         `AWS_ENDPOINT_URL_DYNAMODB` names.",
    );
    out.extend(quote! { #![allow(unused_imports, dead_code)] });
    let routes = generated_at(site, "routes");
    let secured = api.has_security();
    if !api.has_storage() {
        out.extend(quote! {
            use #routes;
            use #krate_ident::handlers::Service;
        });
        out.extend(prelude());
        if secured {
            out.extend(test_caller(api, site));
        }
        out.extend(app_without_store(secured));
        out.extend(emit_stub_tests(api));
        out.extend(emit_auth_tests(api));
        return out;
    }
    let entities = generated_at(site, "entities");
    let store = runtime("store");
    out.extend(quote! {
        use #entities::TABLES;
        use #store::{self, Store};
        use #routes;
        use #krate_ident::handlers::Service;
    });
    out.extend(prelude());
    if secured {
        out.extend(test_caller(api, site));
    }
    out.extend(app_with_store(secured));
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
        let parts = parts(api, create, Some(action), from, None);
        let (uri, headers) = (&parts.uri, parts.headers());
        let doc = format!(" Creates the `n`-th {} through `{}`.", e.schema, create.id);
        let name = seed_name(e);
        let method = create.method.upper();
        let message = format!("{}: {{}} {{}}", create.id);
        out.extend(quote! {
            #[doc = #doc]
            async fn #name(app: &Router, n: usize) -> Value {
                let body = vary(#body, &[#(#unique),*], n);
                let reply = send(app, #method, &#uri, Some(&body), #headers).await;
                assert!(reply.status.is_success(), #message, reply.status, reply.body);
                reply.body
            }
        });
    }
    for op in &api.operations {
        let Some(action) = &op.action else { continue };
        out.extend(emit_op_tests(api, op, action));
    }
    out.extend(emit_stub_tests(api));
    out.extend(emit_auth_tests(api));
    out
}

/// Fields that must differ between seeded items: unique values and the key
/// fields the client chooses. An enum key field is left alone when another
/// key field can differ: a varied enum value is no longer one of its values.
fn seed_fields(api: &Api, e: &Entity, create: &BoundAction) -> Vec<String> {
    let server = e.server_fields();
    let bound: Vec<&str> = create.bindings.iter().map(|(f, _)| f.as_str()).collect();
    let mut fields: Vec<String> = e.unique.clone();
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
        if !fields.iter().any(|f| f == var) {
            fields.push(var.to_string());
        }
    }
    fields
}

/// The seeding helper of an entity: `seed_order`.
fn seed_name(entity: &Entity) -> Ident {
    format_ident!(
        "seed_{}",
        crate::model::names::field_name(&entity.schema).trim_start_matches("r#")
    )
}

fn seed(api: &Api, entity: &Entity) -> Option<Ident> {
    let i = api
        .entities
        .iter()
        .position(|e| e.schema == entity.schema)?;
    let create = seed_op(api, i)?;
    if unbuildable(api, create).is_some() {
        return None;
    }
    body_expr(api, create)?;
    Some(seed_name(entity))
}

/// `item` when the rest of the test reads it, else `_item`, so that a test
/// whose requests name no field of the item stays free of unused variables.
fn binding(var: &str, used: bool) -> Ident {
    if used {
        format_ident!("{var}")
    } else {
        format_ident!("_{var}")
    }
}

/// A test's name: the operation's method name and what the test proves.
fn test_name(op: &Operation, what: &str) -> Ident {
    format_ident!("{}_{what}", unraw(&op.ident))
}

fn emit_op_tests(api: &Api, op: &Operation, action: &BoundAction) -> TokenStream {
    if unbuildable(api, op).is_some() {
        return TokenStream::new();
    }
    let entity = &api.entities[action.entity];
    let method = op.method.upper();
    let seed = seed(api, entity);
    let status = |i: usize| op.responses[i].status.code().unwrap_or(200);
    let a = Some(action);
    let missing = parts(api, op, a, From::Example, None);
    let mut out = TokenStream::new();
    match action.verb {
        Verb::Create => {
            let Some(seed) = seed else { return out };
            let creates = test_name(op, "creates");
            let checks = entity.server_fields().into_iter().map(|f| {
                let message = format!("the server sets `{f}`: {{item}}");
                quote! { assert!(!item[#f].is_null(), #message); }
            });
            let version = entity
                .version
                .as_ref()
                .map(|v| quote! { assert_eq!(item[#v], 1); });
            out.extend(quote! {
                #[tokio::test]
                async fn #creates() {
                    let app = app().await;
                    let item = #seed(&app, 1).await;
                    assert!(item.is_object(), "{item}");
                    #(#checks)*
                    #version
                }
            });
            let shape = match op.body.as_ref().map(|b| &b.media) {
                Some(Media::Json(s)) => s,
                _ => return out,
            };
            let body = body_expr(api, op).unwrap_or_default();
            let (uri, headers, header_calls) =
                (&missing.uri, missing.headers(), missing.header_calls());
            if let Some((field, wrong)) = broken_field(api, shape) {
                let name = test_name(op, "rejects_an_invalid_body");
                let wrong = json_value(&wrong);
                let pointer = format!("/{}", field.replace('~', "~0").replace('/', "~1"));
                out.extend(quote! {
                    #[tokio::test]
                    async fn #name() {
                        let app = app().await;
                        let mut body = #body;
                        body[#field] = #wrong;
                        let reply = send(&app, #method, &#uri, Some(&body), #headers).await;
                        assert_problem(&reply, StatusCode::BAD_REQUEST);
                        let errors = reply.body["errors"].as_array().expect("violations are listed");
                        assert!(errors.iter().any(|e| e["pointer"] == #pointer), "{errors:?}");
                    }
                });
            }
            let content_type = test_name(op, "needs_a_json_content_type");
            let malformed = test_name(op, "rejects_malformed_json");
            out.extend(quote! {
                #[tokio::test]
                async fn #content_type() {
                    let app = app().await;
                    let request = Request::builder().method(#method).uri(#uri) #header_calls .body(Body::from(#body.to_string())).expect("a valid request");
                    let response = app.oneshot(request).await.expect("the router never fails");
                    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
                }

                #[tokio::test]
                async fn #malformed() {
                    let app = app().await;
                    let request = Request::builder().method(#method).uri(#uri).header(header::CONTENT_TYPE, "application/json") #header_calls .body(Body::from("{not json")).expect("a valid request");
                    let response = app.oneshot(request).await.expect("the router never fails");
                    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
                }
            });
            let fields = seed_fields(api, entity, action);
            if fields.len() > entity.unique.len() {
                let name = test_name(op, "refuses_an_existing_key");
                out.extend(quote! {
                    #[tokio::test]
                    async fn #name() {
                        let app = app().await;
                        let _first = #seed(&app, 1).await;
                        let body = vary(#body, &[#(#fields),*], 1);
                        let reply = send(&app, #method, &#uri, Some(&body), #headers).await;
                        assert_problem(&reply, StatusCode::CONFLICT);
                    }
                });
            }
            if !entity.unique.is_empty() {
                let name = test_name(op, "refuses_a_taken_unique_value");
                let unique = &entity.unique;
                out.extend(quote! {
                    #[tokio::test]
                    async fn #name() {
                        let app = app().await;
                        let _first = #seed(&app, 1).await;
                        let body = vary(#body, &[#(#unique),*], 1);
                        let reply = send(&app, #method, &#uri, Some(&body), #headers).await;
                        assert_problem(&reply, StatusCode::CONFLICT);
                    }
                });
            }
        }
        Verb::Get => {
            let Some(seed) = seed else { return out };
            let existing = parts(api, op, a, From::Item("item"), None);
            let (uri, headers) = (&existing.uri, existing.headers());
            let reads = test_name(op, "reads_what_was_created");
            out.extend(quote! {
                #[tokio::test]
                async fn #reads() {
                    let app = app().await;
                    let item = #seed(&app, 1).await;
                    let reply = send(&app, "GET", &#uri, None, #headers).await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                    assert_eq!(reply.body, item);
                }
            });
            let (uri, headers) = (&missing.uri, missing.headers());
            let absent = test_name(op, "answers_404_for_a_missing_item");
            out.extend(quote! {
                #[tokio::test]
                async fn #absent() {
                    let app = app().await;
                    let reply = send(&app, "GET", &#uri, None, #headers).await;
                    assert_problem(&reply, StatusCode::NOT_FOUND);
                }
            });
        }
        Verb::Update | Verb::Put => {
            let Some(seed) = seed else { return out };
            let Some(body) = body_expr(api, op) else {
                return out;
            };
            let existing = parts(api, op, a, From::Item("item"), None);
            let item = binding("item", existing.uses("item"));
            let (uri, headers) = (&existing.uri, existing.headers());
            let expected = proc_macro2::Literal::u16_unsuffixed(status(action.success));
            let version = entity
                .version
                .as_ref()
                .map(|v| quote! { assert_eq!(reply.body[#v], 2); });
            let changes = test_name(op, "changes_an_item");
            out.extend(quote! {
                #[tokio::test]
                async fn #changes() {
                    let app = app().await;
                    let #item = #seed(&app, 1).await;
                    let reply = send(&app, #method, &#uri, Some(&#body), #headers).await;
                    assert_eq!(reply.status.as_u16(), #expected, "{}", reply.body);
                    #version
                }
            });
            if let (Some(_), Some(p)) = (&entity.version, action.if_match) {
                // A stale version in place of the current one.
                let mut stale = parts_except(api, op, a, From::Item("item"), None, Some(p));
                let item = binding("item", stale.uses("item"));
                let header = &op.params[p].name;
                stale
                    .headers
                    .insert(0, quote! { (#header, "\"99\"".to_string()) });
                let (uri, headers) = (&stale.uri, stale.headers());
                let name = test_name(op, "refuses_a_stale_if_match");
                out.extend(quote! {
                    #[tokio::test]
                    async fn #name() {
                        let app = app().await;
                        let #item = #seed(&app, 1).await;
                        let reply = send(&app, #method, &#uri, Some(&#body), #headers).await;
                        assert_problem(&reply, StatusCode::PRECONDITION_FAILED);
                    }
                });
            }
            let if_match_required = action.if_match.is_some_and(|p| op.params[p].required);
            if action.verb == Verb::Update && !if_match_required {
                let (uri, headers) = (&missing.uri, missing.headers());
                let name = test_name(op, "answers_404_for_a_missing_item");
                out.extend(quote! {
                    #[tokio::test]
                    async fn #name() {
                        let app = app().await;
                        let reply = send(&app, #method, &#uri, Some(&#body), #headers).await;
                        assert_problem(&reply, StatusCode::NOT_FOUND);
                    }
                });
            }
        }
        Verb::Delete => {
            let Some(seed) = seed else { return out };
            let existing = parts(api, op, a, From::Item("item"), None);
            let item = binding("item", existing.uses("item"));
            let (uri, headers) = (&existing.uri, existing.headers());
            let expected = proc_macro2::Literal::u16_unsuffixed(status(action.success));
            let name = test_name(op, "removes_an_item");
            out.extend(quote! {
                #[tokio::test]
                async fn #name() {
                    let app = app().await;
                    let #item = #seed(&app, 1).await;
                    let reply = send(&app, "DELETE", &#uri, None, #headers).await;
                    assert_eq!(reply.status.as_u16(), #expected, "{}", reply.body);
                    let again = send(&app, "DELETE", &#uri, None, #headers).await;
                    assert_problem(&again, StatusCode::NOT_FOUND);
                }
            });
        }
        Verb::Query | Verb::List => {
            let Some(seed) = seed else { return out };
            let Some(page) = &action.page else { return out };
            let items = &page.items;
            let has_limit =
                action.limit.is_some() && page.cursor.is_some() && action.cursor.is_some();
            let listed = parts(api, op, a, From::Item("first"), None);
            let (uri, headers) = (&listed.uri, listed.headers());
            let name = test_name(op, "lists_created_items");
            out.extend(quote! {
                #[tokio::test]
                async fn #name() {
                    let app = app().await;
                    let first = #seed(&app, 1).await;
                    for n in 2..=3 { #seed(&app, n).await; }
                    let reply = send(&app, "GET", &#uri, None, #headers).await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                    let items = reply.body[#items].as_array().expect("a page holds items");
                    assert!(items.contains(&first), "{items:?}");
                }
            });
            if has_limit {
                let limit = encode(&op.params[action.limit.unwrap_or_default()].name);
                let cursor_param = encode(&op.params[action.cursor.unwrap_or_default()].name);
                let cursor_field = page.cursor.as_deref().unwrap_or_default();
                let first_page = format!("{limit}=2");
                let first = parts(
                    api,
                    op,
                    a,
                    From::Item("first"),
                    Some(quote! { #first_page.to_string() }),
                );
                let next_page = format!("{limit}=2&{cursor_param}={{}}");
                let next = parts(
                    api,
                    op,
                    a,
                    From::Item("first"),
                    Some(quote! { format!(#next_page, encode(&cursor)) }),
                );
                let bad_cursor = format!("{cursor_param}=not-a-cursor");
                let tampered = parts(
                    api,
                    op,
                    a,
                    From::Item("first"),
                    Some(quote! { #bad_cursor.to_string() }),
                );
                let bind_first = tampered.uses("first").then(|| quote! { let first = });
                let (u1, u2, u3) = (&first.uri, &next.uri, &tampered.uri);
                let h3 = tampered.headers();
                let pages = test_name(op, "pages_through_every_item_once");
                let rejects = test_name(op, "rejects_a_tampered_cursor");
                out.extend(quote! {
                    #[tokio::test]
                    async fn #pages() {
                        let app = app().await;
                        let first = #seed(&app, 1).await;
                        for n in 2..=5 { #seed(&app, n).await; }
                        let mut seen = Vec::new();
                        let mut cursor = String::new();
                        for page in 0..10 {
                            let uri = if page == 0 { #u1 } else { #u2 };
                            let reply = send(&app, "GET", &uri, None, #headers).await;
                            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                            let items = reply.body[#items].as_array().expect("a page holds items").clone();
                            assert!(items.len() <= 2);
                            seen.extend(items);
                            match reply.body[#cursor_field].as_str() {
                                Some(next) => cursor = next.to_string(),
                                None => break,
                            }
                        }
                        assert_eq!(seen.len(), 5, "{seen:?}");
                        assert!(seen.contains(&first));
                        let mut unique = seen.clone();
                        unique.dedup();
                        assert_eq!(unique.len(), 5);
                    }

                    #[tokio::test]
                    async fn #rejects() {
                        let app = app().await;
                        #bind_first #seed(&app, 1).await;
                        let reply = send(&app, "GET", &#u3, None, #h3).await;
                        assert_problem(&reply, StatusCode::BAD_REQUEST);
                    }
                });
            }
        }
    }
    out
}

/// Hand-written operations still get their requests validated before
/// the user's code runs, whatever that code does.
fn emit_stub_tests(api: &Api) -> TokenStream {
    let mut out = TokenStream::new();
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
        let parts = parts(api, op, None, From::Example, None);
        let headers = parts.headers();
        let path = match &parts.query {
            None => quote! { #path },
            Some(q) => quote! { &format!("{}?{}", #path, #q) },
        };
        if let Some(param) = broken {
            let name = test_name(op, "validates_its_path");
            let pointer = format!("/{param}");
            out.extend(quote! {
                #[tokio::test]
                async fn #name() {
                    let reply = send(&app().await, #method, #path, None, #headers).await;
                    assert_problem(&reply, StatusCode::BAD_REQUEST);
                    assert_eq!(reply.body["errors"][0]["pointer"], #pointer);
                }
            });
        } else if op
            .body
            .as_ref()
            .is_some_and(|b| b.required && b.media.typed().is_some())
        {
            let name = test_name(op, "needs_a_body");
            out.extend(quote! {
                #[tokio::test]
                async fn #name() {
                    let reply = send(&app().await, #method, #path, None, #headers).await;
                    assert_problem(&reply, StatusCode::BAD_REQUEST);
                }
            });
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use std::path::Path;

    /// tests/api.rs for the operations of a spec, as printed.
    fn api_tests(spec: &str) -> String {
        let loaded = crate::load::parse(Path::new("t.yaml"), spec.to_string()).expect("parses");
        let api = crate::model::build(&loaded, None).expect("valid");
        let file = syn::parse2(super::emit(&api)).expect("a Rust file");
        prettyplease::unparse(&file)
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
