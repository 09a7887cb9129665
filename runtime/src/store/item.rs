//! Entity fields (JSON objects) to stored items and back, and what a client may write.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::keys::{self, Lookup, Rendered};
use unicode_normalization::UnicodeNormalization;

use super::{Entity, EntityDef, ExpiresDef, Generate, Part, StoreError, Template, Transform};

/// DynamoDB refuses items above 400 KB; both backends answer this (a client error).
pub(super) const TOO_LARGE: &str = "the item is larger than the 400 KB DynamoDB allows";

/// A stored item: attribute name to value.
pub(crate) type Item = HashMap<String, AttributeValue>;
/// An entity as a JSON object, field names as in the API.
pub(super) type Fields = Map<String, Value>;

/// Whether the store writes `name` itself: table and index keys, the type and TTL attributes.
pub(super) fn is_reserved(def: &EntityDef, name: &str) -> bool {
    let table = def.table;
    let key = |attr: Option<&super::KeyAttr>| attr.is_some_and(|a| a.name == name);
    let managed = name == table.type_attribute
        || name == table.ttl_attribute
        || key(Some(&table.pk))
        || key(table.sk.as_ref())
        || table
            .indexes
            .iter()
            .any(|i| key(Some(&i.pk)) || key(i.sk.as_ref()));
    // A key attribute that is a property itself (`pk: deviceId` with the template
    // `{deviceId}`) holds the field's own value: it belongs to the entity.
    managed && !is_own_field(def, name)
}

/// Whether `name` is a key attribute whose template is exactly that field.
fn is_own_field(def: &EntityDef, name: &str) -> bool {
    let own = |attr: &super::KeyAttr, template: Option<&Template>| {
        attr.name == name
            && matches!(template.map(|t| t.0), Some([Part::Str(f) | Part::Int(f) | Part::DateTime(f)]) if *f == name)
    };
    let table = def.table;
    own(&table.pk, Some(&def.key.pk))
        || table
            .sk
            .as_ref()
            .is_some_and(|sk| own(sk, def.key.sk.as_ref()))
        || def.indexes.iter().any(|ix| {
            own(&ix.index.pk, Some(&ix.key.pk))
                || ix
                    .index
                    .sk
                    .as_ref()
                    .is_some_and(|sk| own(sk, ix.key.sk.as_ref()))
        })
}

/// The fields a client may write: read-only fields (unless bound from the path) and attribute
/// names the store manages are dropped, so a client can neither set them nor corrupt an index.
pub(super) fn client_fields(def: &EntityDef, fields: Fields, bound: &[&str]) -> Fields {
    fields
        .into_iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !is_reserved(def, name) && (bound.contains(&name) || !def.read_only.contains(&name))
        })
        .collect()
}

/// Applies the entity's transforms to the string values of `fields` (other values are left as
/// they are: validation has already refused them where the schema wants a string).
pub(super) fn transform(def: &EntityDef, fields: &mut Fields) {
    for t in def.transforms {
        if let Some(Value::String(text)) = fields.get_mut(t.field) {
            *text = transform_text(t.steps, text);
        }
    }
}

/// `text` through `steps`, again until it no longer changes (a few passes at most), so that a
/// transformed value is its own transform: keys rendered from written fields and from the values
/// a read names are one. (Case mapping can undo a normalization: `ΐ` upper-cased is decomposed.)
pub(super) fn transform_text(steps: &[Transform], text: &str) -> String {
    let mut current = text.to_string();
    for _ in 0..4 {
        let mut next = current.clone();
        for step in steps {
            next = match step {
                Transform::Trim => next.trim().to_string(),
                Transform::Lowercase => next.to_lowercase(),
                Transform::Uppercase => next.to_uppercase(),
                Transform::Nfc => next.nfc().collect(),
            };
        }
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// `fields` with the entity's transforms applied, borrowed when there are none.
pub(super) fn transformed<'a>(def: &EntityDef, fields: &'a Fields) -> std::borrow::Cow<'a, Fields> {
    if def.transforms.iter().any(|t| fields.contains_key(t.field)) {
        let mut owned = fields.clone();
        transform(def, &mut owned);
        std::borrow::Cow::Owned(owned)
    } else {
        std::borrow::Cow::Borrowed(fields)
    }
}

/// Stores the schema's `default` of every field the entity's fields omit (a `null` is the
/// client's choice and stays).
pub(super) fn apply_defaults(def: &EntityDef, fields: &mut Fields) -> Result<(), StoreError> {
    for default in def.defaults {
        if !fields.contains_key(default.field) {
            let value = serde_json::from_str(default.json).map_err(|e| {
                StoreError::backend(format!("the default of `{}`: {e}", default.field))
            })?;
            fields.insert(default.field.to_string(), value);
        }
    }
    Ok(())
}

/// The item stored for an entity: its fields plus key, index, type and TTL attributes.
pub(super) fn stored_item(def: &EntityDef, fields: &Fields) -> Result<Item, StoreError> {
    for (name, value) in fields {
        check_storable(name, value)?;
    }
    let mut item: Item = serde_dynamo::to_item(Present(fields))
        .map_err(|e| StoreError::backend(format!("cannot convert a `{}`: {e}", def.name)))?;
    item.extend(keys::primary_key(def, fields)?);
    for (attr, template) in keys::index_pairs(def)? {
        if let Rendered::Value(value) = keys::render(template, attr, |f| Lookup::known(fields, f))?
        {
            item.insert(attr.name.to_string(), value);
        }
    }
    item.insert(
        def.table.type_attribute.to_string(),
        AttributeValue::S(def.type_value.into()),
    );
    if let Some(expires) = &def.expires {
        if let Lookup::Value(value) = Lookup::known(fields, expires.field) {
            item.insert(
                def.table.ttl_attribute.to_string(),
                ttl_value(expires, value)?,
            );
        }
    }
    Ok(item)
}

