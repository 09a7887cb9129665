//! Key rendering: templates to key attribute values, and query ranges to sort-key conditions.

use std::cmp::Ordering;
use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::order::compare;
use super::{EntityDef, KeyAttr, KeyDef, KeyKind, Part, Range, RangeOp, StoreError, Template};

/// What is known about a field while rendering a template.
pub(super) enum Lookup<'a> {
    Value(&'a Value),
    /// Known to be absent (or null).
    Absent,
    /// Not known without reading the stored item.
    Unknown,
}

impl<'a> Lookup<'a> {
    /// Looks `field` up in a map that holds every field there is.
    pub(super) fn known(fields: &'a Map<String, Value>, field: &str) -> Lookup<'a> {
        match fields.get(field) {
            None | Some(Value::Null) => Lookup::Absent,
            Some(value) => Lookup::Value(value),
        }
    }
}

/// The outcome of rendering a template.
pub(super) enum Rendered {
    Value(AttributeValue),
    /// A variable is absent: the attribute is not written (a sparse index).
    Absent(&'static str),
    /// A variable is unknown.
    Unknown,
}

/// The field names a template reads.
pub(super) fn variables(template: &Template) -> impl Iterator<Item = &'static str> {
    template.0.iter().filter_map(|part| match *part {
        Part::Lit(_) => None,
        Part::Str(field) | Part::Int(field) | Part::DateTime(field) => Some(field),
    })
}

/// Renders `template` for the key attribute `attr`.
pub(super) fn render<'a>(
    template: &Template,
    attr: &KeyAttr,
    lookup: impl Fn(&str) -> Lookup<'a>,
) -> Result<Rendered, StoreError> {
    let mut unknown = false;
    for field in variables(template) {
        match lookup(field) {
            // One absent variable decides alone, whatever the others are.
            Lookup::Absent => return Ok(Rendered::Absent(field)),
            Lookup::Unknown => unknown = true,
            Lookup::Value(_) => {}
        }
    }
    if unknown {
        return Ok(Rendered::Unknown);
    }
    let value = |field: &str| match lookup(field) {
        Lookup::Value(value) => value,
        Lookup::Absent | Lookup::Unknown => &Value::Null,
    };
    if attr.kind == KeyKind::N {
        // Only a lone integer can be a number attribute; anything else would not be one.
        return match template.0 {
            [Part::Int(field)] => Ok(Rendered::Value(AttributeValue::N(
                integer(field, value(field))?.to_string(),
            ))),
            _ => Err(StoreError::Invalid(format!(
                "the number key attribute `{}` needs a template that is one integer field",
                attr.name
            ))),
        };
    }
    let mut text = String::new();
    for (at, part) in template.0.iter().enumerate() {
        match *part {
            Part::Lit(lit) => text.push_str(lit),
            Part::Str(field) => {
                let part_text = string_text(field, value(field))?;
                // `USER#{owner}#{status}`: an owner `a#b` with status `c` would
                // name the partition of owner `a` with status `b#c`. A value
                // may not hold the literal that ends it.
                if let Some(Part::Lit(next)) = template.0.get(at + 1) {
                    if let Some(separator) = next.chars().next() {
                        if part_text.contains(separator) {
                            return Err(StoreError::Invalid(format!(
                                "`{field}` may not contain `{separator}`, which ends it in the key"
                            )));
                        }
                    }
                }
                text.push_str(&part_text);
            }
            Part::Int(field) => text.push_str(&sortable_int(integer(field, value(field))?)),
            Part::DateTime(field) => text.push_str(&date_time_text(field, value(field))?),
        }
    }
    if text.is_empty() {
        // DynamoDB rejects empty key values; say which attribute instead of failing later.
        return Err(StoreError::Invalid(format!(
            "the key attribute `{}` would be empty",
            attr.name
        )));
    }
    Ok(Rendered::Value(text_value(attr.kind, text)))
}

