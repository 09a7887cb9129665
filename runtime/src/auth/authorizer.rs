//! Custom authorizers: the user's decision, run in-process locally and as a Lambda authorizer
//! under API Gateway; and the caller as the authorizer passes it on to the API function.

use std::future::Future;
use std::pin::Pin;

use super::caller::Caller;

/// What a Custom authorizer decides on.
#[derive(Debug, Clone)]
pub struct AuthorizerRequest {
    /// The scheme being checked.
    pub scheme: &'static str,
    /// The credential, from the header or query parameter the scheme names.
    pub credential: String,
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
}

/// The authorizer's refusal (401 locally / Deny under API Gateway).
#[derive(Debug, Clone)]
pub struct Denied {
    /// Why, for the client locally and for the logs under API Gateway.
    pub reason: String,
}

impl Denied {
    /// A refusal for this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// The user's decision for a Custom scheme.
pub type AuthorizerFn =
    fn(AuthorizerRequest) -> Pin<Box<dyn Future<Output = Result<Caller, Denied>> + Send>>;

/// The caller as a Lambda authorizer passes it on, and as the API function reads it back.
#[cfg(feature = "lambda")]
pub(crate) mod context {
    use serde::{Deserialize, Serialize};
    use serde_json::{Map, Value};

    use super::super::caller::Caller;

    /// The context key under which a Lambda authorizer passes the caller on. REST APIs accept only
    /// scalar context values, so the caller travels as one JSON string.
    pub(crate) const CONTEXT_KEY: &str = "apigenCaller";

    /// An encoded caller is cut to this (claims dropped first): API Gateway bounds the context too.
    const MAX_ENCODED_BYTES: usize = 8 * 1024;

    #[derive(Serialize, Deserialize)]
    struct Encoded {
        sub: String,
        #[serde(default)]
        scopes: Vec<String>,
        #[serde(default)]
        groups: Vec<String>,
        #[serde(default)]
        claims: Map<String, Value>,
    }

    /// The caller as a context value.
    pub(in super::super) fn encode_caller(caller: &Caller) -> String {
        let mut encoded = Encoded {
            sub: caller.subject.clone(),
            scopes: caller.scopes.clone(),
            groups: caller.groups.clone(),
            claims: caller.claims.clone(),
        };
        let text = serde_json::to_string(&encoded).unwrap_or_default();
        if text.len() <= MAX_ENCODED_BYTES {
            return text;
        }
        encoded.claims.clear();
        serde_json::to_string(&encoded).unwrap_or_default()
    }

    /// The caller an authorizer encoded, for the scheme it verified.
    pub(crate) fn decode_caller(scheme: &'static str, text: &str) -> Option<Caller> {
        if text.len() > 2 * MAX_ENCODED_BYTES {
            return None;
        }
        let encoded: Encoded = serde_json::from_str(text).ok()?;
        let mut caller = Caller::new(scheme, encoded.sub)
            .with_scopes(encoded.scopes)
            .with_groups(encoded.groups);
        caller.claims = encoded.claims;
        Some(caller)
    }
}

#[cfg(feature = "lambda")]
pub use lambda::serve_authorizer;

#[cfg(feature = "lambda")]
pub(crate) mod lambda {
    use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
    use serde_json::{json, Value};

    use super::super::def::{AuthDef, Credential, SchemeDef, SchemeKind};
    use super::context::{encode_caller, CONTEXT_KEY};
    use super::{AuthorizerFn, AuthorizerRequest};
    use crate::BoxError;

