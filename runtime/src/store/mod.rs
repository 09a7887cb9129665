//! The storage engine: entity definitions, the `Store` and its errors.
//!
//! Generated code declares `static` [`TableDef`]s and [`EntityDef`]s and calls the [`Store`]
//! methods. Everything above the primitive operations (get, write, update, query, scan) is shared
//! by both backends, so DynamoDB and memory make the same decisions:
//!
//! - `keys`: rendering key templates and sort-key conditions,
//! - `item`: turning entity fields into stored items and back,
//! - `guards`: guard items that keep unique fields unique,
//! - `ops`: create, get, put and delete,
//! - `update`: merge-patch updates,
//! - `if_match`: the version an `If-Match` header requires,
//! - `query`: one page of a Query or Scan,
//! - `cursor`: opaque, validated pagination cursors,
//! - `backend`: the primitive operations and the backend they run on,
//! - `order`: how DynamoDB compares and orders values,
//! - `expr`: DynamoDB expressions with placeholders,
//! - `dynamo` and `memory`: the two backends.

mod backend;
mod cursor;
pub mod dynamo;
mod environment;
mod expr;
mod guards;
mod if_match;
mod item;
mod keys;
pub mod memory;
mod ops;
mod order;
mod query;
mod update;

#[cfg(test)]
mod tests;

use crate::http::ApiError;

pub use environment::{dynamodb, from_env};
pub use if_match::{parse_if_match, IfMatch};

/// The type of a key attribute, as DynamoDB declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A string (DynamoDB type `S`).
    S,
    /// A number (DynamoDB type `N`).
    N,
    /// Binary data (DynamoDB type `B`).
    B,
}

/// A key attribute of a table or an index.
#[derive(Debug, Clone, Copy)]
pub struct KeyAttr {
    /// The attribute's name in stored items, e.g. "PK".
    pub name: &'static str,
    /// The attribute's type.
    pub kind: KeyKind,
}

/// A global secondary index of a table.
#[derive(Debug, Clone, Copy)]
pub struct IndexDef {
    /// The index's name in DynamoDB, e.g. "GSI1".
    pub name: &'static str,
    /// The index's partition key.
    pub pk: KeyAttr,
    /// The index's sort key, if it has one.
    pub sk: Option<KeyAttr>,
    /// The index projects only keys, so query results are read again from the table.
    pub keys_only: bool,
}

/// A DynamoDB table shared by one or more entities (single-table design).
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    /// Logical name, e.g. "Main".
    pub name: &'static str,
    /// The environment variable holding the physical table name, e.g. "MAIN_TABLE".
    pub env: &'static str,
    /// The table's partition key.
    pub pk: KeyAttr,
    /// The table's sort key, if it has one.
    pub sk: Option<KeyAttr>,
    /// The table's global secondary indexes.
    pub indexes: &'static [IndexDef],
    /// Every item carries its entity type here, e.g. "_type".
    pub type_attribute: &'static str,
    /// Epoch seconds after which DynamoDB may delete the item, e.g. "ttl".
    pub ttl_attribute: &'static str,
}

/// A piece of a key template; variables name entity fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Fixed text, e.g. `"ORDER#"`.
    Lit(&'static str),
    /// A string field, written as it is.
    Str(&'static str),
    /// An integer field, written as 20 digits so that numbers sort as text.
    Int(&'static str),
    /// A date-time field, written in UTC with milliseconds so that date-times sort as text.
    DateTime(&'static str),
}

/// How a key attribute is rendered from an entity's fields.
#[derive(Debug, Clone, Copy)]
pub struct Template(pub &'static [Part]);

/// The templates of a partition key and an optional sort key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    /// The partition key's template.
    pub pk: Template,
    /// The sort key's template, if the table or index has a sort key.
    pub sk: Option<Template>,
}

/// How an entity fills one of its table's indexes.
#[derive(Debug, Clone, Copy)]
pub struct EntityIndexDef {
    /// The index, one of the entity's table's.
    pub index: &'static IndexDef,
    /// The templates of the index's key attributes.
    pub key: KeyDef,
}

/// Who chooses the id of a new entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generate {
    /// The store generates a ULID.
    Ulid,
    /// The store generates a random UUID (v4).
    Uuid,
    /// The client sends the id; the store generates none.
    Client,
}

/// The field holding an entity's id and how it is generated.
#[derive(Debug, Clone, Copy)]
pub struct IdDef {
    /// The id field's name.
    pub field: &'static str,
    /// Who chooses the id.
    pub generate: Generate,
}

/// The field that says when an entity expires (copied to the table's TTL attribute).
#[derive(Debug, Clone, Copy)]
pub struct ExpiresDef {
    /// The field's name.
    pub field: &'static str,
    /// `true`: integer epoch seconds; `false`: an RFC 3339 date-time string.
    pub epoch: bool,
}

/// Everything the store needs to know about an entity type.
#[derive(Debug, Clone, Copy)]
pub struct EntityDef {
    /// The entity's name, e.g. "Order".
    pub name: &'static str,
    /// The value of the table's type attribute, e.g. "ORDER".
    pub type_value: &'static str,
    /// The table the entity is stored in.
    pub table: &'static TableDef,
    /// The templates of the table's key attributes.
    pub key: KeyDef,
    /// The indexes the entity fills.
    pub indexes: &'static [EntityIndexDef],
    /// The id field, if the entity has one.
    pub id: Option<IdDef>,
    /// The date-time field the server sets when the entity is created.
    pub created: Option<&'static str>,
    /// The date-time field the server sets whenever the entity is written.
    pub updated: Option<&'static str>,
    /// Integer field for optimistic locking.
    pub version: Option<&'static str>,
    /// The field that says when the entity expires, if any.
    pub expires: Option<ExpiresDef>,
    /// Scalar fields kept unique by guard items.
    pub unique: &'static [&'static str],
    /// Fields clients may not set (ignored on create, put and update).
    pub read_only: &'static [&'static str],
}

