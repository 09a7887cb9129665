//! What `template.yaml` deploys for the API itself: its routes and what API
//! Gateway checks on each (authorizers, scopes, API keys), the parameters an
//! operator sets per stage, the Lambda authorizers and the client-certificate
//! domain. The function checks the rest; see `OpSecurity::gateway`.

use serde::Serialize;

use crate::model::edge::Domain;
use crate::model::gateway::Routes;
use crate::model::security::{Credential, Gateway, Jwt, OpSecurity, SchemeKind};
use crate::model::{Api, ApiKind};

/// The memory and timeout of a Lambda authorizer: it reads a header and
/// answers yes or no, and API Gateway waits for it on every uncached request.
const AUTHORIZER_MEMORY: u32 = 128;
const AUTHORIZER_TIMEOUT: u32 = 5;

pub use crate::model::functions::AUTHORIZER_BINARY;

#[derive(Debug, Serialize)]
pub struct Sam {
    pub events: Vec<Event>,
    /// The functions serving the API, each with its routes.
    pub api_functions: Vec<ApiFunction>,
    pub parameters: Vec<Parameter>,
    pub authorizers: Vec<Authorizer>,
    /// The authorizer of routes that name none. Every route names one (public
    /// ones `NONE`, which SAM accepts only when the API has a default), so
    /// this only makes a route the template forgot fail closed.
    pub default_authorizer: Option<String>,
    /// One function per Lambda authorizer scheme.
    pub functions: Vec<AuthorizerFunction>,
    /// The binary `ApiFunction` builds, named when the project has others.
    pub binary: Option<String>,
    /// Some route is signed with SigV4.
    pub iam: bool,
    /// Some route needs an API key: the API gets a usage plan and one key.
    pub usage_plan: Option<UsagePlan>,
    /// Every route needs a client certificate, checked by a custom domain.
    pub mutual_tls: bool,
    /// The custom domain serving the API, for `domain` or client certificates.
    pub domain: Option<DomainView>,
    /// The WebSocket API, its functions and the connections table.
    pub websocket: Option<WebSocketSam>,
}

/// The stage of every WebSocket API (a WebSocket API has no `$default` stage).
pub const WEBSOCKET_STAGE: &str = "live";

/// What template.yaml declares for a WebSocket API.
#[derive(Debug, Serialize)]
pub struct WebSocketSam {
    pub selection: String,
    pub stage: &'static str,
    /// `$connect`, `$disconnect`, `$default` and each declared route.
    pub routes: Vec<WebSocketRoute>,
    /// The Lambda authorizer of `$connect`, when the API is secured.
    pub authorizer: Option<ConnectAuthorizer>,
    /// The tables whose streams the changes function consumes.
    pub streams: Vec<String>,
    /// The binary the WebSocket functions run, named when the crate has several.
    pub binary: Option<String>,
    pub memory: u64,
    pub timeout: u64,
}

#[derive(Debug, Serialize)]
pub struct WebSocketRoute {
    pub resource: String,
    pub key: String,
}

#[derive(Debug, Serialize)]
pub struct ConnectAuthorizer {
    /// The function deciding: the custom scheme's, or `WebSocketAuthorizerFunction` that
    /// verifies JWTs.
    pub function: String,
    /// The parameters naming a JWT scheme's issuer and audiences, when the function is ours.
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub scheme: String,
}

#[derive(Debug, Serialize)]
pub struct DomainView {
    /// The segment the API is mapped under.
    pub base_path: Option<String>,
    /// Client certificates are checked against the truststore parameters.
    pub mutual_tls: bool,
}

