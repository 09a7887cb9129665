//! Deciding who is calling and whether they may: locally by verifying credentials, under Lambda
//! by reading what API Gateway's authorizers passed on.

use std::fmt::{self, Debug};
use std::path::PathBuf;

use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::api_key::{self, ApiKey};
use super::authorizer::{AuthorizerFn, AuthorizerRequest};
use super::caller::{list_claim, scopes_of, Caller};
use super::def::{Access, AuthDef, Credential, Requirement, SchemeDef, SchemeKind, Security};
use super::jwks::Jwks;
use crate::http::ApiError;

/// Credentials longer than this are refused before anything parses them.
pub(super) const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;

/// What the local mode enforces, for tests and tools (`from_env` reads it from the environment).
#[derive(Debug, Default)]
pub struct LocalConfig {
    /// The keys that verify JWTs; `None`: every JWT is refused.
    pub jwks: Option<Jwks>,
    /// Accepted issuers, replacing every JWT scheme's.
    pub issuer: Option<Vec<String>>,
    /// Accepted audiences, replacing every JWT scheme's.
    pub audience: Option<Vec<String>>,
    /// API keys as `(name, key)`; the name becomes the caller's subject.
    pub api_keys: Vec<(String, String)>,
    /// The principal to act as on IAM and mutual-TLS operations, which cannot be verified
    /// locally; `None`: those answer 401.
    pub unverified_caller: Option<String>,
}

/// Authenticates requests and checks their security requirements.
pub struct Authenticator {
    def: &'static AuthDef,
    mode: Mode,
    authorizer: Option<AuthorizerFn>,
}

enum Mode {
    Local(Local),
    Gateway,
}

struct Local {
    /// The keys, or why there are none (for the log; callers only learn there are none).
    jwks: Result<Jwks, String>,
    issuer: Option<Vec<String>>,
    audience: Option<Vec<String>>,
    api_keys: Vec<ApiKey>,
    unverified_caller: Option<String>,
}

impl Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::Local(_) => "local",
            Mode::Gateway => "gateway",
        };
        f.debug_struct("Authenticator")
            .field("mode", &mode)
            .field("schemes", &self.def.schemes.len())
            .field("authorizer", &self.authorizer.is_some())
            .finish()
    }
}

/// Why one requirement did not verify.
pub(super) enum Refusal {
    /// No credential was sent.
    Missing,
    /// The credential does not verify; the reason is for the client.
    Invalid(String),
    /// Our fault (e.g. no authorizer wired in): a 500, logged.
    Internal(ApiError),
}

impl Authenticator {
    /// Under Lambda (`server::in_lambda()`): trusts only what API Gateway's authorizers put in the
    /// request context, never reads a token or key itself, ignores every `APIGEN_*` variable
    /// below. Elsewhere: `APIGEN_JWKS` (path of a JWKS file), `APIGEN_JWT_ISSUER` /
    /// `APIGEN_JWT_AUDIENCE` (comma-separated; override every Jwt scheme's), `APIGEN_API_KEYS`
    /// (comma-separated keys, each `key` or `name=key`; the caller's subject is the name, or
    /// `key-<n>`), `APIGEN_UNVERIFIED_CALLER` (a principal to act as on Iam / MutualTls
    /// operations, which cannot be verified locally; unset: those answer 401 saying so). Logs
    /// once what it enforces and what it cannot. Never fails: an unreadable or invalid JWKS is
    /// logged as an error and every JWT is then refused with a 401 saying the server has no
    /// usable keys.
    pub fn from_env(def: &'static AuthDef) -> Self {
        if crate::server::in_lambda() {
            tracing::info!("authentication: trusting API Gateway's authorizers");
            return Self::gateway(def);
        }
        Self::from_variables(def, |name| std::env::var(name).ok())
    }

