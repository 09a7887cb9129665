//! Under Lambda: the events of API Gateway's WebSocket API, handled by the same [`Routes`] as
//! locally. `$connect` records the connection with the caller its authorizer verified,
//! `$disconnect` forgets it, and a message's answer is posted back through the management API.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};

use super::message::ErrorMessage;
use super::{Connections, Context, Routes, CHOSEN_PROTOCOL};
use crate::auth::{decode_caller, Caller, CONTEXT_KEY};
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
