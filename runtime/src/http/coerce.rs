//! Turning parameter and form text into the JSON its schema expects.

use serde_json::Value;

use super::schema::{Additional, Schema};
use super::validate::integer_of;

/// The schema of property `name` of an object schema, looking into unions for the object.
pub(super) fn property_schema(schema: &'static Schema, name: &str) -> Option<&'static Schema> {
    match without_null(schema) {
        Schema::Object(record) => match record.properties.iter().find(|p| p.name == name) {
            Some(property) => Some(property.schema),
            None => match record.additional {
                Additional::Schema(values) => Some(values),
                _ => None,
            },
        },
        Schema::Map(dict) => Some(dict.values),
        Schema::OneOf(members) | Schema::AnyOf(members) | Schema::AllOf(members) => {
            members.iter().find_map(|m| property_schema(m, name))
        }
        _ => None,
    }
}

pub(super) fn without_null(schema: &Schema) -> &Schema {
    match schema {
        Schema::Nullable(inner) => without_null(inner),
        other => other,
    }
}

/// Parameters arrive as text; turning them into the JSON type the schema expects lets them go
/// through the same validation and deserialization as bodies. Text that does not convert stays a
/// string, so validation names the problem (`expected an integer`) instead of us guessing.
pub(super) fn coerce(schema: &Schema, text: &str) -> Value {
    let fallback = || Value::String(text.to_owned());
    match without_null(schema) {
        // `1.0` and `1e2` too, as in JSON bodies.
        Schema::Integer(_) => match (text.parse::<i64>(), text.parse::<u64>()) {
            (Ok(signed), _) => Value::from(signed),
            (_, Ok(unsigned)) => Value::from(unsigned),
            _ => match text.parse().ok().and_then(integer_of) {
                Some(whole) => Value::Number(whole),
                None => fallback(),
            },
        },
        // `from_f64` refuses NaN and infinities, which JSON cannot represent.
        Schema::Number(_) => match text.parse().ok().and_then(serde_json::Number::from_f64) {
            Some(number) => Value::Number(number),
            None => fallback(),
        },
        Schema::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => fallback(),
        },
        // An object in one text is JSON: a parameter with `content: application/json`, or a
        // form field, whose objects OpenAPI encodes as JSON.
        Schema::Object(_) | Schema::Map(_) => match serde_json::from_str(text) {
            Ok(value @ Value::Object(_)) => value,
            _ => fallback(),
        },
        // The first member the text converts for; a string member needs no conversion.
        Schema::OneOf(members) | Schema::AnyOf(members) | Schema::AllOf(members) => members
            .iter()
            .map(|member| coerce(member, text))
            .find(|value| !value.is_string())
            .unwrap_or_else(fallback),
        _ => fallback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Dict;
    use serde_json::json;

    #[test]
    fn an_object_in_one_text_is_json() {
        let map = Schema::Map(Dict::ANY);
        assert_eq!(coerce(&map, r#"{"color":"red"}"#), json!({"color": "red"}));
        assert_eq!(coerce(&map, "[1]"), json!("[1]"));
        assert_eq!(coerce(&map, "red"), json!("red"));
    }
}
