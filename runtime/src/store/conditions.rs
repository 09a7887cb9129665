//! Conditions a write puts on the stored item beyond its key and version: each named field one
//! of a set of values (`status IN (pending, paid)`), checked by DynamoDB with the write itself.

use serde_json::Value;

use super::backend::{Cond, Found};
use super::item::{self, Item};
use super::ops::missing_or_changed;
use super::order;
use super::{EntityDef, StoreError};

/// DynamoDB's `IN` takes at most 100 values.
const MAX_VALUES: usize = 100;

/// What the stored item must hold for an update, put or delete to go ahead: each named field one
/// of its values. A write whose item does not is [`StoreError::ConditionFailed`] and writes
/// nothing; a put that creates the item has nothing to compare and goes ahead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions(Vec<(String, Vec<Value>)>);

impl Conditions {
    /// `field` must hold one of `values`.
    pub fn one_of<T: serde::Serialize>(
        mut self,
        field: &str,
        values: impl IntoIterator<Item = T>,
    ) -> Result<Self, StoreError> {
        let values = values
            .into_iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Invalid(format!("cannot read a value of `{field}`: {e}")))?;
        if values.is_empty() || values.len() > MAX_VALUES {
            return Err(StoreError::Invalid(format!(
                "a condition on `{field}` needs 1 to {MAX_VALUES} values"
            )));
        }
        self.0.push((field.to_string(), values));
        Ok(self)
    }

    /// Whether there is no condition.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The conditions as the backends evaluate them, each value transformed as the field's
    /// stored values are.
    pub(super) fn conds(&self, def: &EntityDef) -> Result<Vec<Cond>, StoreError> {
        self.0
            .iter()
            .map(|(field, values)| {
                let values = values
                    .iter()
                    .map(|v| item::stored_value(def, field, v))
                    .collect::<Result<_, _>>()?;
                Ok(Cond::In(field.clone(), values))
            })
            .collect()
    }

    /// The first field whose condition `found` does not meet, compared as DynamoDB compares
    /// (`10` and `10.0` are one number).
    pub(super) fn unmet(&self, def: &EntityDef, found: &Item) -> Result<Option<&str>, StoreError> {
        for (cond, (field, _)) in self.conds(def)?.iter().zip(&self.0) {
            let Cond::In(_, values) = cond else {
                continue;
            };
            let held = found.get(field.as_str());
            if !held.is_some_and(|a| values.iter().any(|v| order::equal(a, v))) {
                return Ok(Some(field.as_str()));
            }
        }
        Ok(None)
    }

    /// The read item meets every condition, or the write is refused.
    pub(super) fn check(&self, def: &EntityDef, found: &Item) -> Result<(), StoreError> {
        match self.unmet(def, found)? {
            Some(field) => Err(self.failed(field)),
            None => Ok(()),
        }
    }

    fn failed(&self, field: &str) -> StoreError {
        let allowed = self
            .0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, values)| {
                values
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        StoreError::ConditionFailed {
            field: field.to_string(),
            allowed,
        }
    }

    /// Why a write whose condition failed was refused, from the item DynamoDB found: a condition
    /// of these it does not meet, else what a write without them would say.
    pub(super) fn refusal(&self, def: &EntityDef, found: Found) -> StoreError {
        if let Found::Item(item) = &found {
            if item::is_entity(def, item) {
                match self.unmet(def, item) {
                    Ok(Some(field)) => return self.failed(field),
                    Err(err) => return err,
                    Ok(None) => {}
                }
            }
        }
        missing_or_changed(def, found)
    }
}
