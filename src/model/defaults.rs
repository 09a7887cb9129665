//! Schema `default`s of stored entities' fields. The store writes them when
//! a create or put omits the field, so they are checked here against the
//! field's schema: a default the service could not read back is an error.

use serde_json::Value;

use super::examples;
use super::hints::child;
use super::storage::Entity;
use super::types::{TypeKind, TypeSpace};
use crate::diagnostic::Diagnostic;
use crate::json_pointer::pointer;

/// How deep `$ref`s and `allOf`s are followed to find a property.
const MAX_DEPTH: usize = 16;

/// Reads the defaults of `entity`'s fields from its schema in the document.
pub fn read(
    entity: &mut Entity,
    raw: &Value,
    space: &TypeSpace,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let TypeKind::Struct(s) = &space.get(entity.type_id).kind else {
        return;
    };
    let at = pointer(["components", "schemas", entity.schema.as_str()]);
    let Some(schema) = raw.pointer(&at) else {
        return;
    };
    let server: Vec<String> = entity
        .server_fields()
        .into_iter()
        .map(str::to_string)
        .collect();
    for field in &s.fields {
        let Some((default, pointer)) = find_default(raw, schema, &at, &field.name, 0) else {
            continue;
        };
        // The store sets these itself; a default would never be used.
        if server.contains(&field.name) || default.is_null() {
            continue;
        }
        if let Err(misfit) = examples::fits(space, &field.shape, default, false) {
            let place = if misfit.at.is_empty() {
                String::new()
            } else {
                format!(" at `{}`", misfit.at)
            };
            diagnostics.push(
                Diagnostic::error(
                    pointer,
                    format!(
                        "the default of `{}` does not fit its schema{place}: {}",
                        field.name, misfit.reason
                    ),
                )
                .help(
                    "the store writes the default when a create or put omits the field: \
                     give a value the schema accepts, or remove `default`",
                ),
            );
            continue;
        }
        entity.defaults.push((field.name.clone(), default.clone()));
    }
}

/// The `default` of property `name` of `schema` (at `at`), looking through
/// `$ref`s and `allOf` members, and where it was written.
fn find_default<'a>(
    root: &'a Value,
    schema: &'a Value,
    at: &str,
    name: &str,
    depth: usize,
) -> Option<(&'a Value, String)> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some((target, target_at)) = follow(root, schema) {
        return find_default(root, target, &target_at, name, depth + 1);
    }
    let properties_at = child(&child(at, "properties"), name);
    if let Some(property) = schema.get("properties").and_then(|p| p.get(name)) {
        return property_default(root, property, &properties_at, depth);
    }
    let members = schema.get("allOf").and_then(Value::as_array)?;
    members.iter().enumerate().find_map(|(i, member)| {
        let member_at = child(&child(at, "allOf"), &i.to_string());
        find_default(root, member, &member_at, name, depth + 1)
    })
}

/// A property's own `default`, or that of the schema it refers to.
fn property_default<'a>(
    root: &'a Value,
    property: &'a Value,
    at: &str,
    depth: usize,
) -> Option<(&'a Value, String)> {
    if let Some(default) = property.get("default") {
        return Some((default, child(at, "default")));
    }
    if depth > MAX_DEPTH {
        return None;
    }
    let (target, target_at) = follow(root, property)?;
    property_default(root, target, &target_at, depth + 1)
}

/// The schema a local `$ref` points at, and its pointer.
fn follow<'a>(root: &'a Value, schema: &Value) -> Option<(&'a Value, String)> {
    let reference = schema.get("$ref")?.as_str()?;
    let pointer = reference.strip_prefix('#')?;
    Some((root.pointer(pointer)?, pointer.to_string()))
}
