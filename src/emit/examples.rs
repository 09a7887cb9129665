//! Example values that satisfy a schema, for the README's curl lines and the
//! generated tests. The spec's own `example` wins when it has one.

use chrono::{NaiveDate, TimeZone};
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{json, Map, Value};

use crate::model::{Additional, Api, Shape, StrFormat, Ty, TypeKind};

/// The most items an example array gets: more than this `minItems` asks for
/// cannot be built, and [`fitting_example`] gives none.
const MAX_ITEMS: usize = 1024;
/// The longest example string, likewise for `minLength`.
const MAX_LENGTH: usize = 65_536;
/// What one example may hold: a value costs one, and a string one more
/// for every 64 characters, so that arrays of arrays of long strings with
/// large `minItems` stay small.
const MAX_VALUES: usize = 1024;

/// An example value of `shape`; `request` leaves out read-only fields.
pub fn example(api: &Api, shape: &Shape, request: bool) -> Value {
    let mut left = MAX_VALUES;
    build(api, shape, request, 0, &mut left)
}

/// An example of `shape` that its own validation accepts, or none when the
/// schema's bounds (a large `minItems`, a `minLength` beside a `pattern`, ...)
/// ask for more than an example is allowed to hold: a test built on a value
/// the service refuses would fail for the generator's sake, not the service's.
pub fn fitting_example(api: &Api, shape: &Shape, request: bool) -> Option<Value> {
    let value = example(api, shape, request);
    satisfies(api, shape, &value, 0).then_some(value)
}

/// Whether `value` keeps the rules of `shape` (lengths, counts, ranges, patterns),
/// as the generated validation checks them. Types themselves are the builder's.
fn satisfies(api: &Api, shape: &Shape, value: &Value, depth: usize) -> bool {
    if depth > 16 {
        return true;
    }
    if value.is_null() {
        return shape.nullable || shape.ty == Ty::Any || matches!(shape.ty, Ty::Ref(_));
    }
    let r = &shape.rules;
    if !r.enumeration.is_empty() && !r.enumeration.contains(value) {
        return false;
    }
    if let Some(n) = value.as_f64() {
        let below = r
            .minimum
            .is_some_and(|m| n < m || r.exclusive_minimum && n == m);
        let above = r
            .maximum
            .is_some_and(|m| n > m || r.exclusive_maximum && n == m);
        let off = r
            .multiple_of
            .is_some_and(|m| m > 0.0 && ((n / m) - (n / m).round()).abs() > 1e-9);
        if below || above || off {
            return false;
        }
    }
    if let Some(text) = value.as_str() {
        let len = text.chars().count();
        if r.min_length.is_some_and(|m| len < m) || r.max_length.is_some_and(|m| len > m) {
            return false;
        }
        if let Some(p) = &r.pattern {
            if !regex::Regex::new(p).is_ok_and(|re| re.is_match(text)) {
                return false;
            }
        }
    }
    if let Some(items) = value.as_array() {
        if r.min_items.is_some_and(|m| items.len() < m)
            || r.max_items.is_some_and(|m| items.len() > m)
        {
            return false;
        }
    }
    if let Some(map) = value.as_object() {
        if r.min_properties.is_some_and(|m| map.len() < m)
            || r.max_properties.is_some_and(|m| map.len() > m)
        {
            return false;
        }
    }
    match (&shape.ty, value) {
        (Ty::Array(inner), Value::Array(items)) => {
            items.iter().all(|v| satisfies(api, inner, v, depth + 1))
        }
        (Ty::Map(inner), Value::Object(map)) => {
            map.values().all(|v| satisfies(api, inner, v, depth + 1))
        }
        (Ty::Ref(id), _) => match &api.types.get(*id).kind {
            TypeKind::Alias(inner) => satisfies(api, inner, value, depth + 1),
            TypeKind::Union(u) => u
                .variants
                .iter()
                .any(|v| satisfies(api, &v.shape, value, depth + 1)),
            TypeKind::Struct(s) => {
                let Value::Object(map) = value else {
                    return true;
                };
                s.fields.iter().all(|f| match map.get(&f.name) {
                    Some(v) => satisfies(api, &f.shape, v, depth + 1),
                    None => true,
                })
            }
            TypeKind::Enum(_) => true,
        },
        _ => true,
    }
}

/// An example request body of `shape` as JSON text.
pub fn example_body(api: &Api, shape: &Shape) -> String {
    example(api, shape, true).to_string()
}