/// Renders a template every variable of which is required (a primary key).
fn render_required(
    template: &Template,
    attr: &KeyAttr,
    fields: &Map<String, Value>,
) -> Result<AttributeValue, StoreError> {
    match render(template, attr, |field| Lookup::known(fields, field))? {
        Rendered::Value(value) => Ok(value),
        Rendered::Absent(field) => Err(StoreError::Invalid(format!("missing key field {field}"))),
        // `Lookup::known` knows every field, so this does not happen.
        Rendered::Unknown => Err(StoreError::Invalid("missing key field".into())),
    }
}

/// Renders the partition key of `key` from `fields` (e.g. the values of a query).
pub(super) fn partition_value(
    attr: &KeyAttr,
    key: &KeyDef,
    fields: &Map<String, Value>,
) -> Result<AttributeValue, StoreError> {
    render_required(&key.pk, attr, fields)
}

/// The primary key attributes of an entity, from its fields.
pub(super) fn primary_key(
    def: &EntityDef,
    fields: &Map<String, Value>,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let table = def.table;
    let fields = super::item::transformed(def, fields);
    let fields = fields.as_ref();
    pairs(&table.pk, table.sk.as_ref(), &def.key, def.name)?
        .into_iter()
        .map(|(attr, template)| {
            Ok((
                attr.name.to_string(),
                render_required(template, attr, fields)?,
            ))
        })
        .collect()
}

/// The (attribute, template) pairs of a key, checking that the definitions agree on a sort key.
pub(super) fn pairs<'a>(
    pk: &'a KeyAttr,
    sk: Option<&'a KeyAttr>,
    key: &'a KeyDef,
    owner: &str,
) -> Result<Vec<(&'a KeyAttr, &'a Template)>, StoreError> {
    let mut pairs = vec![(pk, &key.pk)];
    match (sk, &key.sk) {
        (Some(attr), Some(template)) => pairs.push((attr, template)),
        (None, None) => {}
        _ => {
            return Err(StoreError::Invalid(format!(
                "the key of `{owner}` and its table or index disagree on having a sort key"
            )))
        }
    }
    Ok(pairs)
}

/// The (attribute, template) pairs of every index key an entity writes.
pub(super) fn index_pairs(def: &EntityDef) -> Result<Vec<(&KeyAttr, &Template)>, StoreError> {
    let mut all = Vec::new();
    for index in def.indexes {
        all.extend(pairs(
            &index.index.pk,
            index.index.sk.as_ref(),
            &index.key,
            def.name,
        )?);
    }
    Ok(all)
}

/// A string (or a number's decimal text) for a `Str` part or a unique value.
pub(super) fn string_text(field: &str, value: &Value) -> Result<String, StoreError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(StoreError::Invalid(format!(
            "`{field}` must be a string or a number"
        ))),
    }
}

fn integer(field: &str, value: &Value) -> Result<i64, StoreError> {
    // Parameters bound from a path may arrive as text.
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| StoreError::Invalid(format!("`{field}` must be an integer")))
}

/// An integer as text that sorts like the number: shifted by 2^63 into u64, zero-padded to 20.
pub(super) fn sortable_int(n: i64) -> String {
    // Flipping the sign bit is adding 2^63 without overflow.
    format!("{:020}", (n as u64) ^ (1 << 63))
}

