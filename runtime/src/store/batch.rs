//! Batch reads: many items by key in one BatchGetItem per 100 keys, for typed repositories and
//! for the items behind a KEYS_ONLY index.

use serde_json::{Map, Value};

use super::cursor;
use super::item::{self, Item};
use super::keys;
use super::order;
use super::{Entity, KeyAttr, Store, StoreError, TableDef};

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
        let mut distinct: Vec<Item> = Vec::new();
        for key in keys {
            if !distinct.iter().any(|seen| same_key(seen, key, &attrs)) {
                distinct.push(key.clone());
            }
        }
        let mut found: Vec<Item> = Vec::with_capacity(distinct.len());
        for chunk in distinct.chunks(BATCH_GET_LIMIT) {
            found.extend(self.batch_get_items(table, chunk).await?);
        }
        Ok(keys
            .iter()
            .map(|key| {
                found
                    .iter()
                    .find(|item| same_key(item, key, &attrs))
                    .cloned()
            })
            .collect())
    }
}

/// Whether two items (or keys) have the same primary key.
fn same_key(a: &Item, b: &Item, attrs: &[KeyAttr]) -> bool {
    attrs
        .iter()
        .all(|attr| match (a.get(attr.name), b.get(attr.name)) {
            (Some(x), Some(y)) => order::equal(x, y),
            (None, None) => true,
            _ => false,
        })
}
