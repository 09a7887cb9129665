//! The client handlers and writers push with: to one connection, to a topic's subscribers, or
//! to every connection of a caller. Locally it hands messages to the sockets this process
//! serves; elsewhere it posts them through API Gateway's management API. Either way a
//! connection reported gone is forgotten, subscriptions and all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::mpsc;

use super::registry::{Registry, SubscribeError};
use super::MAX_MESSAGE_BYTES;
use crate::store::{Store, StoreError};

/// How many messages wait for a slow local client before it counts as gone.
const LOCAL_QUEUE: usize = 256;

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The connection is closed; it has been forgotten.
    #[error("the connection is gone")]
    Gone,
    /// The message is over API Gateway's limit of 128 KiB.
    #[error("the message is {size} bytes, over the limit of {MAX_MESSAGE_BYTES}")]
    TooLarge {
        /// The message's size in bytes.
        size: usize,
    },
    /// The message could not be written as JSON.
    #[error("the message is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The connections table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// API Gateway's management API failed (other than with a gone connection).
    #[error("API Gateway refused the message: {0}")]
    Gateway(String),
}

/// What a push to many connections did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Connections the message was handed to.
    pub sent: usize,
    /// Connections found gone, and forgotten.
    pub gone: usize,
}

/// Pushes messages to connections, and keeps their subscriptions. Cheap to clone.
#[derive(Clone)]
pub struct Connections {
    registry: Registry,
    transport: Arc<Transport>,
}

enum Transport {
    /// The sockets this process serves, by connection id.
    Local(Mutex<HashMap<String, mpsc::Sender<String>>>),
    /// API Gateway's `@connections` API of one stage.
    Gateway(aws_sdk_apigatewaymanagement::Client),
}

/// What sending to one connection did.
enum Delivery {
    Sent,
    Gone,
    /// Locally: the connection is not this process's (another process on the same tables
    /// serves it, and pushes to it itself), or no longer open.
    NotHere,
}

impl Connections {
    /// Connections served by this process (`cargo run`, tests), kept in `store`.
    pub fn local(store: Store) -> Self {
        Self {
            registry: Registry::new(store),
            transport: Arc::new(Transport::Local(Mutex::default())),
        }
    }

    /// Connections of the WebSocket API stage at `endpoint`
    /// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`), kept in `store`.
    pub async fn gateway(store: Store, endpoint: &str) -> Self {
        let config = crate::store::sdk_config().await;
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(&config)
            .endpoint_url(endpoint)
            .build();
        Self::with_client(
            store,
            aws_sdk_apigatewaymanagement::Client::from_conf(config),
        )
    }

    /// Connections reached through `client`, which names the stage's endpoint.
    pub fn with_client(store: Store, client: aws_sdk_apigatewaymanagement::Client) -> Self {
        Self {
            registry: Registry::new(store),
            transport: Arc::new(Transport::Gateway(client)),
        }
    }

