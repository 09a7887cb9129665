//! The item operations of `Store` (create, get, put, delete) and what they share with update.

use std::collections::BTreeSet;
use std::iter;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

use super::backend::{Cond, Found, Write, WriteError, WriteOp};
use super::guards::{guard_writes, GuardWrite};
use super::item::{self, Item};
use super::keys;
use super::{BeforeWrite, Conditions, Entity, EntityDef, Store, StoreError};

impl Store {
    /// Creates an item. `fields` = the client's body fields merged with path-bound fields. The
    /// store drops read-only fields the client sent EXCEPT fields bound from the path (`bound`),
    /// then sets the id (ulid / uuid v4, unless `Generate::Client` or bound), created/updated =
    /// now, version = 1. One PutItem with attribute_not_exists(pk) (or one TransactWriteItems
    /// with guards). Errors: AlreadyExists (409), Conflict{field} (409).
    pub async fn create<E: Entity>(
        &self,
        fields: Map<String, Value>,
        bound: &[&str],
    ) -> Result<E, StoreError> {
        let def = E::DEF;
        let (write, guards, stored) = plan_create(def, fields, bound, E::before_write)?;
        self.write_with_guards(write, guards, |_| StoreError::AlreadyExists)
            .await?;
        item::into_entity(&stored)
    }

