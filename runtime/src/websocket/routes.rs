//! The routes of a WebSocket API: each action's message schema and handler, and dispatching a
//! message to them as API Gateway would.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument as _;

use super::message::{Ack, ErrorMessage};
use super::registry::SubscribeError;
use super::{Connections, RouteSelection, TopicDef, MAX_MESSAGE_BYTES};
use crate::auth::Caller;
use crate::http::{
    validate, whole_numbers_as_integers, ApiError, Location, Pointer, Schema, Violations,
};

/// What a topic route does with its sender.
#[derive(Debug, Clone, Copy)]
enum Membership {
    Join,
    Leave,
}

/// What a handler knows of the message it handles.
#[derive(Clone)]
pub struct Context {
    /// The connection the message came on; answers and pushes address it.
    pub connection_id: String,
    /// The caller verified at `$connect`; `None` when the API is public.
    pub caller: Option<Caller>,
    /// This message's id, in its log lines and in an error sent back.
    pub request_id: String,
    /// Pushes to connections and topics.
    pub connections: Connections,
}

type Answer = Pin<Box<dyn Future<Output = Result<Option<Value>, ApiError>> + Send>>;
type Handler<S> = Arc<dyn Fn(S, Context, Value) -> Answer + Send + Sync>;

struct Route<S> {
    schema: &'static Schema,
    handler: Handler<S>,
}

/// The routes of one WebSocket API, each handled with the service state `S`.
pub struct Routes<S> {
    selection: RouteSelection,
    routes: BTreeMap<String, Route<S>>,
    fallback: Option<Handler<S>>,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No routes yet; messages are routed by `selection`.
    pub fn new(selection: RouteSelection) -> Self {
        Self {
            selection,
            routes: BTreeMap::new(),
            fallback: None,
        }
    }

    /// The route selection expression.
    pub fn selection(&self) -> &RouteSelection {
        &self.selection
    }

