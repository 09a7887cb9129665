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
//! - `filter`: tests on fields that a page's items must pass,
//! - `batch`: many items by key, of one entity or several, 100 to a request,
//! - `batch_write`: puts and deletes of many items, 25 to a request,
//! - `checks`: schema constraints on typed writes,
//! - `conditions`: what a write requires of the stored item's fields,
//! - `counters`: adding to numbers and appending to lists in place,
//! - `transaction`: writes to any entities committed together,
//! - `changes`: item changes as DynamoDB Streams reports them,
//! - `backend`: the primitive operations and the backend they run on,
//! - `order`: how DynamoDB compares and orders values,
//! - `expr`: DynamoDB expressions with placeholders,
//! - `dynamo` and `memory`: the two backends.

mod backend;
mod batch;
mod batch_write;
mod changes;
mod checks;
mod conditions;
mod counters;
mod cursor;
mod decode;
pub mod dynamo;
mod environment;
mod expr;
mod filter;
mod guards;
mod if_match;
mod item;
mod keys;
pub mod memory;
mod ops;
mod order;
mod query;
mod transaction;
mod update;

#[cfg(test)]
pub(crate) mod tests;

use crate::http::ApiError;

pub use batch::{BatchGet, Fetched, Slot, BATCH_GET_LIMIT};
pub use batch_write::{Batch, BATCH_WRITE_LIMIT};
pub use changes::{render_text, ChangeKind, EntityChange, ItemChange};
pub use checks::{check_changes, check_item};
pub use conditions::Conditions;
#[cfg(feature = "websocket")]
pub(crate) use environment::sdk_config;
pub use environment::{dynamodb, from_env};
pub use filter::{Field, Filter, FilterOp, Filters, Select, FILTER_IN_LIMIT};
pub use if_match::{parse_if_match, IfMatch};
#[cfg(feature = "websocket")]
pub(crate) use item::Item;
pub use transaction::{PreparedTransaction, Transaction, TRANSACTION_LIMIT};

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

/// A field's schema `default`, stored when a create or put omits the field.
#[derive(Debug, Clone, Copy)]
pub struct FieldDefault {
    /// The field's name.
    pub field: &'static str,
    /// The default value as JSON text.
    pub json: &'static str,
}

/// A change a string field goes through before it is stored or used in a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Removes leading and trailing whitespace.
    Trim,
    /// Lower case (Unicode).
    Lowercase,
    /// Upper case (Unicode).
    Uppercase,
    /// Unicode normalization form C, so that one text has one spelling.
    Nfc,
}

/// The transforms of one field, applied in order.
#[derive(Debug, Clone, Copy)]
pub struct FieldTransform {
    /// The field's name.
    pub field: &'static str,
    /// What its text goes through, in order.
    pub steps: &'static [Transform],
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
    /// The fields' schema defaults.
    pub defaults: &'static [FieldDefault],
    /// The fields' transforms, applied to what is written and to key values read by.
    pub transforms: &'static [FieldTransform],
}

/// A Rust type stored as an entity (the generator implements it for each entity struct).
pub trait Entity: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static {
    /// How the entity type is stored.
    const DEF: &'static EntityDef;

    /// Runs before the store writes an item of this type, with the fields it is about to write:
    /// the whole item for a create, a put, a batch put or a transaction's create (defaults,
    /// transforms, id, timestamps and version applied), the changed fields for an update. What
    /// it sets is transformed like any value. An error refuses the write, and nothing is
    /// written. A put that loses a race to another writer is planned again, hook included, so
    /// the hook should change nothing but `fields`. `Store::add` and `Store::append` change a
    /// number or a list in place and do not call it. The generator forwards it to the user's
    /// hooks.
    fn before_write(
        fields: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), StoreError> {
        let _ = fields;
        Ok(())
    }

    /// Runs on every entity of this type the store answers (reads, and the items writes return).
    fn after_read(&mut self) {}
}

/// A typed primary key: the generator implements it for each entity's key struct, so that batch
/// reads and writes know the entity from the key.
pub trait Key: serde::Serialize {
    /// The entity the key names.
    type Entity: Entity;
}

/// A typed new item (the fields a create or put takes): the generator implements it for each
/// entity's `New*` struct.
pub trait NewItem: serde::Serialize {
    /// The entity it becomes.
    type Entity: Entity;

    /// Checks what the types do not hold of the schema; batch puts call it first.
    fn validate(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// [`Entity::before_write`] of an entity, kept where the entity type is no longer known.
pub(crate) type BeforeWrite =
    fn(&mut serde_json::Map<String, serde_json::Value>) -> Result<(), StoreError>;

/// Entity types that share a partition, read together by one Query: the generator implements it
/// for an enum of the members (a customer and their orders).
pub trait Collection: Sized + Send + 'static {
    /// The member entities; the first one's partition key template names the partition.
    const MEMBERS: &'static [&'static EntityDef];
    /// The member `member` (an index into `MEMBERS`) read from its fields.
    fn from_fields(member: usize, fields: serde_json::Value) -> Result<Self, StoreError>;
}

