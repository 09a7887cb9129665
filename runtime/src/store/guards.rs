//! Guard items that keep unique fields unique: one item per taken value, written with the entity.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::backend::{Cond, Write, WriteOp};
use super::item::{Fields, Item};
use super::keys::{self, Lookup};
use super::{EntityDef, StoreError};

/// The type attribute of guard items.
pub(super) const GUARD_TYPE: &str = "UNIQUE";

/// A guard write and the unique field it is for.
pub(super) type GuardWrite = (Write, &'static str);

/// The writes that move guards from `old`'s unique values to `new`'s: take each new value (it must
/// not be taken), release each old value that changed. `None` is no entity (create, delete).
pub(super) fn guard_writes(
    def: &EntityDef,
    old: Option<&Fields>,
    new: Option<&Fields>,
) -> Result<Vec<GuardWrite>, StoreError> {
    let mut writes = Vec::new();
    for &field in def.unique {
        let old_value = old
            .map(|f| guard_text(def, f, field))
            .transpose()?
            .flatten();
        let new_value = new
            .map(|f| guard_text(def, f, field))
            .transpose()?
            .flatten();
        if old_value == new_value {
            continue;
        }
        if let Some(text) = old_value {
            // No condition: the entity's own conditional write proves this guard is its own.
            let op = WriteOp::Delete {
                key: guard_key(def, text)?,
            };
            writes.push((
                Write {
                    table: def.table,
                    op,
                    conds: vec![],
                },
                field,
            ));
        }
        if let Some(text) = new_value {
            let mut item = guard_key(def, text)?;
            let type_value = AttributeValue::S(GUARD_TYPE.into());
            item.insert(def.table.type_attribute.to_string(), type_value);
            let conds = vec![Cond::NotExists(def.table.pk.name.to_string())];
            writes.push((
                Write {
                    table: def.table,
                    op: WriteOp::Put(item),
                    conds,
                },
                field,
            ));
        }
    }
    Ok(writes)
}

/// `UNIQUE#<type>#<field>#<value>`, or `None` when the field has no value.
fn guard_text(def: &EntityDef, fields: &Fields, field: &str) -> Result<Option<String>, StoreError> {
    match Lookup::known(fields, field) {
        Lookup::Value(value) => {
            let text = match value {
                Value::Bool(b) => b.to_string(),
                other => keys::string_text(field, other)?,
            };
            Ok(Some(format!("UNIQUE#{}#{field}#{text}", def.type_value)))
        }
        Lookup::Absent | Lookup::Unknown => Ok(None),
    }
}

/// A guard's key: the text as partition key, and as sort key too when the table has one.
fn guard_key(def: &EntityDef, text: String) -> Result<Item, StoreError> {
    let table = def.table;
    let mut key = Item::new();
    if let Some(sk) = &table.sk {
        key.insert(
            sk.name.to_string(),
            keys::string_key(sk.kind, text.clone())?,
        );
    }
    key.insert(
        table.pk.name.to_string(),
        keys::string_key(table.pk.kind, text)?,
    );
    Ok(key)
}
