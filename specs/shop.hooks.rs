//! The shop's hooks on stored entities: the tests copy this file into the
//! generated project as `src/hooks.rs`.

use apigen_runtime::store::StoreError;
use serde_json::{Map, Value};

use crate::generated::entities;

/// The hooks the generated entities call.
pub struct Hooks;

impl entities::Hooks for Hooks {
    /// A customer's name holds more than blanks, whichever code writes it: the schema's
    /// `minLength: 1`, which requests and typed writes are checked against, lets "   " through.
    fn before_write_customer(fields: &mut Map<String, Value>) -> Result<(), StoreError> {
        match fields.get("name").and_then(Value::as_str) {
            Some(name) if name.trim().is_empty() => Err(StoreError::Invalid(
                "a customer's name must hold more than blanks".into(),
            )),
            _ => Ok(()),
        }
    }
}
