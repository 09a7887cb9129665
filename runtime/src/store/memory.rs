//! The in-memory backend: DynamoDB's semantics over ordered maps, for local runs and tests.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_sdk_dynamodb::types::AttributeValue;

use tokio::sync::broadcast;

use super::backend::{
    apply, Actions, BatchOp, Cond, Found, QueryPage, RawPage, ScanPage, Write, WriteError, WriteOp,
};
use super::changes::ItemChange;
use super::cursor;
use super::item::{Item, TOO_LARGE};
use super::order::{self, KeyValue};
use super::{KeyAttr, KeyKind, StoreError, TableDef};

/// Items in memory, one ordered map per table. Clones share the items.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    // One lock over every table, held for one primitive operation and never across an await:
    // that makes each transaction atomic and isolated, as in DynamoDB.
    state: Arc<Mutex<State>>,
    feed: Feed,
}

/// Where the store reports its changes, as DynamoDB Streams would.
#[derive(Clone, Debug)]
struct Feed(broadcast::Sender<ItemChange>);

impl Default for Feed {
    fn default() -> Self {
        // A listener that falls this far behind misses changes, and is told so.
        Self(broadcast::channel(1024).0)
    }
}

impl Feed {
    fn listened(&self) -> bool {
        self.0.receiver_count() > 0
    }

    /// Reports `changes`, leaving out writes that changed nothing (as DynamoDB Streams does).
    fn report(&self, changes: Vec<ItemChange>) {
        for change in changes {
            if !change.is_unchanged() {
                let _ = self.0.send(change);
            }
        }
    }
}

#[derive(Debug, Default)]
struct State {
    tables: Tables,
    /// How many requests of each DynamoDB operation this store stood in for.
    requests: BTreeMap<&'static str, u64>,
    /// The idempotency tokens of committed transactions, with what each wrote.
    tokens: HashMap<String, String>,
}

/// Items are shared: a read hands out the stored item, not a copy of it.
type Tables = HashMap<&'static str, BTreeMap<PrimaryKey, Arc<Item>>>;

/// A table's primary key, ordered the way DynamoDB orders a partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PrimaryKey(KeyValue, Option<KeyValue>);

/// Where an item sits in a Query: by the sort key queried (the index's), then the table's key.
type Position = (Option<KeyValue>, PrimaryKey);

/// What one write leaves behind: the new item, or `None` for a deleted one.
struct Change {
    table: &'static str,
    key: PrimaryKey,
    item: Option<Arc<Item>>,
}

impl MemoryStore {
    /// Locks the state, counting one request of `operation`.
    fn lock(&self, operation: &'static str) -> MutexGuard<'_, State> {
        // Writes change nothing before all their checks pass, so a poisoned lock still guards
        // consistent data.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state.requests.entry(operation).or_default() += 1;
        state
    }

    /// The requests served since the last call, by DynamoDB operation name.
    #[cfg(test)]
    pub(super) fn take_requests(&self) -> BTreeMap<&'static str, u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut state.requests)
    }

    pub(super) fn get(&self, table: &TableDef, key: Item) -> Result<Option<Arc<Item>>, StoreError> {
        let key = key_of(table, &key, true)?;
        let state = self.lock("GetItem");
        Ok(state
            .tables
            .get(table.name)
            .and_then(|items| items.get(&key))
            .cloned())
    }

    /// One BatchGetItem of at most 100 keys: the items found, in no particular order.
    pub(super) fn batch_get(
        &self,
        table: &TableDef,
        keys: &[Item],
    ) -> Result<Vec<Arc<Item>>, StoreError> {
        let keys: Vec<PrimaryKey> = keys
            .iter()
            .map(|key| key_of(table, key, true))
            .collect::<Result<_, _>>()?;
        let state = self.lock("BatchGetItem");
        let Some(items) = state.tables.get(table.name) else {
            return Ok(Vec::new());
        };
        Ok(keys
            .iter()
            .filter_map(|key| items.get(key).cloned())
            .collect())
    }

    /// One BatchWriteItem: each put and delete applied, none conditional.
    /// Every change written from now on, as a stream with `NEW_AND_OLD_IMAGES` reports it.
    pub fn changes(&self) -> broadcast::Receiver<ItemChange> {
        self.feed.0.subscribe()
    }

