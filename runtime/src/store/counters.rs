//! Atomic changes that need no read: adding to a number field and appending to a list field, in
//! one UpdateItem whatever other writers do at the same time.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::backend::{Action, Actions, Cond};
use super::item::{self, Item};
use super::keys;
use super::ops::{failure, missing_or_changed, of_type};
use super::{Entity, EntityDef, Part, Store, StoreError};

impl Store {
    /// Adds `amount` (negative to take away) to the integer field `field`, counting a missing
    /// field as zero: one UpdateItem (`SET #f = if_not_exists(#f, :0) + :n`) that also sets the
    /// `updated` timestamp and adds one to the version. Concurrent adds all count; there is no
    /// read and so no lost update. Errors: NotFound, and Invalid when the field is not a number,
    /// or is one the store keeps (a key, index or unique field, the version, a timestamp, the id).
    pub async fn add<E: Entity>(
        &self,
        key: Map<String, Value>,
        field: &str,
        amount: i64,
    ) -> Result<E, StoreError> {
        self.change_in_place(key, field, Action::Add(amount), "N", "an integer")
            .await
    }

    /// Appends `values` to the list field `field`, counting a missing field as an empty list: one
    /// UpdateItem (`SET #f = list_append(if_not_exists(#f, :empty), :v)`) that also sets the
    /// `updated` timestamp and adds one to the version. Errors as for [`Store::add`].
    pub async fn append<E: Entity, T: serde::Serialize>(
        &self,
        key: Map<String, Value>,
        field: &str,
        values: &[T],
    ) -> Result<E, StoreError> {
        let values = serde_json::to_value(values)
            .map_err(|e| StoreError::Invalid(format!("cannot read the values: {e}")))?;
        let aws_sdk_dynamodb::types::AttributeValue::L(list) =
            item::attribute_value(field, &values)?
        else {
            return Err(StoreError::Invalid("the values must be a list".into()));
        };
        self.change_in_place(key, field, Action::Append(list), "L", "a list")
            .await
    }

    async fn change_in_place<E: Entity>(
        &self,
        key: Map<String, Value>,
        field: &str,
        action: Action,
        kind: &'static str,
        kind_name: &str,
    ) -> Result<E, StoreError> {
        let def = E::DEF;
        if let Some(why) = kept_by_store(def, field) {
            return Err(StoreError::Invalid(format!(
                "`{field}` cannot be changed in place: it is {why}"
            )));
        }
        let key_item = keys::primary_key(def, &key)?;
        let mut actions = Actions::new();
        actions.insert(field.to_string(), action);
        if let Some(updated) = def.updated {
            let now = item::attribute_value(updated, &Value::String(item::now()))?;
            actions.insert(updated.to_string(), Action::Set(now));
        }
        if let Some(version) = def.version {
            actions.insert(version.to_string(), Action::Increment);
        }
        let conds = vec![of_type(def), Cond::AbsentOrType(field.to_string(), kind)];
        let updated: Arc<Item> = self
            .update_item(def.table, key_item, actions, conds)
            .await
            .map_err(|err| {
                failure(err, &[], |found| match found {
                    super::backend::Found::Item(item) if item::is_entity(def, &item) => {
                        StoreError::Invalid(format!("`{field}` is not {kind_name}"))
                    }
                    other => missing_or_changed(def, other),
                })
            })?;
        item::into_entity(&updated)
    }
}

/// Why the store, not an in-place change, owns `field`; `None` when nothing does.
fn kept_by_store(def: &EntityDef, field: &str) -> Option<&'static str> {
    let in_template = |parts: &[Part]| {
        parts
            .iter()
            .any(|p| matches!(p, Part::Str(f) | Part::Int(f) | Part::DateTime(f) if *f == field))
    };
    let keys = std::iter::once(&def.key)
        .chain(def.indexes.iter().map(|i| &i.key))
        .any(|k| in_template(k.pk.0) || k.sk.is_some_and(|sk| in_template(sk.0)));
    if keys {
        Some("part of a key")
    } else if def.unique.contains(&field) {
        Some("unique")
    } else if [def.version, def.created, def.updated].contains(&Some(field))
        || def.id.is_some_and(|id| id.field == field)
        || def.expires.is_some_and(|x| x.field == field)
    {
        Some("set by the store")
    } else if item::is_reserved(def, field) {
        Some("an attribute the store manages")
    } else {
        None
    }
}
