//! Filters: tests an item must pass to be in a page. DynamoDB applies them after it reads the
//! page, so a filtered page may hold fewer items than its limit (even none) and still have a next
//! cursor; it is never wrong. Both backends read `limit` items first and filter them after.

use std::fmt;
use std::marker::PhantomData;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::item::{self, Item};
use super::order;
use super::{EntityDef, KeyAttr, PageRequest, StoreError, Transform};

/// DynamoDB's `IN` takes at most 100 values.
pub const FILTER_IN_LIMIT: usize = 100;

/// How a filter compares a stored field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Equal (numbers as numbers).
    Eq,
    /// Not equal; an item without the field passes.
    Ne,
    /// Less than; an item without the field, or with a value of another type, fails.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Equal to one of the values (a JSON array of 1 to 100 values).
    In,
    /// A text field that starts with the value.
    BeginsWith,
    /// A text field that contains the value, or a list that holds it.
    Contains,
}

/// One test on a stored field, as generated actions build them from query parameters. Values are
/// transformed as the field's stored values are (a filter on a lowercased email matches any case).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The entity field (not a key attribute: those belong to the key condition).
    pub field: String,
    /// How the field is compared.
    pub op: FilterOp,
    /// The value compared with; for [`FilterOp::In`], an array of values.
    pub value: Value,
}

/// A field of entity `E` holding values of type `T`: the generator declares one per field
/// (`Order::TOTAL`), so that a filter names a field the entity has, with a value of its type.
pub struct Field<E, T: ?Sized> {
    name: &'static str,
    entity: PhantomData<fn() -> E>,
    value: PhantomData<fn(&T)>,
}

impl<E, T: ?Sized> Field<E, T> {
    /// The field called `name` in the API.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            entity: PhantomData,
            value: PhantomData,
        }
    }

    /// The field's name in the API.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    fn test(&self, op: FilterOp, value: Result<Value, serde_json::Error>) -> Filters<E> {
        match value {
            Ok(value) => Filters::one(Filter {
                field: self.name.to_string(),
                op,
                value,
            }),
            Err(e) => Filters::invalid(format!("cannot read a value of `{}`: {e}", self.name)),
        }
    }
}

impl<E, T: serde::Serialize + ?Sized> Field<E, T> {
    /// The field equals `value`.
    pub fn eq(&self, value: &T) -> Filters<E> {
        self.test(FilterOp::Eq, serde_json::to_value(value))
    }

    /// The field is absent or differs from `value`.
    pub fn ne(&self, value: &T) -> Filters<E> {
        self.test(FilterOp::Ne, serde_json::to_value(value))
    }

    /// The field is less than `value`.
    pub fn lt(&self, value: &T) -> Filters<E> {
        self.test(FilterOp::Lt, serde_json::to_value(value))
    }

    /// The field is at most `value`.
    pub fn lte(&self, value: &T) -> Filters<E> {
        self.test(FilterOp::Lte, serde_json::to_value(value))
    }

    /// The field is greater than `value`.
    pub fn gt(&self, value: &T) -> Filters<E> {
        self.test(FilterOp::Gt, serde_json::to_value(value))
    }

    /// The field is at least `value`.
    pub fn gte(&self, value: &T) -> Filters<E> {
        self.test(FilterOp::Gte, serde_json::to_value(value))
    }

    /// The field equals one of `values` (1 to 100 of them; none matches nothing).
    pub fn one_of<'a>(&self, values: impl IntoIterator<Item = &'a T>) -> Filters<E>
    where
        T: 'a,
    {
        let values: Result<Vec<Value>, _> = values.into_iter().map(serde_json::to_value).collect();
        self.test(FilterOp::In, values.map(Value::Array))
    }
}

impl<E> Field<E, String> {
    /// The text starts with `prefix`.
    pub fn begins_with(&self, prefix: &str) -> Filters<E> {
        self.test(FilterOp::BeginsWith, Ok(Value::String(prefix.to_string())))
    }

