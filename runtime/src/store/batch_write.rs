//! Batch writes: puts and deletes of many items, of any entities, with BatchWriteItem (25 to a
//! request, items DynamoDB leaves unprocessed sent again after a growing pause). A batch checks
//! no condition, so entities whose writes need one are refused: unique fields (their guard items
//! must move with the item) and, for puts, a `version` (a blind put would undo the lock).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::backend::BatchOp;
use super::batch::tables_of;
use super::item;
use super::keys;
use super::ops::plan_create;
use super::{cursor, Entity, EntityDef, Key, NewItem, Store, StoreError, TableDef};

/// The most writes DynamoDB takes in one BatchWriteItem.
pub const BATCH_WRITE_LIMIT: usize = 25;

/// Puts and deletes to write together with [`Store::write_batch`]: not atomic (each write stands
/// alone), but many items a request. Each item may appear once.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    writes: Vec<(&'static TableDef, BatchOp)>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put of a new item: its id generated (unless the entity's ids are the client's),
    /// defaults and transforms applied, the timestamps set to now. Answers the item as it will
    /// be stored.
    pub fn put<N: NewItem>(&mut self, item: N) -> Result<N::Entity, StoreError> {
        item.validate()?;
        self.put_fields::<N::Entity>(super::fields_of(&item)?)
    }

    /// Adds a put that creates or replaces the whole item at `key` (the key's fields win over
    /// the item's). A replaced item's creation time is set anew: a batch does not read it.
    pub fn put_at<K: Key, N: NewItem<Entity = K::Entity>>(
        &mut self,
        key: &K,
        item: N,
    ) -> Result<K::Entity, StoreError> {
        item.validate()?;
        let mut fields = super::fields_of(&item)?;
        fields.extend(super::fields_of(key)?);
        self.put_fields::<K::Entity>(fields)
    }

    fn put_fields<E: Entity>(&mut self, fields: Map<String, Value>) -> Result<E, StoreError> {
        let def = E::DEF;
        refuse(
            def,
            def.version.is_some() || !def.unique.is_empty(),
            "a put",
        )?;
        // Planned as a create of trusted fields (those given are kept), with no condition: the
        // batch replaces whatever is there.
        let given: Vec<String> = fields.keys().cloned().collect();
        let bound: Vec<&str> = given.iter().map(String::as_str).collect();
        let (_, _, stored) = plan_create(def, fields, &bound, E::before_write)?;
        self.writes.push((def.table, BatchOp::Put(stored.clone())));
        item::into_entity(&stored)
    }

    /// Adds a delete of the item at `key`. Deleting an item that is not there is no error.
    pub fn delete<K: Key>(&mut self, key: &K) -> Result<&mut Self, StoreError> {
        let def = K::Entity::DEF;
        refuse(def, !def.unique.is_empty(), "a delete")?;
        let key = keys::primary_key(def, &super::fields_of(key)?)?;
        self.writes.push((def.table, BatchOp::Delete(key)));
        Ok(self)
    }

    /// How many writes the batch holds.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

fn refuse(def: &EntityDef, needs_condition: bool, what: &str) -> Result<(), StoreError> {
    if needs_condition {
        Err(StoreError::Invalid(format!(
            "{what} of `{}` needs a condition (its unique fields or its version), which a batch cannot check: write it alone or in a transaction",
            def.name
        )))
    } else {
        Ok(())
    }
}

impl Store {
    /// Writes every put and delete of `batch`: one BatchWriteItem per 25 writes to a table,
    /// unprocessed items retried. A batch that names one item twice is refused before anything
    /// is written; otherwise a failure may leave the writes before it done.
    pub async fn write_batch(&self, batch: Batch) -> Result<(), StoreError> {
        let mut seen = BTreeSet::new();
        for (table, op) in &batch.writes {
            let key = cursor::key_of(op.item(), &cursor::key_attrs(table, None));
            if !seen.insert((table.name, cursor::canonical(table, &key))) {
                let message = "a batch names one item twice";
                return Err(StoreError::Invalid(message.into()));
            }
        }
        for table in tables_of(batch.writes.iter().map(|(table, _)| *table)) {
            let ops: Vec<BatchOp> = batch
                .writes
                .iter()
                .filter(|(t, _)| t.name == table.name)
                .map(|(_, op)| op.clone())
                .collect();
            for chunk in ops.chunks(BATCH_WRITE_LIMIT) {
                self.batch_write_items(table, chunk).await?;
            }
        }
        Ok(())
    }
}