fn build(api: &Api, shape: &Shape, request: bool, depth: usize, left: &mut usize) -> Value {
    if depth > 6 || *left == 0 {
        return Value::Null;
    }
    *left -= 1;
    let r = &shape.rules;
    match &shape.ty {
        Ty::Any => json!({}),
        Ty::Bool => json!(true),
        Ty::Integer(_) => {
            if let Some(v) = r.enumeration.first() {
                return v.clone();
            }
            let mut n = r
                .minimum
                .map(|m| {
                    if r.exclusive_minimum {
                        m.floor() + 1.0
                    } else {
                        m.ceil()
                    }
                })
                .unwrap_or(1.0);
            if let Some(m) = r.multiple_of.filter(|m| *m >= 1.0) {
                n = (n / m).ceil() * m;
            }
            if let Some(max) = r.maximum {
                if n > max {
                    n = max;
                }
            }
            json!(n as i64)
        }
        Ty::Number(_) => {
            if let Some(v) = r.enumeration.first() {
                return v.clone();
            }
            let mut n = match (r.minimum, r.maximum) {
                (Some(lo), Some(hi)) => (lo + hi) / 2.0,
                (Some(lo), None) => lo + 1.5,
                (None, Some(hi)) => hi - 1.5,
                (None, None) => 9.99,
            };
            if let Some(m) = r.multiple_of {
                n = (n / m).round() * m;
            }
            json!(n)
        }
        Ty::String(f) => {
            let s = string(f, r);
            *left = left.saturating_sub(s.len() / 64);
            Value::String(s)
        }
        Ty::Array(items) => {
            let count = r
                .min_items
                .unwrap_or(1)
                .max(1)
                .min(r.max_items.unwrap_or(usize::MAX))
                .min(MAX_ITEMS);
            let mut values: Vec<Value> = Vec::new();
            for i in 0..count {
                if *left == 0 {
                    break;
                }
                let mut v = build(api, items, request, depth + 1, left);
                if r.unique_items && values.contains(&v) {
                    if let Value::String(s) = &mut v {
                        s.push_str(&i.to_string());
                    }
                }
                values.push(v);
            }
            Value::Array(values)
        }
        Ty::Map(values) => {
            let mut map = Map::new();
            for i in 0..r.min_properties.unwrap_or(1).clamp(1, MAX_ITEMS) {
                if *left == 0 {
                    break;
                }
                let key = if i == 0 {
                    "key".to_string()
                } else {
                    format!("key{i}")
                };
                map.insert(key, build(api, values, request, depth + 1, left));
            }
            Value::Object(map)
        }
        Ty::Ref(id) => {
            let def = api.types.get(*id);
            if let Some(example) = &def.example {
                return example.clone();
            }
            match &def.kind {
                TypeKind::Enum(e) => e
                    .values
                    .first()
                    .map(|v| v.value.clone())
                    .unwrap_or(Value::Null),
                TypeKind::Alias(inner) => build(api, inner, request, depth + 1, left),
                TypeKind::Union(u) => u
                    .variants
                    .first()
                    .map(|v| build(api, &v.shape, request, depth + 1, left))
                    .unwrap_or(Value::Null),
                TypeKind::Struct(s) => {
                    let mut map = Map::new();
                    for f in &s.fields {
                        if request && f.read_only || !request && f.write_only {
                            continue;
                        }
                        // Optional fields are shown too: they document the shape, and
                        // recursion is bounded by depth.
                        if !f.required && depth > 1 {
                            continue;
                        }
                        let v = build(api, &f.shape, request, depth + 1, left);
                        if v.is_null() && !f.shape.nullable && !f.required {
                            continue;
                        }
                        map.insert(f.name.clone(), v);
                    }
                    if let Additional::Typed(_) = s.additional {
                        // Extra properties are optional: leave them out.
                    }
                    Value::Object(map)
                }
            }
        }
    }
}

fn string(f: &StrFormat, r: &crate::model::Rules) -> String {
    let base = match f {
        StrFormat::DateTime => chrono::Utc
            .with_ymd_and_hms(2024, 1, 2, 3, 4, 5)
            .single()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default(),
        StrFormat::Date => NaiveDate::from_ymd_opt(2024, 1, 2)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        StrFormat::Uuid => "3fa85f64-5717-4562-b3fc-2c963f66afa6".into(),
        StrFormat::Email => "user@example.com".into(),
        StrFormat::Uri => "https://example.com/".into(),
        StrFormat::Byte => "aGVsbG8=".into(),
        StrFormat::Ipv4 => "192.0.2.1".into(),
        StrFormat::Ipv6 => "2001:db8::1".into(),
        _ => match &r.pattern {
            Some(p) => from_pattern(p).unwrap_or_else(|| "example".into()),
            None => "example".into(),
        },
    };
    let len = base.chars().count();
    if let Some(min) = r.min_length {
        if len < min && r.pattern.is_none() {
            return format!(
                "{base}{}",
                "x".repeat(min.min(MAX_LENGTH).saturating_sub(len))
            );
        }
    }
    if let Some(max) = r.max_length {
        if len > max && r.pattern.is_none() {
            return base.chars().take(max.max(1)).collect();
        }
    }
    base
}