/// A Rust type stored as an entity (the generator implements it for each entity struct).
pub trait Entity: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static {
    /// How the entity type is stored.
    const DEF: &'static EntityDef;
}

/// How a query compares the sort key with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    /// The sort key is greater than the value.
    Gt,
    /// The sort key is greater than or equal to the value.
    Gte,
    /// The sort key is less than the value.
    Lt,
    /// The sort key is less than or equal to the value.
    Lte,
    /// The sort key starts with the value.
    BeginsWith,
}

/// Where entities live: DynamoDB, or memory for local runs and tests. Cheap to clone (Arc inside).
#[derive(Clone)]
pub enum Store {
    /// Entities in DynamoDB tables.
    Dynamo(dynamo::DynamoStore),
    /// Entities in this process's memory.
    Memory(memory::MemoryStore),
}

impl Store {
    /// An empty in-memory store.
    pub fn memory() -> Self {
        Store::Memory(memory::MemoryStore::default())
    }

    /// DynamoDB through `client`; table names from each table's env var, falling back to
    /// `<default_prefix>-<logical name>`.
    pub fn dynamo(
        client: aws_sdk_dynamodb::Client,
        tables: &[&'static TableDef],
        default_prefix: &str,
    ) -> Self {
        Store::Dynamo(dynamo::DynamoStore::new(client, tables, default_prefix))
    }

    /// Creates missing tables (with their GSIs, PAY_PER_REQUEST) and waits until they are ACTIVE.
    /// Local development only.
    pub async fn ensure_tables(&self, tables: &[&'static TableDef]) -> Result<(), StoreError> {
        match self {
            Store::Dynamo(store) => store.ensure_tables(tables).await,
            // Memory tables come into being with their first item.
            Store::Memory(_) => Ok(()),
        }
    }
}

/// One page of a Query (or of a Scan filtered by entity type).
#[derive(Debug, Clone)]
pub struct Query {
    /// `None`: the table's primary key.
    pub index: Option<&'static str>,
    /// Fields bound from parameters (all partition key template variables are present).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Compared with the sort key text from its first variable on.
    pub range: Option<(RangeOp, String)>,
    /// Items in descending sort key order instead of ascending.
    pub descending: bool,
    /// Page size, 1..=1000.
    pub limit: usize,
    /// Where the page starts: the `next_cursor` of the previous page, `None` for the first.
    pub cursor: Option<String>,
    /// A Scan of the table filtered by type (a list without a suitable index).
    pub scan: bool,
}

/// A page of entities and the cursor of the next page, if there may be one.
#[derive(Debug, Clone)]
pub struct Page<E> {
    /// The page's entities, in the query's order.
    pub items: Vec<E>,
    /// The cursor of the next page; `None` when this page is the last.
    pub next_cursor: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No entity has this key.
    #[error("not found")]
    NotFound,
    /// A write that must create the entity found one with the same key.
    #[error("an item with this key already exists")]
    AlreadyExists,
    /// A unique field's value belongs to another entity.
    #[error("`{field}` is already taken")]
    Conflict {
        /// The unique field.
        field: String,
    },
    /// The entity's version is not the one the write expected (from `If-Match`, or read
    /// before a concurrent write).
    #[error("the item has changed since it was read")]
    VersionMismatch,
    /// A write without a precondition kept losing races with other writers of the same item.
    #[error("the item changed concurrently while it was being written; retry the request")]
    Contended,
    /// The cursor was not issued for this query, or has been tampered with.
    #[error("the cursor is not valid for this query")]
    BadCursor,
    /// The entity or the query cannot be stored or run as given (e.g. a key field is missing
    /// or has the wrong type); the message says why and may be shown to the client.
    #[error("{0}")]
    Invalid(String),
    /// DynamoDB or the SDK failed; the message is for the logs only.
    #[error("storage error: {0}")]
    Backend(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::not_found(err.to_string()),
            StoreError::AlreadyExists | StoreError::Conflict { .. } | StoreError::Contended => {
                ApiError::conflict(err.to_string())
            }
            StoreError::VersionMismatch => ApiError::precondition_failed(err.to_string()),
            StoreError::BadCursor | StoreError::Invalid(_) => {
                ApiError::bad_request(err.to_string())
            }
            // Internals are logged by `ApiError::internal`, never shown to the client.
            StoreError::Backend(_) => ApiError::internal(err),
        }
    }
}

/// ETag for a version: `"<version>"` (a strong ETag).
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}