/// How a query compares the sort key with a value (the single-bound forms of [`Range`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeOp {
    Gt,
    Gte,
    Lt,
    Lte,
    BeginsWith,
}

/// A condition on the sort key of a query, compared from the key template's first variable on.
///
/// `T` is that variable's type in typed repositories (a date-time, an integer, a string); the
/// store renders it as the key does, so `Range::Gte(since)` on `{createdAt}#{orderId}` compares
/// creation times, whatever follows them in the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range<T = String> {
    /// Greater than the value.
    Gt(T),
    /// Greater than or equal to the value.
    Gte(T),
    /// Less than the value.
    Lt(T),
    /// Less than or equal to the value.
    Lte(T),
    /// Starts with the value (strings only).
    BeginsWith(T),
    /// Between the two values, both included.
    Between(T, T),
}

impl<T> Range<T> {
    /// The range from optional bounds: both give `Between`, one gives `Gte` or `Lte`.
    pub fn from_bounds(low: Option<T>, high: Option<T>) -> Option<Self> {
        match (low, high) {
            (Some(low), Some(high)) => Some(Range::Between(low, high)),
            (Some(low), None) => Some(Range::Gte(low)),
            (None, Some(high)) => Some(Range::Lte(high)),
            (None, None) => None,
        }
    }

    /// The range with its values turned into the text the store compares.
    pub fn to_text(&self) -> Result<Range<String>, StoreError>
    where
        T: serde::Serialize,
    {
        let text = |value: &T| match serde_json::to_value(value) {
            Ok(serde_json::Value::String(s)) => Ok(s),
            Ok(other @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                Ok(other.to_string())
            }
            Ok(_) => Err(StoreError::Invalid(
                "a range compares a string, a number or a date-time".into(),
            )),
            Err(e) => Err(StoreError::Invalid(format!("cannot read the range: {e}"))),
        };
        Ok(match self {
            Range::Gt(v) => Range::Gt(text(v)?),
            Range::Gte(v) => Range::Gte(text(v)?),
            Range::Lt(v) => Range::Lt(text(v)?),
            Range::Lte(v) => Range::Lte(text(v)?),
            Range::BeginsWith(v) => Range::BeginsWith(text(v)?),
            Range::Between(low, high) => Range::Between(text(low)?, text(high)?),
        })
    }

    /// The range with `f` applied to its values.
    pub(crate) fn map<U>(&self, f: impl Fn(&T) -> U) -> Range<U> {
        match self {
            Range::Gt(v) => Range::Gt(f(v)),
            Range::Gte(v) => Range::Gte(f(v)),
            Range::Lt(v) => Range::Lt(f(v)),
            Range::Lte(v) => Range::Lte(f(v)),
            Range::BeginsWith(v) => Range::BeginsWith(f(v)),
            Range::Between(low, high) => Range::Between(f(low), f(high)),
        }
    }

    /// A single-bound range as its operator and value; `None` for `Between`.
    pub(crate) fn single(&self) -> Option<(RangeOp, &T)> {
        Some(match self {
            Range::Gt(v) => (RangeOp::Gt, v),
            Range::Gte(v) => (RangeOp::Gte, v),
            Range::Lt(v) => (RangeOp::Lt, v),
            Range::Lte(v) => (RangeOp::Lte, v),
            Range::BeginsWith(v) => (RangeOp::BeginsWith, v),
            Range::Between(..) => return None,
        })
    }
}

/// Which page of a query to read: its size, where it starts, and the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size, 1..=1000.
    pub limit: usize,
    /// The `next_cursor` of the previous page; `None` for the first page.
    pub cursor: Option<String>,
    /// Items in descending sort key order instead of ascending.
    pub descending: bool,
}

impl PageRequest {
    /// The first page of `limit` items, in ascending order.
    pub fn first(limit: usize) -> Self {
        Self {
            limit,
            cursor: None,
            descending: false,
        }
    }

    /// The page that starts where `cursor` (a previous page's `next_cursor`) says.
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// In descending sort key order.
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }
}

impl Default for PageRequest {
    /// The first page of 100 items, ascending.
    fn default() -> Self {
        Self::first(100)
    }
}

/// A change to one optional field in a typed update: leave it, remove it, or set it.
///
/// It serialises as a JSON merge patch does: nothing for `Keep`, `null` for `Remove`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    /// Leave the stored value as it is.
    #[default]
    Keep,
    /// Remove the field.
    Remove,
    /// Set the field to this value.
    Set(T),
}

impl<T> Patch<T> {
    /// `true` for `Keep`; serde skips such fields.
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

impl<T> From<T> for Patch<T> {
    fn from(value: T) -> Self {
        Patch::Set(value)
    }
}

impl<T: serde::Serialize> serde::Serialize for Patch<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(value) => value.serialize(serializer),
            // `Keep` is skipped by `skip_serializing_if = "Patch::is_keep"`; alone it says nothing.
            Patch::Keep | Patch::Remove => serializer.serialize_none(),
        }
    }
}

