//! Your code: apigen wrote this file once and never overwrites it.
//!
//! Operations with a storage action work out of the box through the default methods of
//! [`api::Handlers`]; override any of them here. Every other operation must be written here.

#[allow(unused_imports)]
use apigen_runtime::{auth, http};

use apigen_runtime::store;
use apigen_runtime::websocket;

#[allow(unused_imports)]
use crate::generated::{api, messages, models::*, operations::*};

/// The service's state: add clients and configuration here.
pub struct Service {
    store: store::Store,
}

impl Service {
    pub fn new(store: store::Store) -> Self {
        Self { store }
    }
}

impl api::Handlers for Service {
    fn store(&self) -> &store::Store {
        &self.store
    }
}

impl messages::Messages for Service {
    /// Tells the room's subscribers who is typing; the sender is one of them if it joined.
    async fn typing(
        &self,
        context: websocket::Context,
        message: Typing,
    ) -> Result<(), http::ApiError> {
        let from = context.caller.as_ref().map(|caller| caller.subject.as_str());
        let typing = serde_json::json!({"type": "typing", "roomId": message.room_id, "from": from});
        let topic = format!("ROOM#{}", message.room_id);
        context
            .connections
            .publish(&topic, &typing)
            .await
            .map_err(http::ApiError::internal)?;
        Ok(())
    }
}
