//! Checking a JSON value against a schema table.

use std::collections::HashSet;

use serde_json::Value;

use super::problem::Location;
use super::schema::{Additional, Dict, List, Numeric, Record, Schema, Text};
use super::violations::{Pointer, Violations};

/// Checks `value` against `schema`, recording every violation (up to [`Violations`]' cap).
/// Request bodies: readOnly properties are ignored entirely (not required, not type-checked, never
/// rejected even with Additional::Deny) because the server sets them.
pub fn validate(
    schema: &Schema,
    value: &Value,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    if !out.spend(location, pointer) {
        return;
    }
    match schema {
        Schema::Any => {}
        Schema::Boolean => {
            if !value.is_boolean() {
                out.add(location, pointer, "expected a boolean");
            }
        }
        // JSON Schema counts any number without a fractional part, `1.0` too, as an integer.
        Schema::Integer(rules) => match value.as_f64().filter(|n| n.fract() == 0.0) {
            Some(number) => number_problems(rules, number, location, pointer, out),
            None => out.add(location, pointer, "expected an integer"),
        },
        Schema::Number(rules) => match value.as_f64() {
            Some(number) => number_problems(rules, number, location, pointer, out),
            None => out.add(location, pointer, "expected a number"),
        },
        Schema::String(rules) => match value.as_str() {
            Some(text) => text_problems(rules, text, location, pointer, out),
            None => out.add(location, pointer, "expected a string"),
        },
        Schema::Array(list) => match value.as_array() {
            Some(items) => validate_list(list, items, location, pointer, out),
            None => out.add(location, pointer, "expected an array"),
        },
        Schema::Object(record) => match value.as_object() {
            Some(object) => validate_record(record, object, location, pointer, out),
            None => out.add(location, pointer, "expected an object"),
        },
        Schema::Map(dict) => match value.as_object() {
            Some(object) => validate_dict(dict, object, location, pointer, out),
            None => out.add(location, pointer, "expected an object"),
        },
        Schema::Nullable(inner) => {
            if !value.is_null() {
                validate(inner, value, location, pointer, out);
            }
        }
        // Every branch fails for its own reasons, so listing their violations would mostly be
        // noise; a single violation at the value says which rule failed.
        Schema::OneOf(choices) => {
            let matching = choices
                .iter()
                .filter(|c| conforms(c, value, location, pointer, out));
            match matching.take(2).count() {
                _ if out.exhausted => {}
                0 => out.add(location, pointer, "matches none of the allowed shapes"),
                1 => {}
                _ => out.add(
                    location,
                    pointer,
                    "matches more than one of the allowed shapes",
                ),
            }
        }
        Schema::AnyOf(choices) => {
            let any = choices
                .iter()
                .any(|c| conforms(c, value, location, pointer, out));
            if !any && !out.exhausted {
                out.add(location, pointer, "matches none of the allowed shapes");
            }
        }
        Schema::AllOf(parts) => {
            // Parts often repeat a constraint (`expected an object`); say each thing once.
            let start = out.listed.len();
            for part in parts.iter() {
                let mut found = out.fork();
                validate(part, value, location, pointer, &mut found);
                out.merge(found, start);
                if out.settled() {
                    return;
                }
            }
        }
    }
}

fn validate_list(
    list: &List,
    items: &[Value],
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    let count = items.len();
    if let Some(min) = list.min_items.filter(|&min| count < min) {
        out.add(
            location,
            pointer,
            format_args!("must have at least {min} items"),
        );
    }
    if let Some(max) = list.max_items.filter(|&max| count > max) {
        // Items past the limit would only add noise and work: the client must drop some anyway.
        out.add(
            location,
            pointer,
            format_args!("must have at most {max} items"),
        );
        return;
    }
    if list.unique_items && !all_unique(items) {
        out.add(location, pointer, "items must be unique");
    }
    for (index, item) in items.iter().enumerate() {
        if out.settled() {
            return;
        }
        validate(
            list.items,
            item,
            location,
            &Pointer::Index(pointer, index),
            out,
        );
    }
}

/// Hashing keeps this linear: a 6 MiB body can hold a million items, and comparing every pair
/// would let one request keep a Lambda busy until it times out.
fn all_unique(items: &[Value]) -> bool {
    let mut seen = HashSet::with_capacity(items.len());
    items.iter().all(|item| seen.insert(item))
}