/// RFC 3339 in UTC with exactly milliseconds, so that date-times sort as text.
pub(super) fn millis(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn date_time_text(field: &str, value: &Value) -> Result<String, StoreError> {
    value
        .as_str()
        .and_then(parse_date_time)
        .map(millis)
        .ok_or_else(|| StoreError::Invalid(format!("`{field}` must be an RFC 3339 date-time")))
}

/// Epoch seconds of an RFC 3339 date-time.
pub(super) fn epoch_seconds(text: &str) -> Option<i64> {
    parse_date_time(text).map(|t| t.timestamp())
}

/// Text as a key value of kind S or B (B holds the UTF-8 bytes, which sort the same way).
fn text_value(kind: KeyKind, text: String) -> AttributeValue {
    match kind {
        KeyKind::B => AttributeValue::B(Blob::new(text.into_bytes())),
        KeyKind::S | KeyKind::N => AttributeValue::S(text),
    }
}

/// A value for a string key attribute of kind `kind` (guard keys).
pub(super) fn string_key(kind: KeyKind, text: String) -> Result<AttributeValue, StoreError> {
    match kind {
        KeyKind::N => Err(StoreError::Invalid(
            "guard items need a string partition key".into(),
        )),
        KeyKind::S | KeyKind::B => Ok(text_value(kind, text)),
    }
}

/// The largest character: `P + MAX` is above every sort key that starts with `P` (except ones
/// continuing with this non-character, which keys never do).
const MAX: char = '\u{10FFFF}';

/// A condition on a sort key, evaluated by DynamoDB or by the memory backend.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SortCondition {
    BeginsWith(AttributeValue),
    Between(AttributeValue, AttributeValue),
    Compare(Comparison, AttributeValue),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl SortCondition {
    /// Whether a sort key value satisfies the condition (as DynamoDB would decide).
    pub(super) fn matches(&self, value: &AttributeValue) -> bool {
        match self {
            SortCondition::BeginsWith(prefix) => match (value, prefix) {
                (AttributeValue::S(v), AttributeValue::S(p)) => v.starts_with(p.as_str()),
                (AttributeValue::B(v), AttributeValue::B(p)) => v.as_ref().starts_with(p.as_ref()),
                _ => false,
            },
            SortCondition::Between(low, high) => {
                matches!(
                    compare(value, low),
                    Some(Ordering::Greater | Ordering::Equal)
                ) && matches!(compare(value, high), Some(Ordering::Less | Ordering::Equal))
            }
            SortCondition::Compare(op, bound) => match (op, compare(value, bound)) {
                (_, None) => false,
                (Comparison::Gt, Some(o)) => o == Ordering::Greater,
                (Comparison::Gte, Some(o)) => o != Ordering::Less,
                (Comparison::Lt, Some(o)) => o == Ordering::Less,
                (Comparison::Lte, Some(o)) => o != Ordering::Greater,
            },
        }
    }
}

/// What a query asks of the sort key.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SortPlan {
    /// Every sort key.
    Any,
    Condition(SortCondition),
    /// No sort key can match: the page is empty without asking the backend.
    Nothing,
}