    /// Runs a Lambda authorizer function around the user's decision: accepts both API Gateway
    /// payloads (HTTP API REQUEST authorizer v2 -> simple response with context; REST
    /// REQUEST/TOKEN authorizer -> an IAM policy allowing the whole API `arn:..:api/stage/*` so
    /// that cached results work across routes, principalId = subject, context = the caller
    /// encoded so that `Authenticator::gateway` decodes the same Caller in the API function).
    /// Denied: HTTP simple response false; REST: the error "Unauthorized" (401).
    pub async fn serve_authorizer(
        def: &'static AuthDef,
        authorizer: AuthorizerFn,
    ) -> Result<(), BoxError> {
        // The template gives each authorizer function the scheme it decides for.
        let only: Option<&'static str> = std::env::var("APIGEN_AUTHORIZER_SCHEME")
            .ok()
            .map(|name| &*Box::leak(name.into_boxed_str()));
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            decide(def, only, authorizer, &event.payload).await
        }))
        .await
    }

    /// The authorizer's answer to one API Gateway payload.
    /// `only`: the scheme this function decides for (every custom scheme when `None`).
    pub(in super::super) async fn decide(
        def: &AuthDef,
        only: Option<&str>,
        authorizer: AuthorizerFn,
        event: &Value,
    ) -> Result<Value, BoxError> {
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let is_v2 = event["version"] == "2.0";
        let is_token = event["type"] == "TOKEN";
        let customs = def
            .schemes
            .iter()
            .filter(|scheme| only.is_none_or(|name| scheme.name == name))
            .filter_map(|scheme| match scheme.kind {
                SchemeKind::Custom { credential } => Some((*scheme, credential)),
                _ => None,
            });
        let mut found: Option<(&'static SchemeDef, String)> = None;
        for (scheme, credential) in customs {
            let value = match (is_token, credential) {
                (true, Credential::Header(_)) => text(&event["authorizationToken"]),
                (true, Credential::Query(_)) => None,
                (false, Credential::Header(name)) => header(event, name),
                (false, Credential::Query(name)) => text(&event["queryStringParameters"][name]),
            };
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                found = Some((scheme, value));
                break;
            }
        }
        let (method, path) = if is_v2 {
            (
                text(&event["requestContext"]["http"]["method"]),
                text(&event["rawPath"]),
            )
        } else {
            (text(&event["httpMethod"]), text(&event["path"]))
        };
        let method_arn = text(&event["methodArn"]).unwrap_or_default();
        let decision = match found {
            None => Err("no credential".to_owned()),
            Some((scheme, credential)) => {
                let (arn_method, arn_path) = method_and_path(&method_arn);
                let request = AuthorizerRequest {
                    scheme: scheme.name,
                    credential,
                    method: method.unwrap_or(arn_method),
                    path: path.unwrap_or(arn_path),
                };
                authorizer(request).await.map_err(|denied| denied.reason)
            }
        };
        match (is_v2, decision) {
            (true, Ok(caller)) => Ok(json!({
                "isAuthorized": true,
                "context": {CONTEXT_KEY: encode_caller(&caller)},
            })),
            (true, Err(reason)) => {
                tracing::info!(reason = %reason, "authorizer denied the request");
                Ok(json!({"isAuthorized": false}))
            }
            (false, Ok(caller)) => Ok(allow(&method_arn, &caller)),
            (false, Err(reason)) => {
                tracing::info!(reason = %reason, "authorizer denied the request");
                // API Gateway answers 401 for exactly this error message.
                Err("Unauthorized".into())
            }
        }
    }

    /// A REST or WebSocket authorizer's answer admitting `caller` to the whole API, the caller
    /// passed on in the context.
    pub(crate) fn allow(method_arn: &str, caller: &super::Caller) -> Value {
        json!({
            "principalId": caller.subject,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": whole_api(method_arn),
                }],
            },
            "context": {CONTEXT_KEY: encode_caller(caller)},
        })
    }

    /// A header of a REQUEST payload, whatever the case of its name.
    fn header(event: &Value, name: &str) -> Option<String> {
        let Value::Object(headers) = &event["headers"] else {
            return None;
        };
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
            .map(str::to_owned)
    }

    /// `arn:aws:execute-api:region:account:api/stage/METHOD/path` -> `.../api/stage/*`, so one
    /// cached decision admits the caller on every route.
    pub(in super::super) fn whole_api(method_arn: &str) -> String {
        let mut parts = method_arn.splitn(3, '/');
        match (parts.next(), parts.next()) {
            (Some(api), Some(stage)) => format!("{api}/{stage}/*"),
            _ => method_arn.to_owned(),
        }
    }

    fn method_and_path(method_arn: &str) -> (String, String) {
        let mut parts = method_arn.splitn(4, '/');
        let (_, _) = (parts.next(), parts.next());
        let method = parts.next().unwrap_or_default().to_owned();
        let path = format!("/{}", parts.next().unwrap_or_default());
        (method, path)
    }
}
