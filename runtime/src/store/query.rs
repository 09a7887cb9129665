//! `Store::query`: one page of a Query on the primary key or an index, or of a Scan by type.

use std::sync::Arc;

use super::backend::{KeyCondition, QueryPage, RawPage, ScanPage};
use super::filter::{self, Test};
use super::item::{self, Item};
use super::keys::{self, SortPlan};
use super::{cursor, order};
use super::{
    Collection, Entity, EntityDef, KeyAttr, Page, Part, Query, Range, Store, StoreError, TableDef,
    Template,
};

impl Store {
    /// One page of a Query: the partition of the rendered pk template of the chosen key (primary
    /// or the entity's template for `query.index`), the sort key limited to the template's static
    /// prefix and compared with `query.range`. One Query request (plus one BatchGetItem on a
    /// KEYS_ONLY index). With `query.scan`: one Scan filtered by the entity's type, where a page
    /// can hold fewer items than `limit` and still have a next cursor.
    pub async fn query<E: Entity>(&self, query: Query) -> Result<Page<E>, StoreError> {
        let def = E::DEF;
        if !(1..=1000).contains(&query.limit) {
            let message = "the page size must be between 1 and 1000";
            return Err(StoreError::Invalid(message.into()));
        }
        if query.scan {
            return self.scan_type(def, query).await;
        }
        let raw = self.query_raw(def, &query, false).await?;
        page(def, raw)
    }

    /// One page of the items of a partition, of every type, as stored: the Query of
    /// [`Store::query`], with no condition on the sort key when `whole_partition`.
    pub(super) async fn query_raw(
        &self,
        def: &EntityDef,
        query: &Query,
        whole_partition: bool,
    ) -> Result<RawPage, StoreError> {
        if !(1..=1000).contains(&query.limit) {
            let message = "the page size must be between 1 and 1000";
            return Err(StoreError::Invalid(message.into()));
        }
        let table = def.table;
        let (index, key) = match query.index {
            None => (None, &def.key),
            Some(name) => {
                let found = def.indexes.iter().find(|i| i.index.name == name);
                let found = found.ok_or_else(|| {
                    StoreError::Invalid(format!("`{}` is not in the index `{name}`", def.name))
                })?;
                (Some(found.index), &found.key)
            }
        };
        let (pk_attr, sk_attr) = match index {
            None => (&table.pk, table.sk.as_ref()),
            Some(index) => (&index.pk, index.sk.as_ref()),
        };
        let values = item::transformed(def, &query.values);
        let pk = keys::partition_value(pk_attr, key, &values)?;
        // A transformed first variable is stored transformed: so are the bounds it is compared with.
        let range = query
            .range
            .as_ref()
            .map(|range| transformed_range(def, key.sk.as_ref(), range));
        let plan = if whole_partition {
            SortPlan::Any
        } else {
            keys::sort_plan(sk_attr, key.sk.as_ref(), range.as_ref())?
        };
        let mut read_keys = vec![*pk_attr];
        read_keys.extend(sk_attr.copied());
        let Some(tests) = filter::tests(def, &query.filter, &read_keys)? else {
            // No item passes, so no cursor can point between two that do.
            if query.cursor.is_some() {
                return Err(StoreError::BadCursor);
            }
            return Ok(RawPage::default());
        };
        if !tests.is_empty() && index.is_some_and(|index| index.keys_only) {
            let message = "a KEYS_ONLY index holds no fields to filter on";
            return Err(StoreError::Invalid(message.into()));
        }
        let sk = match (plan, sk_attr) {
            // No key can lie in an empty range, so neither can a cursor's.
            (SortPlan::Nothing, _) if query.cursor.is_some() => return Err(StoreError::BadCursor),
            (SortPlan::Nothing, _) => return Ok(RawPage::default()),
            (SortPlan::Condition(condition), Some(attr)) => Some((attr.name, condition)),
            _ => None,
        };
        let condition = KeyCondition {
            pk: (pk_attr.name, pk),
            sk,
        };
        let key_attrs = cursor::key_attrs(table, index);
        let start = match &query.cursor {
            Some(text) => Some(start_key(text, &key_attrs, &condition)?),
            None => None,
        };
        let raw = self
            .query_page(QueryPage {
                table,
                index,
                condition: &condition,
                descending: query.descending,
                limit: query.limit + 1,
                start,
                filter: &tests,
            })
            .await?;
        let mut raw = trim(raw, query.limit, &key_attrs);
        if index.is_some_and(|index| index.keys_only) {
            raw.items = self.full_items(table, raw.items).await?;
        }
        Ok(raw)
    }

