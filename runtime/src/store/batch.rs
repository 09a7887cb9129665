//! Batch reads: many items by key in one BatchGetItem per 100 keys, for typed repositories and
//! for the items behind a KEYS_ONLY index.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::batch_write::canonical;
use super::cursor;
use super::item::{self, Item};
use super::keys;
use super::{Entity, Store, StoreError, TableDef};

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
                Some(found) if item::is_entity(def, &found) => item::into_entity(found).map(Some),
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
    ) -> Result<Vec<Option<Item>>, StoreError> {
        let attrs = cursor::key_attrs(table, None);
        // DynamoDB refuses a batch that names one key twice.
        let mut seen = BTreeSet::new();
        let distinct: Vec<Item> = keys
            .iter()
            .filter(|key| seen.insert(canonical(table, key)))
            .cloned()
            .collect();
        let mut found: BTreeMap<_, Item> = BTreeMap::new();
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