    /// The route keys, in order.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// Messages whose action is `action` are checked against `schema`, read as `M` and handed
    /// to `handler`; what it returns is sent back to the sender.
    pub fn on<M, R, F, Fut>(mut self, action: &str, schema: &'static Schema, handler: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        R: Serialize,
        F: Fn(S, Context, M) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<R>, ApiError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: Handler<S> = Arc::new(move |service, context, value| {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let message = read::<M>(value)?;
                let reply = handler(service, context, message).await?;
                reply
                    .map(|r| serde_json::to_value(r).map_err(ApiError::internal))
                    .transpose()
            })
        });
        self.routes.insert(
            action.to_owned(),
            Route {
                schema,
                handler: erased,
            },
        );
        self
    }

    /// A route that subscribes the sender to the topic `topic` names for the message, which
    /// also decides whether the caller may read it (an `Err` refuses, 403 for a caller that may
    /// not). Answers an [`Ack`] of type `subscribed`.
    pub fn subscribe<M, F, Fut>(self, action: &str, schema: &'static Schema, topic: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        F: Fn(S, Context, M) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, ApiError>> + Send + 'static,
    {
        self.topic_route(action, schema, topic, Membership::Join)
    }

    /// A route that removes the sender from the subscribers of the topic `topic` names.
    /// Answers an [`Ack`] of type `unsubscribed`.
    pub fn unsubscribe<M, F, Fut>(self, action: &str, schema: &'static Schema, topic: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        F: Fn(S, Context, M) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, ApiError>> + Send + 'static,
    {
        self.topic_route(action, schema, topic, Membership::Leave)
    }

    fn topic_route<M, F, Fut>(
        self,
        action: &str,
        schema: &'static Schema,
        topic: F,
        membership: Membership,
    ) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        F: Fn(S, Context, M) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, ApiError>> + Send + 'static,
    {
        let topic = Arc::new(topic);
        let answered = action.to_owned();
        self.on(
            action,
            schema,
            move |service: S, context: Context, message: M| {
                let topic = Arc::clone(&topic);
                let action = answered.clone();
                async move {
                    let connections = context.connections.clone();
                    let id = context.connection_id.clone();
                    let topic = topic(service, context, message).await?;
                    let kind = match membership {
                        Membership::Join => {
                            let joined = connections.subscribe(&id, &topic).await;
                            joined.map_err(subscribe_error)?;
                            "subscribed"
                        }
                        Membership::Leave => {
                            connections.unsubscribe(&id, &topic).await?;
                            "unsubscribed"
                        }
                    };
                    Ok(Some(Ack {
                        kind,
                        action,
                        topic,
                    }))
                }
            },
        )
    }

    /// A route that subscribes the sender to the topic `topic` declares (see [`TopicDef`]).
    pub fn subscribe_to(
        self,
        action: &str,
        schema: &'static Schema,
        topic: &'static TopicDef,
    ) -> Self {
        self.subscribe(
            action,
            schema,
            move |_, context: Context, message: Value| async move {
                topic.topic(context.caller.as_ref(), &message)
            },
        )
    }

    /// A route that unsubscribes the sender from the topic `topic` declares.
    pub fn unsubscribe_from(
        self,
        action: &str,
        schema: &'static Schema,
        topic: &'static TopicDef,
    ) -> Self {
        self.unsubscribe(
            action,
            schema,
            move |_, context: Context, message: Value| async move {
                topic.topic(context.caller.as_ref(), &message)
            },
        )
    }

    /// The `$default` route: messages with no action, or one no route has, and text that is not
    /// JSON (as a JSON string). Without it they are answered with a 404 error message.
    pub fn fallback<R, F, Fut>(mut self, handler: F) -> Self
    where
        R: Serialize,
        F: Fn(S, Context, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<R>, ApiError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.fallback = Some(Arc::new(move |service, context, value| {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let reply = handler(service, context, value).await?;
                reply
                    .map(|r| serde_json::to_value(r).map_err(ApiError::internal))
                    .transpose()
            })
        }));
        self
    }

    /// Handles one message; the text to send back to its sender, if any. Every failure is
    /// answered with an [`ErrorMessage`], never by closing the connection.
    pub async fn dispatch(&self, service: &S, context: Context, text: &str) -> Option<String> {
        let parsed: Option<Value> = serde_json::from_str(text).ok();
        let action = parsed
            .as_ref()
            .and_then(|v| self.selection.select(v))
            .map(str::to_owned);
        let span = tracing::info_span!(
            "message",
            requestId = %context.request_id,
            connectionId = %context.connection_id,
            action = action.as_deref().unwrap_or("$default"),
        );
        let request_id = context.request_id.clone();
        let result = self
            .handle(service, context, text, parsed, action.as_deref())
            .instrument(span)
            .await;
        match result {
            Ok(reply) => reply.map(|value| value.to_string()),
            Err(error) => Some(ErrorMessage::new(action.as_deref(), error, &request_id).to_text()),
        }
    }

    async fn handle(
        &self,
        service: &S,
        context: Context,
        text: &str,
        parsed: Option<Value>,
        action: Option<&str>,
    ) -> Result<Option<Value>, ApiError> {
        if text.len() > MAX_MESSAGE_BYTES {
            let detail = format!("a message may hold at most {MAX_MESSAGE_BYTES} bytes");
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, detail));
        }
        let route = action.and_then(|a| self.routes.get(a));
        match (route, parsed) {
            (Some(route), Some(mut value)) => {
                if let Some(field) = self.selection.top_level() {
                    if !declares(route.schema, field) {
                        self.selection.remove(&mut value);
                    }
                }
                let mut violations = Violations::new();
                violations.afford(text.len());
                validate(
                    route.schema,
                    &value,
                    Location::Body,
                    &Pointer::Root,
                    &mut violations,
                );
                if !violations.is_empty() {
                    return Err(ApiError::invalid(violations));
                }
                whole_numbers_as_integers(&mut value);
                (route.handler)(service.clone(), context, value).await
            }
            (_, parsed) => match &self.fallback {
                Some(fallback) => {
                    let value = parsed.unwrap_or_else(|| Value::String(text.to_owned()));
                    fallback(service.clone(), context, value).await
                }
                None => Err(self.unrouted(action, parsed.is_some())),
            },
        }
    }

    fn unrouted(&self, action: Option<&str>, json: bool) -> ApiError {
        let known: Vec<String> = self.actions().map(|a| format!("`{a}`")).collect();
        let expression = self.selection.expression();
        let detail = match (json, action) {
            (false, _) => format!(
                "a message is a JSON object whose {expression} names one of {}",
                known.join(", ")
            ),
            (true, None) => format!(
                "the message has no {expression}; it is one of {}",
                known.join(", ")
            ),
            (true, Some(action)) => format!(
                "no route is called `{action}`; the routes are {}",
                known.join(", ")
            ),
        };
        let status = if json {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, detail)
    }
}

/// Whether a message schema declares the field, which then stays in the message it checks.
fn declares(schema: &Schema, field: &str) -> bool {
    match schema {
        Schema::Object(record) => record.properties.iter().any(|p| p.name == field),
        Schema::AllOf(parts) => parts.iter().any(|p| declares(p, field)),
        _ => true,
    }
}

fn read<M: DeserializeOwned>(value: Value) -> Result<M, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("the message does not fit its type: {e}")))
}

fn subscribe_error(error: SubscribeError) -> ApiError {
    match error {
        SubscribeError::NotConnected => ApiError::new(StatusCode::GONE, error.to_string()),
        SubscribeError::TooManyTopics => ApiError::conflict(error.to_string()),
        SubscribeError::Store(error) => error.into(),
    }
}
