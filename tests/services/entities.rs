//! What the journeys read from apigen's model: each stored entity's
//! operations, example bodies that differ per item, the paths that address
//! an item, and which items a read should return (the oracle).

use std::cmp::Ordering;

use apigen::model::actions::FilterOp;
use apigen::model::actions::{BoundAction, RangeOp, SortOrder, Verb};
use apigen::model::storage::{KeyTemplates, Part, Template, VarKind};
use apigen::model::{Api, Entity, Media, Operation, ParamIn, Shape};
use serde_json::Value;

pub struct View<'a> {
    pub api: &'a Api,
    pub index: usize,
    pub entity: &'a Entity,
}

pub fn views(api: &Api) -> Vec<View<'_>> {
    api.entities
        .iter()
        .enumerate()
        .map(|(index, entity)| View { api, index, entity })
        .collect()
}

pub fn action(op: &Operation) -> &BoundAction {
    op.action.as_ref().expect("an operation with an action")
}

/// A value as it appears in a path or query string.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encodes a query or path value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Makes `s` different for the `n`-th item, keeping its shape: `n` is added
/// to the last digit (else the last letter) before any `@`, carrying into
/// the characters of the same kind before it.
pub fn bump(s: &str, n: usize) -> String {
    let end = s.find('@').unwrap_or(s.len());
    let mut chars: Vec<char> = s.chars().collect();
    let head = s[..end].chars().count();
    let last = chars[..head]
        .iter()
        .rposition(char::is_ascii_digit)
        .or_else(|| chars[..head].iter().rposition(char::is_ascii_alphanumeric));
    let Some(mut i) = last else {
        return format!("{s}{n}");
    };
    let kind = |c: char| match c {
        '0'..='9' => Some((b'0', 10)),
        'a'..='z' => Some((b'a', 26)),
        'A'..='Z' => Some((b'A', 26)),
        _ => None,
    };
    let Some((base, size)) = kind(chars[i]) else {
        return format!("{s}{n}");
    };
    let mut carry = n;
    loop {
        let sum = (chars[i] as u8 - base) as usize + carry;
        chars[i] = char::from(base + (sum % size) as u8);
        carry = sum / size;
        if carry == 0 {
            break;
        }
        if i == 0 || kind(chars[i - 1]) != Some((base, size)) {
            // The run is full: it grows by a character, as a number gains a digit.
            chars.insert(i, char::from(base + (carry % size) as u8));
            break;
        }
        i -= 1;
    }
    chars.into_iter().collect()
}

pub fn vary(value: &mut Value, n: usize) {
    match value {
        // A date-time stays one: n hours later (a bumped digit could be minute 65).
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                let later = t + chrono::Duration::hours(i64::try_from(n).unwrap_or(0));
                *s = later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            }
        }
        Value::String(s) => *s = bump(s, n),
        Value::Number(x) => {
            // n² spreads integers over several digits (3, 11, 27 from 2),
            // which tells numeric order from text order; mod 97 keeps them
            // inside a small maximum.
            if let Some(i) = x.as_i64() {
                *x = (i + ((n * n) % 97) as i64).into();
            }
        }
        _ => {}
    }
}

impl<'a> View<'a> {
    pub fn name(&self) -> &str {
        &self.entity.schema
    }

    pub fn ops(&self) -> impl Iterator<Item = &'a Operation> + '_ {
        let index = self.index;
        self.api
            .operations
            .iter()
            .filter(move |o| o.action.as_ref().is_some_and(|a| a.entity == index))
    }

