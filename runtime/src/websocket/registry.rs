//! Who is connected and who listens to which topic, kept in the connections table so that every
//! function instance (and the stream consumer) sees the same.
//!
//! One partition per connection holds the connection and its memberships (so a disconnect
//! finds everything to remove with one Query), one partition per topic holds its subscribers
//! (so a push finds them with one Query per page), and an index finds a caller's connections.
//! Every item expires with the connection, so those API Gateway closes without a `$disconnect`
//! event reaching the function do not stay forever.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::MAX_CONNECTION_AGE;
use crate::store::{
    fields_of, Batch, Entity, EntityDef, EntityIndexDef, ExpiresDef, IndexDef, Key, KeyAttr,
    KeyDef, KeyKind, NewItem, PageRequest, Part, Query, Store, StoreError, TableDef, Template,
};

/// How many topics one connection may listen to: each subscription is two items, and a
/// disconnect removes them all.
pub const MAX_TOPICS_PER_CONNECTION: usize = 100;

const S: KeyAttr = KeyAttr {
    name: "PK",
    kind: KeyKind::S,
};
const BY_SUBJECT: IndexDef = IndexDef {
    name: "BySubject",
    pk: KeyAttr {
        name: "GSI1PK",
        kind: KeyKind::S,
    },
    sk: Some(KeyAttr {
        name: "GSI1SK",
        kind: KeyKind::S,
    }),
    keys_only: false,
};

/// The connections table (`CONNECTIONS_TABLE`): template.yaml declares it with these keys, the
/// index and the TTL attribute.
pub static CONNECTIONS: TableDef = TableDef {
    name: "Connections",
    env: "CONNECTIONS_TABLE",
    pk: S,
    sk: Some(KeyAttr {
        name: "SK",
        kind: KeyKind::S,
    }),
    indexes: &[BY_SUBJECT],
    type_attribute: "_type",
    ttl_attribute: "ttl",
};

const EXPIRES: Option<ExpiresDef> = Some(ExpiresDef {
    field: "expiresAt",
    epoch: true,
});

/// Items outlive the connection by a little, so a slow `$disconnect` still finds them.
const MARGIN: Duration = Duration::from_secs(5 * 60);

const fn def(
    name: &'static str,
    type_value: &'static str,
    pk: &'static [Part],
    sk: &'static [Part],
    indexes: &'static [EntityIndexDef],
) -> EntityDef {
    EntityDef {
        name,
        type_value,
        table: &CONNECTIONS,
        key: KeyDef {
            pk: Template(pk),
            sk: Some(Template(sk)),
        },
        indexes,
        id: None,
        created: Some("connectedAt"),
        updated: None,
        version: None,
        expires: EXPIRES,
        unique: &[],
        read_only: &[],
        defaults: &[],
        transforms: &[],
    }
}

/// A connection, and the caller it was opened by.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    connection_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(default)]
    connected_at: Option<String>,
    expires_at: i64,
}

impl Entity for Connection {
    const DEF: &'static EntityDef = &def(
        "Connection",
        "CONNECTION",
        &[Part::Lit("CONN#"), Part::Str("connectionId")],
        &[Part::Lit("CONNECTION")],
        &[EntityIndexDef {
            index: &BY_SUBJECT,
            key: KeyDef {
                pk: Template(&[Part::Lit("SUBJECT#"), Part::Str("subject")]),
                sk: Some(Template(&[Part::Str("connectionId")])),
            },
        }],
    );
}

/// A topic's subscriber, in the topic's partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscriber {
    topic: String,
    connection_id: String,
    #[serde(default)]
    connected_at: Option<String>,
    expires_at: i64,
}

impl Entity for Subscriber {
    const DEF: &'static EntityDef = &def(
        "Subscriber",
        "SUBSCRIBER",
        &[Part::Lit("TOPIC#"), Part::Str("topic")],
        &[Part::Str("connectionId")],
        &[],
    );
}

impl NewItem for Subscriber {
    type Entity = Subscriber;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriberKey<'a> {
    topic: &'a str,
    connection_id: &'a str,
}

impl Key for SubscriberKey<'_> {
    type Entity = Subscriber;
}

/// A topic a connection listens to, in the connection's partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Membership {
    connection_id: String,
    topic: String,
    #[serde(default)]
    connected_at: Option<String>,
    expires_at: i64,
}

impl Entity for Membership {
    const DEF: &'static EntityDef = &def(
        "Membership",
        "MEMBERSHIP",
        &[Part::Lit("CONN#"), Part::Str("connectionId")],
        &[Part::Lit("TOPIC#"), Part::Str("topic")],
        &[],
    );
}

impl NewItem for Membership {
    type Entity = Membership;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MembershipKey<'a> {
    connection_id: &'a str,
    topic: &'a str,
}

impl Key for MembershipKey<'_> {
    type Entity = Membership;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionKey<'a> {
    connection_id: &'a str,
}

impl Key for ConnectionKey<'_> {
    type Entity = Connection;
}

