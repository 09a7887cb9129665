//! Who may call each operation: the spec's `securitySchemes` and `security`,
//! plus the `x-apigen-*` keys OpenAPI cannot say (audiences, issuers, usage
//! plans, Lambda authorizers), checked against what API Gateway can deploy.
//! A requirement is deployed, enforced, or refused here: never dropped.

use serde_json::{Map, Value};

use super::hints::{child, closest, list, Reader};
use super::names;
use super::ApiKind;
use crate::diagnostic::Diagnostic;
use crate::json_pointer::pointer;

/// The `x-apigen-*` keys a security scheme may carry.
const SCHEME_KEYS: &[&str] = &[
    "x-apigen-audience",
    "x-apigen-issuer",
    "x-apigen-usagePlan",
    "x-apigen-authorizer",
    "x-apigen-authorizerTtl",
];
/// The scheme types OpenAPI defines.
const TYPES: &[&str] = &["openIdConnect", "oauth2", "http", "apiKey", "mutualTLS"];
const WELL_KNOWN: &str = "/.well-known/openid-configuration";
/// API Gateway caches an authorizer's answer for at most an hour.
const MAX_TTL: u64 = 3600;

/// The API's security schemes and settings.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub schemes: Vec<Scheme>,
    /// The claim holding the caller's groups.
    pub groups_claim: String,
}

impl Auth {
    pub fn is_empty(&self) -> bool {
        self.schemes.is_empty()
    }

