//! `Store::update`: merge-patch updates, in one UpdateItem when the patch alone is enough.

use std::collections::BTreeSet;
use std::iter;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::backend::{apply, Action, Actions, Cond, Write, WriteOp};
use super::guards::{guard_writes, GuardWrite};
use super::item::{self, Fields, Item};
use super::keys::{self, Lookup, Rendered};
use super::ops::{
    check_version, expected, failure, next_version, number, of_type, retrying, unchanged,
};
use super::{BeforeWrite, Conditions, Entity, EntityDef, Store, StoreError};

impl Store {
    /// Merge-patch: `patch` fields with a value are SET, fields with `null` are REMOVEd;
    /// read-only, server-set and primary key fields are ignored. Sets updated, version + 1.
    /// Condition: the item exists with this type (+ version = expected). Index keys whose fields
    /// change are rewritten, or removed when a variable becomes absent.
    ///
    /// Fast path, one UpdateItem: no unique field is patched and every index template that
    /// involves a changed field renders from the patch and the key alone. Otherwise one GetItem,
    /// then one UpdateItem (or TransactWriteItems when guards move) on condition that what was
    /// read still holds: the version, or for unversioned entities the fields the new index keys
    /// and guards were computed from. Errors: NotFound, VersionMismatch, Conflict{field}.
    ///
    /// A `version` in the patch is a precondition like `expected_version`. A patch that changes
    /// nothing a client may change (`{}`, or only read-only and server-set fields) writes
    /// nothing: one GetItem answers the item as it is, version unchanged, after checking the
    /// expected version. Without an expected version a lost race is retried.
    pub async fn update<E: Entity>(
        &self,
        key: Map<String, Value>,
        patch: Map<String, Value>,
        expected_version: Option<i64>,
    ) -> Result<E, StoreError> {
        let conditions = Conditions::default();
        self.update_if(key, patch, expected_version, &conditions)
            .await
    }