    /// The text contains `part`.
    pub fn contains(&self, part: &str) -> Filters<E> {
        self.test(FilterOp::Contains, Ok(Value::String(part.to_string())))
    }
}

impl<E, T: serde::Serialize> Field<E, Vec<T>> {
    /// The list holds `element`.
    pub fn contains(&self, element: &T) -> Filters<E> {
        self.test(FilterOp::Contains, serde_json::to_value(element))
    }
}

/// Filters on entity `E`, all of which an item must pass: `Order::TOTAL.gte(&100).and(…)`.
pub struct Filters<E> {
    list: Vec<Filter>,
    /// A value that could not be read, reported when the query runs.
    error: Option<String>,
    of: PhantomData<fn() -> E>,
}

impl<E> Filters<E> {
    /// No filter: every item passes.
    pub fn none() -> Self {
        Self {
            list: Vec::new(),
            error: None,
            of: PhantomData,
        }
    }

    fn one(filter: Filter) -> Self {
        Self {
            list: vec![filter],
            ..Self::none()
        }
    }

    fn invalid(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::none()
        }
    }

    /// Both these filters and `more`.
    pub fn and(mut self, more: Filters<E>) -> Self {
        self.list.extend(more.list);
        self.error = self.error.or(more.error);
        self
    }

    /// The filters, or why one could not be built.
    pub fn into_filters(self) -> Result<Vec<Filter>, StoreError> {
        match self.error {
            Some(error) => Err(StoreError::Invalid(error)),
            None => Ok(self.list),
        }
    }
}

impl<E> Default for Filters<E> {
    fn default() -> Self {
        Self::none()
    }
}

impl<E> Clone for Filters<E> {
    fn clone(&self) -> Self {
        Self {
            list: self.list.clone(),
            error: self.error.clone(),
            of: PhantomData,
        }
    }
}

impl<E> fmt::Debug for Filters<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filters")
            .field("list", &self.list)
            .field("error", &self.error)
            .finish()
    }
}

/// A page request with filters on entity `E`: what a typed query method takes. A plain
/// [`PageRequest`] converts into one with no filter.
#[derive(Debug, Clone)]
pub struct Select<E> {
    /// Which page.
    pub page: PageRequest,
    /// What its items must pass.
    pub filters: Filters<E>,
}

impl<E> Select<E> {
    /// Adds filters to those already set.
    pub fn filter(mut self, more: Filters<E>) -> Self {
        self.filters = self.filters.and(more);
        self
    }
}

impl<E> From<PageRequest> for Select<E> {
    fn from(page: PageRequest) -> Self {
        Self {
            page,
            filters: Filters::none(),
        }
    }
}

impl PageRequest {
    /// This page, keeping only the items that pass `filters`.
    pub fn filter<E>(self, filters: Filters<E>) -> Select<E> {
        Select {
            page: self,
            filters,
        }
    }
}

/// A filter as the backends evaluate it: stored values to compare with.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Test {
    pub name: String,
    pub op: FilterOp,
    /// One value, or the values of `In`.
    pub values: Vec<AttributeValue>,
}

impl Test {
    /// The item is of this type: how a Scan keeps one entity's items.
    pub(super) fn type_is(def: &EntityDef) -> Test {
        Test {
            name: def.table.type_attribute.to_string(),
            op: FilterOp::Eq,
            values: vec![AttributeValue::S(def.type_value.to_string())],
        }
    }