    /// The local mode as `from_env` configures it, reading variables through `read`.
    pub(super) fn from_variables(
        def: &'static AuthDef,
        read: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let variable = |name: &str| read(name).filter(|v| !v.trim().is_empty());
        let list = |name: &str| {
            variable(name).map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        let uses = |wanted: fn(&SchemeKind) -> bool| def.schemes.iter().any(|s| wanted(&s.kind));
        let jwks_path = variable("APIGEN_JWKS").map(PathBuf::from);
        let jwks = match &jwks_path {
            Some(path) => Jwks::from_file(path).map_err(|error| {
                tracing::error!(
                    path = %path.display(),
                    error = %error,
                    "authentication: APIGEN_JWKS cannot be used, so every JWT is refused"
                );
                error.to_string()
            }),
            None => Err("APIGEN_JWKS is not set".to_owned()),
        };
        let api_keys = api_key::parse_list(&variable("APIGEN_API_KEYS").unwrap_or_default());
        let local = Local {
            jwks,
            issuer: list("APIGEN_JWT_ISSUER"),
            audience: list("APIGEN_JWT_AUDIENCE"),
            api_keys: api_keys
                .into_iter()
                .map(|(name, key)| ApiKey::new(name, &key))
                .collect(),
            unverified_caller: variable("APIGEN_UNVERIFIED_CALLER"),
        };
        if uses(|kind| matches!(kind, SchemeKind::Jwt { .. })) {
            match (&local.jwks, &jwks_path) {
                (Ok(keys), _) => tracing::info!(
                    keys = keys.len(),
                    "authentication: JWTs verified against APIGEN_JWKS"
                ),
                (Err(_), None) => tracing::warn!(
                    "authentication: APIGEN_JWKS is not set, so every JWT is refused \
                     (`cargo run --example token` mints one and prints the line to set)"
                ),
                // Logged above, with the reason.
                (Err(_), Some(_)) => {}
            }
        }
        if uses(|kind| matches!(kind, SchemeKind::ApiKey { .. })) {
            if local.api_keys.is_empty() {
                tracing::warn!(
                    "authentication: APIGEN_API_KEYS is not set, so every API key is refused"
                );
            } else {
                tracing::info!(
                    keys = local.api_keys.len(),
                    "authentication: API keys checked against APIGEN_API_KEYS"
                );
            }
        }
        if uses(|kind| matches!(kind, SchemeKind::Custom { .. })) {
            tracing::info!("authentication: custom authorizers run in-process");
        }
        if uses(|kind| matches!(kind, SchemeKind::Iam | SchemeKind::MutualTls)) {
            match &local.unverified_caller {
                Some(principal) => tracing::warn!(
                    principal = %principal,
                    "authentication: IAM and mutual TLS cannot be verified locally; \
                     acting as APIGEN_UNVERIFIED_CALLER"
                ),
                None => tracing::warn!(
                    "authentication: IAM and mutual TLS cannot be verified locally; their \
                     operations answer 401 (set APIGEN_UNVERIFIED_CALLER to act as a principal)"
                ),
            }
        }
        Self {
            def,
            mode: Mode::Local(local),
            authorizer: None,
        }
    }

    /// Explicit construction for tests and tools.
    pub fn local(def: &'static AuthDef, config: LocalConfig) -> Self {
        let local = Local {
            jwks: config.jwks.ok_or_else(|| "no JWKS configured".to_owned()),
            issuer: config.issuer,
            audience: config.audience,
            api_keys: config
                .api_keys
                .into_iter()
                .map(|(name, key)| ApiKey::new(name, &key))
                .collect(),
            unverified_caller: config.unverified_caller,
        };
        Self {
            def,
            mode: Mode::Local(local),
            authorizer: None,
        }
    }

    /// Trusting only what API Gateway's authorizers put in the request context (under Lambda).
    pub fn gateway(def: &'static AuthDef) -> Self {
        Self {
            def,
            mode: Mode::Gateway,
            authorizer: None,
        }
    }

    /// The user's decision for `Custom` schemes, run in-process locally.
    pub fn with_authorizer(mut self, authorizer: AuthorizerFn) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// The caller if it satisfies `security`: 401 when no alternative's credentials verify, 403
    /// when they do but a scope or the access rule's group is missing.
    pub async fn authenticate(
        &self,
        parts: &Parts,
        security: &Security,
    ) -> Result<Caller, ApiError> {
        let mut unauthorized = None;
        let mut forbidden = None;
        // An empty alternative (`{}`, "optional") never admits anyone here: public operations
        // carry no requirement at all.
        for alternative in security.any_of {
            let caller = match self.verify_all(parts, alternative).await {
                Ok(Some(caller)) => caller,
                Ok(None) => continue,
                Err((_, Refusal::Internal(error))) => return Err(error),
                Err((scheme, refusal)) => {
                    unauthorized.get_or_insert_with(|| refused(scheme, refusal));
                    continue;
                }
            };
            let missing = alternative
                .iter()
                .flat_map(|requirement| requirement.scopes.iter())
                .find(|scope| !caller.has_scope(scope));
            if let Some(scope) = missing {
                forbidden.get_or_insert_with(|| {
                    ApiError::forbidden(format!("this operation needs the scope `{scope}`"))
                });
                continue;
            }
            if !security.access.allows(&caller) {
                forbidden.get_or_insert_with(|| access_refused(&security.access));
                continue;
            }
            return Ok(caller);
        }
        Err(forbidden
            .or(unauthorized)
            .unwrap_or_else(|| ApiError::unauthorized(None, "this operation admits no caller")))
    }

    /// Every requirement of one alternative verified: the caller is the first non-API-key
    /// scheme's, with the API key's id. `None` for an empty alternative.
    async fn verify_all(
        &self,
        parts: &Parts,
        alternative: &[Requirement],
    ) -> Result<Option<Caller>, (&'static SchemeDef, Refusal)> {
        let mut principal: Option<Caller> = None;
        let mut key: Option<Caller> = None;
        for requirement in alternative {
            let scheme = requirement.scheme;
            let caller = self.verify(parts, scheme).await.map_err(|r| (scheme, r))?;
            match scheme.kind {
                SchemeKind::ApiKey { .. } => {
                    key.get_or_insert(caller);
                }
                _ => {
                    principal.get_or_insert(caller);
                }
            }
        }
        match (principal, key) {
            (Some(mut caller), Some(key)) => {
                caller.api_key = key.api_key;
                Ok(Some(caller))
            }
            (Some(caller), None) | (None, Some(caller)) => Ok(Some(caller)),
            (None, None) => Ok(None),
        }
    }

    async fn verify(&self, parts: &Parts, scheme: &'static SchemeDef) -> Result<Caller, Refusal> {
        match &self.mode {
            Mode::Local(local) => self.verify_local(local, parts, scheme).await,
            Mode::Gateway => gateway_caller(self.def, parts, scheme),
        }
    }

    async fn verify_local(
        &self,
        local: &Local,
        parts: &Parts,
        scheme: &'static SchemeDef,
    ) -> Result<Caller, Refusal> {
        match scheme.kind {
            SchemeKind::Jwt { issuer, audience } => {
                let header = header(parts, "authorization")?.ok_or(Refusal::Missing)?;
                let token = bearer(&header).ok_or(Refusal::Missing)?;
                let keys = local.jwks.as_ref().map_err(|_| {
                    Refusal::Invalid("the server has no usable keys to verify tokens".to_owned())
                })?;
                let issuers = local
                    .issuer
                    .clone()
                    .unwrap_or_else(|| vec![issuer.to_owned()]);
                let audiences = local
                    .audience
                    .clone()
                    .unwrap_or_else(|| audience.iter().map(|a| (*a).to_owned()).collect());
                let claims = keys
                    .verify(token, &issuers)
                    .map_err(|why| Refusal::Invalid(why.to_owned()))?;
                if !audience_matches(&claims, &audiences) {
                    return Err(Refusal::Invalid(
                        "the token's audience is not accepted".to_owned(),
                    ));
                }
                token_caller(scheme.name, self.def.groups_claim, claims)
            }
            SchemeKind::ApiKey { header: name } => {
                let presented = header(parts, name)?.ok_or(Refusal::Missing)?;
                if local.api_keys.is_empty() {
                    // Say why every key fails, as a missing APIGEN_JWKS does for tokens.
                    return Err(Refusal::Invalid(
                        "the server has no API keys to check against (set APIGEN_API_KEYS)"
                            .to_owned(),
                    ));
                }
                let name = api_key::find(&local.api_keys, &presented)
                    .ok_or_else(|| Refusal::Invalid("the API key is not valid".to_owned()))?;
                let mut caller = Caller::new(scheme.name, name);
                caller.api_key = Some(name.to_owned());
                Ok(caller)
            }
            SchemeKind::Custom { credential } => {
                let presented = match credential {
                    Credential::Header(name) => header(parts, name)?,
                    Credential::Query(name) => query(parts, name)?,
                }
                .ok_or(Refusal::Missing)?;
                let Some(authorizer) = self.authorizer else {
                    return Err(Refusal::Internal(ApiError::internal(format!(
                        "no authorizer for the scheme `{}`: call Authenticator::with_authorizer",
                        scheme.name
                    ))));
                };
                let request = AuthorizerRequest {
                    scheme: scheme.name,
                    credential: presented,
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_owned(),
                };
                let mut caller = authorizer(request)
                    .await
                    .map_err(|denied| Refusal::Invalid(denied.reason))?;
                caller.scheme = scheme.name;
                Ok(caller)
            }
            SchemeKind::Iam | SchemeKind::MutualTls => match &local.unverified_caller {
                Some(principal) => Ok(Caller::new(scheme.name, principal.clone())),
                None => Err(Refusal::Invalid(format!(
                    "the scheme `{}` is checked by API Gateway only and cannot be verified \
                     locally; set APIGEN_UNVERIFIED_CALLER to act as a principal",
                    scheme.name
                ))),
            },
        }
    }
}

/// The 403 for a caller the access rule does not admit.
pub(super) fn access_refused(access: &Access) -> ApiError {
    if access.groups.is_empty() {
        return ApiError::forbidden("this operation admits no caller");
    }
    let groups: Vec<_> = access.groups.iter().map(|g| format!("`{g}`")).collect();
    ApiError::forbidden(format!(
        "this operation is only for members of the group {}",
        groups.join(" or ")
    ))
}

/// A header's text; refused when over the size bound or not text.
fn header(parts: &Parts, name: &str) -> Result<Option<String>, Refusal> {
    let Some(value) = parts.headers.get(name) else {
        return Ok(None);
    };
    if value.len() > MAX_CREDENTIAL_BYTES {
        return Err(Refusal::Invalid(format!(
            "the {name} header is larger than 8 KiB"
        )));
    }
    let text = value
        .to_str()
        .map_err(|_| Refusal::Invalid(format!("the {name} header is not text")))?;
    Ok(Some(text.to_owned()).filter(|text| !text.is_empty()))
}

fn query(parts: &Parts, name: &str) -> Result<Option<String>, Refusal> {
    let Some(query) = parts.uri.query() else {
        return Ok(None);
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == name {
            if value.len() > MAX_CREDENTIAL_BYTES {
                return Err(Refusal::Invalid(format!(
                    "the {name} parameter is larger than 8 KiB"
                )));
            }
            return Ok(Some(value.into_owned()).filter(|v| !v.is_empty()));
        }
    }
    Ok(None)
}

/// The token of `Bearer <token>` (the scheme's name is case-insensitive, RFC 9110 11.1).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `aud` (a string or an array) names one of the audiences; without `aud`, `client_id` must
/// (Cognito access tokens carry the app client there).
fn audience_matches(claims: &Map<String, Value>, audiences: &[String]) -> bool {
    let accepted = |value: &str| audiences.iter().any(|a| a == value);
    match claims.get("aud") {
        Some(Value::String(aud)) => accepted(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
        Some(_) => false,
        None => claims
            .get("client_id")
            .and_then(Value::as_str)
            .is_some_and(accepted),
    }
}

/// The caller a verified token (or claims API Gateway verified) describes.
pub(super) fn token_caller(
    scheme: &'static str,
    groups_claim: &str,
    claims: Map<String, Value>,
) -> Result<Caller, Refusal> {
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| Refusal::Invalid("the token has no subject (sub)".to_owned()))?;
    let mut caller = Caller::new(scheme, subject);
    caller.scopes = scopes_of(&claims);
    caller.groups = claims.get(groups_claim).map(list_claim).unwrap_or_default();
    caller.claims = claims;
    Ok(caller)
}

/// The 401 for a refusal, with the challenge of the scheme refused.
fn refused(scheme: &SchemeDef, refusal: Refusal) -> ApiError {
    let (detail, error) = match refusal {
        Refusal::Missing => (missing_detail(scheme), None),
        Refusal::Invalid(why) => (why.clone(), Some(why)),
        Refusal::Internal(error) => return error,
    };
    ApiError::unauthorized(challenge(scheme, error.as_deref()), detail)
}

fn missing_detail(scheme: &SchemeDef) -> String {
    let what = match scheme.kind {
        SchemeKind::Jwt { .. } => "a bearer token (Authorization: Bearer <JWT>)".to_owned(),
        SchemeKind::ApiKey { header } => format!("an API key in the {header} header"),
        SchemeKind::Custom {
            credential: Credential::Header(name),
        } => format!("a credential in the {name} header"),
        SchemeKind::Custom {
            credential: Credential::Query(name),
        } => format!("a credential in the {name} query parameter"),
        SchemeKind::Iam => "an AWS SigV4 signature".to_owned(),
        SchemeKind::MutualTls => "a client certificate".to_owned(),
    };
    format!("this operation needs {what} (scheme `{}`)", scheme.name)
}

/// The `WWW-Authenticate` challenge for a scheme; `error` is the reason a credential was refused
/// (RFC 6750 3.1: no `error` when none was sent).
fn challenge(scheme: &SchemeDef, error: Option<&str>) -> Option<String> {
    let quoted = |text: &str| text.replace(['"', '\\'], "'");
    match scheme.kind {
        SchemeKind::Jwt { .. } => Some(match error {
            None => r#"Bearer realm="api""#.to_owned(),
            Some(why) => format!(
                r#"Bearer realm="api", error="invalid_token", error_description="{}""#,
                quoted(why)
            ),
        }),
        // `ApiKey` is not a registered HTTP authentication scheme; it names the header to send so
        // clients and people reading the answer know what is expected.
        SchemeKind::ApiKey { header } => Some(format!(r#"ApiKey realm="api", header="{header}""#)),
        SchemeKind::Custom {
            credential: Credential::Header(name),
        } if name.eq_ignore_ascii_case("authorization") => Some(r#"Bearer realm="api""#.to_owned()),
        SchemeKind::Custom {
            credential: Credential::Header(name),
        } => Some(format!(r#"ApiKey realm="api", header="{name}""#)),
        SchemeKind::Custom {
            credential: Credential::Query(name),
        } => Some(format!(r#"ApiKey realm="api", query="{name}""#)),
        SchemeKind::Iam => Some(r#"AWS4-HMAC-SHA256 realm="api""#.to_owned()),
        // No HTTP challenge asks for a client certificate: that happens in the TLS handshake.
        SchemeKind::MutualTls => None,
    }
}

#[cfg(feature = "lambda")]
fn gateway_caller(
    def: &AuthDef,
    parts: &Parts,
    scheme: &'static SchemeDef,
) -> Result<Caller, Refusal> {
    super::gateway::caller(def, parts, scheme)
}

#[cfg(not(feature = "lambda"))]
fn gateway_caller(_: &AuthDef, _: &Parts, _: &'static SchemeDef) -> Result<Caller, Refusal> {
    // Without `lambda` there is no API Gateway context to trust.
    Err(Refusal::Missing)
}