    /// One page of a Scan of the table, filtered by the entity's type.
    async fn scan_type<E: Entity>(
        &self,
        def: &EntityDef,
        query: Query,
    ) -> Result<Page<E>, StoreError> {
        if query.range.is_some() {
            let message = "a scan has no sort key to compare with";
            return Err(StoreError::Invalid(message.into()));
        }
        let table = def.table;
        let key_attrs = cursor::key_attrs(table, None);
        let start = query
            .cursor
            .map(|text| cursor::decode(&text, &key_attrs))
            .transpose()?;
        let Some(tests) = filter::tests(def, &query.filter, &key_attrs)? else {
            if start.is_some() {
                return Err(StoreError::BadCursor);
            }
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let filter: Vec<Test> = std::iter::once(Test::type_is(def)).chain(tests).collect();
        let limit = query.limit + 1;
        let raw = self
            .scan_page(ScanPage {
                table,
                filter: &filter,
                limit,
                start,
            })
            .await?;
        page(def, trim(raw, query.limit, &key_attrs))
    }

    /// The items behind the keys a KEYS_ONLY index returned, in index order: one BatchGetItem.
    async fn full_items(
        &self,
        table: &'static TableDef,
        keys: Vec<Arc<Item>>,
    ) -> Result<Vec<Arc<Item>>, StoreError> {
        let table_keys = cursor::key_attrs(table, None);
        let keys: Vec<Item> = keys
            .iter()
            .map(|found| cursor::key_of(found, &table_keys))
            .collect();
        // An item deleted since the index was read is simply not listed.
        Ok(self
            .items_at(table, &keys)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }
}

/// `range` with the transforms of the sort key's first variable applied to its bounds.
fn transformed_range(def: &EntityDef, template: Option<&Template>, range: &Range) -> Range {
    let first = template.and_then(|t| t.0.iter().find(|part| !matches!(part, Part::Lit(_))));
    let steps = match first {
        Some(Part::Str(field)) => def
            .transforms
            .iter()
            .find(|t| t.field == *field)
            .map(|t| t.steps),
        _ => None,
    };
    match steps {
        Some(steps) => range.map(|bound| item::transform_text(steps, bound)),
        None => range.clone(),
    }
}

/// The start key a cursor names, refused unless it lies within this query's key condition: a
/// cursor from another partition or range would page through other items.
fn start_key(
    text: &str,
    key_attrs: &[KeyAttr],
    condition: &KeyCondition,
) -> Result<Item, StoreError> {
    let start = cursor::decode(text, key_attrs)?;
    let (pk_name, pk) = &condition.pk;
    let same_partition = start.get(*pk_name).is_some_and(|v| order::equal(v, pk));
    let in_range = match &condition.sk {
        Some((name, sort)) => start.get(*name).is_some_and(|v| sort.matches(v)),
        None => true,
    };
    if same_partition && in_range {
        Ok(start)
    } else {
        Err(StoreError::BadCursor)
    }
}

/// Cuts a page fetched with one item more than `limit` back to `limit`. That extra item says
/// whether a next page exists, so every backend answers alike (DynamoDB alone would return a
/// last key when exactly `limit` items remain, and then an empty page).
fn trim(mut raw: RawPage, limit: usize, key_attrs: &[KeyAttr]) -> RawPage {
    if raw.items.len() > limit {
        raw.items.truncate(limit);
        raw.last_key = raw.items.last().map(|last| cursor::key_of(last, key_attrs));
    }
    raw
}

/// One page of a collection: the items of every member type in a partition, in sort key order.
pub(super) fn collection_page<C: Collection>(raw: RawPage) -> Result<Page<C>, StoreError> {
    let mut items = Vec::with_capacity(raw.items.len());
    for found in raw.items {
        let Some(member) = C::MEMBERS
            .iter()
            .position(|def| item::is_entity(def, &found))
        else {
            // Unique guards and other entities may share the partition: not this collection's.
            continue;
        };
        let fields = item::fields_of(C::MEMBERS[member], &found)?;
        items.push(C::from_fields(member, serde_json::Value::Object(fields))?);
    }
    let next_cursor = raw.last_key.as_ref().map(cursor::encode).transpose()?;
    Ok(Page { items, next_cursor })
}

/// Entities of this type from a raw page, in order; items of other types are skipped.
fn page<E: Entity>(def: &EntityDef, raw: RawPage) -> Result<Page<E>, StoreError> {
    let mut items = Vec::with_capacity(raw.items.len());
    for found in raw.items {
        if !item::is_entity(def, &found) {
            tracing::warn!(
                entity = def.name,
                "skipping an item of another type in a query"
            );
            continue;
        }
        items.push(item::into_entity(&found)?);
    }
    let next_cursor = raw.last_key.as_ref().map(cursor::encode).transpose()?;
    Ok(Page { items, next_cursor })
}

impl Store {
    /// One page of a collection: every item of the partition that `values` name (the first
    /// member's partition key template), of each member type, in sort key order. One Query.
    pub async fn query_collection<C: Collection>(
        &self,
        values: serde_json::Map<String, serde_json::Value>,
        page: super::PageRequest,
    ) -> Result<Page<C>, StoreError> {
        let Some(first) = C::MEMBERS.first() else {
            return Err(StoreError::Invalid("a collection has no members".into()));
        };
        let query = Query {
            values,
            ..Query::page(None, page)
        };
        let raw = self.query_raw(first, &query, true).await?;
        collection_page(raw)
    }
}
