//! Serving a WebSocket API from this process (`cargo run`, tests), with API Gateway's
//! semantics: `$connect` verified before the upgrade (a refusal is an HTTP answer), a
//! connection id per connection, route selection, the idle and age limits, and pushes through
//! the same [`Connections`] a deployed service uses. API Gateway's management API is served
//! too (`POST`, `GET` and `DELETE /@connections/{id}`), unsigned and on 127.0.0.1 only, so a
//! process holding [`Connections::gateway`] can push to this server as it would to AWS.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts as _, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde_json::json;

use super::message::ErrorMessage;
use super::{
    credentials_as_headers, Connections, Context, Routes, SendError, IDLE_TIMEOUT,
    MAX_CONNECTION_AGE, MAX_MESSAGE_BYTES,
};
use crate::auth::{Authenticator, Caller, Security};
use crate::http::ApiError;

/// The `$connect` decision: the caller a connection request's credentials name (`None` for a
/// public API), or the HTTP error that refuses it.
pub type Admit = Arc<
    dyn Fn(Parts) -> Pin<Box<dyn Future<Output = Result<Option<Caller>, ApiError>> + Send>>
        + Send
        + Sync,
>;

/// Admits connections whose credentials satisfy `security`, as `authenticator` verifies them.
pub fn admit(authenticator: Arc<Authenticator>, security: &'static Security) -> Admit {
    Arc::new(move |parts| {
        let authenticator = Arc::clone(&authenticator);
        Box::pin(async move { authenticator.authenticate(&parts, security).await.map(Some) })
    })
}

/// Admits every connection, with no caller: for APIs without security.
pub fn admit_all() -> Admit {
    Arc::new(|_| Box::pin(async { Ok(None) }))
}

struct Local<S> {
    routes: Routes<S>,
    service: S,
    connections: Connections,
    admit: Admit,
}

/// A router serving the WebSocket API at `path` (GET with an upgrade), to merge with the REST
/// routes and serve with [`serve`](crate::serve).
pub fn router<S: Clone + Send + Sync + 'static>(
    path: &str,
    routes: Routes<S>,
    service: S,
    connections: Connections,
    admit: Admit,
) -> Router {
    let local = Arc::new(Local {
        routes,
        service,
        connections,
        admit,
    });
    let management = Router::new()
        .route(
            "/@connections/{id}",
            post(post_to_connection)
                .get(get_connection)
                .delete(delete_connection),
        )
        .with_state(local.connections.clone());
    Router::new()
        .route(path, get(upgrade::<S>))
        .with_state(local)
        .merge(management)
}

/// API Gateway's answer for a connection that is closed.
fn gone(id: &str) -> Response {
    let body = json!({"__type": "GoneException", "message": format!("connection {id} is gone")});
    let mut response = (StatusCode::GONE, axum::Json(body)).into_response();
    let kind = HeaderValue::from_static("GoneException");
    response.headers_mut().insert("x-amzn-errortype", kind);
    response
}

async fn post_to_connection(
    State(connections): State<Connections>,
    Path(id): Path<String>,
    body: String,
) -> Response {
    match connections.send_text(&id, body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(SendError::Gone) => gone(&id),
        Err(SendError::TooLarge { size }) => {
            let detail = format!("the message is {size} bytes, over {MAX_MESSAGE_BYTES}");
            let body = json!({"__type": "PayloadTooLargeException", "message": detail});
            (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response()
        }
        Err(error) => ApiError::internal(error).into_response(),
    }
}

async fn get_connection(
    State(connections): State<Connections>,
    Path(id): Path<String>,
) -> Response {
    match connections.registry().connected_at(&id).await {
        Ok(Some(connected_at)) => {
            let body = json!({"connectedAt": connected_at, "identity": {"sourceIp": "127.0.0.1"}});
            axum::Json(body).into_response()
        }
        Ok(None) => gone(&id),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

async fn delete_connection(
    State(connections): State<Connections>,
    Path(id): Path<String>,
) -> Response {
    match connections.is_connected(&id).await {
        Ok(false) => gone(&id),
        Ok(true) => match connections.close(&id).await {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(error) => ApiError::internal(error).into_response(),
        },
        Err(error) => ApiError::internal(error).into_response(),
    }
}

async fn upgrade<S: Clone + Send + Sync + 'static>(
    State(local): State<Arc<Local<S>>>,
    request: Request,
) -> Response {
    crate::observe::name_operation("$connect");
    let (mut parts, _) = request.into_parts();
    let protocol = credentials_as_headers(&mut parts.headers, parts.uri.query());
    let caller = match (local.admit)(credentials_of(&parts)).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(_) => {
            let detail = "this address takes WebSocket connections only";
            return ApiError::new(StatusCode::UPGRADE_REQUIRED, detail).into_response();
        }
    };
    let upgrade = upgrade.max_message_size(MAX_MESSAGE_BYTES);
    let upgrade = match protocol {
        Some(protocol) => upgrade.protocols([protocol]),
        None => upgrade,
    };
    upgrade.on_upgrade(move |socket| serve_connection(local, socket, caller))
}

/// What `$connect` is decided on: the request's method, address and headers (its upgrade
/// stays with the request).
fn credentials_of(parts: &Parts) -> Parts {
    let mut request = axum::http::Request::new(());
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.headers_mut() = parts.headers.clone();
    request.into_parts().0
}

/// An id shaped like API Gateway's: 11 random bytes in base64.
fn connection_id() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    base64::engine::general_purpose::STANDARD.encode(&bytes[..11])
}

async fn serve_connection<S: Clone + Send + Sync + 'static>(
    local: Arc<Local<S>>,
    mut socket: WebSocket,
    caller: Option<Caller>,
) {
    let id = connection_id();
    let registry = local.connections.registry();
    let subject = caller.as_ref().map(|c| c.subject.as_str());
    if let Err(error) = registry.connect(&id, subject).await {
        tracing::error!(%error, "could not record a connection");
        let close = CloseFrame {
            code: 1011,
            reason: "the connection could not be recorded".into(),
        };
        let _ = socket.send(Message::Close(Some(close))).await;
        return;
    }
    tracing::info!(connectionId = %id, "connected");
    let mut outbox = local.connections.attach(&id);
    let age = tokio::time::sleep(MAX_CONNECTION_AGE);
    tokio::pin!(age);
    loop {
        let reply = tokio::select! {
            incoming = tokio::time::timeout(IDLE_TIMEOUT, socket.recv()) => match incoming {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let context = Context {
                        connection_id: id.clone(),
                        caller: caller.clone(),
                        request_id: uuid::Uuid::new_v4().to_string(),
                        connections: local.connections.clone(),
                    };
                    local.routes.dispatch(&local.service, context, text.as_str()).await
                }
                Ok(Some(Ok(Message::Binary(_)))) => {
                    let detail = "messages are JSON text frames";
                    let error = ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail);
                    let request_id = uuid::Uuid::new_v4().to_string();
                    Some(ErrorMessage::new(None, error, &request_id).to_text())
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => None,
                // Closed by the client, broken, or idle for too long.
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => break,
            },
            pushed = outbox.recv() => match pushed {
                Some(text) => Some(text),
                // `Connections::close`, or a queue the client stopped reading.
                None => break,
            },
            () = &mut age => break,
        };
        if let Some(text) = reply {
            if socket.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    }
    local.connections.detach(&id);
    let _ = socket.send(Message::Close(None)).await;
    match registry.disconnect(&id).await {
        Ok(_) => tracing::info!(connectionId = %id, "disconnected"),
        Err(error) => tracing::warn!(connectionId = %id, %error, "could not forget a connection"),
    }
}