    pub fn custom(&self) -> impl Iterator<Item = (&Scheme, &Custom)> {
        self.schemes.iter().filter_map(|s| match &s.kind {
            SchemeKind::Custom(c) => Some((s, c)),
            _ => None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Scheme {
    /// The name under `components.securitySchemes`.
    pub name: String,
    /// The Rust constant naming it (`USERS`).
    pub ident: String,
    /// The prefix of its CloudFormation names (`Users`).
    pub resource: String,
    pub kind: SchemeKind,
    pub pointer: String,
}

#[derive(Debug, Clone)]
pub enum SchemeKind {
    /// Bearer JWTs: `openIdConnect`, `oauth2` and `http: bearer`.
    Jwt(Jwt),
    /// An API key in a header: API Gateway's own keys, on a REST API.
    ApiKey {
        header: String,
        usage_plan: Option<UsagePlan>,
    },
    /// `x-apigen-authorizer: lambda`: the user's code decides.
    Custom(Custom),
    /// SigV4 (`x-amazon-apigateway-authtype: awsSigv4`).
    Iam,
    /// Client certificates (3.1 `mutualTLS`), on a custom domain.
    MutualTls,
}

impl SchemeKind {
    /// The kinds API Gateway checks with an authorizer, one per route.
    pub fn is_authorizer(&self) -> bool {
        matches!(self, Self::Jwt(_) | Self::Custom(_) | Self::Iam)
    }

    /// The kinds whose tokens carry scopes.
    pub fn has_scopes(&self) -> bool {
        matches!(self, Self::Jwt(_) | Self::Custom(_))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Jwt(_) => "JWT",
            Self::ApiKey { .. } => "API key",
            Self::Custom(_) => "Lambda authorizer",
            Self::Iam => "AWS IAM (SigV4)",
            Self::MutualTls => "mutual TLS",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Jwt {
    pub issuer: String,
    pub audience: Vec<String>,
    /// Set when the issuer is a Cognito user pool.
    pub cognito: Option<CognitoPool>,
}

#[derive(Debug, Clone)]
pub struct CognitoPool {
    pub region: String,
    pub pool_id: String,
}

#[derive(Debug, Clone)]
pub struct Custom {
    pub credential: Credential,
    /// Seconds API Gateway caches a decision.
    pub ttl: u64,
}

/// Where a Lambda authorizer's credential is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Header(String),
    Query(String),
}

#[derive(Debug, Clone, Default)]
pub struct UsagePlan {
    /// Requests per second, steady state.
    pub rate_limit: Option<f64>,
    pub burst_limit: Option<u64>,
    pub quota: Option<Quota>,
}

#[derive(Debug, Clone)]
pub struct Quota {
    pub limit: u64,
    /// `DAY`, `WEEK` or `MONTH`.
    pub period: String,
}

/// One scheme of a requirement, with the scopes it needs (all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// Index into `Auth::schemes`.
    pub scheme: usize,
    pub scopes: Vec<String>,
}

/// Who may call an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OpSecurity {
    /// Anyone: `security: []`, or no security anywhere.
    #[default]
    Public,
    /// Alternatives (any one suffices), each needing all of its schemes.
    /// Every alternative uses the same schemes; only scopes differ.
    Secured(Vec<Vec<Need>>),
}

/// What API Gateway checks for one route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gateway {
    /// The route's authorizer (index into `Auth::schemes`).
    pub authorizer: Option<usize>,
    pub api_key: bool,
    /// Scopes of which the token must hold at least one (API Gateway's
    /// meaning); empty when some alternative needs none.
    pub scopes: Vec<String>,
}

impl OpSecurity {
    pub fn is_secured(&self) -> bool {
        matches!(self, Self::Secured(_))
    }

    /// What API Gateway checks; the function checks the rest (every scope of
    /// an alternative, groups and owners).
    pub fn gateway(&self, auth: &Auth) -> Gateway {
        let Self::Secured(alternatives) = self else {
            return Gateway::default();
        };
        let mut out = Gateway::default();
        let Some(first) = alternatives.first() else {
            return out;
        };
        for need in first {
            match &auth.schemes[need.scheme].kind {
                SchemeKind::ApiKey { .. } => out.api_key = true,
                kind if kind.is_authorizer() => out.authorizer = Some(need.scheme),
                _ => {}
            }
        }
        let Some(authorizer) = out.authorizer else {
            return out;
        };
        let scopes_of = |alternative: &Vec<Need>| -> Vec<String> {
            alternative
                .iter()
                .filter(|n| n.scheme == authorizer)
                .flat_map(|n| n.scopes.clone())
                .collect()
        };
        if alternatives.iter().all(|a| !scopes_of(a).is_empty()) {
            for alternative in alternatives {
                for scope in scopes_of(alternative) {
                    if !out.scopes.contains(&scope) {
                        out.scopes.push(scope);
                    }
                }
            }
        }
        out
    }

    /// Who may call, in words, for `apigen check`.
    pub fn describe(&self, auth: &Auth) -> String {
        let Self::Secured(alternatives) = self else {
            return "anyone (public)".into();
        };
        alternatives
            .iter()
            .map(|alternative| {
                alternative
                    .iter()
                    .map(|need| {
                        let scheme = &auth.schemes[need.scheme];
                        let mut out = format!("{} ({})", scheme.name, scheme.kind.describe());
                        if !need.scopes.is_empty() {
                            out.push_str(&format!(" with scopes {}", need.scopes.join(" and ")));
                        }
                        out
                    })
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect::<Vec<_>>()
            .join(", or ")
    }
}

/// Reads `components.securitySchemes` and `x-apigen.auth`.
pub fn read_schemes(r: &mut Reader, raw: &Value, api: ApiKind, settings: Option<&Value>) -> Auth {
    let mut auth = Auth {
        groups_claim: "cognito:groups".into(),
        ..Auth::default()
    };
    if let Some(settings) = settings {
        let at = pointer([super::hints::ROOT, "auth"]);
        if let Some(map) = r.object(settings, &at, "`auth`", &["groupsClaim"]) {
            if let Some(claim) = r.string(map, "groupsClaim", &at) {
                auth.groups_claim = claim.value;
            }
        }
    }
    let Some(schemes) = raw
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
    else {
        return auth;
    };
    let mut idents = names::Scope::default();
    let mut resources = names::Scope::default();
    for (name, value) in schemes {
        let at = pointer(["components", "securitySchemes", name]);
        let value = follow(raw, value);
        let Some(map) = value.as_object() else {
            continue;
        };
        check_keys(r, map, &at);
        let Some(kind) = read_kind(r, map, &at, name, api) else {
            continue;
        };
        auth.schemes.push(Scheme {
            name: name.clone(),
            ident: idents.claim(names::const_name(name)),
            resource: resources.claim(names::type_name(name)),
            kind,
            pointer: at,
        });
    }
    auth
}

/// A scheme given as a `$ref` to another scheme of the document.
fn follow<'v>(raw: &'v Value, value: &'v Value) -> &'v Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(target) => target
            .strip_prefix('#')
            .and_then(|p| raw.pointer(p))
            .unwrap_or(value),
        None => value,
    }
}

fn check_keys(r: &mut Reader, map: &Map<String, Value>, at: &str) {
    for key in map.keys().filter(|k| k.starts_with("x-apigen")) {
        if !SCHEME_KEYS.contains(&key.as_str()) {
            let suggestion = closest(key, SCHEME_KEYS)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            r.diagnostics.push(
                Diagnostic::error(
                    child(at, key),
                    format!("unknown key `{key}` on a security scheme"),
                )
                .help(format!("{suggestion}a scheme takes {}", list(SCHEME_KEYS))),
            );
        }
    }
}

fn read_kind(
    r: &mut Reader,
    map: &Map<String, Value>,
    at: &str,
    name: &str,
    api: ApiKind,
) -> Option<SchemeKind> {
    let kind = map.get("type").and_then(Value::as_str).unwrap_or_default();
    let custom = match r
        .choice(map, "x-apigen-authorizer", at, &["lambda"])
        .map(|c| c.value)
    {
        Some(_) => Some(read_ttl(r, map, at)),
        None => {
            if map.contains_key("x-apigen-authorizerTtl") {
                r.diagnostics.push(
                    Diagnostic::error(
                        child(at, "x-apigen-authorizerTtl"),
                        "`x-apigen-authorizerTtl` is for Lambda authorizers",
                    )
                    .help("add `x-apigen-authorizer: lambda`, or remove the TTL"),
                );
            }
            None
        }
    };
    let location = map.get("in").and_then(Value::as_str).unwrap_or_default();
    let param = map
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let http = map
        .get("scheme")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let lambda_help = "or add `x-apigen-authorizer: lambda` to decide in your own code";
    if let Some(ttl) = custom {
        let credential = match (kind, location) {
            ("apiKey", "header") => Credential::Header(param),
            ("apiKey", "query") => Credential::Query(param),
            // The typed parser has read `in` as header, query or cookie.
            ("apiKey", _) => {
                r.diagnostics.push(
                    Diagnostic::error(
                        child(at, "in"),
                        format!("scheme `{name}` sends its key in a cookie, which no API Gateway authorizer can read on every API type"),
                    )
                    .help("send the key in a header (`in: header`)"),
                );
                return None;
            }
            ("http" | "oauth2" | "openIdConnect", _) => Credential::Header("Authorization".into()),
            _ => {
                r.diagnostics.push(
                    Diagnostic::error(
                        child(at, "x-apigen-authorizer"),
                        format!("a `{kind}` scheme cannot use a Lambda authorizer"),
                    )
                    .help("remove `x-apigen-authorizer`"),
                );
                return None;
            }
        };
        no_jwt_keys(r, map, at, "a Lambda authorizer decides itself");
        no_usage_plan(r, map, at);
        return Some(SchemeKind::Custom(Custom { credential, ttl }));
    }
    match kind {
        "apiKey" => {
            let sigv4 = map
                .get("x-amazon-apigateway-authtype")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"));
            no_jwt_keys(r, map, at, "API keys have no issuer or audience");
            if sigv4 {
                no_usage_plan(r, map, at);
                return Some(SchemeKind::Iam);
            }
            if location != "header" {
                // A Lambda authorizer reads a query parameter, but no cookie.
                let help = if location == "query" {
                    format!("send the key in a header (`in: header`), {lambda_help}")
                } else {
                    "send the key in a header (`in: header`)".to_string()
                };
                r.diagnostics.push(
                    Diagnostic::error(
                        child(at, "in"),
                        format!("API keys in a {location} cannot be checked by API Gateway"),
                    )
                    .help(help),
                );
                return None;
            }
            if api == ApiKind::Http {
                r.diagnostics.push(
                    Diagnostic::error(
                        at,
                        format!(
                            "API key scheme `{name}` needs a REST API: HTTP APIs have no API keys"
                        ),
                    )
                    .help(format!("set `x-apigen: {{api: rest}}`, {lambda_help}")),
                );
                return None;
            }
            if !param.eq_ignore_ascii_case("x-api-key") {
                r.diagnostics.push(
                    Diagnostic::error(
                        child(at, "name"),
                        format!(
                            "API Gateway reads API keys from `x-api-key` only, not from `{param}`"
                        ),
                    )
                    .help(format!("write `name: x-api-key`, {lambda_help}")),
                );
                return None;
            }
            let usage_plan = map
                .get("x-apigen-usagePlan")
                .and_then(|v| read_usage_plan(r, v, &child(at, "x-apigen-usagePlan")));
            Some(SchemeKind::ApiKey {
                header: param,
                usage_plan,
            })
        }
        "http" if http == "bearer" => read_jwt(r, map, at, name, None, api),
        "http" => {
            r.diagnostics.push(
                Diagnostic::error(
                    child(at, "scheme"),
                    format!("`http: {http}` cannot be checked by API Gateway"),
                )
                .help(format!(
                    "use bearer tokens (`scheme: bearer`) or API keys, {lambda_help}"
                )),
            );
            None
        }
        "oauth2" => read_jwt(r, map, at, name, None, api),
        "openIdConnect" => {
            let url = map
                .get("openIdConnectUrl")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let issuer = url.strip_suffix(WELL_KNOWN).map(str::to_string);
            read_jwt(r, map, at, name, issuer, api)
        }
        "mutualTLS" => {
            no_jwt_keys(r, map, at, "client certificates have no issuer or audience");
            no_usage_plan(r, map, at);
            if api == ApiKind::Rest {
                r.diagnostics.push(
                    Diagnostic::error(at, format!("scheme `{name}` needs an HTTP API: a REST API passes the client certificate in a part of its event the function cannot read, so it could not tell who calls"))
                        .help("set `x-apigen: {api: http}`"),
                );
                return None;
            }
            Some(SchemeKind::MutualTls)
        }
        _ if !map.contains_key("type") => {
            r.diagnostics.push(
                Diagnostic::error(at, format!("scheme `{name}` has no `type`"))
                    .help("add `type: openIdConnect`, `oauth2`, `http`, `apiKey` or `mutualTLS`"),
            );
            None
        }
        _ => {
            let written = map
                .get("type")
                .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_string))
                .unwrap_or_default();
            r.diagnostics.push(
                Diagnostic::error(
                    child(at, "type"),
                    format!("scheme type `{written}` is unknown"),
                )
                .help(format!(
                    "{}use `openIdConnect`, `oauth2`, `http`, `apiKey` or `mutualTLS`",
                    closest(&written, TYPES)
                        .map(|t| format!("did you mean `{t}`? "))
                        .unwrap_or_default()
                )),
            );
            None
        }
    }
}

