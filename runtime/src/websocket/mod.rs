//! WebSocket APIs (feature `websocket`): typed messages routed as API Gateway routes them,
//! connections and topic subscriptions kept in a table every function instance shares, and
//! pushes to one connection, a topic or a caller's connections.
//!
//! The generator writes one [`Routes`] table per spec; the same table is served locally over a
//! real WebSocket ([`local`]) and, under Lambda, to the events of API Gateway's WebSocket API
//! (`lambda`). Submodules: `selection` (which route a message takes), `registry` (the
//! connections table), [`Connections`] (the client handlers and writers push with), `message`
//! (what the service sends on its own), `routes` (dispatch), `credentials` (a browser's token at
//! `$connect`), `publish` (pushes from the data), `topics` (topics
//! declared by the generator).

mod connections;
mod credentials;
mod keys;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod local;
mod message;
mod publish;
mod registry;
mod routes;
mod selection;
mod streams;
#[cfg(test)]
mod tests;
mod topics;

pub use connections::{Connections, Published, SendError};
pub use credentials::{credentials_as_headers, CHOSEN_PROTOCOL};
pub use keys::fetch_jwks;
pub use message::{Ack, ErrorMessage};
pub use publish::{ChangeMessage, PublishDef, Publisher};
pub use registry::{SubscribeError, CONNECTIONS, MAX_TOPICS_PER_CONNECTION};
pub use routes::{Context, Routes};
pub use selection::RouteSelection;
pub use topics::TopicDef;

/// API Gateway's limit on one WebSocket message; locally the same limit closes the connection
/// with 1009 (message too big), as API Gateway does.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// How long API Gateway keeps a connection that sends nothing.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// How long API Gateway keeps any connection.
pub const MAX_CONNECTION_AGE: std::time::Duration = std::time::Duration::from_secs(2 * 60 * 60);