/// Why a subscription was not made.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The connection is not (or no longer) open.
    #[error("the connection is not open")]
    NotConnected,
    /// The connection listens to [`MAX_TOPICS_PER_CONNECTION`] topics already.
    #[error("a connection may listen to at most {MAX_TOPICS_PER_CONNECTION} topics")]
    TooManyTopics,
    /// The connections table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The connections table over a store.
#[derive(Clone)]
pub(crate) struct Registry {
    store: Store,
}

fn now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| d.as_secs() as i64)
}

fn key<K: Serialize>(key: &K) -> Result<Map<String, Value>, StoreError> {
    fields_of(key)
}

impl Registry {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Records a new connection, opened by `subject` when the API is secured.
    pub(crate) async fn connect(&self, id: &str, subject: Option<&str>) -> Result<(), StoreError> {
        let expires_at = now() + (MAX_CONNECTION_AGE + MARGIN).as_secs() as i64;
        let mut fields = Map::new();
        fields.insert("connectionId".into(), json!(id));
        if let Some(subject) = subject {
            fields.insert("subject".into(), json!(subject));
        }
        fields.insert("expiresAt".into(), json!(expires_at));
        self.store.create::<Connection>(fields, &[]).await?;
        Ok(())
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        let found = self
            .store
            .get::<Connection>(key(&ConnectionKey { connection_id: id })?)
            .await?;
        // DynamoDB deletes expired items within days, not at once.
        Ok(found.filter(|c| c.expires_at > now()))
    }

    pub(crate) async fn is_connected(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.connection(id).await?.is_some())
    }

    /// When the connection was opened, if it is open.
    pub(crate) async fn connected_at(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.connection(id).await?.and_then(|c| c.connected_at))
    }

    /// Forgets the connection and its subscriptions; the topics it listened to.
    pub(crate) async fn disconnect(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let topics = self.topics(id).await?;
        let mut batch = Batch::new();
        for topic in &topics {
            batch.delete(&SubscriberKey {
                topic,
                connection_id: id,
            })?;
            batch.delete(&MembershipKey {
                connection_id: id,
                topic,
            })?;
        }
        batch.delete(&ConnectionKey { connection_id: id })?;
        self.store.write_batch(batch).await?;
        Ok(topics)
    }

    /// Adds the connection to the topic's subscribers; subscribing twice changes nothing.
    pub(crate) async fn subscribe(&self, id: &str, topic: &str) -> Result<(), SubscribeError> {
        let connection = self
            .connection(id)
            .await?
            .ok_or(SubscribeError::NotConnected)?;
        let topics = self.topics(id).await?;
        if topics.iter().any(|t| t == topic) {
            return Ok(());
        }
        if topics.len() >= MAX_TOPICS_PER_CONNECTION {
            return Err(SubscribeError::TooManyTopics);
        }
        let mut batch = Batch::new();
        batch.put(Subscriber {
            topic: topic.to_owned(),
            connection_id: id.to_owned(),
            connected_at: None,
            expires_at: connection.expires_at,
        })?;
        batch.put(Membership {
            connection_id: id.to_owned(),
            topic: topic.to_owned(),
            connected_at: None,
            expires_at: connection.expires_at,
        })?;
        self.store.write_batch(batch).await?;
        Ok(())
    }

    /// Removes the connection from the topic's subscribers, if it was one.
    pub(crate) async fn unsubscribe(&self, id: &str, topic: &str) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.delete(&SubscriberKey {
            topic,
            connection_id: id,
        })?;
        batch.delete(&MembershipKey {
            connection_id: id,
            topic,
        })?;
        self.store.write_batch(batch).await
    }

    /// Every page of a query, the expired items left out.
    async fn all<E: Entity>(
        &self,
        index: Option<&'static str>,
        field: &str,
        value: &str,
        expires_at: fn(&E) -> i64,
    ) -> Result<Vec<E>, StoreError> {
        let mut found = Vec::new();
        let mut cursor = None;
        let now = now();
        loop {
            let page = PageRequest::first(1000).after(cursor);
            let query = Query::page(index, page).bind(field, value)?;
            let page = self.store.query::<E>(query).await?;
            found.extend(page.items.into_iter().filter(|e| expires_at(e) > now));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// The connections listening to `topic`.
    pub(crate) async fn subscribers(&self, topic: &str) -> Result<Vec<String>, StoreError> {
        let found = self
            .all::<Subscriber>(None, "topic", topic, |s| s.expires_at)
            .await?;
        Ok(found.into_iter().map(|s| s.connection_id).collect())
    }

    /// The topics connection `id` listens to.
    pub(crate) async fn topics(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let found = self
            .all::<Membership>(None, "connectionId", id, |m| m.expires_at)
            .await?;
        Ok(found.into_iter().map(|m| m.topic).collect())
    }

    /// The open connections of `subject`.
    pub(crate) async fn of_subject(&self, subject: &str) -> Result<Vec<String>, StoreError> {
        let found = self
            .all::<Connection>(Some(BY_SUBJECT.name), "subject", subject, |c| c.expires_at)
            .await?;
        Ok(found.into_iter().map(|c| c.connection_id).collect())
    }
}