fn validate_record(
    record: &Record,
    object: &serde_json::Map<String, Value>,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    // Read-only properties stay known (so `Deny` accepts them) but are otherwise skipped.
    for property in record.properties.iter().filter(|p| !p.read_only) {
        let child = Pointer::Key(pointer, property.name);
        match object.get(property.name) {
            Some(value) => validate(property.schema, value, location, &child, out),
            None if property.required => out.add(location, &child, "is required"),
            None => {}
        }
        if out.settled() {
            return;
        }
    }
    if let Additional::Allow = record.additional {
        return;
    }
    let is_known = |key: &str| record.properties.iter().any(|p| p.name == key);
    for (key, value) in object.iter().filter(|(key, _)| !is_known(key)) {
        let child = Pointer::Key(pointer, key);
        match record.additional {
            Additional::Allow => {}
            Additional::Deny => out.add(location, &child, "is not allowed"),
            Additional::Schema(schema) => validate(schema, value, location, &child, out),
        }
        if out.settled() {
            return;
        }
    }
}

fn validate_dict(
    dict: &Dict,
    object: &serde_json::Map<String, Value>,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    let count = object.len();
    if let Some(min) = dict.min_properties.filter(|&min| count < min) {
        out.add(
            location,
            pointer,
            format_args!("must have at least {min} properties"),
        );
    }
    if let Some(max) = dict.max_properties.filter(|&max| count > max) {
        out.add(
            location,
            pointer,
            format_args!("must have at most {max} properties"),
        );
        return;
    }
    for (key, value) in object {
        if out.settled() {
            return;
        }
        validate(
            dict.values,
            value,
            location,
            &Pointer::Key(pointer, key),
            out,
        );
    }
}

/// Whether `value` matches `schema`, spending `out`'s budget; running out is reported at
/// `pointer`.
fn conforms(
    schema: &Schema,
    value: &Value,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) -> bool {
    let mut probe = Violations {
        room: 0,
        text_room: 0,
        probe: true,
        ..out.fork()
    };
    validate(schema, value, location, pointer, &mut probe);
    out.budget = probe.budget;
    if probe.exhausted && !out.exhausted {
        // The probe's own record of it is not listed.
        out.spend(location, pointer);
    }
    probe.is_empty()
}

fn number_problems(
    rules: &Numeric,
    number: f64,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    if !rules.allowed.is_empty() && !rules.allowed.contains(&number) {
        let allowed: Vec<String> = rules.allowed.iter().map(f64::to_string).collect();
        out.add(
            location,
            pointer,
            format_args!("must be one of {}", allowed.join(", ")),
        );
    }
    if let Some(min) = rules.minimum {
        if rules.exclusive_minimum && number <= min {
            out.add(location, pointer, format_args!("must be > {min}"));
        } else if !rules.exclusive_minimum && number < min {
            out.add(location, pointer, format_args!("must be >= {min}"));
        }
    }
    if let Some(max) = rules.maximum {
        if rules.exclusive_maximum && number >= max {
            out.add(location, pointer, format_args!("must be < {max}"));
        } else if !rules.exclusive_maximum && number > max {
            out.add(location, pointer, format_args!("must be <= {max}"));
        }
    }
    if let Some(step) = rules.multiple_of {
        if step > 0.0 && !is_multiple(number, step) {
            out.add(
                location,
                pointer,
                format_args!("must be a multiple of {step}"),
            );
        }
    }
}

/// Binary floating point cannot represent most decimal steps exactly (`0.3 / 0.1` is not 3), so
/// the quotient only has to be very close to a whole number.
fn is_multiple(number: f64, step: f64) -> bool {
    let quotient = number / step;
    (quotient - quotient.round()).abs() < 1e-9
}