/// The fields of a typed value (a key, a new item, a patch) as the store takes them.
pub fn fields_of<T: serde::Serialize>(
    value: &T,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(StoreError::Invalid("expected an object of fields".into())),
        Err(e) => Err(StoreError::Invalid(format!("cannot read the fields: {e}"))),
    }
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
    pub range: Option<Range>,
    /// Items in descending sort key order instead of ascending.
    pub descending: bool,
    /// Page size, 1..=1000.
    pub limit: usize,
    /// Where the page starts: the `next_cursor` of the previous page, `None` for the first.
    pub cursor: Option<String>,
    /// A Scan of the table filtered by type (a list without a suitable index).
    pub scan: bool,
    /// Tests on fields the page's items must pass, all of them. DynamoDB applies them to the
    /// `limit` items it reads, so a filtered page may be short, even empty, with a next cursor.
    pub filter: Vec<Filter>,
}

impl Query {
    /// A Query of one page of the primary key (`index: None`) or of an index; bind the
    /// partition key's variables with [`Query::bind`].
    pub fn page(index: Option<&'static str>, page: PageRequest) -> Self {
        Self {
            index,
            values: serde_json::Map::new(),
            range: None,
            descending: page.descending,
            limit: page.limit,
            cursor: page.cursor,
            scan: false,
            filter: Vec::new(),
        }
    }

    /// A Query of one page with the filters of `select` (see [`Query::page`]).
    pub fn select<E>(index: Option<&'static str>, select: Select<E>) -> Result<Self, StoreError> {
        Self::page(index, select.page).filtered(select.filters)
    }

    /// Adds filters on the entity's fields.
    pub fn filtered<E>(mut self, filters: Filters<E>) -> Result<Self, StoreError> {
        self.filter.extend(filters.into_filters()?);
        Ok(self)
    }

    /// One page of a Scan of the table filtered by the entity's type: it reads every item.
    pub fn scan(page: PageRequest) -> Self {
        Self {
            scan: true,
            ..Self::page(None, page)
        }
    }

    /// Binds a key template variable to a value.
    pub fn bind<T: serde::Serialize + ?Sized>(
        mut self,
        field: &str,
        value: &T,
    ) -> Result<Self, StoreError> {
        let value = serde_json::to_value(value)
            .map_err(|e| StoreError::Invalid(format!("cannot read `{field}`: {e}")))?;
        self.values.insert(field.to_string(), value);
        Ok(self)
    }

    /// Compares the sort key from its first variable on.
    pub fn range<T: serde::Serialize>(
        mut self,
        range: Option<Range<T>>,
    ) -> Result<Self, StoreError> {
        self.range = range.map(|r| r.to_text()).transpose()?;
        Ok(self)
    }
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
    /// The stored item does not meet a condition of the write (`status` is not one of those
    /// the operation allows); nothing was written.
    #[error("`{field}` must be one of {allowed} for this operation")]
    ConditionFailed {
        /// The field whose value the write does not allow.
        field: String,
        /// The values it allows, as JSON.
        allowed: String,
    },
    /// A part of a transaction failed (parts count from 0, in the order they were added), so
    /// nothing of the transaction was written.
    #[error("part {part} of the transaction failed: {cause}")]
    Cancelled {
        /// The part that failed.
        part: usize,
        /// Why it failed.
        cause: Box<StoreError>,
    },
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
    /// DynamoDB or the SDK failed; for the logs only. The SDK's error, when there is one, is the
    /// source (`std::error::Error::source`), to be downcast for a `match` on its kind.
    #[error("storage error: {message}")]
    Backend {
        /// What failed, e.g. "PutItem: ...".
        message: String,
        /// The error underneath.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::not_found(err.to_string()),
            StoreError::AlreadyExists
            | StoreError::Conflict { .. }
            | StoreError::Contended
            | StoreError::ConditionFailed { .. } => ApiError::conflict(err.to_string()),
            StoreError::VersionMismatch => ApiError::precondition_failed(err.to_string()),
            StoreError::Cancelled { ref cause, .. } => match cause.as_ref() {
                StoreError::NotFound => ApiError::not_found(err.to_string()),
                StoreError::VersionMismatch => ApiError::precondition_failed(err.to_string()),
                StoreError::Invalid(_) | StoreError::BadCursor => {
                    ApiError::bad_request(err.to_string())
                }
                StoreError::Backend { .. } => ApiError::internal(err),
                _ => ApiError::conflict(err.to_string()),
            },
            StoreError::BadCursor | StoreError::Invalid(_) => {
                ApiError::bad_request(err.to_string())
            }
            // Internals are logged by `ApiError::internal`, never shown to the client.
            StoreError::Backend { .. } => ApiError::internal(err),
        }
    }
}

impl StoreError {
    /// A backend failure with no error underneath.
    pub fn backend(message: impl Into<String>) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: None,
        }
    }
}

/// ETag for a version: `"<version>"` (a strong ETag).
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}