    /// Through API Gateway when `APIGEN_WEBSOCKET_ENDPOINT` names a stage (template.yaml sets
    /// it for every function), else the connections this process serves.
    pub async fn from_env(store: Store) -> Self {
        match std::env::var("APIGEN_WEBSOCKET_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => Self::gateway(store, &endpoint).await,
            _ => Self::local(store),
        }
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The store the connections are kept in.
    pub fn store(&self) -> &Store {
        self.registry.store()
    }

    /// Serves connection `id` from this process: what is sent to it arrives on the receiver.
    pub(crate) fn attach(&self, id: &str) -> mpsc::Receiver<String> {
        let (sender, receiver) = mpsc::channel(LOCAL_QUEUE);
        if let Transport::Local(peers) = self.transport.as_ref() {
            lock(peers).insert(id.to_owned(), sender);
        }
        receiver
    }

    /// Stops serving connection `id` from this process.
    pub(crate) fn detach(&self, id: &str) {
        if let Transport::Local(peers) = self.transport.as_ref() {
            lock(peers).remove(id);
        }
    }

    /// Sends `message` (as JSON) to connection `id`.
    pub async fn send<M: Serialize + ?Sized>(
        &self,
        id: &str,
        message: &M,
    ) -> Result<(), SendError> {
        self.send_text(id, text_of(message)?).await
    }

    /// Sends `text` as it is to connection `id`.
    pub(crate) async fn send_text(&self, id: &str, text: String) -> Result<(), SendError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(SendError::TooLarge { size: text.len() });
        }
        match self.deliver(id, &text).await? {
            Delivery::Sent => Ok(()),
            Delivery::Gone => {
                self.forget(id).await?;
                Err(SendError::Gone)
            }
            Delivery::NotHere => Err(SendError::Gone),
        }
    }

    /// Sends `message` to every subscriber of `topic`.
    pub async fn publish<M: Serialize + ?Sized>(
        &self,
        topic: &str,
        message: &M,
    ) -> Result<Published, SendError> {
        let text = text_of(message)?;
        let subscribers = self.registry.subscribers(topic).await?;
        self.deliver_all(&subscribers, &text).await
    }

    /// Sends `message` to every open connection of the caller `subject`.
    pub async fn send_to_subject<M: Serialize + ?Sized>(
        &self,
        subject: &str,
        message: &M,
    ) -> Result<Published, SendError> {
        let text = text_of(message)?;
        let connections = self.registry.of_subject(subject).await?;
        self.deliver_all(&connections, &text).await
    }

    async fn deliver_all(&self, ids: &[String], text: &str) -> Result<Published, SendError> {
        let mut published = Published::default();
        for id in ids {
            match self.deliver(id, text).await {
                Ok(Delivery::Sent) => published.sent += 1,
                Ok(Delivery::Gone) => {
                    published.gone += 1;
                    self.forget(id).await?;
                }
                Ok(Delivery::NotHere) => {}
                // One failing connection does not keep the message from the others.
                Err(error) => tracing::warn!(connection = %id, %error, "a push failed"),
            }
        }
        Ok(published)
    }

    async fn deliver(&self, id: &str, text: &str) -> Result<Delivery, SendError> {
        match self.transport.as_ref() {
            Transport::Local(peers) => {
                let Some(sender) = lock(peers).get(id).cloned() else {
                    return Ok(Delivery::NotHere);
                };
                // A client that reads nothing while its queue fills is treated as gone, as API
                // Gateway treats one it cannot reach.
                match sender.try_send(text.to_owned()) {
                    Ok(()) => Ok(Delivery::Sent),
                    Err(_) => Ok(Delivery::Gone),
                }
            }
            Transport::Gateway(client) => {
                let sent = client
                    .post_to_connection()
                    .connection_id(id)
                    .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(text))
                    .send()
                    .await;
                match sent {
                    Ok(_) => Ok(Delivery::Sent),
                    Err(error) if is_gone(&error) => Ok(Delivery::Gone),
                    Err(error) => Err(SendError::Gateway(
                        aws_sdk_apigatewaymanagement::error::DisplayErrorContext(error).to_string(),
                    )),
                }
            }
        }
    }

    /// Forgets connection `id` and its subscriptions.
    async fn forget(&self, id: &str) -> Result<(), StoreError> {
        self.detach(id);
        self.registry.disconnect(id).await.map(drop)
    }

    /// Closes connection `id` and forgets it.
    pub async fn close(&self, id: &str) -> Result<(), SendError> {
        if let Transport::Gateway(client) = self.transport.as_ref() {
            let deleted = client.delete_connection().connection_id(id).send().await;
            if let Err(error) = deleted {
                if !is_gone(&error) {
                    let context = aws_sdk_apigatewaymanagement::error::DisplayErrorContext(error);
                    return Err(SendError::Gateway(context.to_string()));
                }
            }
        }
        // Locally, dropping the sender ends the socket's task, which closes it.
        self.forget(id).await?;
        Ok(())
    }

    /// Adds connection `id` to the subscribers of `topic`. Handlers check first that its caller
    /// may read the topic; generated subscribe routes do.
    pub async fn subscribe(&self, id: &str, topic: &str) -> Result<(), SubscribeError> {
        self.registry.subscribe(id, topic).await
    }

    /// Removes connection `id` from the subscribers of `topic`.
    pub async fn unsubscribe(&self, id: &str, topic: &str) -> Result<(), StoreError> {
        self.registry.unsubscribe(id, topic).await
    }

    /// The connections subscribed to `topic`.
    pub async fn subscribers(&self, topic: &str) -> Result<Vec<String>, StoreError> {
        self.registry.subscribers(topic).await
    }

    /// The topics connection `id` listens to.
    pub async fn topics(&self, id: &str) -> Result<Vec<String>, StoreError> {
        self.registry.topics(id).await
    }

    /// Whether connection `id` is open.
    pub async fn is_connected(&self, id: &str) -> Result<bool, StoreError> {
        self.registry.is_connected(id).await
    }
}

fn text_of<M: Serialize + ?Sized>(message: &M) -> Result<String, SendError> {
    let text = serde_json::to_string(message)?;
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(SendError::TooLarge { size: text.len() });
    }
    Ok(text)
}

fn is_gone<E, R>(error: &aws_sdk_apigatewaymanagement::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_apigatewaymanagement::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()) == Some("GoneException")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the map leaves it consistent: every change is one insert or remove.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