fn text_problems(
    rules: &Text,
    text: &str,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    if !rules.allowed.is_empty() && !rules.allowed.contains(&text) {
        let allowed: Vec<String> = rules.allowed.iter().map(|a| format!("{a:?}")).collect();
        out.add(
            location,
            pointer,
            format_args!("must be one of {}", allowed.join(", ")),
        );
    }
    // JSON Schema counts characters, not the bytes of the UTF-8 encoding.
    let length = text.chars().count();
    if let Some(min) = rules.min_length.filter(|&min| length < min) {
        out.add(
            location,
            pointer,
            format_args!("must be at least {min} characters long"),
        );
    }
    if let Some(max) = rules.max_length.filter(|&max| length > max) {
        out.add(
            location,
            pointer,
            format_args!("must be at most {max} characters long"),
        );
    }
    if let Some(pattern) = rules.pattern.filter(|pattern| !pattern.is_match(text)) {
        out.add(
            location,
            pointer,
            format_args!("must match the pattern {}", pattern.as_str()),
        );
    }
    if let Some(problem) = rules.format.problem(text) {
        out.add(location, pointer, problem);
    }
}

/// JSON Schema counts `1.0`, `1e2` and `-0.0` as integers, but serde will not read them into an
/// `i64`; once validated they are written as the integers they are, so both agree.
pub(crate) fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(whole) = number.as_f64().and_then(integer_of) {
                *number = whole;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// `number` as a JSON integer, if it is a whole number an `i64` or `u64` can hold.
pub(super) fn integer_of(number: f64) -> Option<serde_json::Number> {
    // 2^63 and 2^64 are exact in binary floating point; the integer types stop one below them.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    if number.fract() != 0.0 {
        None
    } else if (-I64_END..I64_END).contains(&number) {
        Some((number as i64).into())
    } else if (0.0..U64_END).contains(&number) {
        Some((number as u64).into())
    } else {
        None
    }
}