/// The sort-key condition for a query range: only keys of this template's static prefix `P`,
/// and the key text from the first variable on compared with `v`.
pub(super) fn sort_plan(
    attr: Option<&KeyAttr>,
    template: Option<&Template>,
    range: Option<&Range>,
) -> Result<SortPlan, StoreError> {
    let (attr, template) = match (attr, template) {
        (Some(attr), Some(template)) => (attr, template),
        (None, None) if range.is_none() => return Ok(SortPlan::Any),
        (None, None) => {
            return Err(StoreError::Invalid(
                "this key has no sort key to compare with".into(),
            ))
        }
        _ => {
            return Err(StoreError::Invalid(
                "the key and its table or index disagree on having a sort key".into(),
            ))
        }
    };
    if attr.kind == KeyKind::N {
        return number_plan(range);
    }
    let prefix: String = template
        .0
        .iter()
        .map_while(|part| match part {
            Part::Lit(lit) => Some(*lit),
            _ => None,
        })
        .collect();
    let text = |s: String| text_value(attr.kind, s);
    let Some(range) = range else {
        return Ok(if prefix.is_empty() {
            SortPlan::Any
        } else {
            SortPlan::Condition(SortCondition::BeginsWith(text(prefix)))
        });
    };
    let first = template.0.iter().find(|part| !matches!(part, Part::Lit(_)));
    let Some(first) = first else {
        return Err(StoreError::Invalid(
            "the sort key has no variable to compare with".into(),
        ));
    };
    let (op, value) = match range.single() {
        Some(single) => single,
        None => return between_plan(&prefix, first, tail_follows(template), range, attr.kind),
    };
    let v = normalise(first, op, value);
    // When text follows the variable (`{createdAt}#{id}`), a key whose variable equals `v` is
    // longer than `P+v`: `v + MAX` sits above all of them, so `lte` keeps them and `gt` drops
    // them, and the range compares the variable's value, not the whole key.
    let tail = tail_follows(template);
    let above_equal = if tail {
        format!("{v}{MAX}")
    } else {
        format!("{v}\0")
    };
    let condition = match (op, prefix.is_empty()) {
        (RangeOp::BeginsWith, _) if prefix.is_empty() && v.is_empty() => return Ok(SortPlan::Any),
        (RangeOp::BeginsWith, _) => SortCondition::BeginsWith(text(prefix + &v)),
        // Every key starts with the empty prefix, so a plain comparison is exact.
        (RangeOp::Gt | RangeOp::Gte, true) if v.is_empty() => return Ok(SortPlan::Any),
        (RangeOp::Lt | RangeOp::Lte, true) if v.is_empty() => return Ok(SortPlan::Nothing),
        (RangeOp::Gt, true) if tail => SortCondition::Compare(Comparison::Gt, text(above_equal)),
        (RangeOp::Gt, true) => SortCondition::Compare(Comparison::Gt, text(v)),
        (RangeOp::Gte, true) => SortCondition::Compare(Comparison::Gte, text(v)),
        (RangeOp::Lt, true) => SortCondition::Compare(Comparison::Lt, text(v)),
        (RangeOp::Lte, true) if tail => SortCondition::Compare(Comparison::Lte, text(above_equal)),
        (RangeOp::Lte, true) => SortCondition::Compare(Comparison::Lte, text(v)),
        // A key condition allows one comparison only, so a prefix turns each op into a BETWEEN.
        // `v + "\0"` is the smallest text above `v`.
        (RangeOp::Gt, false) => between(&prefix, above_equal, MAX.to_string(), attr.kind),
        (RangeOp::Gte, false) => between(&prefix, v, MAX.to_string(), attr.kind),
        (RangeOp::Lte, false) if tail => between(&prefix, String::new(), above_equal, attr.kind),
        (RangeOp::Lte, false) => between(&prefix, String::new(), v, attr.kind),
        (RangeOp::Lt, false) => match just_below(&v) {
            Some(below) => between(&prefix, String::new(), below, attr.kind),
            None => return Ok(SortPlan::Nothing),
        },
    };
    // BETWEEN with its bounds reversed is an error in DynamoDB; it also matches nothing.
    if let SortCondition::Between(low, high) = &condition {
        if compare(low, high) == Some(Ordering::Greater) {
            return Ok(SortPlan::Nothing);
        }
    }
    Ok(SortPlan::Condition(condition))
}

/// Whether anything follows the template's first variable.
fn tail_follows(template: &Template) -> bool {
    template
        .0
        .iter()
        .skip_while(|part| matches!(part, Part::Lit(_)))
        .nth(1)
        .is_some()
}

/// `Range::Between(low, high)` on a text sort key: `P+low <= key <= P+high`, where `high` is
/// raised above every key whose variable equals it when text follows the variable.
fn between_plan(
    prefix: &str,
    first: &Part,
    tail: bool,
    range: &Range,
    kind: KeyKind,
) -> Result<SortPlan, StoreError> {
    let Range::Between(low, high) = range else {
        return Err(StoreError::Invalid("not a range between two values".into()));
    };
    let low = normalise(first, RangeOp::Gte, low);
    let mut high = normalise(first, RangeOp::Lte, high);
    if tail {
        high.push(MAX);
    }
    if prefix.is_empty() && high.is_empty() {
        // DynamoDB refuses an empty key value, and no key is at most "".
        return Ok(SortPlan::Nothing);
    }
    if prefix.is_empty() && low.is_empty() {
        // DynamoDB refuses an empty key value; every key is at least "".
        let condition = SortCondition::Compare(Comparison::Lte, text_value(kind, high));
        return Ok(SortPlan::Condition(condition));
    }
    let condition = between(prefix, low, high, kind);
    if let SortCondition::Between(low, high) = &condition {
        if compare(low, high) == Some(Ordering::Greater) {
            return Ok(SortPlan::Nothing);
        }
    }
    Ok(SortPlan::Condition(condition))
}