    pub fn op(&self, verb: Verb) -> Option<&'a Operation> {
        self.ops().find(|o| action(o).verb == verb)
    }

    /// The words of those `verbs` the entity has an operation for, for the report.
    pub fn words(&self, verbs: &[(Verb, &'static str)]) -> Vec<&'static str> {
        verbs
            .iter()
            .filter(|(verb, _)| self.op(*verb).is_some())
            .map(|(_, word)| *word)
            .collect()
    }

    /// The operations that read pages: `list` and `query`.
    pub fn reads(&self) -> Vec<&'a Operation> {
        self.ops()
            .filter(|o| {
                matches!(action(o).verb, Verb::List | Verb::Query) && action(o).page.is_some()
            })
            .collect()
    }

    /// How items are made over HTTP: `create`, else `put`.
    pub fn seed_op(&self) -> Option<&'a Operation> {
        self.op(Verb::Create)
            .or_else(|| self.op(Verb::Put))
            .filter(|o| body_shape(o).is_some())
    }

    /// Key fields the client chooses in a body (not server-set, not from the path).
    pub fn client_keys(&self, op: &Operation) -> Vec<String> {
        let server = self.entity.server_fields();
        let a = action(op);
        self.entity
            .key
            .vars()
            .into_iter()
            .filter(|v| !server.contains(v) && a.binding(v).is_none())
            .map(str::to_string)
            .collect()
    }

    /// The `n`-th example body for `op`: client-chosen key fields and unique
    /// fields differ per item (unless `shared_unique`), and every optional
    /// index field is left out of even items so that sparse indexes have
    /// something to leave out.
    pub fn body(&self, op: &Operation, n: usize, shared_unique: bool) -> Value {
        let shape = body_shape(op).expect("a JSON body");
        let mut body = apigen::emit::example(self.api, shape, true);
        let mut fields = self.client_keys(op);
        if !shared_unique {
            fields.extend(self.entity.unique.iter().cloned());
        }
        for index in &self.entity.indexes {
            fields.extend(index.key.vars().into_iter().map(str::to_string));
        }
        // Every other item leaves out the fields that have a default, so that the store fills
        // them in.
        fields.extend(self.entity.defaults.iter().map(|(f, _)| f.clone()));
        fields.sort();
        fields.dedup();
        let required = self.required_fields();
        for field in fields {
            let sparse = !required.contains(&field) && n.is_multiple_of(2);
            if let Some(obj) = body.as_object_mut() {
                if sparse {
                    obj.remove(&field);
                } else if let Some(v) = obj.get_mut(&field) {
                    if self.is_enum(&field) {
                        continue;
                    }
                    vary(v, n);
                }
            }
        }
        body
    }

    fn required_fields(&self) -> Vec<String> {
        let shape = Shape::new(apigen::model::Ty::Ref(self.entity.type_id));
        self.api
            .types
            .struct_of(&shape)
            .map(|(_, s)| {
                s.fields
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| f.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The values of an enum field, in the schema's order; none for other fields.
    pub fn enum_values(&self, field: &str) -> Vec<Value> {
        let shape = Shape::new(apigen::model::Ty::Ref(self.entity.type_id));
        let Some((_, s)) = self.api.types.struct_of(&shape) else {
            return Vec::new();
        };
        let Some(f) = s.fields.iter().find(|f| f.name == field) else {
            return Vec::new();
        };
        match &self.api.types.resolve(&f.shape).ty {
            apigen::model::Ty::Ref(id) => match &self.api.types.get(*id).kind {
                apigen::model::TypeKind::Enum(e) => {
                    e.values.iter().map(|v| v.value.clone()).collect()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn is_enum(&self, field: &str) -> bool {
        let shape = Shape::new(apigen::model::Ty::Ref(self.entity.type_id));
        let Some((_, s)) = self.api.types.struct_of(&shape) else {
            return false;
        };
        s.fields.iter().any(|f| {
            f.name == field
                && matches!(
                    &self.api.types.resolve(&f.shape).ty,
                    apigen::model::Ty::Ref(id)
                        if matches!(self.api.types.get(*id).kind, apigen::model::TypeKind::Enum(_))
                )
        })
    }

    /// The path of `op`: parameters bound to fields come from `item`; a
    /// seeding `put` puts the `n`-th item under its own key; the rest are
    /// examples.
    pub fn path(&self, op: &Operation, item: Option<&Value>, n: usize) -> String {
        let a = action(op);
        let keys = self.entity.key.vars();
        let mut path = op.path.clone();
        for (i, p) in op.params.iter().enumerate() {
            if p.location != ParamIn::Path {
                continue;
            }
            let bound = a
                .bindings
                .iter()
                .find(|(_, b)| *b == i)
                .map(|(f, _)| f.as_str());
            let value = match (bound, item) {
                (Some(field), Some(item)) if !item[field].is_null() => text(&item[field]),
                _ => {
                    let example = text(&apigen::emit::example(self.api, &p.shape, true));
                    match bound {
                        Some(field) if a.verb == Verb::Put && keys.contains(&field) => {
                            bump(&example, n)
                        }
                        _ => example,
                    }
                }
            };
            path = path.replace(&format!("{{{}}}", p.name), &encode(&value));
        }
        path
    }

    /// Query parameters a read needs besides paging and range: bound ones
    /// from `probe`, other required ones from examples.
    pub fn query(&self, op: &Operation, probe: &Value) -> Vec<(String, String)> {
        let a = action(op);
        let mut out = Vec::new();
        for (i, p) in op.params.iter().enumerate() {
            let is_range = a.range.as_ref().is_some_and(|r| r.uses(i));
            let is_filter = a.filter.iter().any(|f| f.param == i);
            if p.location != ParamIn::Query
                || Some(i) == a.limit
                || Some(i) == a.cursor
                || is_range
                || is_filter
            {
                continue;
            }
            match a.bindings.iter().find(|(_, b)| *b == i) {
                Some((field, _)) => out.push((p.name.clone(), text(&probe[field]))),
                None if p.required => out.push((
                    p.name.clone(),
                    text(&apigen::emit::example(self.api, &p.shape, true)),
                )),
                None => {}
            }
        }
        out
    }

    /// Which of the `live` items a read with these parameters returns, in
    /// the order it must return them (`None` where order is not defined: a Scan).
    pub fn expected(
        &self,
        op: &Operation,
        live: &[Value],
        probe: &Value,
        range: Bounds,
    ) -> (Vec<Value>, bool) {
        let a = action(op);
        let key = self.read_key(a);
        let range_param = a.range.as_ref().map(|r| r.param);
        let mut items: Vec<Value> = live
            .iter()
            // A sparse index holds only items that have every variable.
            .filter(|item| key.vars().iter().all(|v| !item[*v].is_null()))
            .filter(|item| {
                a.bindings
                    .iter()
                    .filter(|(_, p)| Some(*p) != range_param)
                    .all(|(field, _)| item[field.as_str()] == probe[field.as_str()])
            })
            .filter(|item| {
                range.filter.iter().all(|(param, value)| {
                    a.filter
                        .iter()
                        .filter(|f| f.param == *param)
                        .all(|f| passes(f.op, &item[f.field.as_str()], value))
                })
            })
            .filter(|item| {
                let (Some(r), Some((field, kind))) =
                    (&a.range, key.sk.as_ref().and_then(first_var))
                else {
                    return true;
                };
                let value = text(&item[field.as_str()]);
                let ord = |bound: &str| compare(kind, &value, bound);
                let from = range.from.is_none_or(|bound| match r.op {
                    RangeOp::Gt => ord(bound) == Ordering::Greater,
                    RangeOp::Gte | RangeOp::Between { .. } => ord(bound) != Ordering::Less,
                    RangeOp::Lt => ord(bound) == Ordering::Less,
                    RangeOp::Lte => ord(bound) != Ordering::Greater,
                    RangeOp::BeginsWith => value.starts_with(bound),
                });
                let to = range.to.is_none_or(|bound| ord(bound) != Ordering::Greater);
                from && to
            })
            .cloned()
            .collect();
        if a.scan {
            return (items, false);
        }
        if let Some(sk) = &key.sk {
            items.sort_by(|x, y| sort_key_order(sk, x, y));
        }
        if a.order == SortOrder::Desc {
            items.reverse();
        }
        (items, true)
    }

    /// The key templates a read goes through.
    pub fn read_key(&self, a: &BoundAction) -> &'a KeyTemplates {
        match a.index {
            Some(i) => {
                &self
                    .entity
                    .index_for(i)
                    .expect("the entity is in the index")
                    .key
            }
            None => &self.entity.key,
        }
    }

    /// The item's identity: its primary key fields.
    pub fn identity(&self, item: &Value) -> String {
        self.entity
            .key
            .vars()
            .iter()
            .map(|v| text(&item[*v]))
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The field the range parameter of `op` compares with.
    pub fn range_field(&self, op: &Operation) -> Option<String> {
        let a = action(op);
        a.range.as_ref()?;
        self.read_key(a)
            .sk
            .as_ref()
            .and_then(first_var)
            .map(|(f, _)| f)
    }
}

/// What a read sends to its range parameters: the value compared with (the
/// lower bound of `between`), and the upper bound of `between`; and to its
/// filter parameters (by index), each a value or an array of values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bounds<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub filter: &'a [(usize, Value)],
}

impl Bounds<'_> {
    pub fn any(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

/// Whether a stored value passes a filter, as DynamoDB decides: numbers as
/// numbers, text by its bytes, values of different types never compare, and
/// an absent field is only ever "not equal".
pub fn passes(op: FilterOp, found: &Value, value: &Value) -> bool {
    let equal = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b && !a.is_null(),
    };
    let order = || match (found, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        FilterOp::Eq => equal(found, value),
        FilterOp::Ne => !equal(found, value),
        FilterOp::Lt => order().is_some_and(Ordering::is_lt),
        FilterOp::Lte => order().is_some_and(Ordering::is_le),
        FilterOp::Gt => order().is_some_and(Ordering::is_gt),
        FilterOp::Gte => order().is_some_and(Ordering::is_ge),
        FilterOp::In => value
            .as_array()
            .is_some_and(|values| values.iter().any(|v| equal(found, v))),
        FilterOp::BeginsWith => matches!(
            (found, value),
            (Value::String(a), Value::String(b)) if a.starts_with(b.as_str())
        ),
        FilterOp::Contains => match (found, value) {
            (Value::String(a), Value::String(b)) => a.contains(b.as_str()),
            (Value::Array(list), v) => list.iter().any(|e| equal(e, v)),
            _ => false,
        },
    }
}

impl View<'_> {
    /// A value for each of `op`'s filters that the probe passes, so that a
    /// filtered read has something to find: its own value, a part of its text,
    /// or for `in` its value and another.
    pub fn filter_values(&self, op: &Operation, probe: &Value) -> Vec<(usize, Value)> {
        let a = action(op);
        let mut out = Vec::new();
        for f in &a.filter {
            let found = &probe[f.field.as_str()];
            let value = match (f.op, found) {
                (_, Value::Null) => continue,
                (FilterOp::In, found) => {
                    let other = self.enum_values(&f.field).into_iter().find(|v| v != found);
                    Value::Array([Some(found.clone()), other].into_iter().flatten().collect())
                }
                (FilterOp::BeginsWith, Value::String(text)) => {
                    Value::String(text.chars().take(3).collect())
                }
                (FilterOp::Contains, Value::String(text)) => {
                    Value::String(text.chars().skip(1).take(2).collect())
                }
                (FilterOp::Contains, Value::Array(list)) => match list.first() {
                    Some(first) => first.clone(),
                    None => continue,
                },
                (_, found) => found.clone(),
            };
            out.push((f.param, value));
        }
        out
    }
}

/// Two sort key values in the order of their kind: low, high.
pub fn ordered<'a>(v: &View, op: &Operation, a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    let kind = v
        .read_key(action(op))
        .sk
        .as_ref()
        .and_then(first_var)
        .map(|(_, k)| k);
    match kind {
        Some(kind) if compare(kind, a, b) == Ordering::Greater => (b, a),
        _ => (a, b),
    }
}

pub fn body_shape(op: &Operation) -> Option<&Shape> {
    match &op.body.as_ref()?.media {
        Media::Json(shape) => Some(shape),
        _ => None,
    }
}

fn first_var(t: &Template) -> Option<(String, VarKind)> {
    t.parts.iter().find_map(|p| match p {
        Part::Var { field, kind } => Some((field.clone(), *kind)),
        Part::Lit(_) => None,
    })
}

/// Orders two values of a key variable as the key does: integers as
/// numbers, times as instants, text as text.
fn compare(kind: VarKind, a: &str, b: &str) -> Ordering {
    match kind {
        VarKind::Integer => match (a.parse::<i64>(), b.parse::<i64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        },
        VarKind::DateTime => match (
            chrono::DateTime::parse_from_rfc3339(a),
            chrono::DateTime::parse_from_rfc3339(b),
        ) {
            // The key keeps milliseconds.
            (Ok(x), Ok(y)) => x.timestamp_millis().cmp(&y.timestamp_millis()),
            _ => a.cmp(b),
        },
        VarKind::String => a.cmp(b),
    }
}

fn sort_key_order(sk: &Template, x: &Value, y: &Value) -> Ordering {
    for part in &sk.parts {
        if let Part::Var { field, kind } = part {
            let ord = compare(*kind, &text(&x[field.as_str()]), &text(&y[field.as_str()]));
            if ord != Ordering::Equal {
                return ord;
            }
        }
    }
    Ordering::Equal
}