/// The shortest-ish string a pattern matches, checked with the regex crate.
pub fn from_pattern(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut out = String::new();
    walk(&hir, &mut out);
    regex::Regex::new(pattern)
        .ok()?
        .is_match(&out)
        .then_some(out)
}

fn walk(hir: &Hir, out: &mut String) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(l) => out.push_str(&String::from_utf8_lossy(&l.0)),
        HirKind::Class(Class::Unicode(c)) => {
            let preferred = ['a', 'A', '0', 'x'];
            let pick = preferred
                .into_iter()
                .find(|ch| {
                    c.ranges()
                        .iter()
                        .any(|r| r.start() <= *ch && *ch <= r.end())
                })
                .or_else(|| {
                    c.ranges()
                        .iter()
                        .map(|r| r.start())
                        .find(|ch| !ch.is_control())
                });
            if let Some(ch) = pick {
                out.push(ch);
            }
        }
        HirKind::Class(Class::Bytes(c)) => {
            if let Some(r) = c.ranges().first() {
                out.push(char::from(r.start()));
            }
        }
        HirKind::Repetition(rep) => {
            for _ in 0..rep
                .min
                .max(u32::from(rep.min == 0 && rep.max.is_none()))
                .min(64)
            {
                walk(&rep.sub, out);
            }
        }
        HirKind::Capture(c) => walk(&c.sub, out),
        HirKind::Concat(parts) => parts.iter().for_each(|p| walk(p, out)),
        HirKind::Alternation(alts) => {
            if let Some(first) = alts.first() {
                walk(first, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_give_matching_strings() {
        for p in [
            "^[A-Z]{3}-\\d{4}$",
            "^[0-7][0-9A-HJKMNP-TV-Z]{25}$",
            "^\\+?[0-9 ]{7,20}$",
            "a|b",
        ] {
            let s = from_pattern(p).expect(p);
            assert!(regex::Regex::new(p).unwrap().is_match(&s), "{p} -> {s}");
        }
    }
}

#[cfg(test)]
mod bound_tests {
    use std::path::Path;

    use super::*;
    use crate::model::Ty;

    /// An example of the component `Thing`, when one fits.
    fn fitting(schema: &str) -> Option<Value> {
        let text = format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n    Thing: {schema}\n"
        );
        let spec = crate::load::parse(Path::new("t.yaml"), text).expect("parses");
        let api = crate::model::build(&spec, None).expect("builds");
        let id = api
            .types
            .ids()
            .find(|id| api.types.get(*id).name == "Thing")
            .unwrap();
        fitting_example(&api, &Shape::new(Ty::Ref(id)), true)
    }

    #[test]
    fn examples_reach_their_lower_bounds() {
        let v = fitting("{type: array, minItems: 100, items: {type: string}}").expect("fits");
        assert_eq!(v.as_array().unwrap().len(), 100);
        let v = fitting("{type: string, minLength: 2000}").expect("fits");
        assert_eq!(v.as_str().unwrap().len(), 2000);
        let v = fitting("{type: object, required: [m], properties: {m: {type: object, minProperties: 3, additionalProperties: {type: integer}}}}")
            .expect("fits");
        assert_eq!(v["m"].as_object().unwrap().len(), 3);
        let v = fitting("{type: integer, minimum: 1, multipleOf: 7}").expect("fits");
        assert_eq!(v, json!(7));
        let v = fitting(
            "{type: array, minItems: 70, items: {type: integer, minimum: 3, multipleOf: 5}}",
        )
        .expect("fits");
        assert_eq!(v[69], json!(5));
    }

    #[test]
    fn no_example_when_none_fits_within_bounds() {
        assert_eq!(
            fitting("{type: array, minItems: 100000, items: {type: string}}"),
            None
        );
        assert_eq!(fitting("{type: string, minLength: 100000}"), None);
        // A pattern wins over minLength when the example is built.
        assert_eq!(
            fitting("{type: string, pattern: '^a+$', minLength: 5}"),
            None
        );
        assert_eq!(
            fitting("{type: array, minItems: 40, items: {type: array, minItems: 40, items: {type: string}}}"),
            None
        );
    }
}