fn read_jwt(
    r: &mut Reader,
    map: &Map<String, Value>,
    at: &str,
    name: &str,
    discovered: Option<String>,
    api: ApiKind,
) -> Option<SchemeKind> {
    no_usage_plan(r, map, at);
    let issuer = r
        .string(map, "x-apigen-issuer", at)
        .map(|s| s.value)
        .or(discovered);
    // Both are reported at once: a scheme from elsewhere often lacks both.
    let audience = read_audience(r, map, at);
    if matches!(audience, Audience::Missing) {
        r.diagnostics.push(
            Diagnostic::error(at, format!("JWT scheme `{name}` has no `x-apigen-audience`"))
                .help("add `x-apigen-audience: [your-client-id]`: tokens issued for other clients must not get in"),
        );
    }
    let Some(issuer) = issuer else {
        let help = if map.get("type").and_then(Value::as_str) == Some("openIdConnect") {
            "end `openIdConnectUrl` with `/.well-known/openid-configuration`, or add `x-apigen-issuer: https://issuer.example.com`"
        } else {
            "add `x-apigen-issuer: https://issuer.example.com` (the tokens' `iss`)"
        };
        r.diagnostics
            .push(Diagnostic::error(at, format!("JWT scheme `{name}` has no issuer")).help(help));
        return None;
    };
    if !issuer.starts_with("https://") {
        r.diagnostics.push(
            Diagnostic::error(at, format!("the issuer of `{name}` is `{issuer}`, which is not an https URL"))
                .help("API Gateway's JWT authorizer needs an https issuer, such as `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123`"),
        );
        return None;
    }
    let Audience::Given(audience) = audience else {
        return None;
    };
    let cognito = cognito_pool(&issuer);
    if api == ApiKind::Rest && cognito.is_none() {
        r.diagnostics.push(
            Diagnostic::error(
                at,
                format!("a REST API checks JWTs with a Cognito user pool only, and `{issuer}` is not one"),
            )
            .help("set `x-apigen: {api: http}` (its JWT authorizer takes any OIDC issuer), use a Cognito issuer, or add `x-apigen-authorizer: lambda` to check tokens in your own code"),
        );
        return None;
    }
    Some(SchemeKind::Jwt(Jwt {
        issuer,
        audience,
        cognito,
    }))
}