    /// Reads one item by its key fields (`key` holds the fields the primary key templates use).
    /// One GetItem.
    pub async fn get<E: Entity>(&self, key: Map<String, Value>) -> Result<Option<E>, StoreError> {
        let def = E::DEF;
        let key = keys::primary_key(def, &key)?;
        match self.get_item(def.table, key).await? {
            Some(found) if item::is_entity(def, &found) => Ok(Some(item::into_entity(&found)?)),
            Some(_) => {
                tracing::warn!(entity = def.name, "the key holds an item of another type");
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Creates or replaces the whole item (key from `key`; client fields from `fields`;
    /// read-only fields except `bound` dropped, and kept from the existing item). With
    /// `expected_version` the item must exist with that version, else VersionMismatch: an
    /// If-Match that names no current version fails its precondition (RFC 9110, 13.1.1). Keeps created and the id of an existing item, increments version, sets
    /// updated. Returns the item and whether it was created. One GetItem, then one conditional
    /// PutItem (or TransactWriteItems when guards move); a lost race is VersionMismatch.
    ///
    /// A `version` in `fields` is a precondition like `expected_version`. Without either, a
    /// lost race is retried.
    pub async fn put<E: Entity>(
        &self,
        key: Map<String, Value>,
        fields: Map<String, Value>,
        bound: &[&str],
        expected_version: Option<i64>,
    ) -> Result<(E, bool), StoreError> {
        let conditions = Conditions::default();
        self.put_if(key, fields, bound, expected_version, &conditions)
            .await
    }

    /// [`Store::put`] on condition that an item it replaces meets `conditions` (one it creates
    /// has nothing to compare): `ConditionFailed` (409) names the first field that does not, and
    /// nothing is written.
    pub async fn put_if<E: Entity>(
        &self,
        key: Map<String, Value>,
        fields: Map<String, Value>,
        bound: &[&str],
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<(E, bool), StoreError> {
        let def = E::DEF;
        let expected_version = expected(def, &fields, expected_version)?;
        retrying(expected_version, || {
            self.put_once(
                key.clone(),
                fields.clone(),
                bound,
                expected_version,
                conditions,
            )
        })
        .await
    }

    async fn put_once<E: Entity>(
        &self,
        key: Map<String, Value>,
        fields: Map<String, Value>,
        bound: &[&str],
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<(E, bool), StoreError> {
        let def = E::DEF;
        let key_item = keys::primary_key(def, &key)?;
        let existing = self.get_item(def.table, key_item).await?;
        if existing
            .as_ref()
            .is_some_and(|found| !item::is_entity(def, found))
        {
            return Err(StoreError::AlreadyExists);
        }
        if existing.is_none() && expected_version.is_some() {
            return Err(StoreError::VersionMismatch);
        }
        // Conditions first, as DynamoDB's refusal of a blind write reports them.
        if let Some(found) = &existing {
            conditions.check(def, found)?;
        }
        check_version(def, existing.as_deref(), expected_version)?;
        let old = existing
            .as_ref()
            .map(|found| item::fields_of(def, found))
            .transpose()?;

        let mut new = item::client_fields(def, fields, bound);
        // What clients may not set survives a replace: the id, created and read-only fields.
        let kept: Vec<&str> = def
            .read_only
            .iter()
            .copied()
            .chain(def.id.map(|id| id.field))
            .filter(|f| !bound.contains(f) && !key.contains_key(*f))
            .filter(|f| Some(*f) != def.updated && Some(*f) != def.version)
            .collect();
        if let Some(old) = &old {
            for field in &kept {
                if let Some(value) = old.get(*field) {
                    new.insert(field.to_string(), value.clone());
                }
            }
        }
        new.extend(key);
        item::apply_defaults(def, &mut new)?;
        item::transform(def, &mut new);
        let now = item::now();
        if let (Some(id), None) = (&def.id, &old) {
            if kept.contains(&id.field) {
                if let Some(new_id) = item::new_id(id.generate) {
                    new.insert(id.field.to_string(), Value::String(new_id));
                }
            }
        }
        if let Some(created) = def.created {
            let previous = old.as_ref().and_then(|old| old.get(created)).cloned();
            new.insert(
                created.to_string(),
                previous.unwrap_or_else(|| now.clone().into()),
            );
        }
        if let Some(updated) = def.updated {
            new.insert(updated.to_string(), Value::String(now));
        }
        if let Some(version) = def.version {
            let previous = existing
                .as_ref()
                .and_then(|found| item::version_of(version, found));
            new.insert(
                version.to_string(),
                next_version(previous.unwrap_or(0))?.into(),
            );
        }

        E::before_write(&mut new)?;
        item::transform(def, &mut new);
        let mut stored = item::stored_item(def, &new)?;
        let conds = match &existing {
            None => vec![Cond::NotExists(def.table.pk.name.to_string())],
            Some(found) => {
                // Kept values are copied as stored, so that what JSON cannot express survives.
                for field in &kept {
                    if let Some(value) = found.get(*field) {
                        stored.insert(field.to_string(), value.clone());
                    }
                }
                iter::once(of_type(def))
                    .chain(unchanged(def, found, def.unique.iter().copied()))
                    .chain(conditions.conds(def)?)
                    .collect()
            }
        };
        let created = existing.is_none();
        let guards = guard_writes(def, old.as_ref(), Some(&new))?;
        let write = Write {
            table: def.table,
            op: WriteOp::Put(stored.clone()),
            conds,
        };
        // Whatever changed since the read (even a delete), the precondition no longer holds,
        // unless the item now fails a condition of the write.
        let refusal = |found| match conditions.refusal(def, found) {
            StoreError::NotFound => StoreError::VersionMismatch,
            other => other,
        };
        self.write_with_guards(write, guards, refusal).await?;
        Ok((item::into_entity(&stored)?, created))
    }

    /// Deletes; condition: the item exists with this type (+ version). One DeleteItem; with unique
    /// fields: GetItem then one TransactWriteItems removing the guards too.
    /// Errors: NotFound, VersionMismatch.
    pub async fn delete<E: Entity>(
        &self,
        key: Map<String, Value>,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        let conditions = Conditions::default();
        self.delete_if::<E>(key, expected_version, &conditions)
            .await
    }

    /// [`Store::delete`] on condition that the item meets `conditions`: `ConditionFailed` (409)
    /// names the first field that does not, and nothing is deleted.
    pub async fn delete_if<E: Entity>(
        &self,
        key: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<(), StoreError> {
        let def = E::DEF;
        check_versioned(def, expected_version)?;
        let key = keys::primary_key(def, &key)?;
        retrying(expected_version, || {
            self.delete_once(def, key.clone(), expected_version, conditions)
        })
        .await
    }

    async fn delete_once(
        &self,
        def: &EntityDef,
        key: Item,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<(), StoreError> {
        let (write, guards) = self
            .plan_delete(def, key, expected_version, conditions)
            .await?;
        self.write_with_guards(write, guards, |f| conditions.refusal(def, f))
            .await
    }

    /// A delete as a write not yet made: on condition of the version and `conditions`, without
    /// a read unless unique fields' guards must go with the item (one GetItem then).
    pub(super) async fn plan_delete(
        &self,
        def: &EntityDef,
        key: Item,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<(Write, Vec<GuardWrite>), StoreError> {
        let mut conds = vec![of_type(def)];
        conds.extend(conditions.conds(def)?);
        if def.unique.is_empty() {
            if let (Some(version), Some(expected)) = (def.version, expected_version) {
                conds.push(Cond::Equals(version.into(), number(expected)));
            }
            let write = Write {
                table: def.table,
                op: WriteOp::Delete { key },
                conds,
            };
            return Ok((write, Vec::new()));
        }
        let existing = self.stored(def, key.clone()).await?;
        conditions.check(def, &existing)?;
        check_version(def, Some(&existing), expected_version)?;
        let old = item::fields_of(def, &existing)?;
        conds.extend(unchanged(def, &existing, def.unique.iter().copied()));
        let guards = guard_writes(def, Some(&old), None)?;
        let write = Write {
            table: def.table,
            op: WriteOp::Delete { key },
            conds,
        };
        Ok((write, guards))
    }

    /// Writes the entity's write (first) with its guard writes, as one request.
    pub(super) async fn write_with_guards(
        &self,
        write: Write,
        guards: Vec<GuardWrite>,
        on_item: impl FnOnce(Found) -> StoreError,
    ) -> Result<(), StoreError> {
        let fields: Vec<&str> = guards.iter().map(|(_, field)| *field).collect();
        let writes = iter::once(write)
            .chain(guards.into_iter().map(|(w, _)| w))
            .collect();
        self.write(writes)
            .await
            .map_err(|err| failure(err, &fields, on_item))
    }
}

/// A create as a write (and its guard writes) not yet made, and the item it stores: the id,
/// timestamps, version 1 and defaults filled in.
pub(super) fn plan_create(
    def: &EntityDef,
    fields: Map<String, Value>,
    bound: &[&str],
    before_write: BeforeWrite,
) -> Result<(Write, Vec<GuardWrite>, Item), StoreError> {
    let mut fields = item::client_fields(def, fields, bound);
    item::apply_defaults(def, &mut fields)?;
    item::transform(def, &mut fields);
    if let Some(id) = &def.id {
        // An id bound from the path is the caller's choice.
        if !bound.contains(&id.field) {
            if let Some(new_id) = item::new_id(id.generate) {
                fields.insert(id.field.to_string(), Value::String(new_id));
            }
        }
    }
    let now = item::now();
    for field in [def.created, def.updated].into_iter().flatten() {
        fields.insert(field.to_string(), Value::String(now.clone()));
    }
    if let Some(version) = def.version {
        fields.insert(version.to_string(), Value::from(1));
    }
    before_write(&mut fields)?;
    // What the hook set is stored, keyed and guarded as any value is: transformed.
    item::transform(def, &mut fields);
    let stored = item::stored_item(def, &fields)?;
    let write = Write {
        table: def.table,
        op: WriteOp::Put(stored.clone()),
        conds: vec![Cond::NotExists(def.table.pk.name.to_string())],
    };
    let guards = guard_writes(def, None, Some(&fields))?;
    Ok((write, guards, stored))
}

/// The error for a failed write: the entity's own condition (write 0) through `on_item`, a guard's
/// (write i) as a conflict on its field.
pub(super) fn failure(
    err: WriteError,
    guard_fields: &[&str],
    on_item: impl FnOnce(Found) -> StoreError,
) -> StoreError {
    match err {
        WriteError::Store(err) => err,
        WriteError::Condition { index: 0, found } => on_item(found),
        WriteError::Condition { index, .. } => match guard_fields.get(index - 1) {
            Some(field) => StoreError::Conflict {
                field: field.to_string(),
            },
            None => StoreError::backend(format!("write {index} failed a condition it lacks")),
        },
    }
}

/// How many times a write without a precondition is tried before it gives up with `Contended`.
const ATTEMPTS: usize = 5;

/// Runs `attempt` until it does not lose a race. A write that reads first and writes on condition
/// that nothing changed in between fails with VersionMismatch when another write came between;
/// when the client named no version, that is not a failed precondition (RFC 9110 reserves 412
/// for those), so the write is tried again with a fresh read, and after `ATTEMPTS` losses it is
/// `Contended` (409). With an expected version, a mismatch is the answer.
pub(super) async fn retrying<T, F>(
    expected_version: Option<i64>,
    mut attempt: impl FnMut() -> F,
) -> Result<T, StoreError>
where
    F: std::future::Future<Output = Result<T, StoreError>>,
{
    if expected_version.is_some() {
        return attempt().await;
    }
    for _ in 1..ATTEMPTS {
        match attempt().await {
            // Let the winner finish before reading again.
            Err(StoreError::VersionMismatch) => tokio::task::yield_now().await,
            other => return other,
        }
    }
    match attempt().await {
        Err(StoreError::VersionMismatch) => Err(StoreError::Contended),
        other => other,
    }
}

/// The version a write expects: `header` (If-Match), or the entity's version field in `fields`
/// (the body), which clients may send instead. Both are preconditions; when they name different
/// versions one of them is stale, whatever the item holds: VersionMismatch (412) straight away.
/// A `null` version is no version.
pub(super) fn expected(
    def: &EntityDef,
    fields: &Map<String, Value>,
    header: Option<i64>,
) -> Result<Option<i64>, StoreError> {
    check_versioned(def, header)?;
    let Some(field) = def.version else {
        return Ok(header);
    };
    let body = match fields.get(field) {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_i64().ok_or_else(|| {
            StoreError::Invalid(format!("`{field}` must be the integer version of the item"))
        })?),
    };
    match (header, body) {
        (Some(header), Some(body)) if header != body => Err(StoreError::VersionMismatch),
        (header, body) => Ok(header.or(body)),
    }
}

/// An update or delete found no item of this type, or one that has changed.
pub(super) fn missing_or_changed(def: &EntityDef, found: Found) -> StoreError {
    match found {
        Found::Nothing => StoreError::NotFound,
        Found::Item(other) if !item::is_entity(def, &other) => StoreError::NotFound,
        Found::Item(_) | Found::Busy => StoreError::VersionMismatch,
    }
}

/// An expected version needs a version field to compare with.
pub(super) fn check_versioned(
    def: &EntityDef,
    expected_version: Option<i64>,
) -> Result<(), StoreError> {
    match (def.version, expected_version) {
        (None, Some(_)) => Err(StoreError::Invalid(format!(
            "`{}` has no version to match against",
            def.name
        ))),
        _ => Ok(()),
    }
}

/// The item read must exist with the expected version, when there is one.
pub(super) fn check_version(
    def: &EntityDef,
    existing: Option<&Item>,
    expected_version: Option<i64>,
) -> Result<(), StoreError> {
    let (Some(expected), Some(field)) = (expected_version, def.version) else {
        return Ok(());
    };
    match existing {
        None => Err(StoreError::NotFound),
        Some(found) if item::version_of(field, found) == Some(expected) => Ok(()),
        Some(_) => Err(StoreError::VersionMismatch),
    }
}

/// The item exists and is of this entity's type (which a different item under the key is not).
pub(super) fn of_type(def: &EntityDef) -> Cond {
    let value = AttributeValue::S(def.type_value.into());
    Cond::Equals(def.table.type_attribute.into(), value)
}

/// Conditions that the item is still as it was read, as far as a write depends on it: the version
/// when there is one (every write changes it), else the values of `inputs`.
pub(super) fn unchanged<'a>(
    def: &EntityDef,
    read: &Item,
    inputs: impl IntoIterator<Item = &'a str>,
) -> Vec<Cond> {
    match def.version {
        Some(version) => vec![Cond::same(version, read.get(version))],
        None => {
            let inputs: BTreeSet<&str> = inputs.into_iter().collect();
            inputs
                .into_iter()
                .map(|field| Cond::same(field, read.get(field)))
                .collect()
        }
    }
}

pub(super) fn next_version(version: i64) -> Result<i64, StoreError> {
    version
        .checked_add(1)
        .ok_or_else(|| StoreError::Invalid(format!("version {version} is the last one")))
}

pub(super) fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}
