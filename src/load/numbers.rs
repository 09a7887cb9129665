//! Numbers that do not fit 64 bits. JSON and YAML allow any number, and real
//! specs write bounds such as `minimum: -9223372036854776000` (a 64-bit limit
//! as JavaScript prints it). Neither parser's value type holds them, so each
//! is carried as a marked string until it has a pointer, then read as the
//! nearest double, with a warning where that changes the number.
//!
//! Then each schema's numeric keywords are made to fit the typed parser's
//! fields (sizes as `u64`, an integer schema's bounds as `i64`).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Number, Value};

use crate::diagnostic::Diagnostic;
use crate::json_pointer::escape_segment;

/// Prefix of a string that stands for a number literal too wide to hold.
const MARK: &str = "\u{0}apigen-wide-number:";

/// At most this many precision warnings one by one; the rest are counted.
const SHOWN: usize = 5;

/// The JSON text with every number that does not fit 64 bits (or a double)
/// quoted and marked, so that serde_json reads it rather than failing on
/// `1e400` or rounding `18446744073709551616` silently. `None` when there is
/// none, which is nearly always.
pub fn mark_wide_json(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                if is_wide(literal) {
                    let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
                    out.push_str(&text[copied..start]);
                    out.push('"');
                    out.push_str(&MARK.replace('\u{0}', "\\u0000"));
                    out.push_str(literal);
                    out.push('"');
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    out.map(|mut out| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Whether a number literal loses more than ordinary rounding as a JSON
/// value: an integer beyond 64 bits, or a real beyond a double's range.
fn is_wide(literal: &str) -> bool {
    if literal.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err();
    }
    match literal.parse::<f64>() {
        Ok(f) => {
            !f.is_finite()
                || (f == 0.0
                    && literal.bytes().any(|b| (b'1'..=b'9').contains(&b))
                    && !has_zero_mantissa(literal))
        }
        Err(_) => false,
    }
}

/// `0e5000` is zero, not an underflow.
fn has_zero_mantissa(literal: &str) -> bool {
    let mantissa = literal.split(['e', 'E']).next().unwrap_or(literal);
    mantissa
        .bytes()
        .all(|b| matches!(b, b'0' | b'.' | b'-' | b'+'))
}

/// The double nearest to a literal, kept finite.
fn nearest(literal: &str) -> f64 {
    match literal.parse::<f64>() {
        Ok(f) if f.is_finite() => f,
        Ok(f) if f > 0.0 => f64::MAX,
        Ok(_) => f64::MIN,
        Err(_) => 0.0,
    }
}

/// Replaces every marked string with the nearest double and warns at each,
/// the first few one by one and the rest in one count.
pub fn unmark(value: &mut Value, diagnostics: &mut Vec<Diagnostic>) {
    let mut found = Vec::new();
    walk(value, &mut String::new(), &mut found);
    let total = found.len();
    for (i, (at, literal, read)) in found.into_iter().enumerate() {
        if i == SHOWN {
            diagnostics.push(
                Diagnostic::warning(at, format!("{} more numbers do not fit in 64 bits and are read as the nearest double, from here on", total - SHOWN))
                    .help("the numbers keep their place and roughly their value; write them within the 64-bit range to keep them exact"),
            );
            break;
        }
        diagnostics.push(
            Diagnostic::warning(at, format!("`{literal}` does not fit in 64 bits; apigen reads it as {read}"))
                .help("write a number within the 64-bit range (an int64 holds -9223372036854775808 to 9223372036854775807), or leave the keyword out if it means \"no limit\""),
        );
    }
}

fn walk(value: &mut Value, at: &mut String, found: &mut Vec<(String, String, String)>) {
    match value {
        Value::String(s) => {
            if let Some(literal) = s.strip_prefix(MARK) {
                let f = nearest(literal);
                let read = Number::from_f64(f).map_or_else(|| "0".to_string(), |n| n.to_string());
                found.push((at.clone(), literal.to_string(), read));
                *value = Number::from_f64(f).map_or(Value::from(0), Value::Number);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                walk(item, at, found);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = at.len();
                at.push('/');
                at.push_str(&escape_segment(key));
                walk(item, at, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// A YAML document as serde_norway reads it, with integers beyond 64 bits
/// marked rather than refused (its own `Value` has no room for them).
pub enum Yaml {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Sequence(Vec<Yaml>),
    Mapping(Vec<(Yaml, Yaml)>),
}

impl Yaml {
    fn marked(n: impl std::fmt::Display) -> Yaml {
        Yaml::String(format!("{MARK}{n}"))
    }
}

/// Whether a string stands for a wide number (only then is a document walked for them).
pub fn is_marked(s: &str) -> bool {
    s.starts_with(MARK)
}

impl<'de> de::Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(YamlVisitor)
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Yaml, E> {
        Ok(Yaml::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Yaml, E> {
        Ok(Yaml::Number(n.into()))
    }
    fn visit_i128<E>(self, n: i128) -> Result<Yaml, E> {
        Ok(Yaml::marked(n))
    }
    fn visit_u128<E>(self, n: u128) -> Result<Yaml, E> {
        Ok(Yaml::marked(n))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Yaml, E> {
        // serde_norway reads `.nan` and `.inf` as floats; JSON has no such number.
        Ok(Number::from_f64(f).map_or(Yaml::Null, Yaml::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Yaml, E> {
        Ok(Yaml::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Yaml, E> {
        Ok(Yaml::String(s))
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Yaml::Sequence(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut entries: Vec<(Yaml, Yaml)> = Vec::new();
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<Yaml>()? {
            // YAML forbids a key twice; a second one would silently win.
            let text = match &key {
                Yaml::String(s) => Some(format!("{s:?}")),
                Yaml::Number(n) => Some(n.to_string()),
                Yaml::Bool(b) => Some(format!("`{b}`")),
                _ => None,
            };
            if let Some(text) = text {
                if !keys.insert(text.clone()) {
                    return Err(de::Error::custom(format_args!(
                        "duplicate entry with key {text}"
                    )));
                }
            }
            entries.push((key, map.next_value()?));
        }
        Ok(Yaml::Mapping(entries))
    }
    /// A tagged value (`!include x`): the tag means nothing to OpenAPI, the
    /// value is kept.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Yaml, A::Error> {
        use de::VariantAccess;
        let (_, variant): (String, _) = data.variant()?;
        variant.newtype_variant()
    }
}

/// Keywords the typed parser reads as unsigned sizes.
const SIZES: [&str; 6] = [
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
];

/// Makes numeric keywords fit the typed parser: sizes as unsigned integers,
/// an integer schema's bounds as 64-bit integers. A bound no 64-bit integer
/// can reach says nothing about a 64-bit field and goes; a fractional one is
/// rounded inward, which means the same for integers.
pub fn fit_numbers(s: &mut Map<String, Value>, at: &str, diagnostics: &mut Vec<Diagnostic>) {
    for key in SIZES {
        let Some(Value::Number(n)) = s.get(key) else {
            continue;
        };
        if n.is_u64() {
            continue;
        }
        let f = n.as_f64().unwrap_or(0.0);
        let size = if key.starts_with("min") {
            f.ceil()
        } else {
            f.floor()
        };
        // `as` saturates: a size beyond u64 is as good as no limit.
        s.insert(key.to_string(), json!(size.max(0.0) as u64));
    }
    let integer = match s.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => {
            ts.iter().any(|t| t == "integer") && ts.iter().all(|t| t == "integer" || t == "null")
        }
        _ => false,
    };
    if !integer {
        return;
    }
    const LOW: f64 = -9_223_372_036_854_775_808.0;
    for (key, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        let Some(Value::Number(n)) = s.get(key) else {
            continue;
        };
        if n.is_i64() {
            continue;
        }
        let f = n.as_f64().unwrap_or(0.0);
        let lower = key == "minimum";
        let whole = if lower { f.ceil() } else { f.floor() };
        if (LOW..-LOW).contains(&whole) {
            // `> 2.5` is `>= 3` for integers.
            if whole != f {
                s.remove(exclusive);
            }
            s.insert(key.to_string(), json!(whole as i64));
        } else {
            s.remove(key);
            s.remove(exclusive);
            let unreachable = (lower && whole >= -LOW) || (!lower && whole < LOW);
            if unreachable {
                diagnostics.push(
                    Diagnostic::warning(format!("{at}/{key}"), format!("no 64-bit integer meets `{key}: {f}`; it is not checked"))
                        .help("an integer field is an i64 (or the type its `format` names); write a bound within its range"),
                );
            }
        }
    }
    if let Some(Value::Number(n)) = s.get("multipleOf") {
        if !n.is_i64() {
            // Every integer is a multiple of 0.5; other fractions have no
            // integer rule the service checks.
            s.remove("multipleOf");
        }
    }
}

/// 3.1 writes an exclusive bound as a number, 3.0 as a flag on the bound;
/// with both written, the stricter one holds. Done for 3.0 documents too,
/// where the number form is a common slip.
pub fn numeric_exclusive(s: &mut Map<String, Value>) {
    for (bound, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        let Some(n) = s.get(exclusive).and_then(Value::as_f64) else {
            continue;
        };
        let lower = bound == "minimum";
        let stricter = match s.get(bound).and_then(Value::as_f64) {
            Some(b) => (lower && n >= b) || (!lower && n <= b),
            None => true,
        };
        if stricter {
            let n = s[exclusive].clone();
            s.insert(bound.into(), n);
            s.insert(exclusive.into(), json!(true));
        } else {
            s.remove(exclusive);
        }
    }
}

/// A YAML plain `1e400` arrives as text (serde_norway reads no infinite
/// number); as a bound it means "no limit".
pub fn numbers_from_text(s: &mut Map<String, Value>, at: &str, diagnostics: &mut Vec<Diagnostic>) {
    for key in SIZES.iter().chain(&[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ]) {
        if let Some(Value::String(text)) = s.get(*key) {
            if let Ok(f) = text.trim().parse::<f64>() {
                let f = f.clamp(f64::MIN, f64::MAX);
                let read =
                    serde_json::Number::from_f64(f).map_or_else(|| "0".into(), |n| n.to_string());
                diagnostics.push(
                    Diagnostic::warning(
                        format!("{at}/{key}"),
                        format!("`{key}` is text; apigen reads it as the number {read}"),
                    )
                    .help("write the number without quotes, within the 64-bit range"),
                );
                s.insert((*key).to_string(), json!(f));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_literals() {
        for wide in [
            "-9223372036854776000",
            "18446744073709551616",
            "1e400",
            "-1E+400",
            "1e-400",
        ] {
            assert!(is_wide(wide), "{wide}");
        }
        for narrow in [
            "-9223372036854775808",
            "18446744073709551615",
            "0.1",
            "1e300",
            "0e-400",
            "0",
            "-0.0",
        ] {
            assert!(!is_wide(narrow), "{narrow}");
        }
    }

    #[test]
    fn json_marks_only_numbers_outside_strings() {
        let text = r#"{"a": "1e400", "b": [1e400, 2], "c\"": -18446744073709551616}"#;
        let marked = mark_wide_json(text).expect("two wide numbers");
        let mut value: Value = serde_json::from_str(&marked).expect("valid JSON");
        assert_eq!(value["a"], "1e400");
        let mut warnings = Vec::new();
        unmark(&mut value, &mut warnings);
        assert_eq!(value["b"][0], serde_json::json!(f64::MAX));
        assert_eq!(value["c\""], serde_json::json!(-18446744073709551616.0));
        let pointers: Vec<&str> = warnings.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/b/0", "/c\""]);
        assert!(mark_wide_json(r#"{"a": 1.5e10, "b": -3}"#).is_none());
    }

    #[test]
    fn many_wide_numbers_give_few_warnings() {
        let items: Vec<String> = (0..40).map(|_| "1e999".to_string()).collect();
        let text = format!("[{}]", items.join(","));
        let mut value: Value = serde_json::from_str(&mark_wide_json(&text).unwrap()).unwrap();
        let mut warnings = Vec::new();
        unmark(&mut value, &mut warnings);
        assert_eq!(warnings.len(), SHOWN + 1);
        assert!(warnings[SHOWN].message.starts_with("35 more"));
    }
}
