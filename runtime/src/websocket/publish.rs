//! Pushes from the data: each change of a published entity goes to the subscribers of the
//! topic its item names. Under Lambda a DynamoDB stream feeds [`Publisher::consume`], so writes
//! from anywhere reach subscribers; locally the memory store's own change feed does
//! ([`Publisher::follow`]).

use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast::error::RecvError;

use super::{Connections, Published, SendError};
use crate::store::{
    render_text, ChangeKind, EntityChange, EntityDef, ItemChange, Store, StoreError, Template,
};

/// An entity whose changes are pushed to a topic.
#[derive(Debug, Clone, Copy)]
pub struct PublishDef {
    /// The entity.
    pub entity: &'static EntityDef,
    /// The topic an item's changes go to, rendered from its fields (`ROOM#{roomId}`).
    pub topic: Template,
    /// Fields never pushed (those the schema marks `writeOnly`).
    pub hidden: &'static [&'static str],
}

/// What a topic's subscribers receive when an entity changes.
#[derive(Debug, Serialize)]
pub struct ChangeMessage<'a> {
    /// `created`, `updated` or `deleted`.
    #[serde(rename = "type")]
    pub kind: ChangeKind,
    /// The entity's name.
    pub entity: &'static str,
    /// The topic the message went to.
    pub topic: &'a str,
    /// The item after the change; before it, for a delete.
    pub item: &'a Map<String, Value>,
}

/// Pushes the changes of published entities. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    connections: Connections,
    published: &'static [PublishDef],
}

impl Publisher {
    /// Pushes the changes of `published` through `connections`.
    pub fn new(connections: Connections, published: &'static [PublishDef]) -> Self {
        Self {
            connections,
            published,
        }
    }

    /// Pushes one change to the topic of the item after it (before it, for a delete); a change
    /// that moves an item to another topic also tells the old topic that it was deleted there.
    pub async fn push(&self, change: &ItemChange) -> Result<Published, SendError> {
        let mut total = Published::default();
        if change.is_unchanged() {
            return Ok(total);
        }
        for def in self.published {
            let Some(entity) = change.entity(def.entity)? else {
                continue;
            };
            for Outgoing { kind, topic, item } in messages(def, &entity)? {
                let item = visible(def, item);
                let message = ChangeMessage {
                    kind,
                    entity: def.entity.name,
                    topic: &topic,
                    item: &item,
                };
                let published = self.connections.publish(&topic, &message).await?;
                total.sent += published.sent;
                total.gone += published.gone;
            }
        }
        Ok(total)
    }

    /// Handles a DynamoDB stream event (a Lambda event source mapping with
    /// `ReportBatchItemFailures`): the answer names the first record that could not be pushed,
    /// so Lambda retries from it and, once its retries are spent, sends it to the dead-letter
    /// queue. Records before it are done and are not pushed again.
    pub async fn consume(&self, event: &Value) -> Value {
        let records = event["Records"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for record in records {
            let pushed = match ItemChange::from_stream_record(record) {
                Ok(change) => self.push(&change).await,
                Err(error) => Err(error.into()),
            };
            if let Err(error) = pushed {
                let sequence = record["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap_or_default();
                tracing::error!(%error, sequence, "a change could not be pushed");
                return json!({"batchItemFailures": [{"itemIdentifier": sequence}]});
            }
        }
        json!({"batchItemFailures": []})
    }

    /// Locally: pushes every change written after it returns, in a task of its own: those
    /// the memory store reports, or those a local DynamoDB server's table streams hold (enabled
    /// if need be), whoever wrote them. Under Lambda it does nothing: the stream consumer
    /// function pushes.
    pub async fn follow(self, store: &Store) -> Result<(), crate::BoxError> {
        match store {
            Store::Memory(memory) => self.follow_memory(memory),
            Store::Dynamo(_) if crate::server::in_lambda() => {}
            Store::Dynamo(dynamo) => {
                let client = super::streams::streams_client().await;
                self.follow_streams(dynamo, client).await?;
            }
        }
        Ok(())
    }

    /// Pushes the changes of the published entities' tables' streams, read with `client`.
    pub(crate) async fn follow_streams(
        self,
        dynamo: &crate::store::dynamo::DynamoStore,
        client: aws_sdk_dynamodbstreams::Client,
    ) -> Result<(), crate::BoxError> {
        let mut tables: Vec<&'static crate::store::TableDef> = Vec::new();
        for def in self.published {
            if !tables.iter().any(|t| t.name == def.entity.table.name) {
                tables.push(def.entity.table);
            }
        }
        let followed = super::streams::open(dynamo, client, tables).await?;
        tokio::spawn(followed.run(self));
        Ok(())
    }

    /// Pushes the changes the memory store reports.
    fn follow_memory(self, memory: &crate::store::memory::MemoryStore) {
        let mut changes = memory.changes();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => {
                        if let Err(error) = self.push(&change).await {
                            tracing::warn!(%error, "a change could not be pushed");
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "changes were written faster than pushed");
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
}

/// One message a change makes.
struct Outgoing<'c> {
    kind: ChangeKind,
    topic: String,
    item: &'c Map<String, Value>,
}

/// The messages a change makes.
fn messages<'c>(
    def: &PublishDef,
    change: &'c EntityChange,
) -> Result<Vec<Outgoing<'c>>, StoreError> {
    let topic = |fields: &Option<Map<String, Value>>| match fields {
        Some(fields) => render_text(&def.topic, fields),
        None => Ok(None),
    };
    let (before, after) = (topic(&change.old)?, topic(&change.new)?);
    let mut messages = Vec::new();
    if let (Some(topic), Some(item)) = (after.clone(), change.new.as_ref()) {
        messages.push(Outgoing {
            kind: change.kind,
            topic,
            item,
        });
    }
    if let (Some(topic), Some(item)) = (before, change.old.as_ref()) {
        if Some(&topic) != after.as_ref() {
            messages.push(Outgoing {
                kind: ChangeKind::Deleted,
                topic,
                item,
            });
        }
    }
    Ok(messages)
}

fn visible(def: &PublishDef, item: &Map<String, Value>) -> Map<String, Value> {
    let mut item = item.clone();
    for field in def.hidden {
        item.remove(*field);
    }
    item
}