/// `x-apigen-audience`, told apart from its absence so that a wrong one is
/// reported once, where it is written.
enum Audience {
    Given(Vec<String>),
    Missing,
    Invalid,
}

fn read_audience(r: &mut Reader, map: &Map<String, Value>, at: &str) -> Audience {
    let Some(value) = map.get("x-apigen-audience") else {
        return Audience::Missing;
    };
    let at = child(at, "x-apigen-audience");
    let audience: Vec<String> = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => {
            r.diagnostics.push(
                Diagnostic::error(&at, "`x-apigen-audience` must be a list of strings")
                    .help("write `x-apigen-audience: [your-client-id]`"),
            );
            return Audience::Invalid;
        }
    };
    if audience.is_empty() || audience.iter().any(String::is_empty) {
        r.diagnostics.push(
            Diagnostic::error(&at, "`x-apigen-audience` needs at least one audience")
                .help("write `x-apigen-audience: [your-client-id]`: an empty audience would let in tokens issued for any client"),
        );
        return Audience::Invalid;
    }
    Audience::Given(audience)
}

/// `x-apigen-authorizerTtl`, 300 when absent or wrong (the wrong one is reported).
fn read_ttl(r: &mut Reader, map: &Map<String, Value>, at: &str) -> u64 {
    const DEFAULT: u64 = 300;
    let Some(value) = map.get("x-apigen-authorizerTtl") else {
        return DEFAULT;
    };
    match value.as_u64() {
        Some(ttl) if ttl <= MAX_TTL => ttl,
        _ => {
            r.diagnostics.push(
                Diagnostic::error(
                    child(at, "x-apigen-authorizerTtl"),
                    format!("`x-apigen-authorizerTtl` is {value}, and API Gateway keeps an authorizer's answer from 0 to {MAX_TTL} seconds"),
                )
                .help(format!("write a whole number of seconds from 0 (ask every time) to {MAX_TTL} (an hour), such as `x-apigen-authorizerTtl: {DEFAULT}`")),
            );
            DEFAULT
        }
    }
}