fn between(prefix: &str, low: String, high: String, kind: KeyKind) -> SortCondition {
    SortCondition::Between(
        text_value(kind, format!("{prefix}{low}")),
        text_value(kind, format!("{prefix}{high}")),
    )
}

/// The largest text (short of `MAX` continuations) that is below `v`; `None` when nothing is.
fn just_below(v: &str) -> Option<String> {
    let mut chars: Vec<char> = v.chars().collect();
    let last = chars.pop()?;
    let mut below: String = chars.into_iter().collect();
    if last == '\0' {
        // Nothing fits between `w` and `w + "\0"`.
        return Some(below);
    }
    let previous = match last as u32 - 1 {
        // Skip the surrogate gap, which holds no characters.
        0xDFFF => '\u{D7FF}',
        code => char::from_u32(code)?,
    };
    below.push(previous);
    below.push(MAX);
    Some(below)
}

/// Brings a range value to the form the first variable renders to, so that the text comparison
/// means what it says (`since=2024-01-01T00:00:00Z` against millisecond keys, integers shifted).
fn normalise(first: &Part, op: RangeOp, value: &str) -> String {
    match first {
        Part::DateTime(_) => parse_date_time(value).map(millis),
        // A prefix of an integer's digits means nothing once shifted; compare whole numbers only.
        Part::Int(_) if op != RangeOp::BeginsWith => value.parse().ok().map(sortable_int),
        _ => None,
    }
    .unwrap_or_else(|| value.to_string())
}