    pub(super) fn batch_write(&self, table: &TableDef, ops: &[BatchOp]) -> Result<(), StoreError> {
        let keys: Vec<PrimaryKey> = ops
            .iter()
            .map(|op| key_of(table, op.item(), matches!(op, BatchOp::Delete(_))))
            .collect::<Result<_, _>>()?;
        for op in ops {
            if let BatchOp::Put(item) = op {
                check_item(table, item)?;
            }
        }
        let mut state = self.lock("BatchWriteItem");
        let items = state.tables.entry(table.name).or_default();
        let mut changes = Vec::new();
        for (key, op) in keys.into_iter().zip(ops) {
            let (old, new) = match op {
                BatchOp::Put(item) => (items.insert(key, Arc::new(item.clone())), Some(item)),
                BatchOp::Delete(_) => (items.remove(&key), None),
            };
            if self.feed.listened() {
                changes.push(ItemChange {
                    table: table.name.to_owned(),
                    old: old.map(Arc::unwrap_or_clone),
                    new: new.cloned(),
                });
            }
        }
        drop(state);
        self.feed.report(changes);
        Ok(())
    }

    /// One TransactWriteItems with an idempotency token: a repeat of a committed transaction is
    /// a success that writes nothing; the token on other writes is refused, as DynamoDB does.
    /// (DynamoDB forgets a token after ten minutes; this store keeps them.)
    pub(super) fn transact(&self, writes: Vec<Write>, token: String) -> Result<(), WriteError> {
        let what = fingerprint(&writes);
        let mut state = self.lock("TransactWriteItems");
        match state.tokens.get(&token) {
            Some(done) if *done == what => return Ok(()),
            Some(_) => {
                let message = "the idempotency token was used for another transaction";
                return Err(WriteError::Store(StoreError::Invalid(message.into())));
            }
            None => {}
        }
        let changes = Self::apply_all(&mut state.tables, &writes, self.feed.listened())?;
        state.tokens.insert(token, what);
        drop(state);
        self.feed.report(changes);
        Ok(())
    }