/// The TTL attribute (epoch seconds) for a value of the expires field.
pub(super) fn ttl_value(expires: &ExpiresDef, value: &Value) -> Result<AttributeValue, StoreError> {
    let seconds = if expires.epoch {
        // Fractions of a second do not matter to DynamoDB's TTL.
        value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f.floor() as i64))
    } else {
        value.as_str().and_then(keys::epoch_seconds)
    };
    let what = if expires.epoch {
        "epoch seconds"
    } else {
        "an RFC 3339 date-time"
    };
    seconds
        .map(|s| AttributeValue::N(s.to_string()))
        .ok_or_else(|| StoreError::Invalid(format!("`{}` must be {what}", expires.field)))
}

/// The fields that are not null, serialised as a map without copying them: a NULL attribute
/// still counts as present (which breaks sparse indexes), so null fields are not written at all.
struct Present<'a>(&'a Fields);

impl Serialize for Present<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().filter(|(_, v)| !v.is_null()))
    }
}

/// DynamoDB stores numbers from 1e-130 to just under 1e126 in magnitude (and zero). A JSON
/// number outside that range is valid input to the schema but would fail the write, so it is
/// refused as invalid input before anything is written.
fn check_storable(name: &str, value: &Value) -> Result<(), StoreError> {
    // The pointer to the offending number is only built for the error.
    if storable(value) {
        Ok(())
    } else {
        storable_numbers(value, &format!("/{name}"))
    }
}

fn storable(value: &Value) -> bool {
    match value {
        Value::Number(n) => storable_number(n),
        Value::Array(items) => items.iter().all(storable),
        Value::Object(map) => map.values().all(storable),
        _ => true,
    }
}

fn storable_number(n: &serde_json::Number) -> bool {
    let magnitude = n.as_f64().unwrap_or(0.0).abs();
    magnitude == 0.0 || (1e-130..1e126).contains(&magnitude)
}

/// [`storable`], naming the first number out of range.
fn storable_numbers(value: &Value, at: &str) -> Result<(), StoreError> {
    match value {
        Value::Number(n) => {
            if storable_number(n) {
                Ok(())
            } else {
                Err(StoreError::Invalid(format!(
                    "`{at}` is {n}, and DynamoDB stores numbers from 1e-130 to 1e126 in magnitude"
                )))
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| storable_numbers(v, &format!("{at}/{i}"))),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| storable_numbers(v, &format!("{at}/{k}"))),
        _ => Ok(()),
    }
}

/// One value of `field` as it is stored: transformed as the field's values are, then converted.
pub(super) fn stored_value(
    def: &EntityDef,
    field: &str,
    value: &Value,
) -> Result<AttributeValue, StoreError> {
    let mut one = Fields::new();
    one.insert(field.to_string(), value.clone());
    transform(def, &mut one);
    attribute_value(field, &one[field])
}

/// The value of the field `name` as an attribute value.
pub(super) fn attribute_value(name: &str, value: &Value) -> Result<AttributeValue, StoreError> {
    check_storable(name, value)?;
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| StoreError::backend(format!("cannot convert a value: {e}")))
}

/// An entity's fields as JSON, without the attributes the store manages.
pub(super) fn fields_of(def: &EntityDef, item: &Item) -> Result<Fields, StoreError> {
    item.iter()
        .filter(|(name, _)| !is_reserved(def, name))
        .map(|(name, value)| {
            let json =
                serde_dynamo::from_attribute_value::<_, Value>(value.clone()).map_err(|e| {
                    StoreError::backend(format!("attribute `{name}` cannot be read as JSON: {e}"))
                })?;
            Ok((name.clone(), json))
        })
        .collect()
}

/// A stored item as the entity type.
pub(super) fn into_entity<E: Entity>(item: &Item) -> Result<E, StoreError> {
    let mut entity: E = super::decode::from_item(item).map_err(|e| {
        StoreError::backend(format!(
            "a stored `{}` does not match its type: {e}",
            E::DEF.name
        ))
    })?;
    entity.after_read();
    Ok(entity)
}

/// Whether `item` is an entity of this type (its type attribute says so).
pub(super) fn is_entity(def: &EntityDef, item: &Item) -> bool {
    matches!(item.get(def.table.type_attribute), Some(AttributeValue::S(t)) if t == def.type_value)
}

/// The stored version of an item (`None` when the attribute is missing or not an integer).
pub(super) fn version_of(field: &str, item: &Item) -> Option<i64> {
    match item.get(field) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// The time the server stamps on items: UTC, milliseconds.
pub(super) fn now() -> String {
    keys::millis(Utc::now())
}

/// A new id, unless the client chooses it.
pub(super) fn new_id(generate: Generate) -> Option<String> {
    match generate {
        Generate::Ulid => Some(ulid::Ulid::new().to_string()),
        Generate::Uuid => Some(uuid::Uuid::new_v4().to_string()),
        Generate::Client => None,
    }
}
