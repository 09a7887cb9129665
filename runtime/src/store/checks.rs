//! Schema constraints on what trusted code writes through typed repositories: the types hold
//! what the schema's types allow, these checks the rest (patterns, lengths, bounds, item counts).

use serde_json::{Map, Value};

use super::StoreError;
use crate::http::{self, Schema};

/// Checks a new item's fields against the entity's schema, as a request body is checked, and
/// the read-only fields it holds too (trusted code may set them; they must still fit). A field
/// the store sets (`store_sets`), or a required one that may be null, may be missing.
/// `Invalid` lists what fails.
pub fn check_item(
    schema: &Schema,
    fields: &Map<String, Value>,
    store_sets: &[&str],
) -> Result<(), StoreError> {
    let value = Value::Object(fields.clone());
    let may_miss = |pointer: &str| {
        let name = pointer.strip_prefix('/').unwrap_or(pointer);
        store_sets.contains(&name)
            || matches!(schema, Schema::Object(record) if record
                .properties
                .iter()
                .any(|p| p.name == name && matches!(p.schema, Schema::Nullable(_))))
    };
    let mut found: Vec<String> = http::problems(schema, &value)
        .into_iter()
        .filter(|(pointer, detail)| !(detail == "is required" && may_miss(pointer)))
        .map(|(pointer, detail)| format!("`{pointer}` {detail}"))
        .collect();
    if let Schema::Object(record) = schema {
        for property in record.properties.iter().filter(|p| p.read_only) {
            if let Some(value) = fields.get(property.name) {
                found.extend(field_problems(property.name, property.schema, value));
            }
        }
    }
    refuse(found)
}

fn field_problems(name: &str, schema: &Schema, value: &Value) -> Vec<String> {
    http::problems(schema, value)
        .into_iter()
        .map(|(pointer, detail)| format!("`/{name}{pointer}` {detail}"))
        .collect()
}

/// Checks each field of a merge patch against its property's schema: a `null` only where the
/// field may be absent. `Invalid` lists what fails.
pub fn check_changes(schema: &Schema, changes: &Map<String, Value>) -> Result<(), StoreError> {
    let Schema::Object(record) = schema else {
        return Ok(());
    };
    let mut found = Vec::new();
    for (name, value) in changes {
        let Some(property) = record.properties.iter().find(|p| p.name == name) else {
            continue;
        };
        if value.is_null() {
            if property.required && !matches!(property.schema, Schema::Nullable(_)) {
                found.push(format!("`/{name}` is required, so it cannot be removed"));
            }
            continue;
        }
        found.extend(field_problems(name, property.schema, value));
    }
    refuse(found)
}

fn refuse(problems: Vec<String>) -> Result<(), StoreError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(problems.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::http::{List, Property, Record, Text};

    static NAME: Schema = Schema::String(Text {
        min_length: Some(1),
        max_length: Some(5),
        ..Text::PLAIN
    });
    static TAGS: Schema = Schema::Array(List {
        items: &Schema::STRING,
        max_items: Some(2),
        ..List::ANY
    });
    static NOTE: Schema = Schema::Nullable(&Schema::STRING);
    static ITEM: Schema = Schema::Object(Record {
        properties: &[
            Property::required("id", &NAME).read_only(),
            Property::required("name", &NAME),
            Property::optional("tags", &TAGS),
            Property::optional("note", &NOTE),
        ],
        additional: crate::http::Additional::Allow,
    });

    static NULLABLE: Schema = Schema::Object(Record {
        properties: &[
            Property::required("id", &NAME),
            Property::required("note", &NOTE),
        ],
        additional: crate::http::Additional::Allow,
    });

    fn fields(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn new_items_are_checked_read_only_fields_too() {
        assert!(check_item(&ITEM, &fields(json!({"name": "ada"})), &[]).is_ok());
        // What the store sets, and a nullable field, may be missing though required.
        assert!(check_item(&NULLABLE, &fields(json!({})), &["id"]).is_ok());
        assert!(check_item(&NULLABLE, &fields(json!({})), &[]).is_err());
        let Err(StoreError::Invalid(message)) = check_item(
            &ITEM,
            &fields(json!({"id": "too long", "name": "", "tags": ["a", "b", "c"]})),
            &[],
        ) else {
            panic!("three problems")
        };
        for part in ["`/name`", "`/tags`", "`/id`"] {
            assert!(message.contains(part), "{message}");
        }
        let Err(StoreError::Invalid(message)) = check_item(&ITEM, &fields(json!({})), &[]) else {
            panic!("a required field is missing")
        };
        assert!(message.contains("`/name` is required"), "{message}");
    }

    #[test]
    fn changes_are_checked_field_by_field() {
        assert!(check_changes(&ITEM, &fields(json!({"tags": ["a"], "note": null}))).is_ok());
        // An optional field may be removed; a required one may not; unknown fields are left.
        assert!(check_changes(&ITEM, &fields(json!({"tags": null, "other": 1}))).is_ok());
        let Err(StoreError::Invalid(message)) = check_changes(
            &ITEM,
            &fields(json!({"name": null, "tags": ["a", "b", "c"]})),
        ) else {
            panic!("two problems")
        };
        assert!(
            message.contains("`/name` is required, so it cannot be removed"),
            "{message}"
        );
        assert!(message.contains("`/tags`"), "{message}");
    }
}
