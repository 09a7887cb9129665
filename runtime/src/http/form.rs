//! Reading `application/x-www-form-urlencoded` bodies into the JSON their schema describes.

use serde_json::Value;

use super::coerce::{coerce, property_schema, without_null};
use super::problem::Location;
use super::schema::Schema;
use super::violations::{Pointer, Violations};

/// How deeply a form key may nest (`a[b][c]` is 3): placing a value recurses once per level,
/// and a 6 MiB key of `[x]` would otherwise overflow the stack.
const MAX_FORM_DEPTH: usize = 32;

/// A form's fields as the JSON object its schema describes. Keys may nest, as Stripe and
/// Rails write them (`items[0][price]=p1&metadata[k]=v`); each value is converted by the
/// schema at its place, and a repeated key whose schema is an array collects its values.
pub(super) fn read_form(
    schema: &'static Schema,
    bytes: &[u8],
    violations: &mut Violations,
) -> Value {
    let mut root = Value::Object(serde_json::Map::new());
    for (key, text) in form_urlencoded::parse(bytes) {
        let path: Vec<&str> = match key.split_once('[') {
            Some((name, rest)) => std::iter::once(name)
                .chain(rest.trim_end_matches(']').split("]["))
                .take(MAX_FORM_DEPTH + 1)
                .collect(),
            None => vec![&key],
        };
        if path.len() > MAX_FORM_DEPTH {
            let pointer = Pointer::Key(&Pointer::Root, path[0]);
            let detail = format!("nests deeper than {MAX_FORM_DEPTH} levels");
            violations.add(Location::Body, &pointer, detail);
            continue;
        }
        place(&mut root, schema, &path, &text);
    }
    root
}

/// The member of a union that can hold the next step of a form key: an array for an index
/// (`[0]`, `[]`), otherwise an object. Stripe writes `anyOf: [array, ""]` for clearable lists.
fn container(schema: &'static Schema, step: &str) -> &'static Schema {
    let wants_array = step.is_empty() || step.bytes().all(|b| b.is_ascii_digit());
    match without_null(schema) {
        Schema::OneOf(members) | Schema::AnyOf(members) | Schema::AllOf(members) => members
            .iter()
            .map(|member| container(member, step))
            .find(|member| match member {
                Schema::Array(_) => wants_array,
                Schema::Object(_) | Schema::Map(_) => !wants_array,
                _ => false,
            })
            .unwrap_or(schema),
        other => other,
    }
}

pub(super) fn place(slot: &mut Value, schema: &'static Schema, path: &[&str], text: &str) {
    let Some((head, rest)) = path.split_first() else {
        match without_null(schema) {
            Schema::Array(list) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(items) = slot {
                    items.push(coerce(list.items, text));
                }
            }
            _ => *slot = coerce(schema, text),
        }
        return;
    };
    if let Schema::Array(list) = container(schema, head) {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            // An index past the end appends: `items[999999999]` must not allocate that much.
            let index = match head.parse::<usize>() {
                Ok(index) if index < items.len() => index,
                _ => {
                    items.push(Value::Null);
                    items.len() - 1
                }
            };
            place(&mut items[index], list.items, rest, text);
        }
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = slot {
        let property = property_schema(container(schema, head), head).unwrap_or(&Schema::Any);
        let field = fields.entry((*head).to_owned()).or_insert(Value::Null);
        place(field, property, rest, text);
    }
}
