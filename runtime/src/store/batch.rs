//! Batch reads: many items by key in one BatchGetItem per 100 keys, of one entity (typed
//! repositories), of several (`BatchGet`, typed by their keys), and the items behind a KEYS_ONLY
//! index.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::cursor::{self, canonical};
use super::item::{self, Item};
use super::keys;
use super::{Entity, EntityDef, Key, Store, StoreError, TableDef};

/// The most keys DynamoDB takes in one BatchGetItem.
pub const BATCH_GET_LIMIT: usize = 100;

impl Store {
    /// Reads the entities at `keys` (each the fields the primary key templates use), in the
    /// order of the keys, `None` where nothing of this type is stored. One BatchGetItem per 100
    /// distinct keys, strongly consistent; keys DynamoDB leaves unprocessed are asked for again
    /// after a growing pause.
    pub async fn batch_get<E: Entity>(
        &self,
        keys: Vec<Map<String, Value>>,
    ) -> Result<Vec<Option<E>>, StoreError> {
        let def = E::DEF;
        let keys: Vec<Item> = keys
            .iter()
            .map(|fields| keys::primary_key(def, fields))
            .collect::<Result<_, _>>()?;
        let found = self.items_at(def.table, &keys).await?;
        found
            .into_iter()
            .map(|found| match found {
                Some(found) if item::is_entity(def, &found) => item::into_entity(&found).map(Some),
                _ => Ok(None),
            })
            .collect()
    }

    /// The items at `keys` (table keys), in their order, `None` where there is none: one
    /// BatchGetItem per 100 distinct keys.
    pub(super) async fn items_at(
        &self,
        table: &'static TableDef,
        keys: &[Item],
    ) -> Result<Vec<Option<Arc<Item>>>, StoreError> {
        let attrs = cursor::key_attrs(table, None);
        // DynamoDB refuses a batch that names one key twice.
        let mut seen = BTreeSet::new();
        let distinct: Vec<Item> = keys
            .iter()
            .filter(|key| seen.insert(canonical(table, key)))
            .cloned()
            .collect();
        let mut found: BTreeMap<_, Arc<Item>> = BTreeMap::new();
        for chunk in distinct.chunks(BATCH_GET_LIMIT) {
            for item in self.batch_get_items(table, chunk).await? {
                let key = cursor::key_of(&item, &attrs);
                found.insert(canonical(table, &key), item);
            }
        }
        Ok(keys
            .iter()
            .map(|key| found.get(&canonical(table, key)).cloned())
            .collect())
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
    items: Vec<Option<Arc<Item>>>,
}

impl Fetched {
    /// The entity of `slot`, `None` where nothing of its type is stored.
    pub fn take<E: Entity>(&mut self, slot: Slot<E>) -> Result<Option<E>, StoreError> {
        match self.items.get_mut(slot.index).and_then(Option::take) {
            Some(found) if item::is_entity(E::DEF, &found) => item::into_entity(&found).map(Some),
            _ => Ok(None),
        }
    }
}

impl Store {
    /// Reads every item of `reads`, of any entities: one BatchGetItem per 100 distinct keys of
    /// a table, strongly consistent, unprocessed keys asked for again.
    pub async fn batch_read(&self, reads: BatchGet) -> Result<Fetched, StoreError> {
        let mut items: Vec<Option<Arc<Item>>> = vec![None; reads.keys.len()];
        for table in tables_of(reads.keys.iter().map(|(def, _)| def.table)) {
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

/// The tables of a batch's items, each once, in the order they first appear.
pub(super) fn tables_of(tables: impl Iterator<Item = &'static TableDef>) -> Vec<&'static TableDef> {
    let mut distinct: Vec<&'static TableDef> = Vec::new();
    for table in tables {
        if !distinct.iter().any(|t| t.name == table.name) {
            distinct.push(table);
        }
    }
    distinct
}
