//! Batch reads and writes of many items of any entities, typed by their keys.
//!
//! Writes: puts and deletes of many items, of any entities, with BatchWriteItem (25 to a
//! request, items DynamoDB leaves unprocessed sent again after a growing pause). A batch checks
//! no condition, so entities whose writes need one are refused: unique fields (their guard items
//! must move with the item) and, for puts, a `version` (a blind put would undo the lock).

use std::collections::BTreeSet;
use std::marker::PhantomData;

use serde_json::{Map, Value};

use super::backend::BatchOp;
use super::item::{self, Item};
use super::keys;
use super::order::KeyValue;
use super::{cursor, Entity, EntityDef, Store, StoreError, TableDef};

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

    fn put_fields<E: Entity>(&mut self, mut fields: Map<String, Value>) -> Result<E, StoreError> {
        let def = E::DEF;
        refuse(
            def,
            def.version.is_some() || !def.unique.is_empty(),
            "a put",
        )?;
        item::apply_defaults(def, &mut fields)?;
        item::transform(def, &mut fields);
        if let Some(id) = &def.id {
            if fields.get(id.field).is_none_or(Value::is_null) {
                if let Some(new_id) = item::new_id(id.generate) {
                    fields.insert(id.field.to_string(), Value::String(new_id));
                }
            }
        }
        let now = item::now();
        for field in [def.created, def.updated].into_iter().flatten() {
            fields.insert(field.to_string(), Value::String(now.clone()));
        }
        E::before_write(&mut fields)?;
        item::transform(def, &mut fields);
        let stored = item::stored_item(def, &fields)?;
        self.writes.push((def.table, BatchOp::Put(stored.clone())));
        item::into_entity(stored)
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
            if !seen.insert((table.name, canonical(table, &key))) {
                let message = "a batch names one item twice";
                return Err(StoreError::Invalid(message.into()));
            }
        }
        let mut tables: Vec<&'static TableDef> = Vec::new();
        for (table, _) in &batch.writes {
            if !tables.iter().any(|t| t.name == table.name) {
                tables.push(table);
            }
        }
        for table in tables {
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

/// A key's values in DynamoDB's order, comparable whatever form a number is written in.
pub(super) fn canonical(table: &TableDef, key: &Item) -> Vec<Option<KeyValue>> {
    cursor::key_attrs(table, None)
        .iter()
        .map(|attr| key.get(attr.name).and_then(KeyValue::of))
        .collect()
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

/// Where one entity of a [`BatchGet`] will be found.
#[derive(Debug)]
pub struct Slot<E> {
    index: usize,
    of: PhantomData<fn() -> E>,
}

/// Items of any entities to read by key with [`Store::batch_read`].
#[derive(Debug, Clone, Default)]
pub struct BatchGet {
    keys: Vec<(&'static EntityDef, Item)>,
}

impl BatchGet {
    /// An empty set of reads.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the item at `key`; its entity is read from the answer with the slot.
    pub fn get<K: Key>(&mut self, key: &K) -> Result<Slot<K::Entity>, StoreError> {
        let def = K::Entity::DEF;
        let key = keys::primary_key(def, &super::fields_of(key)?)?;
        self.keys.push((def, key));
        Ok(Slot {
            index: self.keys.len() - 1,
            of: PhantomData,
        })
    }
}

/// What a [`BatchGet`] found.
#[derive(Debug)]
pub struct Fetched {
    items: Vec<Option<Item>>,
}

impl Fetched {
    /// The entity of `slot`, `None` where nothing of its type is stored.
    pub fn take<E: Entity>(&mut self, slot: Slot<E>) -> Result<Option<E>, StoreError> {
        match self.items.get_mut(slot.index).and_then(Option::take) {
            Some(found) if item::is_entity(E::DEF, &found) => item::into_entity(found).map(Some),
            _ => Ok(None),
        }
    }
}

impl Store {
    /// Reads every item of `reads`, of any entities: one BatchGetItem per 100 distinct keys of
    /// a table, strongly consistent, unprocessed keys asked for again.
    pub async fn batch_read(&self, reads: BatchGet) -> Result<Fetched, StoreError> {
        let mut items: Vec<Option<Item>> = vec![None; reads.keys.len()];
        let mut tables: Vec<&'static TableDef> = Vec::new();
        for (def, _) in &reads.keys {
            if !tables.iter().any(|t| t.name == def.table.name) {
                tables.push(def.table);
            }
        }
        for table in tables {
            let (at, keys): (Vec<usize>, Vec<Item>) = reads
                .keys
                .iter()
                .enumerate()
                .filter(|(_, (def, _))| def.table.name == table.name)
                .map(|(i, (_, key))| (i, key.clone()))
                .unzip();
            for (i, found) in at.into_iter().zip(self.items_at(table, &keys).await?) {
                items[i] = found;
            }
        }
        Ok(Fetched { items })
    }
}