/// The user pool of a Cognito issuer
/// (`https://cognito-idp.<region>.amazonaws.com/<pool id>`).
pub fn cognito_pool(issuer: &str) -> Option<CognitoPool> {
    let rest = issuer.strip_prefix("https://cognito-idp.")?;
    let (region, pool_id) = rest.split_once(".amazonaws.com/")?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    (valid(region) && valid(pool_id)).then(|| CognitoPool {
        region: region.to_string(),
        pool_id: pool_id.to_string(),
    })
}

fn no_jwt_keys(r: &mut Reader, map: &Map<String, Value>, at: &str, why: &str) {
    for key in ["x-apigen-audience", "x-apigen-issuer"] {
        if map.contains_key(key) {
            r.diagnostics.push(
                Diagnostic::error(child(at, key), format!("`{key}` belongs to JWT schemes"))
                    .help(format!("remove it: {why}")),
            );
        }
    }
}

fn no_usage_plan(r: &mut Reader, map: &Map<String, Value>, at: &str) {
    if map.contains_key("x-apigen-usagePlan") {
        r.diagnostics.push(
            Diagnostic::error(
                child(at, "x-apigen-usagePlan"),
                "usage plans meter API Gateway's API keys",
            )
            .help("move `x-apigen-usagePlan` to an `apiKey` scheme in a header"),
        );
    }
}

