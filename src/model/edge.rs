//! The API's edge and its operations, from `x-apigen`: the stage, CORS, throttling, a custom
//! domain, logs and alarms. Each has a safe default, so a spec that says nothing still deploys
//! with logs kept 30 days, throttled stages, alarms and a dashboard.

use serde_json::{Map, Value};

use super::hints::{child, closest, list, Reader};
use super::{ApiKind, Operation};
use crate::diagnostic::Diagnostic;

/// CloudWatch Logs keeps a log group's events for one of these many days.
pub const RETENTION_DAYS: &[u64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The stage's name (the `Stage` parameter's default).
    pub stage: String,
    pub cors: Option<Cors>,
    pub throttling: Throttling,
    pub domain: Option<Domain>,
    pub logs: Logs,
    pub alarms: Option<Alarms>,
}

/// Which browser origins may call the API; the methods and headers come from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `https://app.example.com`, or `*` for any.
    pub origins: Vec<String>,
    pub credentials: bool,
    pub max_age: u64,
    /// Request headers beyond those the spec names (lowercase).
    pub headers: Vec<String>,
    /// Response headers beyond those the spec names, for scripts to read (lowercase).
    pub expose: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Requests per second, sustained.
    pub rate: f64,
    /// Requests at once.
    pub burst: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Throttling {
    /// Every route's, unless it has its own (the `Throttling*Limit` parameters' defaults).
    pub stage: Limits,
    /// Operations (by index) with limits of their own.
    pub operations: Vec<(usize, Limits)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The `DomainName` parameter's default.
    pub name: String,
    /// The `CertificateArn` parameter's default; none makes `sam deploy` ask for it.
    pub certificate: Option<String>,
    /// The path the API is mapped under (`v1` serves `https://api.example.com/v1/...`).
    pub base_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logs {
    pub retention_days: u64,
    /// `RUST_LOG`'s default.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alarms {
    /// Where alarms are mailed (the `AlarmEmail` parameter's default); none subscribes no one.
    pub email: Option<String>,
    /// Percent of requests answered 5xx over five minutes.
    pub error_rate: f64,
    /// Milliseconds of the API's p99 latency over five minutes.
    pub latency_p99: u64,
    /// Percent of the function's timeout its p99 duration may reach.
    pub duration_percent: u64,
}

/// API Gateway's defaults per account and region are 10,000 requests per second and a burst of
/// 5,000; a stage limited below them cannot starve the account's other APIs.
const STAGE_LIMITS: Limits = Limits {
    rate: 1000.0,
    burst: 2000,
};

/// Reads the edge keys of `x-apigen` (`root`, at `at`).
pub fn read(
    r: &mut Reader,
    root: &Map<String, Value>,
    at: &str,
    kind: ApiKind,
    operations: &[Operation],
) -> Edge {
    Edge {
        stage: read_stage(r, root, at, kind),
        cors: root
            .get("cors")
            .and_then(|v| read_cors(r, v, &child(at, "cors"))),
        throttling: match root.get("throttling") {
            Some(v) => read_throttling(r, v, &child(at, "throttling"), operations),
            None => Throttling {
                stage: STAGE_LIMITS,
                operations: Vec::new(),
            },
        },
        domain: root
            .get("domain")
            .and_then(|v| read_domain(r, v, &child(at, "domain"))),
        logs: read_logs(r, root.get("logs"), &child(at, "logs")),
        alarms: read_alarms(r, root.get("alarms"), &child(at, "alarms")),
    }
}

fn read_stage(r: &mut Reader, root: &Map<String, Value>, at: &str, kind: ApiKind) -> String {
    let default = match kind {
        // An HTTP API's `$default` stage serves at the API's root.
        ApiKind::Http => "$default",
        ApiKind::Rest => "Prod",
    };
    let Some(stage) = r.string(root, "stage", at) else {
        return default.to_string();
    };
    let plain = !stage.value.is_empty()
        && stage.value.len() <= 128
        && stage
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain || (kind == ApiKind::Http && stage.value == "$default") {
        return stage.value;
    }
    r.diagnostics.push(
        Diagnostic::error(&stage.pointer, format!("`{}` is not a stage name", stage.value))
            .help("a stage name has up to 128 letters, digits, `-` and `_` (an HTTP API may also use `$default`): write for example `stage: prod`"),
    );
    default.to_string()
}

fn read_cors(r: &mut Reader, value: &Value, at: &str) -> Option<Cors> {
    let map = r.object(
        value,
        at,
        "`cors`",
        &[
            "origins",
            "credentials",
            "maxAge",
            "headers",
            "exposeHeaders",
        ],
    )?;
    let origins = r.strings(map, "origins", at);
    if origins.is_empty() {
        r.diagnostics.push(
            Diagnostic::error(at, "`cors` names no origin").help(
                "list the origins browsers may call from: `origins: [https://app.example.com]`",
            ),
        );
        return None;
    }
    let credentials = r.bool(map, "credentials", at).unwrap_or(false);
    let mut ok = true;
    for origin in &origins {
        if origin.value == "*" {
            if credentials {
                ok = false;
                r.diagnostics.push(
                    Diagnostic::error(&origin.pointer, "any origin (`*`) cannot be sent credentials")
                        .help("browsers refuse `*` with credentials: list the origins, or set `credentials: false`"),
                );
            }
            continue;
        }
        if !is_origin(&origin.value) {
            ok = false;
            r.diagnostics.push(
                Diagnostic::error(
                    &origin.pointer,
                    format!("`{}` is not an origin", origin.value),
                )
                .help("an origin is a scheme, a host and maybe a port, without a path or a trailing `/`: `https://app.example.com`, `http://localhost:5173`"),
            );
        }
    }
    let max_age = r.integer(map, "maxAge", at, (0, 86_400)).unwrap_or(600);
    let header_names = |r: &mut Reader, key: &str| -> Vec<String> {
        let names = r.strings(map, key, at);
        names
            .into_iter()
            .filter_map(|name| {
                if is_token(&name.value) {
                    Some(name.value.to_ascii_lowercase())
                } else {
                    r.diagnostics.push(
                        Diagnostic::error(
                            &name.pointer,
                            format!("`{}` is not a header name", name.value),
                        )
                        .help("a header name is letters, digits and `-`: `X-Trace-Id`"),
                    );
                    None
                }
            })
            .collect()
    };
    let headers = header_names(r, "headers");
    let expose = header_names(r, "exposeHeaders");
    ok.then(|| Cors {
        origins: origins.into_iter().map(|o| o.value).collect(),
        credentials,
        max_age,
        headers,
        expose,
    })
}

/// `scheme://host[:port]`, as a browser sends it in `Origin`.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    scheme_ok && host_ok && port_ok
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn read_limits(r: &mut Reader, value: &Value, at: &str, what: &str, default: Limits) -> Limits {
    let Some(map) = r.object(value, at, what, &["rateLimit", "burstLimit", "operations"]) else {
        return default;
    };
    Limits {
        rate: r
            .positive_number(map, "rateLimit", at, "requests per second")
            .unwrap_or(default.rate),
        burst: r
            .integer(map, "burstLimit", at, (0, 5000))
            .unwrap_or(default.burst),
    }
}

fn read_throttling(
    r: &mut Reader,
    value: &Value,
    at: &str,
    operations: &[Operation],
) -> Throttling {
    let stage = read_limits(r, value, at, "`throttling`", STAGE_LIMITS);
    let mut out = Vec::new();
    let Some(per_operation) = value.get("operations") else {
        return Throttling {
            stage,
            operations: out,
        };
    };
    let ops_at = child(at, "operations");
    let Some(map) = per_operation.as_object() else {
        r.diagnostics.push(
            Diagnostic::error(&ops_at, "`operations` must be a mapping")
                .help("write `operations: {createOrder: {rateLimit: 5, burstLimit: 10}}`"),
        );
        return Throttling {
            stage,
            operations: out,
        };
    };
    let ids: Vec<&str> = operations.iter().map(|o| o.id.as_str()).collect();
    for (id, limits) in map {
        let op_at = child(&ops_at, id);
        let Some(index) = operations.iter().position(|o| &o.id == id) else {
            let suggestion = closest(id, &ids)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            r.diagnostics.push(
                Diagnostic::error(&op_at, format!("no operation has the operationId `{id}`"))
                    .help(format!("{suggestion}`operations` is keyed by operationId")),
            );
            continue;
        };
        if let Some(map) = limits.as_object() {
            if map.contains_key("operations") {
                r.diagnostics.push(
                    Diagnostic::error(
                        child(&op_at, "operations"),
                        "an operation's limits hold no `operations`",
                    )
                    .help(format!(
                        "an operation's limits take {}",
                        list(&["rateLimit", "burstLimit"])
                    )),
                );
            }
        }
        let limits = read_limits(r, limits, &op_at, &format!("`{id}`'s limits"), stage);
        out.push((index, limits));
    }
    Throttling {
        stage,
        operations: out,
    }
}

fn read_domain(r: &mut Reader, value: &Value, at: &str) -> Option<Domain> {
    let map = r.object(value, at, "`domain`", &["name", "certificate", "basePath"])?;
    let name = r.string(map, "name", at);
    let Some(name) = name else {
        r.diagnostics.push(
            Diagnostic::error(at, "`domain` has no `name`")
                .help("write `domain: {name: api.example.com, certificate: arn:aws:acm:...}`"),
        );
        return None;
    };
    let host_ok = name.value.contains('.')
        && name.value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    if !host_ok {
        r.diagnostics.push(
            Diagnostic::error(
                &name.pointer,
                format!("`{}` is not a domain name", name.value),
            )
            .help("write a lowercase host name without scheme or path: `api.example.com`"),
        );
    }
    let certificate = r.string(map, "certificate", at);
    if let Some(c) = &certificate {
        if !c.value.starts_with("arn:") || !c.value.contains(":acm:") {
            r.diagnostics.push(
                Diagnostic::error(&c.pointer, "`certificate` must be an ACM certificate's ARN")
                    .help("write `certificate: arn:aws:acm:<region>:<account>:certificate/<id>`, a certificate in the stack's region"),
            );
        }
    }
    let base_path = r.string(map, "basePath", at);
    if let Some(b) = &base_path {
        let ok = !b.value.is_empty()
            && b.value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !ok {
            r.diagnostics.push(
                Diagnostic::error(&b.pointer, format!("`{}` is not a base path", b.value))
                    .help("a base path is one segment of letters, digits, `-`, `.` and `_`, without `/`: `basePath: v1`"),
            );
        }
    }
    host_ok.then(|| Domain {
        name: name.value,
        certificate: certificate.map(|c| c.value),
        base_path: base_path.map(|b| b.value),
    })
}

fn read_logs(r: &mut Reader, value: Option<&Value>, at: &str) -> Logs {
    let mut logs = Logs {
        retention_days: 30,
        level: "info".to_string(),
    };
    let Some(map) = value.and_then(|v| r.object(v, at, "`logs`", &["retentionDays", "level"]))
    else {
        return logs;
    };
    if let Some(days) = map.get("retentionDays") {
        match days.as_u64().filter(|d| RETENTION_DAYS.contains(d)) {
            Some(d) => logs.retention_days = d,
            None => {
                let allowed: Vec<String> = RETENTION_DAYS.iter().map(u64::to_string).collect();
                r.diagnostics.push(
                    Diagnostic::error(
                        child(at, "retentionDays"),
                        "CloudWatch Logs keeps events for one of a fixed set of days",
                    )
                    .help(format!("write one of {}", allowed.join(", "))),
                );
            }
        }
    }
    if let Some(level) = r.choice(map, "level", at, LOG_LEVELS) {
        logs.level = level.value;
    }
    logs
}

fn read_alarms(r: &mut Reader, value: Option<&Value>, at: &str) -> Option<Alarms> {
    let mut alarms = Alarms {
        email: None,
        error_rate: 1.0,
        latency_p99: 1000,
        duration_percent: 80,
    };
    let Some(value) = value else {
        return Some(alarms);
    };
    let map = r.object(
        value,
        at,
        "`alarms`",
        &[
            "enabled",
            "email",
            "errorRate",
            "latencyP99",
            "durationPercent",
        ],
    )?;
    if r.bool(map, "enabled", at) == Some(false) {
        return None;
    }
    if let Some(email) = r.string(map, "email", at) {
        let ok = email
            .value
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
        if ok {
            alarms.email = Some(email.value);
        } else {
            r.diagnostics.push(
                Diagnostic::error(
                    &email.pointer,
                    format!("`{}` is not an email address", email.value),
                )
                .help("write `email: ops@example.com`; SNS mails a confirmation link to it first"),
            );
        }
    }
    if let Some(rate) = r.positive_number(map, "errorRate", at, "percent") {
        if rate <= 100.0 {
            alarms.error_rate = rate;
        } else {
            r.diagnostics.push(
                Diagnostic::error(child(at, "errorRate"), "`errorRate` is a percentage of requests")
                    .help("write a number up to 100: `errorRate: 1` alarms when more than 1% of requests fail"),
            );
        }
    }
    if let Some(ms) = r.integer(map, "latencyP99", at, (1, 29_000)) {
        alarms.latency_p99 = ms;
    }
    if let Some(percent) = r.integer(map, "durationPercent", at, (1, 100)) {
        alarms.duration_percent = percent;
    }
    Some(alarms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert!(is_origin("https://app.example.com"));
        assert!(is_origin("http://localhost:5173"));
        assert!(!is_origin("https://app.example.com/"));
        assert!(!is_origin("app.example.com"));
        assert!(!is_origin("https://App.example.com"));
        assert!(!is_origin("http://localhost:99999"));
    }
}

/// What browsers are told an origin may send and read: the configuration `template.yaml`
/// deploys and the generated router answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CorsRules {
    pub origins: Vec<String>,
    /// Uppercase, sorted.
    pub methods: Vec<String>,
    /// Lowercase, sorted: `content-type` when an operation takes a body, the spec's header
    /// parameters, the headers its security schemes read, and `cors.headers`.
    pub headers: Vec<String>,
    /// Lowercase, sorted: the spec's response headers and `cors.exposeHeaders`.
    pub expose: Vec<String>,
    pub credentials: bool,
    pub max_age: u64,
}