fn number_plan(range: Option<&Range>) -> Result<SortPlan, StoreError> {
    let Some(range) = range else {
        return Ok(SortPlan::Any);
    };
    let number = |value: &str| {
        value
            .parse::<i64>()
            .map_err(|_| StoreError::Invalid(format!("`{value}` is not an integer")))
    };
    let Some((op, value)) = range.single() else {
        let Range::Between(low, high) = range else {
            return Err(StoreError::Invalid("not a range between two values".into()));
        };
        let (low, high) = (number(low)?, number(high)?);
        if low > high {
            return Ok(SortPlan::Nothing);
        }
        return Ok(SortPlan::Condition(SortCondition::Between(
            AttributeValue::N(low.to_string()),
            AttributeValue::N(high.to_string()),
        )));
    };
    let op = match op {
        RangeOp::Gt => Comparison::Gt,
        RangeOp::Gte => Comparison::Gte,
        RangeOp::Lt => Comparison::Lt,
        RangeOp::Lte => Comparison::Lte,
        RangeOp::BeginsWith => {
            return Err(StoreError::Invalid(
                "a number sort key has no prefix to match".into(),
            ))
        }
    };
    let n = number(value)?;
    Ok(SortPlan::Condition(SortCondition::Compare(
        op,
        AttributeValue::N(n.to_string()),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S: KeyAttr = KeyAttr {
        name: "SK",
        kind: KeyKind::S,
    };
    const N: KeyAttr = KeyAttr {
        name: "SK",
        kind: KeyKind::N,
    };

    fn render_map(template: &Template, attr: &KeyAttr, fields: Value) -> Rendered {
        let Value::Object(fields) = fields else {
            panic!("not an object")
        };
        render(template, attr, |f| Lookup::known(&fields, f)).unwrap()
    }

    fn text(rendered: Rendered) -> String {
        match rendered {
            Rendered::Value(AttributeValue::S(s)) => s,
            _ => panic!("not a string value"),
        }
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn renders_literals_strings_numbers_integers_and_date_times() {
        static T: Template = Template(&[
            Part::Lit("ORDER#"),
            Part::Str("id"),
            Part::Lit("#"),
            Part::Int("n"),
            Part::Lit("#"),
            Part::DateTime("at"),
        ]);
        let fields = json!({"id": 42, "n": 5, "at": "2024-03-01T12:30:00+02:00"});
        assert_eq!(
            text(render_map(&T, &S, fields)),
            "ORDER#42#09223372036854775813#2024-03-01T10:30:00.000Z"
        );
        assert_eq!(sortable_int(0), "09223372036854775808");
        assert_eq!(sortable_int(-1), "09223372036854775807");
        assert_eq!(sortable_int(i64::MIN), "00000000000000000000");
        assert_eq!(sortable_int(i64::MAX), "18446744073709551615");
        let mut ints = [-300, 7, -2, 0, 1_000_000, i64::MIN, i64::MAX];
        let mut texts: Vec<String> = ints.iter().map(|&i| sortable_int(i)).collect();
        ints.sort();
        texts.sort();
        assert_eq!(
            texts,
            ints.iter().map(|&i| sortable_int(i)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_value_cannot_hold_the_separator_that_ends_it() {
        static T: Template = Template(&[
            Part::Lit("USER#"),
            Part::Str("owner"),
            Part::Lit("#"),
            Part::Str("status"),
        ]);
        let (owner, status) = (json!("alice#open"), json!("x"));
        let forged = render(&T, &S, |f| match f {
            "owner" => Lookup::Value(&owner),
            _ => Lookup::Value(&status),
        });
        assert!(matches!(forged, Err(StoreError::Invalid(m)) if m.contains("`owner`")));
        // The last variable ends the key: nothing follows it to confuse.
        let last = render_map(&T, &S, json!({"owner": "alice", "status": "open#x"}));
        assert_eq!(text(last), "USER#alice#open#x");
    }

    #[test]
    fn date_times_get_exactly_milliseconds_in_utc() {
        static T: Template = Template(&[Part::DateTime("at")]);
        for (input, want) in [
            ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z"),
            ("2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123Z"),
            ("2023-12-31T23:00:00.5-01:00", "2024-01-01T00:00:00.500Z"),
        ] {
            assert_eq!(text(render_map(&T, &S, json!({ "at": input }))), want);
        }
        let bad = render(&T, &S, |_| Lookup::Value(&Value::Null));
        assert!(matches!(bad, Err(StoreError::Invalid(_))));
        let fields = json!({"at": "yesterday"});
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        assert!(render(&T, &S, |f| Lookup::known(&fields, f)).is_err());
    }

    #[test]
    fn a_lone_integer_renders_as_a_number_attribute() {
        static T: Template = Template(&[Part::Int("n")]);
        let Rendered::Value(value) = render_map(&T, &N, json!({"n": -7})) else {
            panic!()
        };
        assert_eq!(value, AttributeValue::N("-7".into()));
        static MIXED: Template = Template(&[Part::Lit("A"), Part::Int("n")]);
        assert!(render(&MIXED, &N, |_| Lookup::Value(&Value::Null)).is_err());
    }

    #[test]
    fn absent_wins_over_unknown_and_empty_keys_are_refused() {
        static T: Template = Template(&[Part::Str("a"), Part::Str("b")]);
        let a = json!("x");
        let absent_b = render(&T, &S, |f| {
            if f == "a" {
                Lookup::Unknown
            } else {
                Lookup::Absent
            }
        });
        assert!(matches!(absent_b, Ok(Rendered::Absent("b"))));
        let unknown = render(&T, &S, |f| {
            if f == "a" {
                Lookup::Value(&a)
            } else {
                Lookup::Unknown
            }
        });
        assert!(matches!(unknown, Ok(Rendered::Unknown)));
        let empty = json!("");
        assert!(render(&T, &S, |_| Lookup::Value(&empty)).is_err());
        let object = json!({});
        assert!(render(&T, &S, |_| Lookup::Value(&object)).is_err());
    }

    fn plan(template: &'static Template, op: RangeOp, v: &str) -> SortPlan {
        let v = v.to_string();
        let range = match op {
            RangeOp::Gt => Range::Gt(v),
            RangeOp::Gte => Range::Gte(v),
            RangeOp::Lt => Range::Lt(v),
            RangeOp::Lte => Range::Lte(v),
            RangeOp::BeginsWith => Range::BeginsWith(v),
        };
        sort_plan(Some(&S), Some(template), Some(&range)).unwrap()
    }

    #[test]
    fn between_keeps_both_bounds_and_every_key_at_the_upper_one() {
        static TAIL: Template = Template(&[
            Part::Lit("ORDER#"),
            Part::DateTime("at"),
            Part::Lit("#"),
            Part::Str("id"),
        ]);
        let between = |low: &str, high: &str| {
            let range = Range::Between(low.to_string(), high.to_string());
            sort_plan(Some(&S), Some(&TAIL), Some(&range)).unwrap()
        };
        let high = format!("ORDER#2024-01-31T00:00:00.000Z{MAX}");
        assert_eq!(
            between("2024-01-01T00:00:00Z", "2024-01-31T00:00:00Z"),
            SortPlan::Condition(SortCondition::Between(
                s("ORDER#2024-01-01T00:00:00.000Z"),
                s(&high)
            ))
        );
        // A key whose date-time equals the upper bound is in; reversed bounds hold nothing.
        let SortPlan::Condition(c) = between("2024-01-01T00:00:00Z", "2024-01-31T00:00:00Z") else {
            panic!("not a condition")
        };
        assert!(c.matches(&s("ORDER#2024-01-31T00:00:00.000Z#01J")));
        assert!(!c.matches(&s("ORDER#2024-01-31T00:00:00.001Z#01J")));
        assert_eq!(
            between("2024-02-01T00:00:00Z", "2024-01-01T00:00:00Z"),
            SortPlan::Nothing
        );
        static NUMBER: Template = Template(&[Part::Int("n")]);
        let numbers = |low: &str, high: &str| {
            let range = Range::Between(low.to_string(), high.to_string());
            sort_plan(Some(&N), Some(&NUMBER), Some(&range))
        };
        assert_eq!(
            numbers("-2", "5").unwrap(),
            SortPlan::Condition(SortCondition::Between(
                AttributeValue::N("-2".into()),
                AttributeValue::N("5".into())
            ))
        );
        assert_eq!(numbers("5", "-2").unwrap(), SortPlan::Nothing);
        assert!(numbers("a", "5").is_err());
    }

    #[test]
    fn ranges_become_conditions_within_the_prefix() {
        static T: Template = Template(&[Part::Lit("ORDER#"), Part::DateTime("at")]);
        let max = MAX.to_string();
        let at = "2024-01-01T00:00:00.000Z";
        let cond = |c| SortPlan::Condition(c);
        assert_eq!(
            sort_plan(Some(&S), Some(&T), None).unwrap(),
            cond(SortCondition::BeginsWith(s("ORDER#")))
        );
        assert_eq!(
            plan(&T, RangeOp::Gte, "2024-01-01T00:00:00Z"),
            cond(SortCondition::Between(
                s(&format!("ORDER#{at}")),
                s(&format!("ORDER#{max}"))
            ))
        );
        assert_eq!(
            plan(&T, RangeOp::Gt, "2024-01-01T01:00:00+01:00"),
            cond(SortCondition::Between(
                s(&format!("ORDER#{at}\0")),
                s(&format!("ORDER#{max}"))
            ))
        );
        assert_eq!(
            plan(&T, RangeOp::Lte, at),
            cond(SortCondition::Between(
                s("ORDER#"),
                s(&format!("ORDER#{at}"))
            ))
        );
        assert_eq!(
            plan(&T, RangeOp::Lt, "2024"),
            cond(SortCondition::Between(
                s("ORDER#"),
                s(&format!("ORDER#2023{max}"))
            ))
        );
        assert_eq!(
            plan(&T, RangeOp::BeginsWith, "2024-"),
            cond(SortCondition::BeginsWith(s("ORDER#2024-")))
        );
        assert_eq!(plan(&T, RangeOp::Lt, ""), SortPlan::Nothing);

        static BARE: Template = Template(&[Part::Str("name")]);
        assert_eq!(
            plan(&BARE, RangeOp::Gt, "m"),
            cond(SortCondition::Compare(Comparison::Gt, s("m")))
        );
        assert_eq!(plan(&BARE, RangeOp::Lt, ""), SortPlan::Nothing);
        assert_eq!(plan(&BARE, RangeOp::Gte, ""), SortPlan::Any);

        static INT: Template = Template(&[Part::Lit("N#"), Part::Int("n")]);
        assert_eq!(
            plan(&INT, RangeOp::Lte, "5"),
            cond(SortCondition::Between(s("N#"), s("N#09223372036854775813")))
        );
    }

    #[test]
    fn conditions_match_like_dynamodb() {
        static T: Template = Template(&[Part::Lit("P#"), Part::Str("v")]);
        let check = |op, v: &str, key: &str| match plan(&T, op, v) {
            SortPlan::Condition(c) => c.matches(&s(key)),
            SortPlan::Any => true,
            SortPlan::Nothing => false,
        };
        assert!(check(RangeOp::Gt, "b", "P#ba"));
        assert!(!check(RangeOp::Gt, "b", "P#b"));
        assert!(!check(RangeOp::Gt, "b", "Q#z"));
        assert!(check(RangeOp::Gte, "b", "P#b"));
        assert!(check(RangeOp::Lt, "b", "P#a\u{FFFF}\u{FFFF}"));
        assert!(!check(RangeOp::Lt, "b", "P#b"));
        assert!(check(RangeOp::Lt, "b", "P#"));
        assert!(!check(RangeOp::Lt, "b", "O#z"));
        assert!(check(RangeOp::Lte, "b", "P#b"));
        assert!(!check(RangeOp::Lte, "b", "P#b\0"));
        assert!(check(RangeOp::BeginsWith, "b", "P#bcd"));
        assert!(!check(RangeOp::BeginsWith, "b", "P#ab"));

        // With text after the variable, the range compares the variable, not the whole key.
        static TAIL: Template = Template(&[
            Part::Lit("P#"),
            Part::Str("v"),
            Part::Lit("#"),
            Part::Str("id"),
        ]);
        let check = |op, v: &str, key: &str| match plan(&TAIL, op, v) {
            SortPlan::Condition(c) => c.matches(&s(key)),
            SortPlan::Any => true,
            SortPlan::Nothing => false,
        };
        assert!(check(RangeOp::Lte, "b", "P#b#1"));
        assert!(!check(RangeOp::Lte, "b", "P#c#1"));
        assert!(!check(RangeOp::Gt, "b", "P#b#1"));
        assert!(check(RangeOp::Gt, "b", "P#c#1"));
        assert!(check(RangeOp::Gte, "b", "P#b#1"));
        assert!(!check(RangeOp::Lt, "b", "P#b#1"));
        assert!(check(RangeOp::Lt, "b", "P#a#1"));
    }

    #[test]
    fn number_sort_keys_compare_numerically() {
        static T: Template = Template(&[Part::Int("n")]);
        let op = |range: Range| sort_plan(Some(&N), Some(&T), Some(&range));
        let SortPlan::Condition(c) = op(Range::Gte("10".into())).unwrap() else {
            panic!()
        };
        assert!(c.matches(&AttributeValue::N("10".into())));
        assert!(!c.matches(&AttributeValue::N("9".into())));
        assert!(op(Range::BeginsWith("1".into())).is_err());
        assert!(op(Range::Gt("ten".into())).is_err());
    }
}