    /// [`Store::update`] on condition that the stored item meets `conditions`, checked by
    /// DynamoDB with the write: `ConditionFailed` (409) names the first field that does not, and
    /// nothing is written.
    pub async fn update_if<E: Entity>(
        &self,
        key: Map<String, Value>,
        patch: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<E, StoreError> {
        let def = E::DEF;
        let expected_version = expected(def, &patch, expected_version)?;
        let mut key = key;
        item::transform(def, &mut key);
        let key_item = keys::primary_key(def, &key)?;
        let patch = patch_fields(def, patch, E::before_write)?;
        if patch.is_empty() {
            let found = self.stored(def, key_item).await?;
            conditions.check(def, &found)?;
            check_version(def, Some(&found), expected_version)?;
            return item::into_entity(&found);
        }
        let updated = retrying(expected_version, || {
            self.update_once(
                def,
                &key,
                &key_item,
                patch.clone(),
                expected_version,
                conditions,
            )
        })
        .await?;
        item::into_entity(&updated)
    }

    async fn update_once(
        &self,
        def: &EntityDef,
        key: &Fields,
        key_item: &Item,
        patch: Fields,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<Arc<Item>, StoreError> {
        let change = Change::new(def, patch, expected_version)?;
        let blind = self.update_blind(def, key, key_item, &change, expected_version, conditions);
        match blind.await? {
            Some(updated) => Ok(updated),
            None => {
                self.update_read(def, key_item.clone(), change, expected_version, conditions)
                    .await
            }
        }
    }

    /// The fast path: one UpdateItem without reading first. `None` when the change alone does
    /// not render every index key it touches, or moves a guard (which needs the old value).
    async fn update_blind(
        &self,
        def: &EntityDef,
        key: &Fields,
        key_item: &Item,
        change: &Change,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<Option<Arc<Item>>, StoreError> {
        if def.unique.iter().any(|f| change.fields.contains_key(*f)) {
            return Ok(None);
        }
        let lookup = |field: &str| match change.fields.get(field).or_else(|| key.get(field)) {
            Some(Value::Null) => Lookup::Absent,
            Some(value) => Lookup::Value(value),
            None => Lookup::Unknown,
        };
        let Some(derived) = derived(def, &change.changed, lookup)? else {
            return Ok(None);
        };
        let mut actions = field_actions(&change.fields)?;
        actions.extend(derived.actions);
        let mut conds = vec![of_type(def)];
        match (def.version, expected_version) {
            (Some(version), Some(expected)) => {
                conds.push(Cond::Equals(version.into(), number(expected)));
            }
            // Counted by DynamoDB, so that concurrent updates never share a version.
            (Some(version), None) => {
                actions.insert(version.to_string(), Action::Increment);
            }
            (None, _) => {}
        }
        conds.extend(conditions.conds(def)?);
        let updated = self
            .update_item(def.table, key_item.clone(), actions, conds)
            .await
            .map_err(|err| failure(err, &[], |found| conditions.refusal(def, found)))?;
        Ok(Some(updated))
    }

    /// The slow path: read the item, compute the new index keys and guards from it, and write on
    /// condition that what they were computed from still holds.
    async fn update_read(
        &self,
        def: &EntityDef,
        key_item: Item,
        change: Change,
        expected_version: Option<i64>,
        conditions: &Conditions,
    ) -> Result<Arc<Item>, StoreError> {
        let existing = self.stored(def, key_item.clone()).await?;
        let planned = plan_on(
            def,
            key_item,
            Arc::unwrap_or_clone(existing),
            change,
            expected_version,
            conditions,
        )?;
        if planned.guards.is_empty() {
            let Write {
                op: WriteOp::Update { key, actions },
                conds,
                ..
            } = planned.write
            else {
                return Err(StoreError::backend("an update planned another write"));
            };
            return self
                .update_item(def.table, key, actions, conds)
                .await
                .map_err(|err| failure(err, &[], |found| conditions.refusal(def, found)));
        }
        self.write_with_guards(planned.write, planned.guards, |found| {
            conditions.refusal(def, found)
        })
        .await?;
        Ok(Arc::new(planned.updated))
    }

    /// An update as one write of a transaction, planned on the item as it is now (one GetItem):
    /// the same checks and conditions as [`Store::update_if`], the write not yet made.
    pub(super) async fn plan_update(
        &self,
        def: &EntityDef,
        key: &Fields,
        patch: Fields,
        expected_version: Option<i64>,
        conditions: &Conditions,
        before_write: BeforeWrite,
    ) -> Result<PlannedUpdate, StoreError> {
        let expected_version = expected(def, &patch, expected_version)?;
        let key_item = keys::primary_key(def, key)?;
        let change = Change::new(
            def,
            patch_fields(def, patch, before_write)?,
            expected_version,
        )?;
        let existing = self.stored(def, key_item.clone()).await?;
        plan_on(
            def,
            key_item,
            Arc::unwrap_or_clone(existing),
            change,
            expected_version,
            conditions,
        )
    }
}

/// An update planned on the item read: its write, the guard writes it moves, and the item as the
/// write leaves it.
pub(super) struct PlannedUpdate {
    pub write: Write,
    pub guards: Vec<GuardWrite>,
    pub updated: Item,
}

/// Plans `change` on `existing`, which must have the expected version and meet `conditions`.
fn plan_on(
    def: &EntityDef,
    key_item: Item,
    existing: Item,
    mut change: Change,
    expected_version: Option<i64>,
    conditions: &Conditions,
) -> Result<PlannedUpdate, StoreError> {
    conditions.check(def, &existing)?;
    check_version(def, Some(&existing), expected_version)?;
    if let Some(version) = def.version {
        let next = next_version(item::version_of(version, &existing).unwrap_or(0))?;
        change.fields.insert(version.to_string(), next.into());
    }
    let old = item::fields_of(def, &existing)?;
    let mut new = old.clone();
    for (field, value) in &change.fields {
        match value {
            Value::Null => new.remove(field),
            value => new.insert(field.clone(), value.clone()),
        };
    }
    let derived = derived(def, &change.changed, |field| Lookup::known(&new, field))?
        .ok_or_else(|| StoreError::backend("a complete item left a key unknown"))?;
    let mut actions = field_actions(&change.fields)?;
    actions.extend(derived.actions);
    // Unversioned: the old values of moved guards must still be the item's own.
    let moved = def
        .unique
        .iter()
        .copied()
        .filter(|f| change.fields.contains_key(*f));
    let inputs = derived.inputs.into_iter().chain(moved);
    let conds: Vec<Cond> = iter::once(of_type(def))
        .chain(unchanged(def, &existing, inputs))
        .chain(conditions.conds(def)?)
        .collect();
    let guards = guard_writes(def, Some(&old), Some(&new))?;
    // A transaction returns no item; the conditions make this one what was written.
    let mut updated = existing;
    apply(&mut updated, &actions)?;
    // Nothing to set (no version, no timestamp, a patch of read-only fields): DynamoDB takes no
    // empty update, so the write only checks that the item is as read.
    let op = if actions.is_empty() {
        WriteOp::Check { key: key_item }
    } else {
        WriteOp::Update {
            key: key_item,
            actions,
        }
    };
    let write = Write {
        table: def.table,
        op,
        conds,
    };
    Ok(PlannedUpdate {
        write,
        guards,
        updated,
    })
}

/// A patch plus the server's own changes (updated, and the version when it is known).
struct Change {
    /// Values to SET, nulls to REMOVE.
    fields: Fields,
    /// Every field the update changes, the version included even before its value is known.
    changed: BTreeSet<String>,
}

impl Change {
    /// `patch` holds only what a client may change (see [`patch_fields`]).
    fn new(
        def: &EntityDef,
        patch: Fields,
        expected_version: Option<i64>,
    ) -> Result<Change, StoreError> {
        let mut fields = patch;
        if let Some(updated) = def.updated {
            fields.insert(updated.to_string(), Value::String(item::now()));
        }
        if let (Some(version), Some(expected)) = (def.version, expected_version) {
            fields.insert(version.to_string(), next_version(expected)?.into());
        }
        let changed = fields
            .keys()
            .cloned()
            .chain(def.version.map(Into::into))
            .collect();
        Ok(Change { fields, changed })
    }
}

/// The patch fields a client may change (not read-only, not server-set, not in the primary key),
/// transformed, as the entity's hook leaves them.
fn patch_fields(
    def: &EntityDef,
    patch: Fields,
    before_write: BeforeWrite,
) -> Result<Fields, StoreError> {
    let mut patch = client_patch(def, patch);
    item::transform(def, &mut patch);
    if !patch.is_empty() {
        before_write(&mut patch)?;
        item::transform(def, &mut patch);
    }
    Ok(patch)
}

fn client_patch(def: &EntityDef, patch: Fields) -> Fields {
    let server = [def.created, def.updated, def.version];
    let key_templates = iter::once(&def.key.pk).chain(def.key.sk.as_ref());
    let key_fields: BTreeSet<&str> = key_templates.flat_map(keys::variables).collect();
    item::client_fields(def, patch, &[])
        .into_iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !key_fields.contains(name) && !server.contains(&Some(name))
        })
        .collect()
}

/// SET for fields with a value, REMOVE for null ones.
fn field_actions(changes: &Fields) -> Result<Actions, StoreError> {
    changes
        .iter()
        .map(|(name, value)| {
            let action = match value {
                Value::Null => Action::Remove,
                value => Action::Set(item::attribute_value(name, value)?),
            };
            Ok((name.clone(), action))
        })
        .collect()
}

/// Index and TTL attributes an update rewrites, and the unchanged fields they were rendered from.
#[derive(Default)]
struct Derived {
    actions: Actions,
    inputs: BTreeSet<&'static str>,
}

/// The index and TTL attributes that change with the `changed` fields, rendered from what
/// `lookup` knows; `None` when it does not know enough.
fn derived<'a>(
    def: &EntityDef,
    changed: &BTreeSet<String>,
    lookup: impl Fn(&str) -> Lookup<'a>,
) -> Result<Option<Derived>, StoreError> {
    let mut derived = Derived::default();
    for (attr, template) in keys::index_pairs(def)? {
        if !keys::variables(template).any(|v| changed.contains(v)) {
            continue;
        }
        let action = match keys::render(template, attr, &lookup)? {
            Rendered::Value(value) => Action::Set(value),
            Rendered::Absent(_) => Action::Remove,
            Rendered::Unknown => return Ok(None),
        };
        derived.actions.insert(attr.name.to_string(), action);
        derived
            .inputs
            .extend(keys::variables(template).filter(|v| !changed.contains(*v)));
    }
    if let Some(expires) = def.expires.as_ref().filter(|e| changed.contains(e.field)) {
        let action = match lookup(expires.field) {
            Lookup::Value(value) => Action::Set(item::ttl_value(expires, value)?),
            Lookup::Absent => Action::Remove,
            Lookup::Unknown => return Ok(None),
        };
        derived
            .actions
            .insert(def.table.ttl_attribute.to_string(), action);
    }
    Ok(Some(derived))
}