/// The API's CORS rules, when its spec has `cors`.
pub fn cors_rules(api: &super::Api) -> Option<CorsRules> {
    use super::security::{Credential, SchemeKind};
    use std::collections::BTreeSet;
    let cors = api.edge.cors.as_ref()?;
    let methods: BTreeSet<String> = api.operations.iter().map(|o| o.method.upper()).collect();
    let mut headers: BTreeSet<String> = cors.headers.iter().cloned().collect();
    let mut expose: BTreeSet<String> = cors.expose.iter().cloned().collect();
    for op in &api.operations {
        if op.body.is_some() {
            headers.insert("content-type".into());
        }
        for p in op
            .params
            .iter()
            .filter(|p| p.location == super::ParamIn::Header)
        {
            headers.insert(p.name.to_ascii_lowercase());
        }
        for r in &op.responses {
            expose.extend(r.headers.iter().map(|h| h.name.to_ascii_lowercase()));
        }
    }
    for scheme in &api.auth.schemes {
        match &scheme.kind {
            SchemeKind::Jwt(_) => {
                headers.insert("authorization".into());
            }
            SchemeKind::ApiKey { header, .. } => {
                headers.insert(header.to_ascii_lowercase());
            }
            SchemeKind::Custom(custom) => {
                if let Credential::Header(h) = &custom.credential {
                    headers.insert(h.to_ascii_lowercase());
                }
            }
            // What a SigV4-signing client sends besides the body.
            SchemeKind::Iam => headers.extend(
                [
                    "authorization",
                    "x-amz-content-sha256",
                    "x-amz-date",
                    "x-amz-security-token",
                ]
                .map(String::from),
            ),
            SchemeKind::MutualTls => {}
        }
    }
    Some(CorsRules {
        origins: cors.origins.clone(),
        methods: methods.into_iter().collect(),
        headers: headers.into_iter().collect(),
        expose: expose.into_iter().collect(),
        credentials: cors.credentials,
        max_age: cors.max_age,
    })
}