/// What `value` breaks of `schema`, as (JSON pointer, detail) pairs, at most as many as a
/// problem response lists; for checks outside a request (the store's typed writes).
pub fn problems(schema: &Schema, value: &Value) -> Vec<(String, String)> {
    let mut out = Violations::new();
    validate(schema, value, Location::Body, &Pointer::Root, &mut out);
    let mut found: Vec<(String, String)> = out
        .listed
        .into_iter()
        .map(|v| (v.pointer, v.detail))
        .collect();
    if out.unlisted > 0 {
        found.push((String::new(), format!("and {} more problems", out.unlisted)));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::*;
    use crate::http::violations::TOO_COSTLY;
    use crate::http::Property;
    use serde_json::json;

    #[test]
    fn any_accepts_everything() {
        for value in [
            json!(null),
            json!(1),
            json!("x"),
            json!([1]),
            json!({"a": 1}),
        ] {
            assert_valid(&Schema::Any, value);
        }
    }

    #[test]
    fn boolean() {
        assert_valid(&BOOLEAN, json!(false));
        assert_invalid(&BOOLEAN, json!("true"), "expected a boolean");
    }

    #[test]
    fn integer_is_any_whole_number() {
        assert_valid(&INTEGER, json!(-3));
        assert_valid(&INTEGER, json!(u64::MAX));
        // JSON Schema: a number with a zero fractional part is an integer, however written.
        for whole in ["1.0", "1e2", "-0.0", "1.5e1"] {
            let value: Value = serde_json::from_str(whole).expect("JSON number");
            assert_valid(&INTEGER, value);
        }
        assert_invalid(&INTEGER, json!(1.5), "expected an integer");
        assert_invalid(&INTEGER, json!("1"), "expected an integer");
        assert_invalid(&Schema::INT32, json!(1e10), "must be <= 2147483647");
    }

    #[test]
    fn whole_numbers_are_read_into_integer_types() {
        let mut value: Value =
            serde_json::from_str(r#"{"a": [1.0, -0.0, 1e2, 2.5], "b": 1e19, "c": 1e30}"#)
                .expect("JSON");
        whole_numbers_as_integers(&mut value);
        assert_eq!(value["a"], json!([1, 0, 100, 2.5]));
        assert_eq!(value["b"], json!(10_000_000_000_000_000_000_u64));
        // Too large for any integer type: left as it is, for deserialization to refuse.
        assert!(value["c"].is_f64());
        let small: Vec<i64> = serde_json::from_value(value["a"].take()).unwrap_or_default();
        assert!(small.is_empty(), "2.5 is no i64");
    }

    #[test]
    fn number() {
        assert_valid(&NUMBER, json!(1.5));
        assert_valid(&NUMBER, json!(2));
        assert_invalid(&NUMBER, json!("1.5"), "expected a number");
    }

    #[test]
    fn numeric_bounds() {
        let at_least_zero = Schema::Number(Numeric {
            minimum: Some(0.0),
            ..Numeric::ANY
        });
        assert_valid(&at_least_zero, json!(0));
        assert_invalid(&at_least_zero, json!(-0.5), "must be >= 0");

        let above_zero = Schema::Integer(Numeric {
            minimum: Some(0.0),
            exclusive_minimum: true,
            ..Numeric::ANY
        });
        assert_valid(&above_zero, json!(1));
        assert_invalid(&above_zero, json!(0), "must be > 0");

        let at_most_ten = Schema::Integer(Numeric {
            maximum: Some(10.0),
            ..Numeric::ANY
        });
        assert_valid(&at_most_ten, json!(10));
        assert_invalid(&at_most_ten, json!(11), "must be <= 10");

        let below_ten = Schema::Number(Numeric {
            maximum: Some(10.0),
            exclusive_maximum: true,
            ..Numeric::ANY
        });
        assert_valid(&below_ten, json!(9.99));
        assert_invalid(&below_ten, json!(10), "must be < 10");
    }

    #[test]
    fn numeric_multiple_of_tolerates_binary_rounding() {
        let cents = Schema::Number(Numeric {
            multiple_of: Some(0.01),
            ..Numeric::ANY
        });
        assert_valid(&cents, json!(0.3));
        assert_valid(&cents, json!(19.99));
        assert_invalid(&cents, json!(0.125), "must be a multiple of 0.01");
    }

    #[test]
    fn numeric_allowed_values() {
        let sizes = Schema::Integer(Numeric {
            allowed: &[1.0, 2.0],
            ..Numeric::ANY
        });
        assert_valid(&sizes, json!(2));
        assert_invalid(&sizes, json!(3), "must be one of 1, 2");
    }

    #[test]
    fn string_type() {
        assert_valid(&STRING, json!(""));
        assert_invalid(&STRING, json!(1), "expected a string");
    }

    #[test]
    fn string_length_counts_characters_not_bytes() {
        let short = Schema::String(Text {
            min_length: Some(1),
            max_length: Some(2),
            ..Text::PLAIN
        });
        assert_valid(&short, json!("éé"));
        assert_invalid(&short, json!(""), "must be at least 1 characters long");
        assert_invalid(&short, json!("abc"), "must be at most 2 characters long");
    }

    #[test]
    fn string_pattern_is_unanchored() {
        let digit = Schema::String(Text {
            pattern: Some(&DIGIT),
            ..Text::PLAIN
        });
        assert_valid(&digit, json!("a1b"));
        assert_invalid(&digit, json!("abc"), r"must match the pattern \d");

        let upper = Schema::String(Text {
            pattern: Some(&UPPER),
            ..Text::PLAIN
        });
        assert_valid(&upper, json!("ABC"));
        assert_invalid(&upper, json!("ABc"), "must match the pattern ^[A-Z]+$");
    }

    #[test]
    fn string_allowed_values() {
        let colour = Schema::String(Text {
            allowed: &["a", "b"],
            ..Text::PLAIN
        });
        assert_valid(&colour, json!("b"));
        assert_invalid(&colour, json!("c"), r#"must be one of "a", "b""#);
    }

    static SMALL_SET: Schema = Schema::Array(List {
        items: &INTEGER,
        min_items: Some(1),
        max_items: Some(3),
        unique_items: true,
    });

    #[test]
    fn array() {
        assert_valid(&SMALL_SET, json!([1, 2, 3]));
        assert_invalid(&SMALL_SET, json!({"0": 1}), "expected an array");
        assert_invalid(&SMALL_SET, json!([]), "must have at least 1 items");
        assert_invalid(&SMALL_SET, json!([1, 2, 3, 4]), "must have at most 3 items");
        assert_invalid(&SMALL_SET, json!([1, 2, 1]), "items must be unique");
        assert_eq!(
            violations(&SMALL_SET, json!([1, "2", 3.5])),
            [
                pair("/1", "expected an integer"),
                pair("/2", "expected an integer")
            ]
        );
    }

    #[test]
    fn unique_items_compares_objects_by_content() {
        static OBJECTS: Schema = Schema::Array(List {
            items: &Schema::Any,
            min_items: None,
            max_items: None,
            unique_items: true,
        });
        assert_valid(&OBJECTS, json!([{"a": 1}, {"a": 2}]));
        assert_invalid(
            &OBJECTS,
            json!([{"a": 1, "b": [2]}, {"b": [2], "a": 1}]),
            "items must be unique",
        );
    }

    #[test]
    fn object_checks_properties_and_denies_unknown_ones() {
        assert_valid(&ORDER_LINE, json!({"sku": "AB", "quantity": 2}));
        assert_valid(
            &ORDER_LINE,
            json!({"sku": "AB", "quantity": 2, "note": null}),
        );
        assert_invalid(&ORDER_LINE, json!([]), "expected an object");
        assert_eq!(
            violations(
                &ORDER_LINE,
                json!({"quantity": 0, "note": 3, "colour": "red"})
            ),
            [
                pair("/sku", "is required"),
                pair("/quantity", "must be >= 1"),
                pair("/note", "expected a string"),
                pair("/colour", "is not allowed"),
            ]
        );
    }

    #[test]
    fn read_only_properties_are_ignored_in_requests() {
        // Missing although required, of the wrong type, and present despite `Additional::Deny`.
        assert_valid(&ORDER_LINE, json!({"sku": "AB", "quantity": 1}));
        assert_valid(&ORDER_LINE, json!({"id": 42, "sku": "AB", "quantity": 1}));
    }

    #[test]
    fn object_additional_properties_with_a_schema() {
        static LABELS: Schema = Schema::Object(Record {
            properties: &[Property {
                name: "name",
                schema: &STRING,
                required: false,
                read_only: false,
                write_only: false,
            }],
            additional: Additional::Schema(&INTEGER),
        });
        assert_valid(&LABELS, json!({"name": "x", "size": 3}));
        assert_eq!(
            violations(&LABELS, json!({"name": "x", "size": "big"})),
            [pair("/size", "expected an integer")]
        );
        let open = Schema::Object(Record {
            properties: &[],
            additional: Additional::Allow,
        });
        assert_valid(&open, json!({"anything": [1]}));
    }

    #[test]
    fn map() {
        static COUNTS: Schema = Schema::Map(Dict {
            values: &INTEGER,
            min_properties: Some(1),
            max_properties: Some(2),
        });
        assert_valid(&COUNTS, json!({"a": 1}));
        assert_invalid(&COUNTS, json!([1]), "expected an object");
        assert_invalid(&COUNTS, json!({}), "must have at least 1 properties");
        assert_invalid(
            &COUNTS,
            json!({"a": 1, "b": 2, "c": 3}),
            "must have at most 2 properties",
        );
        assert_eq!(
            violations(&COUNTS, json!({"a/b~c": "x"})),
            [pair("/a~1b~0c", "expected an integer")]
        );
    }

    #[test]
    fn nullable() {
        let maybe = Schema::Nullable(&INTEGER);
        assert_valid(&maybe, json!(null));
        assert_valid(&maybe, json!(1));
        assert_invalid(&maybe, json!("x"), "expected an integer");
        assert_invalid(&INTEGER, json!(null), "expected an integer");
    }

    #[test]
    fn one_of_reports_one_violation_at_the_value() {
        static ID: Schema = Schema::OneOf(&[&INTEGER, &STRING]);
        static AMOUNT: Schema = Schema::OneOf(&[&INTEGER, &NUMBER]);
        static HOLDER: Schema = Schema::Map(Dict {
            values: &ID,
            min_properties: None,
            max_properties: None,
        });
        assert_valid(&ID, json!(1));
        assert_valid(&ID, json!("a"));
        assert_valid(&AMOUNT, json!(1.5));
        assert_eq!(
            violations(&HOLDER, json!({"v": true})),
            [pair("/v", "matches none of the allowed shapes")]
        );
        assert_invalid(
            &AMOUNT,
            json!(1),
            "matches more than one of the allowed shapes",
        );
    }

    #[test]
    fn any_of() {
        static ID: Schema = Schema::AnyOf(&[&INTEGER, &NUMBER]);
        assert_valid(&ID, json!(1));
        assert_valid(&ID, json!(1.5));
        assert_invalid(&ID, json!("1"), "matches none of the allowed shapes");
    }

    #[test]
    fn all_of_reports_every_part_once() {
        static NAMED: Schema = Schema::Object(Record {
            properties: &[Property {
                name: "name",
                schema: &STRING,
                required: true,
                read_only: false,
                write_only: false,
            }],
            additional: Additional::Allow,
        });
        static AGED: Schema = Schema::Object(Record {
            properties: &[Property {
                name: "age",
                schema: &INTEGER,
                required: true,
                read_only: false,
                write_only: false,
            }],
            additional: Additional::Allow,
        });
        static PERSON: Schema = Schema::AllOf(&[&NAMED, &AGED]);
        assert_valid(&PERSON, json!({"name": "Ada", "age": 36}));
        assert_eq!(
            violations(&PERSON, json!({})),
            [pair("/name", "is required"), pair("/age", "is required")]
        );
        assert_invalid(&PERSON, json!(1), "expected an object");
    }

    #[test]
    fn every_violation_is_reported_with_an_escaped_pointer() {
        static TRICKY: Schema = Schema::Object(Record {
            properties: &[
                Property {
                    name: "a/b",
                    schema: &INTEGER,
                    required: true,
                    read_only: false,
                    write_only: false,
                },
                Property {
                    name: "m~n",
                    schema: &STRING,
                    required: true,
                    read_only: false,
                    write_only: false,
                },
                Property {
                    name: "lines",
                    schema: &Schema::Array(List {
                        items: &ORDER_LINE,
                        min_items: None,
                        max_items: None,
                        unique_items: false,
                    }),
                    required: true,
                    read_only: false,
                    write_only: false,
                },
            ],
            additional: Additional::Allow,
        });
        let value = json!({
            "a/b": "x",
            "m~n": 1,
            "lines": [{"sku": "A", "quantity": 1}, {"sku": "a", "quantity": 1}],
        });
        let found = violations(&TRICKY, value);
        assert_eq!(
            found,
            [
                pair("/a~1b", "expected an integer"),
                pair("/m~0n", "expected a string"),
                pair("/lines/1/sku", "must match the pattern ^[A-Z]+$"),
            ]
        );
    }

    /// Either member reads the whole subtree before the first can fail on `extra`, so each
    /// level doubles the work.
    static NODE: Schema = Schema::AnyOf(&[&EXTRA_NODE, &PLAIN_NODE]);

    static EXTRA_NODE: Schema = Schema::Object(Record {
        properties: &[
            Property::optional("child", &NODE),
            Property::required("extra", &STRING),
        ],
        additional: Additional::Allow,
    });

    static PLAIN_NODE: Schema = Schema::Object(Record {
        properties: &[Property::optional("child", &NODE)],
        additional: Additional::Allow,
    });

    #[test]
    fn recursive_unions_are_checked_within_a_budget() {
        let nested = |depth: usize| {
            let text = r#"{"child":"#.repeat(depth) + "{}" + &"}".repeat(depth);
            serde_json::from_str::<Value>(&text).expect("JSON")
        };
        assert_valid(&NODE, nested(8));
        // 2^100 checks without a budget.
        let deep = nested(100);
        let mut out = Violations::new();
        out.afford(deep.to_string().len());
        validate(&NODE, &deep, Location::Body, &Pointer::Root, &mut out);
        assert!(out.exhausted);
        let found: Vec<_> = out.listed.iter().map(|v| v.detail.as_str()).collect();
        assert_eq!(found, [TOO_COSTLY]);
    }

    #[test]
    fn items_past_max_items_are_not_checked() {
        static FEW: Schema = Schema::Array(List {
            items: &INTEGER,
            max_items: Some(2),
            ..List::ANY
        });
        assert_invalid(&FEW, json!(["a", "b", "c"]), "must have at most 2 items");
        let many = Schema::Map(Dict {
            values: &INTEGER,
            max_properties: Some(1),
            ..Dict::ANY
        });
        assert_invalid(
            &many,
            json!({"a": "x", "b": "y"}),
            "must have at most 1 properties",
        );
    }
}
