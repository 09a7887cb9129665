//! The README's account of who may call what: per operation the rule and
//! the part API Gateway checks, how to get a credential locally, and the
//! credential each curl line sends.

use serde::Serialize;

use super::template::AUTHORIZER_BINARY;
use crate::model::security::{Credential, OpSecurity, SchemeKind};
use crate::model::{Api, Operation};

/// The subjects of the README's example tokens and keys.
const USER: &str = "alice";
const GROUP_USER: &str = "bob";
/// The local API key of the README's examples.
const KEY: &str = "secret";

#[derive(Debug, Serialize)]
pub struct AuthView {
    pub operations: Vec<Who>,
    /// Arguments of `cargo run --example token` for a token every
    /// owner-or-authenticated operation accepts.
    pub token_args: Option<String>,
    /// The same for a member of the groups that group routes open to.
    pub group_token_args: Option<String>,
    pub groups: Vec<String>,
    /// The template parameters holding JWT issuers and audiences.
    pub jwt_parameters: Vec<String>,
    /// The header of API Gateway's API keys.
    pub api_key: Option<String>,
    pub api_key_env: String,
    pub lambda: Vec<LambdaView>,
    pub iam: bool,
    pub mutual_tls: bool,
    /// Shell lines the curl examples need first (tokens in variables).
    pub setup: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Who {
    pub id: String,
    pub who: String,
    pub gateway: String,
}

#[derive(Debug, Serialize)]
pub struct LambdaView {
    pub scheme: String,
    pub function: String,
    pub variable: String,
    pub credential: String,
    pub ttl: u64,
}

pub fn view(api: &Api) -> Option<AuthView> {
    if !api.has_security() {
        return None;
    }
    let used = |pred: &dyn Fn(&SchemeKind) -> bool| {
        crate::model::security::uses(
            &api.auth,
            &api.operations
                .iter()
                .map(|o| o.security.clone())
                .collect::<Vec<_>>(),
            pred,
        )
    };
    let jwt = used(&|k| matches!(k, SchemeKind::Jwt(_)));
    let mut scopes: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for op in &api.operations {
        if let OpSecurity::Secured(alternatives) = &op.security {
            let first = alternatives.first().into_iter().flatten();
            for need in first {
                if matches!(api.auth.schemes[need.scheme].kind, SchemeKind::Jwt(_)) {
                    for s in &need.scopes {
                        if !scopes.contains(s) {
                            scopes.push(s.clone());
                        }
                    }
                }
            }
        }
        if let Some(action) = &op.action {
            for g in &action.access.groups {
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
        }
    }
    let scope_args: String = scopes.iter().map(|s| format!(" --scope {s}")).collect();
    let token_args = jwt.then(|| format!("--sub {USER}{scope_args}"));
    let group_token_args = (jwt && !groups.is_empty()).then(|| {
        let group_args: String = groups.iter().map(|g| format!(" --group {g}")).collect();
        format!("--sub {GROUP_USER}{group_args}{scope_args}")
    });
    let mut setup = Vec::new();
    if let Some(args) = &token_args {
        setup.push(format!(
            "TOKEN=$(cargo run --quiet --example token -- {args})"
        ));
    }
    if let Some(args) = &group_token_args {
        setup.push(format!(
            "GROUP_TOKEN=$(cargo run --quiet --example token -- {args})"
        ));
    }
    let mut jwt_parameters = Vec::new();
    let mut api_key = None;
    let mut lambda = Vec::new();
    let sam = super::template::sam(api);
    for a in &sam.authorizers {
        jwt_parameters.extend(a.issuer.clone());
        jwt_parameters.extend(a.audience.clone());
    }
    for p in &sam.parameters {
        if p.name.ends_with("UserPoolId") {
            jwt_parameters.push(p.name.clone());
        }
    }
    for scheme in &api.auth.schemes {
        match &scheme.kind {
            SchemeKind::ApiKey { header, .. } if api_key.is_none() => {
                api_key = Some(header.clone());
            }
            SchemeKind::Custom(custom) => {
                if !sam.functions.iter().any(|f| f.scheme == scheme.name) {
                    continue;
                }
                let credential = match &custom.credential {
                    Credential::Header(h) => format!("header `{h}`"),
                    Credential::Query(q) => format!("query parameter `{q}`"),
                };
                lambda.push(LambdaView {
                    scheme: scheme.name.clone(),
                    function: format!("{}AuthorizerFunction", scheme.resource),
                    variable: scheme.ident.clone(),
                    credential,
                    ttl: custom.ttl,
                });
            }
            _ => {}
        }
    }
    for l in &lambda {
        setup.push(format!(
            "{}='a credential src/bin/{AUTHORIZER_BINARY}.rs accepts'",
            l.variable
        ));
    }
    Some(AuthView {
        operations: api
            .operations
            .iter()
            .map(|op| Who {
                id: op.id.clone(),
                who: api.who_may_call(op),
                gateway: gateway(api, op),
            })
            .collect(),
        token_args,
        group_token_args,
        groups,
        jwt_parameters,
        api_key_env: api_key
            .as_ref()
            .map(|_| format!("APIGEN_API_KEYS={USER}={KEY}"))
            .unwrap_or_default(),
        api_key,
        lambda,
        iam: used(&|k| matches!(k, SchemeKind::Iam)),
        mutual_tls: used(&|k| matches!(k, SchemeKind::MutualTls)),
        setup,
    })
}

/// What API Gateway checks on the operation's route, in words.
fn gateway(api: &Api, op: &Operation) -> String {
    let g = op.security.gateway(&api.auth);
    let mut parts = Vec::new();
    if let Some(i) = g.authorizer {
        let scheme = &api.auth.schemes[i];
        parts.push(match &scheme.kind {
            SchemeKind::Iam => "a SigV4 signature (`AWS_IAM`)".to_string(),
            SchemeKind::Custom(_) => format!("the Lambda authorizer of `{}`", scheme.name),
            _ => {
                let scopes = match &scheme.kind {
                    SchemeKind::Jwt(_) if !g.scopes.is_empty() => {
                        format!(" holding any of {}", g.scopes.join(", "))
                    }
                    _ => String::new(),
                };
                format!("a `{}` token{scopes}", scheme.name)
            }
        });
    }
    if g.api_key {
        parts.push("an API key of the usage plan".to_string());
    }
    if uses_mutual_tls(api, op) {
        parts.push("a client certificate".to_string());
    }
    if parts.is_empty() {
        "nothing".to_string()
    } else {
        parts.join(" and ")
    }
}

fn uses_mutual_tls(api: &Api, op: &Operation) -> bool {
    match &op.security {
        OpSecurity::Secured(alternatives) => alternatives
            .iter()
            .flatten()
            .any(|n| matches!(api.auth.schemes[n.scheme].kind, SchemeKind::MutualTls)),
        OpSecurity::Public => false,
    }
}

/// The credential flags of an operation's curl line, and a query parameter
/// to append to its URL with the shell variable holding its value.
pub fn curl_credentials(api: &Api, op: &Operation) -> (String, Option<(String, String)>) {
    let OpSecurity::Secured(alternatives) = &op.security else {
        return (String::new(), None);
    };
    let mut flags = String::new();
    let mut query = None;
    let grouped = op
        .action
        .as_ref()
        .is_some_and(|a| !a.access.groups.is_empty());
    for need in alternatives.first().into_iter().flatten() {
        let scheme = &api.auth.schemes[need.scheme];
        match &scheme.kind {
            SchemeKind::Jwt(_) => {
                let variable = if grouped { "GROUP_TOKEN" } else { "TOKEN" };
                flags.push_str(&format!(" -H \"Authorization: Bearer ${variable}\""));
            }
            SchemeKind::ApiKey { header, .. } => {
                flags.push_str(&format!(" -H '{header}: {KEY}'"));
            }
            SchemeKind::Custom(custom) => match &custom.credential {
                Credential::Header(h) => {
                    flags.push_str(&format!(" -H \"{h}: ${}\"", scheme.ident));
                }
                Credential::Query(q) => query = Some((q.clone(), scheme.ident.clone())),
            },
            SchemeKind::Iam | SchemeKind::MutualTls => {}
        }
    }
    (flags, query)
}