    pub(super) fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        let operation = match writes.as_slice() {
            [Write {
                op: WriteOp::Put(_),
                ..
            }] => "PutItem",
            [Write {
                op: WriteOp::Update { .. },
                ..
            }] => "UpdateItem",
            [Write {
                op: WriteOp::Delete { .. },
                ..
            }] => "DeleteItem",
            _ => "TransactWriteItems",
        };
        let mut state = self.lock(operation);
        let changes = Self::apply_all(&mut state.tables, &writes, self.feed.listened())?;
        drop(state);
        self.feed.report(changes);
        Ok(())
    }

    /// Checks every write's conditions, then makes them all, or none; what changed, when asked.
    fn apply_all(
        tables: &mut Tables,
        writes: &[Write],
        report: bool,
    ) -> Result<Vec<ItemChange>, WriteError> {
        // DynamoDB refuses a transaction naming one item twice before it checks any condition.
        let mut seen: Vec<(&str, PrimaryKey)> = Vec::with_capacity(writes.len());
        for write in writes {
            let key = match &write.op {
                WriteOp::Put(item) => key_of(write.table, item, false)?,
                WriteOp::Update { key, .. } | WriteOp::Delete { key } | WriteOp::Check { key } => {
                    key_of(write.table, key, true)?
                }
            };
            if seen
                .iter()
                .any(|(t, k)| *t == write.table.name && *k == key)
            {
                let message = "a transaction cannot write one item twice";
                return Err(WriteError::Store(StoreError::Invalid(message.into())));
            }
            seen.push((write.table.name, key));
        }
        let mut changes: Vec<Change> = Vec::with_capacity(writes.len());
        for (index, write) in writes.iter().enumerate() {
            changes.push(prepare(tables, index, write)?);
        }
        Ok(changes
            .into_iter()
            .filter_map(|change| commit(tables, change, report))
            .collect())
    }

    pub(super) fn update(
        &self,
        table: &'static TableDef,
        key: Item,
        actions: Actions,
        conds: Vec<Cond>,
    ) -> Result<Arc<Item>, WriteError> {
        let write = Write {
            table,
            op: WriteOp::Update { key, actions },
            conds,
        };
        let mut state = self.lock("UpdateItem");
        let change = prepare(&state.tables, 0, &write)?;
        let item = change.item.clone().unwrap_or_default();
        let reported = commit(&mut state.tables, change, self.feed.listened());
        drop(state);
        self.feed.report(reported.into_iter().collect());
        Ok(item)
    }

    pub(super) fn query(&self, page: QueryPage<'_>) -> Result<RawPage, StoreError> {
        let table = page.table;
        let sort_attr = match page.index {
            Some(index) => index.sk.as_ref(),
            None => table.sk.as_ref(),
        };
        let start = page
            .start
            .as_ref()
            .map(|start| position(table, sort_attr, start))
            .transpose()?;
        let (pk_name, pk_value) = &page.condition.pk;
        let state = self.lock("Query");
        let Some(items) = state.tables.get(table.name) else {
            return Ok(RawPage::default());
        };
        // A query of the table itself reads one partition of the ordered map, in order, and
        // stops at its limit; an index's items are ordered by its own keys, so it sorts.
        let partition = match page.index {
            None => partition(
                pk_value,
                start.as_ref().map(|(_, key)| key),
                page.descending,
            ),
            Some(_) => None,
        };
        if let Some(bounds) = partition {
            let Some(bounds) = bounds else {
                return Ok(RawPage::default());
            };
            let range = items.range(bounds);
            let read: Box<dyn Iterator<Item = (&PrimaryKey, &Arc<Item>)>> = if page.descending {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            let mut rows: Vec<(Position, &Arc<Item>)> = Vec::new();
            for (_, item) in read {
                let matches = match &page.condition.sk {
                    Some((name, condition)) => item
                        .get(*name)
                        .is_some_and(|value| condition.matches(value)),
                    None => true,
                };
                if matches {
                    rows.push((position(table, sort_attr, item)?, item));
                    if rows.len() >= page.limit {
                        break;
                    }
                }
            }
            return Ok(Self::page_of(table, &page, rows));
        }
        let mut rows: Vec<(Position, &Arc<Item>)> = Vec::new();
        for item in items.values() {
            // An index holds only items that have all its key attributes (a sparse index).
            let in_partition = item
                .get(*pk_name)
                .is_some_and(|pk| order::equal(pk, pk_value));
            let has_sort_key = sort_attr.is_none_or(|attr| item.contains_key(attr.name));
            if !in_partition || !has_sort_key {
                continue;
            }
            if let Some((name, condition)) = &page.condition.sk {
                if !item
                    .get(*name)
                    .is_some_and(|value| condition.matches(value))
                {
                    continue;
                }
            }
            rows.push((position(table, sort_attr, item)?, item));
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        if page.descending {
            rows.reverse();
        }
        if let Some(start) = &start {
            rows.retain(|(at, _)| {
                if page.descending {
                    at < start
                } else {
                    at > start
                }
            });
        }
        Ok(Self::page_of(table, &page, rows))
    }

    /// The page of the rows a query read, in order: the first `limit` of them, filtered.
    fn page_of(
        table: &TableDef,
        page: &QueryPage<'_>,
        mut rows: Vec<(Position, &Arc<Item>)>,
    ) -> RawPage {
        let key_attrs = cursor::key_attrs(table, page.index);
        let keys_only = page.index.is_some_and(|index| index.keys_only);
        // DynamoDB gives the last key read whenever the read stopped at its limit (even with
        // nothing after it): where to go on, whether or not that item passes the filter.
        let reached = rows.len() >= page.limit;
        rows.truncate(page.limit);
        let last_key = rows
            .last()
            .filter(|_| reached)
            .map(|(_, item)| cursor::key_of(item, &key_attrs));
        let items: Vec<Arc<Item>> = rows
            .into_iter()
            .filter(|(_, item)| page.filter.iter().all(|test| test.passes(item)))
            .map(|(_, item)| {
                if keys_only {
                    Arc::new(cursor::key_of(item, &key_attrs))
                } else {
                    Arc::clone(item)
                }
            })
            .collect();
        RawPage { items, last_key }
    }

    pub(super) fn scan(&self, page: ScanPage<'_>) -> Result<RawPage, StoreError> {
        let table = page.table;
        let start = page
            .start
            .as_ref()
            .map(|start| key_of(table, start, true))
            .transpose()?;
        let state = self.lock("Scan");
        let Some(items) = state.tables.get(table.name) else {
            return Ok(RawPage::default());
        };
        // The limit counts items examined, before the filter, as in DynamoDB; a read that
        // reached it gives its last key, with or without items after it.
        let examined: Vec<&Arc<Item>> = items
            .iter()
            .filter(|(key, _)| start.as_ref().is_none_or(|s| *key > s))
            .take(page.limit)
            .map(|(_, item)| item)
            .collect();
        let reached = examined.len() >= page.limit;
        let key_attrs = cursor::key_attrs(table, None);
        let last_key = examined
            .last()
            .filter(|_| reached)
            .map(|item| cursor::key_of(item, &key_attrs));
        let items = examined
            .into_iter()
            .filter(|item| page.filter.iter().all(|test| test.passes(item)))
            .cloned()
            .collect();
        Ok(RawPage { items, last_key })
    }
}

/// Checks a write's conditions against the stored item and works out what the write leaves.
fn prepare(tables: &Tables, index: usize, write: &Write) -> Result<Change, WriteError> {
    let table = write.table;
    let key = match &write.op {
        WriteOp::Put(item) => key_of(table, item, false)?,
        WriteOp::Update { key, .. } | WriteOp::Delete { key } | WriteOp::Check { key } => {
            key_of(table, key, true)?
        }
    };
    let stored = tables.get(table.name).and_then(|items| items.get(&key));
    let current = stored.map(|item| &**item);
    if !write.conds.iter().all(|cond| holds(cond, current)) {
        let found = current.cloned().map_or(Found::Nothing, Found::Item);
        return Err(WriteError::Condition { index, found });
    }
    let item = match &write.op {
        WriteOp::Put(item) => Some(Arc::new(item.clone())),
        WriteOp::Update { key, actions } => {
            if let Some(name) = actions.keys().find(|name| key.contains_key(*name)) {
                let message = format!("cannot update `{name}`: it is part of the key");
                return Err(WriteError::Store(StoreError::backend(message)));
            }
            // Like DynamoDB, updating a missing item creates it from its key.
            let mut item = current.cloned().unwrap_or_else(|| key.clone());
            apply(&mut item, actions)?;
            Some(Arc::new(item))
        }
        WriteOp::Delete { .. } => None,
        // Written back as it is: a check changes nothing.
        WriteOp::Check { .. } => stored.cloned(),
    };
    if let Some(item) = &item {
        check_item(table, item)?;
    }
    Ok(Change {
        table: table.name,
        key,
        item,
    })
}

/// What a transaction writes, the same text for the same writes (items are hash maps, whose
/// order varies).
fn fingerprint(writes: &[Write]) -> String {
    let sorted = |item: &Item| format!("{:?}", item.iter().collect::<BTreeMap<_, _>>());
    writes
        .iter()
        .map(|w| {
            let op = match &w.op {
                WriteOp::Put(item) => format!("put {}", sorted(item)),
                WriteOp::Update { key, actions } => format!("update {} {actions:?}", sorted(key)),
                WriteOp::Delete { key } => format!("delete {}", sorted(key)),
                WriteOp::Check { key } => format!("check {}", sorted(key)),
            };
            format!("{} {op} {:?}", w.table.name, w.conds)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Makes the change; with `report`, what it changed.
fn commit(tables: &mut Tables, change: Change, report: bool) -> Option<ItemChange> {
    let items = tables.entry(change.table).or_default();
    let new = report.then(|| change.item.clone()).flatten();
    let old = match change.item {
        Some(item) => items.insert(change.key, item),
        None => items.remove(&change.key),
    };
    report.then(|| ItemChange {
        table: change.table.to_owned(),
        old: old.map(Arc::unwrap_or_clone),
        new: new.map(Arc::unwrap_or_clone),
    })
}

/// Evaluates a condition like DynamoDB's `attribute_not_exists`, `=` and `IN`.
fn holds(cond: &Cond, current: Option<&Item>) -> bool {
    let attr = |name: &str| current.and_then(|item| item.get(name));
    match cond {
        Cond::NotExists(name) => attr(name).is_none(),
        Cond::Equals(name, value) => attr(name).is_some_and(|a| order::equal(a, value)),
        Cond::AbsentOrType(name, kind) => attr(name).is_none_or(|a| {
            matches!(
                (a, *kind),
                (AttributeValue::N(_), "N")
                    | (AttributeValue::L(_), "L")
                    | (AttributeValue::S(_), "S")
            )
        }),
        Cond::In(name, values) => {
            attr(name).is_some_and(|a| values.iter().any(|v| order::equal(a, v)))
        }
    }
}

/// The primary key of an item, or of a Key parameter (`exact`), which must hold nothing else.
fn key_of(table: &TableDef, item: &Item, exact: bool) -> Result<PrimaryKey, StoreError> {
    let missing =
        |attr: &KeyAttr| StoreError::backend(format!("missing key attribute `{}`", attr.name));
    let pk = key_value(item, &table.pk)?.ok_or_else(|| missing(&table.pk))?;
    let sk = match &table.sk {
        Some(attr) => Some(key_value(item, attr)?.ok_or_else(|| missing(attr))?),
        None => None,
    };
    if exact && item.len() != 1 + usize::from(sk.is_some()) {
        return Err(StoreError::backend(
            "the key does not match the table's key schema",
        ));
    }
    Ok(PrimaryKey(pk, sk))
}

/// A key attribute's value, checked as DynamoDB checks keys: the declared type, and not empty.
fn key_value(item: &Item, attr: &KeyAttr) -> Result<Option<KeyValue>, StoreError> {
    let Some(value) = item.get(attr.name) else {
        return Ok(None);
    };
    let valid = match (attr.kind, value) {
        (KeyKind::S, AttributeValue::S(s)) => !s.is_empty(),
        (KeyKind::N, AttributeValue::N(_)) => true,
        (KeyKind::B, AttributeValue::B(b)) => !b.as_ref().is_empty(),
        _ => false,
    };
    match KeyValue::of(value).filter(|_| valid) {
        Some(key) => Ok(Some(key)),
        None => Err(StoreError::backend(format!(
            "`{}` is not a valid {:?} key value",
            attr.name, attr.kind
        ))),
    }
}

fn position(table: &TableDef, sort: Option<&KeyAttr>, item: &Item) -> Result<Position, StoreError> {
    let sort = sort
        .map(|attr| key_value(item, attr))
        .transpose()?
        .flatten();
    Ok((sort, key_of(table, item, false)?))
}

/// The keys of one partition of a table, after `start` in the order read (`Some(None)`: none
/// at all); `None` when the partition key is a number, whose successor has no key value to bound
/// it by.
fn partition(
    pk: &AttributeValue,
    start: Option<&PrimaryKey>,
    descending: bool,
) -> Option<Option<(Bound<PrimaryKey>, Bound<PrimaryKey>)>> {
    // Keys order by partition first, and a text or bytes value's immediate successor is the
    // value with a zero appended: every key of the partition lies between the two.
    let (first, after) = match KeyValue::of(pk)? {
        KeyValue::S(s) => (KeyValue::S(s.clone()), KeyValue::S(s + "\0")),
        KeyValue::B(b) => {
            let mut next = b.clone();
            next.push(0);
            (KeyValue::B(b), KeyValue::B(next))
        }
        KeyValue::N(_) => return None,
    };
    let first = PrimaryKey(first, None);
    let after = PrimaryKey(after, None);
    // A cursor's key lies in the partition it was given for; one outside it (the query checks
    // that before) reads nothing rather than another partition.
    Some(match start {
        Some(start) if *start <= first || *start >= after => None,
        Some(start) if descending => Some((Bound::Included(first), Bound::Excluded(start.clone()))),
        Some(start) => Some((Bound::Excluded(start.clone()), Bound::Excluded(after))),
        None => Some((Bound::Included(first), Bound::Excluded(after))),
    })
}

/// What DynamoDB checks of an item it stores: its size, and the type of each index key it holds.
fn check_item(table: &TableDef, item: &Item) -> Result<(), StoreError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(StoreError::Invalid(TOO_LARGE.into()));
    }
    for index in table.indexes {
        for attr in [Some(&index.pk), index.sk.as_ref()].into_iter().flatten() {
            key_value(item, attr)?;
        }
    }
    Ok(())
}

/// DynamoDB's item size limit, 400 KB.
const MAX_ITEM_SIZE: usize = 400 * 1024;

/// An item's size as DynamoDB counts it: attribute names plus values.
fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    // Numbers take about one byte per two significant digits, plus one.
    let number = |n: &str| n.bytes().filter(u8::is_ascii_digit).count().div_ceil(2) + 1;
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        // Documents cost 3 bytes plus one per element.
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}
