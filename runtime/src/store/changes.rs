//! Changes of stored items as DynamoDB Streams reports them with `NEW_AND_OLD_IMAGES`: read
//! from a stream record under Lambda, or reported by the memory store for its own writes, so
//! that a local run sees what a deployed stream consumer sees.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::item::{self, Item};
use super::keys::{self, Lookup, Rendered};
use super::{EntityDef, KeyAttr, KeyKind, StoreError, Template};

/// One item's change: what it was and what it is, either missing for a create or a delete.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemChange {
    /// The table's name (DynamoDB's, or the logical name in the memory store).
    pub table: String,
    pub(super) old: Option<Item>,
    pub(super) new: Option<Item>,
}

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// It was written for the first time.
    Created,
    /// It was written again.
    Updated,
    /// It was deleted (or expired).
    Deleted,
}

/// An entity's change, its fields as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityChange {
    /// What happened.
    pub kind: ChangeKind,
    /// The fields before, except for a create.
    pub old: Option<Map<String, Value>>,
    /// The fields after, except for a delete.
    pub new: Option<Map<String, Value>>,
}

impl ItemChange {
    #[cfg(feature = "websocket")]
    pub(crate) fn new(table: String, old: Option<Item>, new: Option<Item>) -> Self {
        Self { table, old, new }
    }

    /// The change a record of a DynamoDB stream event reports; the stream must carry images.
    pub fn from_stream_record(record: &Value) -> Result<Self, StoreError> {
        let invalid = |what: &str| StoreError::Invalid(format!("the stream record {what}"));
        let arn = record["eventSourceARN"].as_str().unwrap_or_default();
        // arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<time>
        let table = arn.split('/').nth(1).unwrap_or_default().to_owned();
        let images = &record["dynamodb"];
        let image = |name: &str| match &images[name] {
            Value::Null => Ok(None),
            Value::Object(attributes) => attributes
                .iter()
                .map(|(n, v)| {
                    Ok((
                        n.clone(),
                        attribute(v).ok_or_else(|| invalid("has an unreadable attribute"))?,
                    ))
                })
                .collect::<Result<Item, StoreError>>()
                .map(Some),
            _ => Err(invalid("has an image that is not an object")),
        };
        let (old, new) = (image("OldImage")?, image("NewImage")?);
        let expected = match record["eventName"].as_str() {
            Some("INSERT") => (false, true),
            Some("MODIFY") => (true, true),
            Some("REMOVE") => (true, false),
            _ => return Err(invalid("has no eventName")),
        };
        if (old.is_some(), new.is_some()) != expected {
            let detail = "lacks an image: the stream must be NEW_AND_OLD_IMAGES";
            return Err(invalid(detail));
        }
        Ok(Self { table, old, new })
    }

    /// Whether the item is as it was: DynamoDB Streams writes no record for such a write
    /// (some local servers do).
    pub fn is_unchanged(&self) -> bool {
        self.old == self.new
    }

    /// The change as one of `def`'s entities, if the item is one.
    pub fn entity(&self, def: &EntityDef) -> Result<Option<EntityChange>, StoreError> {
        let of = |image: &Option<Item>| -> Result<Option<Map<String, Value>>, StoreError> {
            match image {
                Some(item) if item::is_entity(def, item) => item::fields_of(def, item).map(Some),
                _ => Ok(None),
            }
        };
        let (old, new) = (of(&self.old)?, of(&self.new)?);
        let kind = match (&old, &new) {
            (None, None) => return Ok(None),
            (None, Some(_)) => ChangeKind::Created,
            (Some(_), Some(_)) => ChangeKind::Updated,
            (Some(_), None) => ChangeKind::Deleted,
        };
        Ok(Some(EntityChange { kind, old, new }))
    }
}

/// The text a template renders to with `fields`; `None` when a field it reads is missing.
pub fn render_text(
    template: &Template,
    fields: &Map<String, Value>,
) -> Result<Option<String>, StoreError> {
    const TEXT: KeyAttr = KeyAttr {
        name: "topic",
        kind: KeyKind::S,
    };
    match keys::render(template, &TEXT, |field| Lookup::known(fields, field))? {
        Rendered::Value(AttributeValue::S(text)) => Ok(Some(text)),
        _ => Ok(None),
    }
}

/// An attribute value from DynamoDB's JSON (`{"S": "a"}`, `{"N": "1"}`, ...).
fn attribute(json: &Value) -> Option<AttributeValue> {
    let (kind, value) = json.as_object()?.iter().next()?;
    let strings = || -> Option<Vec<String>> {
        value
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let binary = |text: &Value| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_str()?)
            .ok()?;
        Some(Blob::new(bytes))
    };
    Some(match kind.as_str() {
        "S" => AttributeValue::S(value.as_str()?.to_owned()),
        "N" => AttributeValue::N(value.as_str()?.to_owned()),
        "B" => AttributeValue::B(binary(value)?),
        "BOOL" => AttributeValue::Bool(value.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings()?),
        "NS" => AttributeValue::Ns(strings()?),
        "BS" => AttributeValue::Bs(
            value
                .as_array()?
                .iter()
                .map(binary)
                .collect::<Option<_>>()?,
        ),
        "L" => AttributeValue::L(
            value
                .as_array()?
                .iter()
                .map(attribute)
                .collect::<Option<_>>()?,
        ),
        "M" => AttributeValue::M(
            value
                .as_object()?
                .iter()
                .map(|(n, v)| Some((n.clone(), attribute(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}