    /// Whether `item` passes, as DynamoDB decides.
    pub(super) fn passes(&self, item: &Item) -> bool {
        let found = item.get(&self.name);
        let Some(value) = self.values.first() else {
            return false;
        };
        let compared = |pass: fn(std::cmp::Ordering) -> bool| {
            found
                .and_then(|found| order::compare(found, value))
                .is_some_and(pass)
        };
        match self.op {
            FilterOp::Eq => found.is_some_and(|found| order::equal(found, value)),
            FilterOp::Ne => !found.is_some_and(|found| order::equal(found, value)),
            FilterOp::Lt => compared(|o| o.is_lt()),
            FilterOp::Lte => compared(|o| o.is_le()),
            FilterOp::Gt => compared(|o| o.is_gt()),
            FilterOp::Gte => compared(|o| o.is_ge()),
            FilterOp::In => found
                .is_some_and(|found| self.values.iter().any(|value| order::equal(found, value))),
            FilterOp::BeginsWith => matches!(
                (found, value),
                (Some(AttributeValue::S(text)), AttributeValue::S(prefix)) if text.starts_with(prefix.as_str())
            ),
            FilterOp::Contains => match (found, value) {
                (Some(AttributeValue::S(text)), AttributeValue::S(part)) => {
                    text.contains(part.as_str())
                }
                (Some(AttributeValue::L(list)), value) => {
                    list.iter().any(|element| order::equal(element, value))
                }
                (Some(AttributeValue::Ss(set)), AttributeValue::S(value)) => set.contains(value),
                (Some(AttributeValue::Ns(set)), AttributeValue::N(_)) => set
                    .iter()
                    .any(|n| order::equal(&AttributeValue::N(n.clone()), value)),
                _ => false,
            },
        }
    }
}

/// The tests of `filters` on entity `def`, read through the key attributes `keys`; `None` when no
/// item can pass (an `In` with no values).
pub(super) fn tests(
    def: &EntityDef,
    filters: &[Filter],
    keys: &[KeyAttr],
) -> Result<Option<Vec<Test>>, StoreError> {
    let mut tests = Vec::with_capacity(filters.len());
    for filter in filters {
        let name = filter.field.as_str();
        let is_key = keys.iter().any(|key| key.name == name);
        if name.is_empty() || is_key || item::is_reserved(def, name) {
            return Err(StoreError::Invalid(format!(
                "`{name}` is not a field of `{}` that a filter can test (key attributes belong to the query's key)",
                def.name
            )));
        }
        let stored = |value: &Value| item::stored_value(def, name, value);
        // A part of a text is compared as the text is stored, but for `trim`: the blanks around
        // a part are part of what is looked for.
        let fragment = |value: &Value| match value {
            Value::String(text) => {
                let steps: Vec<Transform> = def
                    .transforms
                    .iter()
                    .filter(|t| t.field == name)
                    .flat_map(|t| t.steps.iter().copied())
                    .filter(|step| *step != Transform::Trim)
                    .collect();
                Ok(AttributeValue::S(item::transform_text(&steps, text)))
            }
            other => item::attribute_value(name, other),
        };
        let values = match (filter.op, &filter.value) {
            (FilterOp::In, Value::Array(values)) if values.is_empty() => return Ok(None),
            (FilterOp::In, Value::Array(values)) if values.len() <= FILTER_IN_LIMIT => {
                values.iter().map(stored).collect::<Result<Vec<_>, _>>()?
            }
            (FilterOp::In, _) => {
                return Err(StoreError::Invalid(format!(
                    "a filter `in` on `{name}` takes an array of at most {FILTER_IN_LIMIT} values"
                )))
            }
            (FilterOp::BeginsWith, value) if !value.is_string() => {
                return Err(StoreError::Invalid(format!(
                    "a filter `beginsWith` on `{name}` takes text"
                )))
            }
            (FilterOp::BeginsWith | FilterOp::Contains, value) => vec![fragment(value)?],
            // DynamoDB orders text and numbers only, and refuses the others in a comparison.
            (FilterOp::Lt | FilterOp::Lte | FilterOp::Gt | FilterOp::Gte, value)
                if !(value.is_string() || value.is_number()) =>
            {
                return Err(StoreError::Invalid(format!(
                    "a filter on `{name}` orders text or numbers only"
                )))
            }
            (_, value) => vec![stored(value)?],
        };
        tests.push(Test {
            name: name.to_string(),
            op: filter.op,
            values,
        });
    }
    Ok(Some(tests))
}