/// A function serving operations of the API.
#[derive(Debug, Serialize)]
pub struct ApiFunction {
    pub resource: String,
    /// Its binary, when the crate has several.
    pub binary: Option<String>,
    pub label: String,
    pub events: Vec<Event>,
    /// The operations (indexes) it serves, for its table access.
    #[serde(skip)]
    pub operations: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub name: String,
    pub path: String,
    pub method: String,
    /// What API Gateway checks on the route; `None` when the API checks nothing.
    pub auth: Option<EventAuth>,
    /// The operation whose route it is; `None` for the catch-all and preflight routes.
    #[serde(skip)]
    pub operation: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventAuth {
    /// An authorizer's name, `AWS_IAM`, or `NONE` on a public route.
    pub authorizer: Option<String>,
    /// Scopes of which the token must hold one.
    pub scopes: Vec<String>,
    pub api_key: bool,
}

#[derive(Debug, Serialize)]
pub struct Parameter {
    pub name: String,
    /// `String`, `Number` or `CommaDelimitedList`.
    pub kind: &'static str,
    /// None makes `sam deploy --guided` ask for a value.
    pub default: Option<String>,
    pub description: String,
    /// The values allowed, when only some are.
    pub allowed: Vec<String>,
}

impl Parameter {
    pub fn text(name: &str, default: Option<&str>, description: &str) -> Self {
        Self {
            name: name.to_string(),
            kind: "String",
            default: default.map(str::to_string),
            description: description.to_string(),
            allowed: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Authorizer {
    /// The name events refer to (the scheme's resource prefix).
    pub name: String,
    /// `jwt` (HTTP API), `cognito` (REST API) or `lambda`.
    pub kind: &'static str,
    /// The parameters holding a JWT authorizer's issuer and audience.
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// A Cognito authorizer's user pool ARN, for `!Sub`.
    pub pool_arn: Option<String>,
    /// A Lambda authorizer's function, and where its credential is.
    pub function: Option<String>,
    pub headers: Vec<String>,
    pub query: Vec<String>,
    pub ttl: u64,
}

#[derive(Debug, Serialize)]
pub struct AuthorizerFunction {
    pub resource: String,
    pub scheme: String,
    pub memory: u32,
    pub timeout: u32,
    pub binary: &'static str,
}

#[derive(Debug, Default, Serialize)]
pub struct UsagePlan {
    pub rate_limit: Option<f64>,
    pub burst_limit: Option<u64>,
    pub quota_limit: Option<u64>,
    pub quota_period: Option<String>,
}

pub fn sam(api: &Api) -> Sam {
    let rest = api.settings.api == ApiKind::Rest;
    let websocket_scheme = api.websocket.as_ref().and_then(|w| w.scheme());
    let used: Vec<usize> = (0..api.auth.schemes.len())
        .filter(|&i| {
            websocket_scheme == Some(i)
                || api.operations.iter().any(|o| match &o.security {
                    OpSecurity::Secured(alternatives) => {
                        alternatives.iter().flatten().any(|n| n.scheme == i)
                    }
                    OpSecurity::Public => false,
                })
        })
        .collect();
    let mut parameters = Vec::new();
    let mut authorizers = Vec::new();
    let mut functions = Vec::new();
    let mut iam = false;
    let mut usage_plan = None;
    let mut mutual_tls = false;
    for &i in &used {
        let scheme = &api.auth.schemes[i];
        let name = scheme.resource.clone();
        match &scheme.kind {
            SchemeKind::Jwt(jwt) => {
                authorizers.push(jwt_authorizer(
                    &name,
                    &scheme.name,
                    jwt,
                    rest,
                    &mut parameters,
                ));
            }
            SchemeKind::Custom(custom) => {
                let function = format!("{name}AuthorizerFunction");
                let (headers, query) = match &custom.credential {
                    Credential::Header(h) => (vec![h.clone()], vec![]),
                    Credential::Query(q) => (vec![], vec![q.clone()]),
                };
                authorizers.push(Authorizer {
                    name: name.clone(),
                    kind: "lambda",
                    issuer: None,
                    audience: None,
                    pool_arn: None,
                    function: Some(function.clone()),
                    headers,
                    query,
                    ttl: custom.ttl,
                });
                functions.push(AuthorizerFunction {
                    resource: function,
                    scheme: scheme.name.clone(),
                    memory: AUTHORIZER_MEMORY,
                    timeout: AUTHORIZER_TIMEOUT,
                    binary: AUTHORIZER_BINARY,
                });
            }
            SchemeKind::Iam => iam = true,
            SchemeKind::ApiKey {
                usage_plan: plan, ..
            } => {
                // One plan per API (SAM's PER_API): the first scheme with
                // limits sets them; a key without limits still needs a plan.
                let view = plan.as_ref().map(|p| UsagePlan {
                    rate_limit: p.rate_limit,
                    burst_limit: p.burst_limit,
                    quota_limit: p.quota.as_ref().map(|q| q.limit),
                    quota_period: p.quota.as_ref().map(|q| q.period.clone()),
                });
                match (&usage_plan, view) {
                    (None, view) => usage_plan = Some(view.unwrap_or_default()),
                    (
                        Some(UsagePlan {
                            rate_limit: None,
                            burst_limit: None,
                            quota_limit: None,
                            ..
                        }),
                        Some(view),
                    ) => usage_plan = Some(view),
                    _ => {}
                }
            }
            SchemeKind::MutualTls => mutual_tls = true,
        }
    }
    let domain = (mutual_tls || api.edge.domain.is_some()).then(|| {
        parameters.extend(domain_parameters(api.edge.domain.as_ref(), mutual_tls));
        DomainView {
            base_path: api.edge.domain.as_ref().and_then(|d| d.base_path.clone()),
            mutual_tls,
        }
    });
    let binary = (!functions.is_empty()).then(|| api.settings.name.clone());
    let events = events(api);
    let api_functions = api
        .functions
        .iter()
        .enumerate()
        .map(|(k, f)| ApiFunction {
            resource: f.resource.clone(),
            binary: f.binary.clone().or_else(|| binary.clone()),
            label: f.label.clone(),
            // Routes of no operation (catch-all, preflight) go to the first function.
            events: events
                .iter()
                .filter(|e| match e.operation {
                    Some(i) => f.operations.contains(&i),
                    None => k == 0,
                })
                .cloned()
                .collect(),
            operations: f.operations.clone(),
        })
        .collect();
    let default_authorizer = events
        .iter()
        .filter_map(|e| e.auth.as_ref()?.authorizer.clone())
        .find(|a| a != "NONE");
    let websocket = websocket(api, &binary, &mut parameters);
    Sam {
        websocket,
        events,
        api_functions,
        default_authorizer,
        parameters,
        authorizers,
        functions,
        binary,
        iam,
        usage_plan,
        mutual_tls,
        domain,
    }
}

fn websocket(
    api: &Api,
    binary: &Option<String>,
    parameters: &mut Vec<Parameter>,
) -> Option<WebSocketSam> {
    use crate::model::websocket::DEFAULT_ROUTE;
    let ws = api.websocket.as_ref()?;
    let mut names = crate::model::names::Scope::default();
    let mut route = |key: &str, word: &str| WebSocketRoute {
        resource: names.claim(format!(
            "WebSocket{}Route",
            crate::model::names::type_name(word)
        )),
        key: key.to_string(),
    };
    let mut routes = vec![
        route("$connect", "connect"),
        route("$disconnect", "disconnect"),
        route(DEFAULT_ROUTE, "default"),
    ];
    for r in ws.routes.iter().filter(|r| r.action != DEFAULT_ROUTE) {
        routes.push(route(&r.action, &r.action));
    }
    // The model admits only these two kinds of scheme on a WebSocket API.
    let authorizer = ws.scheme().and_then(|i| {
        let scheme = &api.auth.schemes[i];
        match &scheme.kind {
            SchemeKind::Custom(_) => Some(ConnectAuthorizer {
                function: format!("{}AuthorizerFunction", scheme.resource),
                issuer: None,
                audience: None,
                scheme: scheme.name.clone(),
            }),
            SchemeKind::Jwt(jwt) => {
                // The REST side's JWT authorizer may have declared them (a Cognito one names
                // its pool instead).
                let (issuer, audience) =
                    jwt_parameters(&scheme.resource, &scheme.name, jwt, parameters);
                Some(ConnectAuthorizer {
                    function: "WebSocketAuthorizerFunction".to_string(),
                    issuer: Some(issuer),
                    audience: Some(audience),
                    scheme: scheme.name.clone(),
                })
            }
            _ => None,
        }
    });
    let mut streams: Vec<String> = Vec::new();
    for entity in api.entities.iter().filter(|e| e.publish.is_some()) {
        let resource = api.tables[entity.table].resource.clone();
        if !streams.contains(&resource) {
            streams.push(resource);
        }
    }
    Some(WebSocketSam {
        selection: ws.selection.clone(),
        stage: WEBSOCKET_STAGE,
        routes,
        authorizer,
        streams,
        // The functions run the crate's default binary, which has siblings whenever the
        // crate has an authorizer or functions of its own.
        binary: Some(binary.clone().unwrap_or_else(|| api.settings.name.clone())),
        memory: api.settings.memory,
        timeout: api.settings.timeout,
    })
}

/// The parameters naming a JWT scheme's issuer and audiences (`<Scheme>Issuer`,
/// `<Scheme>Audience`), declared once whoever asks first.
fn jwt_parameters(
    name: &str,
    scheme: &str,
    jwt: &Jwt,
    parameters: &mut Vec<Parameter>,
) -> (String, String) {
    let issuer = format!("{name}Issuer");
    let audience = format!("{name}Audience");
    if !parameters.iter().any(|p| p.name == issuer) {
        parameters.push(Parameter::text(
            &issuer,
            Some(&jwt.issuer),
            &format!("The issuer (iss) of the tokens scheme {scheme} accepts"),
        ));
        parameters.push(Parameter {
            kind: "CommaDelimitedList",
            ..Parameter::text(
                &audience,
                Some(&jwt.audience.join(",")),
                &format!("The audiences (aud or client_id) of the tokens scheme {scheme} accepts"),
            )
        });
    }
    (issuer, audience)
}

fn jwt_authorizer(
    name: &str,
    scheme: &str,
    jwt: &Jwt,
    rest: bool,
    parameters: &mut Vec<Parameter>,
) -> Authorizer {
    let mut out = Authorizer {
        name: name.to_string(),
        kind: "jwt",
        issuer: None,
        audience: None,
        pool_arn: None,
        function: None,
        headers: Vec::new(),
        query: Vec::new(),
        ttl: 0,
    };
    match (&jwt.cognito, rest) {
        (Some(pool), true) => {
            // A REST API's Cognito authorizer takes the pool, not the issuer, and
            // checks no audience: the function checks `aud` (or `client_id`).
            let param = format!("{name}UserPoolId");
            parameters.push(Parameter::text(
                &param,
                Some(&pool.pool_id),
                &format!(
                    "The Cognito user pool (in {}) whose tokens scheme {scheme} accepts",
                    pool.region
                ),
            ));
            out.kind = "cognito";
            out.pool_arn = Some(format!(
                "arn:${{AWS::Partition}}:cognito-idp:{}:${{AWS::AccountId}}:userpool/${{{param}}}",
                pool.region
            ));
        }
        _ => {
            let (issuer, audience) = jwt_parameters(name, scheme, jwt, parameters);
            out.issuer = Some(issuer);
            out.audience = Some(audience);
        }
    }
    out
}

/// The custom domain's name and certificate, and with client certificates their truststore.
/// Without a `domain` hint (client certificates alone) the defaults are placeholders.
fn domain_parameters(domain: Option<&Domain>, mutual_tls: bool) -> Vec<Parameter> {
    let (name, certificate) = match domain {
        Some(d) => (d.name.as_str(), d.certificate.as_deref()),
        None => (
            "api.example.com",
            Some("arn:aws:acm:us-east-1:123456789012:certificate/replace-me"),
        ),
    };
    let mut out = vec![
        Parameter::text(
            "DomainName",
            Some(name),
            if mutual_tls {
                "The custom domain that serves the API and checks client certificates"
            } else {
                "The custom domain that serves the API"
            },
        ),
        Parameter::text(
            "CertificateArn",
            certificate,
            "The ACM certificate of DomainName, in the stack's region",
        ),
    ];
    if mutual_tls {
        out.push(Parameter::text(
            "TruststoreUri",
            Some("s3://replace-me/truststore.pem"),
            "The S3 URI of the PEM bundle of certificate authorities clients' certificates chain to",
        ));
        out.push(Parameter::text(
            "TruststoreVersion",
            Some(""),
            "The S3 object version of the truststore; empty for the latest",
        ));
    }
    out
}

/// One API Gateway route per router route and method; API Gateway, like axum, allows one
/// variable per segment and one name per position, so it is given the router's patterns.
/// Past the routes a stack holds, catch-all routes serve the rest (see [`Routes`]).
fn events(api: &Api) -> Vec<Event> {
    let authorizers = has_authorizers(api);
    let own_route = |i: usize| match &api.routes {
        Routes::Each => true,
        Routes::CatchAll { explicit, .. } => explicit.contains(&i),
    };
    let mut events: Vec<Event> = Vec::new();
    for (i, op) in api.operations.iter().enumerate() {
        let method = op.method.upper();
        if own_route(i)
            && !events
                .iter()
                .any(|e| e.path == op.route && e.method == method)
        {
            events.push(Event {
                name: op.type_name.clone(),
                path: op.route.clone(),
                method,
                auth: event_auth(api, op.security.gateway(&api.auth), authorizers),
                operation: Some(i),
            });
        }
    }
    // A REST API's preflight requests reach the function, which answers them for every origin
    // `cors` lists (an HTTP API answers them itself); browsers send them without credentials.
    if api.settings.api == ApiKind::Rest && api.edge.cors.is_some() {
        let auth = event_auth(api, Gateway::default(), authorizers);
        events.extend(
            [("CorsPreflightRoot", "/"), ("CorsPreflight", "/{proxy+}")].map(|(name, path)| {
                Event {
                    name: name.into(),
                    path: path.into(),
                    method: "OPTIONS".into(),
                    auth: auth.clone(),
                    operation: None,
                }
            }),
        );
    }
    if let Routes::CatchAll { common, .. } = &api.routes {
        let auth = event_auth(api, common.clone(), authorizers);
        events.extend(
            [("Root", "/"), ("Proxy", "/{proxy+}")].map(|(name, path)| Event {
                name: name.into(),
                path: path.into(),
                method: "ANY".into(),
                auth: auth.clone(),
                operation: None,
            }),
        );
    }
    events
}

fn has_authorizers(api: &Api) -> bool {
    api.operations
        .iter()
        .any(|o| o.security.gateway(&api.auth).authorizer.is_some())
}

fn event_auth(api: &Api, gateway: Gateway, authorizers: bool) -> Option<EventAuth> {
    let authorizer = match gateway.authorizer {
        Some(i) => {
            let scheme = &api.auth.schemes[i];
            Some(match scheme.kind {
                SchemeKind::Iam => "AWS_IAM".to_string(),
                _ => scheme.resource.clone(),
            })
        }
        None if authorizers => Some("NONE".to_string()),
        None => None,
    };
    // API Gateway checks scopes of JWT and Cognito authorizers only; a Lambda
    // authorizer's scopes are the function's to check.
    let scopes = match gateway.authorizer.map(|i| &api.auth.schemes[i].kind) {
        Some(SchemeKind::Jwt(_)) => gateway.scopes,
        _ => Vec::new(),
    };
    let auth = EventAuth {
        authorizer,
        scopes,
        api_key: gateway.api_key,
    };
    (auth != EventAuth::default()).then_some(auth)
}

#[cfg(test)]
mod unit {
    use std::path::Path;

    use super::*;

    fn sam_of(spec: &str) -> Sam {
        let loaded = crate::load::parse(Path::new("t.yaml"), spec.to_string()).expect("parses");
        sam(&crate::model::build(&loaded, None).expect("valid"))
    }

    const SCHEMES: &str = r#"
components:
  securitySchemes:
    users:
      type: http
      scheme: bearer
      x-apigen-issuer: https://login.example.com/
      x-apigen-audience: [things]
    gate:
      type: http
      scheme: bearer
      x-apigen-authorizer: lambda
    unused:
      type: http
      scheme: bearer
      x-apigen-issuer: https://other.example.com/
      x-apigen-audience: [other]
"#;

    fn spec(paths: &str) -> String {
        format!("openapi: 3.0.3\ninfo: {{title: T, version: '1'}}\nx-apigen: {{name: t}}\npaths:\n{paths}{SCHEMES}")
    }

    fn op(path: &str, id: &str, security: &str) -> String {
        format!("  {path}:\n    get:\n      operationId: {id}\n      x-apigen-action: none\n      security: {security}\n      responses: {{'204': {{description: done}}}}\n")
    }

    #[test]
    fn routes_name_their_authorizer_and_public_ones_opt_out() {
        let sam = sam_of(&spec(&format!(
            "{}{}{}",
            op("/health", "health", "[]"),
            op("/a", "a", "[{users: [read]}]"),
            op("/b", "b", "[{gate: [read]}]"),
        )));
        let auth = |i: usize| sam.events[i].auth.as_ref().expect("checked");
        assert_eq!(auth(0).authorizer.as_deref(), Some("NONE"));
        assert_eq!(auth(1).authorizer.as_deref(), Some("Users"));
        assert_eq!(auth(1).scopes, ["read"]);
        // API Gateway checks no scopes for a Lambda authorizer: the function does.
        assert_eq!(auth(2).authorizer.as_deref(), Some("Gate"));
        assert!(auth(2).scopes.is_empty());
        assert_eq!(sam.default_authorizer.as_deref(), Some("Users"));
        // A scheme no operation uses deploys nothing, so no parameter goes unused.
        let names: Vec<&str> = sam.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["UsersIssuer", "UsersAudience"]);
        assert_eq!(sam.functions.len(), 1);
        assert_eq!(sam.functions[0].resource, "GateAuthorizerFunction");
        assert_eq!(sam.binary.as_deref(), Some("t"));
    }

    #[test]
    fn an_api_without_security_checks_nothing() {
        let sam = sam_of(&spec(&op("/a", "a", "[]")));
        assert!(sam.events[0].auth.is_none());
        assert!(sam.default_authorizer.is_none() && sam.parameters.is_empty());
        assert!(sam.binary.is_none());
    }

    #[test]
    fn a_catch_all_route_checks_what_every_operation_needs() {
        let paths = |security: &dyn Fn(usize) -> &'static str| {
            (0..=crate::model::gateway::MAX_ROUTES)
                .map(|i| op(&format!("/r{i}"), &format!("r{i}"), security(i)))
                .collect::<String>()
        };
        let same = sam_of(&spec(&paths(&|i| {
            if i % 2 == 0 {
                "[{users: [read]}]"
            } else {
                "[{users: [write]}]"
            }
        })));
        assert_eq!(same.events.len(), 2);
        let auth = same.events[1].auth.as_ref().expect("checked");
        assert_eq!(auth.authorizer.as_deref(), Some("Users"));
        assert!(auth.scopes.is_empty(), "scopes differ by route");
        let mixed = sam_of(&spec(&paths(&|i| {
            if i == 0 {
                "[]"
            } else {
                "[{users: []}]"
            }
        })));
        // The public operation keeps its own route; the catch-all checks the token.
        let names: Vec<&str> = mixed.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["R0", "Root", "Proxy"]);
        let auth = |i: usize| mixed.events[i].auth.as_ref().expect("checked");
        assert_eq!(auth(0).authorizer.as_deref(), Some("NONE"));
        assert_eq!(auth(2).authorizer.as_deref(), Some("Users"));
        // Half public, half secured: one catch-all route cannot check both.
        let halves: String = (0..=2 * crate::model::gateway::MAX_ROUTES)
            .map(|i| {
                let security = if i % 2 == 0 { "[]" } else { "[{users: []}]" };
                op(&format!("/r{i}"), &format!("r{i}"), security)
            })
            .collect();
        let loaded = crate::load::parse(Path::new("t.yaml"), spec(&halves)).expect("parses");
        let Err(errors) = crate::model::build(&loaded, None) else {
            panic!("half public and half secured routes past the limit are refused");
        };
        assert!(errors.iter().any(|d| d.is_error()
            && d.message.contains("one catch-all route cannot check")
            && d.help
                .as_deref()
                .is_some_and(|h| h.contains("split the API"))));
    }
}