fn read_usage_plan(r: &mut Reader, value: &Value, at: &str) -> Option<UsagePlan> {
    let map = r.object(
        value,
        at,
        "`x-apigen-usagePlan`",
        &["rateLimit", "burstLimit", "quota"],
    )?;
    let rate_limit = r.positive_number(map, "rateLimit", at, "requests per second");
    let burst_limit = r.integer(map, "burstLimit", at, (1, 5000));
    let quota = map.get("quota").and_then(|q| {
        let q_at = child(at, "quota");
        let q = r.object(q, &q_at, "`quota`", &["limit", "period"])?;
        let missing: Vec<&str> = ["limit", "period"]
            .into_iter()
            .filter(|k| !q.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            r.diagnostics.push(
                Diagnostic::error(
                    &q_at,
                    format!("`quota` has no {}", list(&missing).replace(", ", " or ")),
                )
                .help("write `quota: {limit: 10000, period: MONTH}`"),
            );
        }
        let limit = r.integer(q, "limit", &q_at, (1, u64::from(u32::MAX)));
        let period = r.choice(q, "period", &q_at, &["DAY", "WEEK", "MONTH"]);
        Some(Quota {
            limit: limit?,
            period: period?.value,
        })
    });
    Some(UsagePlan {
        rate_limit,
        burst_limit,
        quota,
    })
}

/// Where an operation is, and its name in messages (`GET /items`): all that resolving its
/// security needs of it.
pub struct OperationAt<'a> {
    pub pointer: &'a str,
    pub name: String,
}

