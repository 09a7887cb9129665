//! Under Lambda: the caller API Gateway's authorizers verified, read from the request context.
//! Nothing the client sent is read: a route API Gateway did not check (a direct invoke, a
//! route without an authorizer) has no identity here and is refused.

use axum::http::request::Parts;
use lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};

use super::authenticator::{token_caller, Refusal};
use super::authorizer::context::{decode_caller, CONTEXT_KEY};
use super::caller::{list_claim, Caller};
use super::def::{AuthDef, SchemeDef, SchemeKind};

pub(super) fn caller(
    def: &AuthDef,
    parts: &Parts,
    scheme: &'static SchemeDef,
) -> Result<Caller, Refusal> {
    let context = parts
        .extensions
        .get::<RequestContext>()
        .ok_or(Refusal::Missing)?;
    match context {
        RequestContext::ApiGatewayV2(context) => {
            let authorizer = context.authorizer.as_ref();
            match scheme.kind {
                SchemeKind::Jwt { .. } => {
                    let jwt = authorizer
                        .and_then(|a| a.jwt.as_ref())
                        .ok_or(Refusal::Missing)?;
                    let claims: Map<String, Value> = jwt
                        .claims
                        .iter()
                        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                        .collect();
                    let mut caller = token_caller(scheme.name, def.groups_claim, claims)?;
                    for scope in jwt.scopes.iter().flatten() {
                        if !caller.has_scope(scope) {
                            caller.scopes.push(scope.clone());
                        }
                    }
                    Ok(caller)
                }
                SchemeKind::Custom { .. } => lambda_context(authorizer, scheme),
                SchemeKind::Iam => {
                    let iam = authorizer
                        .and_then(|a| a.iam.as_ref())
                        .ok_or(Refusal::Missing)?;
                    let principal = iam.user_arn.clone().or_else(|| iam.caller_id.clone());
                    principal
                        .map(|p| Caller::new(scheme.name, p))
                        .ok_or(Refusal::Missing)
                }
                SchemeKind::MutualTls => context
                    .authentication
                    .as_ref()
                    .and_then(|a| a.client_cert.as_ref())
                    .and_then(|cert| cert.subject_dn.clone())
                    .map(|subject| Caller::new(scheme.name, subject))
                    .ok_or(Refusal::Missing),
                // HTTP APIs have no API keys.
                SchemeKind::ApiKey { .. } => Err(Refusal::Missing),
            }
        }
        RequestContext::ApiGatewayV1(context) => {
            let authorizer = &context.authorizer;
            match scheme.kind {
                SchemeKind::Jwt { audience, .. } => match authorizer.fields.get("claims") {
                    // A Cognito authorizer: claims as text, scopes in the `scope` claim. It checks
                    // the pool, not the app client: every client of the pool would get in
                    // without this audience check.
                    Some(Value::Object(claims)) => {
                        let client = claims
                            .get("aud")
                            .or_else(|| claims.get("client_id"))
                            .and_then(Value::as_str);
                        if !client.is_some_and(|c| audience.contains(&c)) {
                            return Err(Refusal::Invalid(
                                "the token was not issued for this API (audience)".to_owned(),
                            ));
                        }
                        token_caller(scheme.name, def.groups_claim, claims.clone())
                    }
                    // A Lambda authorizer verified the token.
                    _ => lambda_context(Some(authorizer), scheme),
                },
                SchemeKind::Custom { .. } => lambda_context(Some(authorizer), scheme),
                SchemeKind::ApiKey { .. } => {
                    let id = context
                        .identity
                        .api_key_id
                        .clone()
                        .ok_or(Refusal::Missing)?;
                    let mut caller = Caller::new(scheme.name, id.clone());
                    caller.api_key = Some(id);
                    Ok(caller)
                }
                SchemeKind::Iam => {
                    let identity = &context.identity;
                    let principal = identity
                        .user_arn
                        .clone()
                        .or_else(|| identity.caller.clone());
                    principal
                        .map(|p| Caller::new(scheme.name, p))
                        .ok_or(Refusal::Missing)
                }
                // REST passes the certificate in `identity.clientCert`, which the event type
                // does not read; mutual TLS is refused rather than trusted blindly.
                SchemeKind::MutualTls => Err(Refusal::Missing),
            }
        }
        _ => Err(Refusal::Missing),
    }
}

/// The caller a Lambda authorizer (`serve_authorizer`) passed on.
fn lambda_context(
    authorizer: Option<&ApiGatewayRequestAuthorizer>,
    scheme: &'static SchemeDef,
) -> Result<Caller, Refusal> {
    let fields = &authorizer.ok_or(Refusal::Missing)?.fields;
    let encoded = fields.get(CONTEXT_KEY).and_then(Value::as_str);
    match encoded {
        Some(text) => decode_caller(scheme.name, text)
            .ok_or_else(|| Refusal::Invalid("the authorizer's context is not readable".to_owned())),
        // Another authorizer: its principal, with the context as claims.
        None => {
            let principal = fields
                .get("principalId")
                .and_then(Value::as_str)
                .ok_or(Refusal::Missing)?;
            let mut caller = Caller::new(scheme.name, principal);
            caller.groups = fields.get("groups").map(list_claim).unwrap_or_default();
            caller.claims = fields
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            Ok(caller)
        }
    }
}
