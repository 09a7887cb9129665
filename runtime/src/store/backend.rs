//! The primitive operations both backends implement; everything above them is shared.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;

use super::filter::Test;
use super::item::Item;
use super::keys::SortCondition;
use super::{IndexDef, Store, StoreError, TableDef};

/// A condition on the stored item; a write's conditions are ANDed. (Existence is checked as the
/// type attribute's value, which no other item under the key has.)
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cond {
    NotExists(String),
    Equals(String, AttributeValue),
    /// The attribute holds one of the values.
    In(String, Vec<AttributeValue>),
    /// The attribute is absent or of this DynamoDB type (`N`, `L`).
    AbsentOrType(String, &'static str),
}

impl Cond {
    /// The attribute still has the value that was read (or is still missing).
    pub(super) fn same(name: &str, read: Option<&AttributeValue>) -> Cond {
        match read {
            Some(value) => Cond::Equals(name.to_string(), value.clone()),
            None => Cond::NotExists(name.to_string()),
        }
    }
}

/// What an update does to one attribute.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Set(AttributeValue),
    Remove,
    /// Adds one, counting a missing attribute as zero (a version without a known value).
    Increment,
    /// Adds a number, counting a missing attribute as zero.
    Add(i64),
    /// Appends the elements of a list, counting a missing attribute as an empty list.
    Append(Vec<AttributeValue>),
}

/// Update actions by attribute name: one action per attribute, as DynamoDB requires.
pub(super) type Actions = BTreeMap<String, Action>;

#[derive(Debug, Clone)]
pub(super) enum WriteOp {
    Put(Item),
    Update {
        key: Item,
        actions: Actions,
    },
    Delete {
        key: Item,
    },
    /// No change: the item must meet the write's conditions (a transaction's ConditionCheck).
    Check {
        key: Item,
    },
}

/// One write of a BatchWriteItem: no condition.
#[derive(Debug, Clone)]
pub(super) enum BatchOp {
    Put(Item),
    Delete(Item),
}

impl BatchOp {
    /// The item put, or the key deleted.
    pub(super) fn item(&self) -> &Item {
        match self {
            BatchOp::Put(item) | BatchOp::Delete(item) => item,
        }
    }
}

/// One item write. A single write is one request; several are one transaction.
#[derive(Debug, Clone)]
pub(super) struct Write {
    pub table: &'static TableDef,
    pub op: WriteOp,
    pub conds: Vec<Cond>,
}

/// What a write whose condition failed found in place of the item it expected.
#[derive(Debug)]
pub(super) enum Found {
    Nothing,
    Item(Item),
    /// Another write was in progress on the item (DynamoDB's transaction conflicts).
    Busy,
}

#[derive(Debug)]
pub(super) enum WriteError {
    /// The condition of `writes[index]` failed; nothing was written.
    Condition {
        index: usize,
        found: Found,
    },
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(err: StoreError) -> Self {
        WriteError::Store(err)
    }
}

/// A Query's key condition: partition key equality and an optional sort key condition.
#[derive(Debug, Clone)]
pub(super) struct KeyCondition {
    pub pk: (&'static str, AttributeValue),
    pub sk: Option<(&'static str, SortCondition)>,
}

/// The request of one Query page.
#[derive(Debug, Clone)]
pub(super) struct QueryPage<'a> {
    pub table: &'static TableDef,
    pub index: Option<&'static IndexDef>,
    pub condition: &'a KeyCondition,
    pub descending: bool,
    /// Items read (before the filter), as DynamoDB's `Limit` counts them.
    pub limit: usize,
    pub start: Option<Item>,
    /// What a read item must pass to be returned.
    pub filter: &'a [Test],
}

/// The request of one Scan page.
#[derive(Debug, Clone)]
pub(super) struct ScanPage<'a> {
    pub table: &'static TableDef,
    /// What a read item must pass to be returned (its type, at least).
    pub filter: &'a [Test],
    /// Items read (before the filter).
    pub limit: usize,
    pub start: Option<Item>,
}

/// Items in key order and the key of the last item examined, when there may be more.
#[derive(Debug, Default)]
pub(super) struct RawPage {
    pub items: Vec<Arc<Item>>,
    pub last_key: Option<Item>,
}

impl Store {
    /// One strongly consistent GetItem.
    pub(super) async fn get_item(
        &self,
        table: &'static TableDef,
        key: Item,
    ) -> Result<Option<Arc<Item>>, StoreError> {
        match self {
            Store::Dynamo(db) => Ok(db.get(table, key).await?.map(Arc::new)),
            Store::Memory(mem) => mem.get(table, key),
        }
    }