/// Resolves the effective `security` of every operation.
pub fn resolve(
    ops: &[OperationAt],
    raw: &Value,
    auth: &Auth,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<OpSecurity> {
    let declared = |raw_name: &str| {
        raw.pointer("/components/securitySchemes")
            .and_then(|s| s.get(raw_name))
            .is_some()
    };
    // The root requirement is read once, so that its problems are reported once.
    let root = raw.get("security").map(|v| {
        resolve_one(
            "operations without their own `security`",
            v,
            "/security",
            auth,
            &declared,
            diagnostics,
        )
    });
    let mut out = Vec::with_capacity(ops.len());
    for op in ops.iter() {
        let own = raw.pointer(op.pointer).and_then(|o| o.get("security"));
        out.push(match (own, &root) {
            (Some(v), _) => {
                let what = op.name.clone();
                let at = child(op.pointer, "security");
                resolve_one(&what, v, &at, auth, &declared, diagnostics)
            }
            (None, Some(root)) => root.clone(),
            (None, None) => OpSecurity::Public,
        });
    }
    check_mutual_tls(ops, &out, auth, diagnostics);
    out
}

fn resolve_one(
    what: &str,
    value: &Value,
    at: &str,
    auth: &Auth,
    declared: &dyn Fn(&str) -> bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> OpSecurity {
    let Some(list) = value.as_array() else {
        return OpSecurity::Public;
    };
    let mut alternatives: Vec<Vec<Need>> = Vec::new();
    let mut anonymous = false;
    let mut broken = false;
    for (i, requirement) in list.iter().enumerate() {
        let r_at = format!("{at}/{i}");
        let Some(map) = requirement.as_object() else {
            continue;
        };
        if map.is_empty() {
            anonymous = true;
            continue;
        }
        let mut needs = Vec::new();
        for (name, scopes) in map {
            let n_at = child(&r_at, name);
            let Some(scheme) = auth.schemes.iter().position(|s| &s.name == name) else {
                if !declared(name) {
                    let names: Vec<&str> = auth.schemes.iter().map(|s| s.name.as_str()).collect();
                    diagnostics.push(
                        Diagnostic::error(&n_at, format!("`security` names scheme `{name}`, which does not exist"))
                            .help(match closest(name, &names) {
                                Some(s) => format!("did you mean `{s}`? or declare `{name}` under `components.securitySchemes`"),
                                None => format!("declare `{name}` under `components.securitySchemes`"),
                            }),
                    );
                }
                broken = true;
                continue;
            };
            let scopes: Vec<String> = scopes
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if !scopes.is_empty() && !auth.schemes[scheme].kind.has_scopes() {
                diagnostics.push(
                    Diagnostic::error(
                        &n_at,
                        format!(
                            "{} scheme `{name}` has no scopes to check",
                            auth.schemes[scheme].kind.describe()
                        ),
                    )
                    .help(format!("write `{name}: []`; scopes belong to JWT schemes")),
                );
                broken = true;
            }
            needs.push(Need { scheme, scopes });
        }
        let authorizers = needs
            .iter()
            .filter(|n| auth.schemes[n.scheme].kind.is_authorizer())
            .count();
        let keys = needs
            .iter()
            .filter(|n| matches!(auth.schemes[n.scheme].kind, SchemeKind::ApiKey { .. }))
            .count();
        if authorizers > 1 || keys > 1 {
            diagnostics.push(
                Diagnostic::error(&r_at, "this requirement needs two credentials of the same kind, and API Gateway checks one authorizer and one API key per route")
                    .help("keep one scheme in the requirement (a JWT scheme may be combined with an API key on a REST API)"),
            );
            broken = true;
        }
        alternatives.push(needs);
    }
    if broken {
        return OpSecurity::Public;
    }
    if alternatives.is_empty() {
        return OpSecurity::Public;
    }
    if anonymous {
        diagnostics.push(
            Diagnostic::error(at, format!("{what} may be called with or without credentials (`{{}}` in `security`), and API Gateway cannot check a credential only when one is sent"))
                .help("make it public (`security: []`), or drop `{}` so that a credential is required"),
        );
        return OpSecurity::Public;
    }
    let schemes_of = |a: &Vec<Need>| {
        let mut s: Vec<usize> = a.iter().map(|n| n.scheme).collect();
        s.sort_unstable();
        s
    };
    let first = schemes_of(&alternatives[0]);
    if alternatives.iter().any(|a| schemes_of(a) != first) {
        let names = |a: &Vec<Need>| {
            a.iter()
                .map(|n| format!("`{}`", auth.schemes[n.scheme].name))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let either: Vec<String> = alternatives.iter().map(names).collect();
        diagnostics.push(
            Diagnostic::error(at, format!("{what} accept either {}, and API Gateway checks one authorizer per route", either.join(" or ")))
                .help("keep one requirement; alternatives may differ only in their scopes (`[{users: [a]}, {users: [b]}]`)"),
        );
        return OpSecurity::Public;
    }
    OpSecurity::Secured(alternatives)
}

/// Client certificates are checked by the custom domain, for every route
/// at once: an API cannot require them on some operations only.
fn check_mutual_tls(
    ops: &[OperationAt],
    security: &[OpSecurity],
    auth: &Auth,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let uses_tls = |s: &OpSecurity| match s {
        OpSecurity::Secured(alternatives) => alternatives.iter().all(|a| {
            a.iter()
                .any(|n| matches!(auth.schemes[n.scheme].kind, SchemeKind::MutualTls))
        }),
        OpSecurity::Public => false,
    };
    let with: Vec<usize> = (0..ops.len()).filter(|&i| uses_tls(&security[i])).collect();
    if with.is_empty() || with.len() == ops.len() {
        return;
    }
    let without = (0..ops.len())
        .find(|i| !with.contains(i))
        .expect("some operation lacks it");
    diagnostics.push(
        Diagnostic::error(ops[without].pointer, format!("{} does not require mutual TLS, but {} does: client certificates are checked by the API's domain, for every route", ops[without].name, ops[with[0]].name))
            .help("require the `mutualTLS` scheme in the root `security`, so that every operation has it"),
    );
}

/// Whether any operation uses a scheme of this kind.
pub fn uses(auth: &Auth, security: &[OpSecurity], pred: impl Fn(&SchemeKind) -> bool) -> bool {
    security.iter().any(|s| match s {
        OpSecurity::Secured(alternatives) => alternatives
            .iter()
            .flatten()
            .any(|n| pred(&auth.schemes[n.scheme].kind)),
        OpSecurity::Public => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cognito_issuers_name_their_pool() {
        let pool = cognito_pool("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123")
            .expect("a Cognito issuer");
        assert_eq!(pool.region, "eu-west-1");
        assert_eq!(pool.pool_id, "eu-west-1_AbC123");
        assert!(cognito_pool("https://login.example.com/").is_none());
        assert!(cognito_pool("https://cognito-idp.eu-west-1.amazonaws.com/").is_none());
    }
}
