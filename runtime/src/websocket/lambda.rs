//! Under Lambda: the events of API Gateway's WebSocket API, handled by the same [`Routes`] as
//! locally. `$connect` records the connection with the caller its authorizer verified,
//! `$disconnect` forgets it, and a message's answer is posted back through the management API.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};

use super::message::ErrorMessage;
use super::{Connections, Context, Publisher, Routes, CHOSEN_PROTOCOL};
use crate::auth::{
    decode_caller, AuthDef, Authenticator, Caller, LocalConfig, SchemeKind, Security, CONTEXT_KEY,
};
use crate::http::ApiError;
use crate::BoxError;

/// Serves the WebSocket API's events. `scheme` names the security scheme `$connect` requires
/// (its authorizer passes the caller on); `None` for a public API.
pub async fn serve<S: Clone + Send + Sync + 'static>(
    routes: Routes<S>,
    service: S,
    connections: Connections,
    scheme: Option<&'static str>,
) -> Result<(), BoxError> {
    let (routes, service, connections) = (&routes, &service, &connections);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, BoxError>(handle(routes, service, connections, scheme, &event.payload).await)
    }))
    .await
}

/// Serves a DynamoDB stream's events (an event source mapping with `ReportBatchItemFailures`),
/// pushing each change of a published entity with `publisher`.
pub async fn serve_changes(publisher: Publisher) -> Result<(), BoxError> {
    let publisher = &publisher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, BoxError>(publisher.consume(&event.payload).await)
    }))
    .await
}

/// Runs the `$connect` authorizer of a WebSocket API secured by a JWT scheme: API Gateway
/// verifies no JWT on a WebSocket API, so this function does, against the keys its issuer
/// publishes (fetched once per instance), with the issuer and audiences template.yaml names
/// (`APIGEN_JWT_ISSUER`, `APIGEN_JWT_AUDIENCE`).
pub async fn serve_authorizer(
    def: &'static AuthDef,
    security: &'static Security,
) -> Result<(), BoxError> {
    let list = |name: &str| {
        std::env::var(name).ok().map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    };
    let issuer = list("APIGEN_JWT_ISSUER").and_then(|i| i.into_iter().next());
    let declared = security
        .any_of
        .iter()
        .flat_map(|alternative| alternative.iter())
        .find_map(|requirement| match requirement.scheme.kind {
            SchemeKind::Jwt { issuer, .. } => Some(issuer.to_owned()),
            _ => None,
        });
    let issuer = issuer
        .or(declared)
        .ok_or("the WebSocket API's security names no JWT scheme")?;
    let jwks = super::keys::fetch_jwks(&issuer).await?;
    let config = LocalConfig {
        jwks: Some(jwks),
        issuer: Some(vec![issuer]),
        audience: list("APIGEN_JWT_AUDIENCE"),
        api_keys: Vec::new(),
        unverified_caller: None,
    };
    let authenticator = &Authenticator::local(def, config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        decide(authenticator, security, &event.payload).await
    }))
    .await
}

/// The `$connect` authorizer's answer to one REQUEST event: a policy admitting the caller,
/// passed on to the API's function, or the error API Gateway answers 401 for.
pub async fn decide(
    authenticator: &Authenticator,
    security: &Security,
    event: &Value,
) -> Result<Value, BoxError> {
    let mut request = axum::http::Request::new(());
    if let Some(headers) = event["headers"].as_object() {
        for (name, value) in headers {
            let (Ok(name), Some(Ok(value))) = (
                axum::http::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(axum::http::HeaderValue::from_str),
            ) else {
                continue;
            };
            request.headers_mut().append(name, value);
        }
    }
    let query: String = match event["queryStringParameters"].as_object() {
        Some(parameters) => form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                parameters
                    .iter()
                    .filter_map(|(k, v)| Some((k, v.as_str()?))),
            )
            .finish(),
        None => String::new(),
    };
    *request.uri_mut() = format!("/?{query}").parse()?;
    let (mut parts, ()) = request.into_parts();
    super::credentials_as_headers(&mut parts.headers, Some(&query));
    match authenticator.authenticate(&parts, security).await {
        Ok(caller) => {
            let method_arn = event["methodArn"].as_str().unwrap_or_default();
            Ok(crate::auth::allow(method_arn, &caller))
        }
        Err(refusal) => {
            tracing::info!(reason = %refusal.detail, "the connection was refused");
            // API Gateway answers 401 for exactly this error message.
            Err("Unauthorized".into())
        }
    }
}

fn status(code: u16) -> Value {
    json!({"statusCode": code})
}

/// The answer to one event of the WebSocket API.
pub async fn handle<S: Clone + Send + Sync + 'static>(
    routes: &Routes<S>,
    service: &S,
    connections: &Connections,
    scheme: Option<&'static str>,
    event: &Value,
) -> Value {
    let context = &event["requestContext"];
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let id = text(&context["connectionId"]);
    let request_id = text(&context["requestId"]);
    if id.is_empty() {
        tracing::error!("the event names no connection: is this function behind a WebSocket API?");
        return status(400);
    }
    let caller = match scheme {
        Some(scheme) => match caller(scheme, &context["authorizer"]) {
            Some(caller) => Some(caller),
            // The authorizer admitted nobody: a route without it, which is a mistake.
            None => return status(403),
        },
        None => None,
    };
    match context["routeKey"].as_str() {
        Some("$connect") => {
            let subject = caller.as_ref().map(|c| c.subject.as_str());
            if let Err(error) = connections.registry().connect(&id, subject).await {
                tracing::error!(%error, "could not record a connection");
                return status(500);
            }
            tracing::info!(connectionId = %id, "connected");
            // A browser refuses a connection whose answer names none of its protocols.
            let offered = event["headers"]["Sec-WebSocket-Protocol"]
                .as_str()
                .or(event["headers"]["sec-websocket-protocol"].as_str());
            let bearer = offered.is_some_and(|p| {
                p.split(',')
                    .any(|p| p.trim().eq_ignore_ascii_case(CHOSEN_PROTOCOL))
            });
            match bearer {
                true => {
                    json!({"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": CHOSEN_PROTOCOL}})
                }
                false => status(200),
            }
        }
        Some("$disconnect") => {
            if let Err(error) = connections.registry().disconnect(&id).await {
                tracing::warn!(connectionId = %id, %error, "could not forget a connection");
            }
            status(200)
        }
        _ => {
            let reply = if event["isBase64Encoded"] == true {
                let detail = "messages are JSON text frames";
                let error = ApiError::new(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, detail);
                Some(ErrorMessage::new(None, error, &request_id).to_text())
            } else {
                let message = Context {
                    connection_id: id.clone(),
                    caller,
                    request_id,
                    connections: connections.clone(),
                };
                routes
                    .dispatch(service, message, &text(&event["body"]))
                    .await
            };
            if let Some(reply) = reply {
                if let Err(error) = connections.send_text(&id, reply).await {
                    tracing::warn!(connectionId = %id, %error, "could not answer a message");
                }
            }
            status(200)
        }
    }
}

/// The caller the `$connect` authorizer passed on: API Gateway repeats its context on every
/// message of the connection.
fn caller(scheme: &'static str, authorizer: &Value) -> Option<Caller> {
    match authorizer[CONTEXT_KEY].as_str() {
        Some(encoded) => decode_caller(scheme, encoded),
        None => authorizer["principalId"]
            .as_str()
            .map(|p| Caller::new(scheme, p)),
    }
}