    /// The stored entity at `key` (one GetItem), or `NotFound` when there is none of this type.
    pub(super) async fn stored(
        &self,
        def: &super::EntityDef,
        key: Item,
    ) -> Result<Arc<Item>, StoreError> {
        self.get_item(def.table, key)
            .await?
            .filter(|found| super::item::is_entity(def, found))
            .ok_or(StoreError::NotFound)
    }

    /// One BatchGetItem of at most 100 distinct keys (and its retries of unprocessed keys): the
    /// items found, in no particular order.
    pub(super) async fn batch_get_items(
        &self,
        table: &'static TableDef,
        keys: &[Item],
    ) -> Result<Vec<Arc<Item>>, StoreError> {
        match self {
            Store::Dynamo(db) => Ok(shared(db.batch_get(table, keys).await?)),
            Store::Memory(mem) => mem.batch_get(table, keys),
        }
    }

    /// One BatchWriteItem of at most 25 writes to distinct items (and its retries of unprocessed
    /// items).
    pub(super) async fn batch_write_items(
        &self,
        table: &'static TableDef,
        ops: &[BatchOp],
    ) -> Result<(), StoreError> {
        match self {
            Store::Dynamo(db) => db.batch_write(table, ops).await,
            Store::Memory(mem) => mem.batch_write(table, ops),
        }
    }

    /// One PutItem, UpdateItem or DeleteItem, or one TransactWriteItems for several writes.
    pub(super) async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        match self {
            Store::Dynamo(db) => db.write(writes).await,
            Store::Memory(mem) => mem.write(writes),
        }
    }

    /// One TransactWriteItems with the caller's idempotency token: a repeat of a committed
    /// transaction with the same token succeeds without writing again.
    pub(super) async fn transact_writes(
        &self,
        writes: Vec<Write>,
        token: String,
    ) -> Result<(), WriteError> {
        match self {
            Store::Dynamo(db) => db.transact(writes, token).await,
            Store::Memory(mem) => mem.transact(writes, token),
        }
    }

    /// One UpdateItem returning the whole new item.
    pub(super) async fn update_item(
        &self,
        table: &'static TableDef,
        key: Item,
        actions: Actions,
        conds: Vec<Cond>,
    ) -> Result<Arc<Item>, WriteError> {
        match self {
            Store::Dynamo(db) => db.update(table, key, actions, conds).await.map(Arc::new),
            Store::Memory(mem) => mem.update(table, key, actions, conds),
        }
    }

    /// One Query request.
    pub(super) async fn query_page(&self, page: QueryPage<'_>) -> Result<RawPage, StoreError> {
        match self {
            Store::Dynamo(db) => db.query(page).await,
            Store::Memory(mem) => mem.query(page),
        }
    }

    /// One Scan request.
    pub(super) async fn scan_page(&self, page: ScanPage<'_>) -> Result<RawPage, StoreError> {
        match self {
            Store::Dynamo(db) => db.scan(page).await,
            Store::Memory(mem) => mem.scan(page),
        }
    }
}

/// Applies update actions to an item the way DynamoDB does.
pub(super) fn apply(item: &mut Item, actions: &Actions) -> Result<(), StoreError> {
    for (name, action) in actions {
        match action {
            Action::Set(value) => {
                item.insert(name.clone(), value.clone());
            }
            Action::Remove => {
                item.remove(name);
            }
            Action::Increment | Action::Add(_) => {
                let amount = match action {
                    Action::Add(amount) => *amount,
                    _ => 1,
                };
                let current = match item.get(name) {
                    None => 0,
                    Some(AttributeValue::N(n)) => n.parse::<i64>().map_err(|_| {
                        StoreError::backend(format!("`{name}` is not an integer: {n}"))
                    })?,
                    Some(_) => {
                        return Err(StoreError::backend(format!("`{name}` is not a number")));
                    }
                };
                let next = current
                    .checked_add(amount)
                    .ok_or_else(|| StoreError::Invalid(format!("`{name}` would overflow")))?;
                item.insert(name.clone(), AttributeValue::N(next.to_string()));
            }
            Action::Append(values) => {
                let mut list = match item.remove(name) {
                    None => Vec::new(),
                    Some(AttributeValue::L(list)) => list,
                    Some(_) => {
                        return Err(StoreError::backend(format!("`{name}` is not a list")));
                    }
                };
                list.extend(values.iter().cloned());
                item.insert(name.clone(), AttributeValue::L(list));
            }
        }
    }
    Ok(())
}

/// Items read from DynamoDB, each the reader's own, in the shared form the memory store hands out.
pub(super) fn shared(items: Vec<Item>) -> Vec<Arc<Item>> {
    items.into_iter().map(Arc::new).collect()
}
