//! Transactions: creates, updates, deletes and checks on any entities, unique guards included,
//! committed as one TransactWriteItems: all of them, or none.

use serde_json::{Map, Value};

use super::backend::{Cond, Found, Write, WriteError, WriteOp};
use super::guards::GuardWrite;
use super::item::{self, Item};
use super::keys;
use super::ops::{number, of_type, plan_create};
use super::{BeforeWrite, Conditions, Entity, EntityDef, Store, StoreError};

/// The most writes DynamoDB takes in one transaction (guard items count).
pub const TRANSACTION_LIMIT: usize = 100;

/// Writes to commit together with [`Store::transact`]. Parts are numbered from 0 in the order
/// they are added; a cancelled transaction names the part that failed
/// ([`StoreError::Cancelled`]).
#[derive(Debug, Default)]
pub struct Transaction {
    parts: Vec<Part>,
    token: Option<String>,
}

#[derive(Debug)]
enum Part {
    /// Planned when added: a create needs no read.
    Create {
        write: Write,
        guards: Vec<GuardWrite>,
    },
    Update {
        def: &'static EntityDef,
        before_write: BeforeWrite,
        key: Map<String, Value>,
        patch: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: Conditions,
    },
    Delete {
        def: &'static EntityDef,
        key: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: Conditions,
    },
    Check {
        def: &'static EntityDef,
        key: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: Conditions,
    },
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a create of `fields` (trusted: read-only fields given are kept). Answers the entity
    /// as it will be stored, its id, timestamps, version and defaults filled in, so that later
    /// parts can refer to it.
    pub fn create<E: Entity>(&mut self, fields: Map<String, Value>) -> Result<E, StoreError> {
        let def = E::DEF;
        let given: Vec<String> = fields.keys().cloned().collect();
        let bound: Vec<&str> = given.iter().map(String::as_str).collect();
        let (write, guards, stored) = plan_create(def, fields, &bound, E::before_write)?;
        let entity = item::into_entity(&stored)?;
        self.parts.push(Part::Create { write, guards });
        Ok(entity)
    }

    /// Adds a merge-patch update of the entity at `key`, as [`Store::update_if`] would make it.
    pub fn update<E: Entity>(
        &mut self,
        key: Map<String, Value>,
        patch: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: Conditions,
    ) -> &mut Self {
        self.parts.push(Part::Update {
            def: E::DEF,
            before_write: E::before_write,
            key,
            patch,
            expected_version,
            conditions,
        });
        self
    }

    /// Adds a delete of the entity at `key`, as [`Store::delete_if`] would make it.
    pub fn delete<E: Entity>(
        &mut self,
        key: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: Conditions,
    ) -> &mut Self {
        self.parts.push(Part::Delete {
            def: E::DEF,
            key,
            expected_version,
            conditions,
        });
        self
    }

    /// Adds a check that changes nothing: the entity at `key` exists (with `expected_version`)
    /// and meets `conditions`, or the whole transaction is cancelled.
    pub fn check<E: Entity>(
        &mut self,
        key: Map<String, Value>,
        expected_version: Option<i64>,
        conditions: Conditions,
    ) -> &mut Self {
        self.parts.push(Part::Check {
            def: E::DEF,
            key,
            expected_version,
            conditions,
        });
        self
    }

    /// The token that makes the transaction idempotent: DynamoDB applies a transaction with the
    /// same token and the same writes at most once (for ten minutes), so a retry of a
    /// [`PreparedTransaction`] after an unknown outcome succeeds without writing twice. Without
    /// one, a new ULID.
    pub fn idempotency_token(&mut self, token: impl Into<String>) -> &mut Self {
        self.token = Some(token.into());
        self
    }

    /// How many parts the transaction has.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether the transaction has no part.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// Which part a write belongs to, and the unique field when it is a guard's.
type Origin = (usize, Option<&'static str>);

/// A transaction planned and ready to commit: its writes are fixed (ids, timestamps, versions),
/// so committing it again after an unknown outcome (a timeout) sends the same request with the
/// same idempotency token, and DynamoDB applies it at most once.
#[derive(Debug)]
pub struct PreparedTransaction {
    writes: Vec<Write>,
    origins: Vec<Origin>,
    refusals: Vec<Refusal>,
    token: String,
}

impl PreparedTransaction {
    /// The token the commit sends (the one given, or a new ULID).
    pub fn idempotency_token(&self) -> &str {
        &self.token
    }
}

impl Store {
    /// Plans and commits `transaction`: [`Store::prepare`], then [`Store::commit`].
    pub async fn transact(&self, transaction: Transaction) -> Result<(), StoreError> {
        let prepared = self.prepare(transaction).await?;
        self.commit(&prepared).await
    }

    /// Plans every part: one GetItem per update (and per delete of an entity with unique
    /// fields), checked as the single-item writes would check them; nothing is written. A part
    /// that cannot go ahead is [`StoreError::Cancelled`] with its number and why.
    pub async fn prepare(
        &self,
        transaction: Transaction,
    ) -> Result<PreparedTransaction, StoreError> {
        let Transaction { parts, token } = transaction;
        let mut writes: Vec<Write> = Vec::new();
        let mut origins: Vec<Origin> = Vec::new();
        let mut refusals: Vec<Refusal> = Vec::new();
        for (index, part) in parts.into_iter().enumerate() {
            let cancelled = |cause| StoreError::Cancelled {
                part: index,
                cause: Box::new(cause),
            };
            let (write, guards, refusal) = self.plan_part(part).await.map_err(cancelled)?;
            writes.push(write);
            origins.push((index, None));
            for (guard, field) in guards {
                writes.push(guard);
                origins.push((index, Some(field)));
            }
            refusals.push(refusal);
        }
        if let Some(token) = &token {
            if token.is_empty() || token.len() > 36 {
                return Err(StoreError::Invalid(
                    "an idempotency token has 1 to 36 characters".into(),
                ));
            }
        }
        if writes.len() > TRANSACTION_LIMIT {
            return Err(StoreError::Invalid(format!(
                "a transaction holds at most {TRANSACTION_LIMIT} writes, unique guards included; this one has {}",
                writes.len()
            )));
        }
        Ok(PreparedTransaction {
            writes,
            origins,
            refusals,
            token: token.unwrap_or_else(|| ulid::Ulid::new().to_string()),
        })
    }

    /// Commits a prepared transaction: one TransactWriteItems holding every part's writes and
    /// unique guards. All parts happen, or none does, on DynamoDB and in memory alike. A part
    /// that fails is [`StoreError::Cancelled`] with its number and why: `NotFound`,
    /// `VersionMismatch`, `ConditionFailed`, `AlreadyExists` or `Conflict` (a unique value).
    pub async fn commit(&self, prepared: &PreparedTransaction) -> Result<(), StoreError> {
        if prepared.writes.is_empty() {
            return Ok(());
        }
        let writes = prepared.writes.clone();
        match self.transact_writes(writes, prepared.token.clone()).await {
            Ok(()) => Ok(()),
            Err(WriteError::Store(err)) => Err(err),
            Err(WriteError::Condition { index, found }) => {
                let Some(&(part, guard)) = prepared.origins.get(index) else {
                    return Err(StoreError::backend(format!(
                        "write {index} failed a condition it lacks"
                    )));
                };
                let cause = match guard {
                    Some(field) => StoreError::Conflict {
                        field: field.to_string(),
                    },
                    None => prepared.refusals[part].why(found),
                };
                Err(StoreError::Cancelled {
                    part,
                    cause: Box::new(cause),
                })
            }
        }
    }

    async fn plan_part(&self, part: Part) -> Result<(Write, Vec<GuardWrite>, Refusal), StoreError> {
        Ok(match part {
            Part::Create { write, guards } => (write, guards, Refusal::Exists),
            Part::Update {
                def,
                before_write,
                key,
                patch,
                expected_version,
                conditions,
            } => {
                let planned = self
                    .plan_update(
                        def,
                        &key,
                        patch,
                        expected_version,
                        &conditions,
                        before_write,
                    )
                    .await?;
                let refusal = Refusal::Item { def, conditions };
                (planned.write, planned.guards, refusal)
            }
            Part::Delete {
                def,
                key,
                expected_version,
                conditions,
            } => {
                super::ops::check_versioned(def, expected_version)?;
                let key = keys::primary_key(def, &key)?;
                let (write, guards) = self
                    .plan_delete(def, key, expected_version, &conditions)
                    .await?;
                (write, guards, Refusal::Item { def, conditions })
            }
            Part::Check {
                def,
                key,
                expected_version,
                conditions,
            } => {
                super::ops::check_versioned(def, expected_version)?;
                let key: Item = keys::primary_key(def, &key)?;
                let mut conds = vec![of_type(def)];
                if let (Some(version), Some(expected)) = (def.version, expected_version) {
                    conds.push(Cond::Equals(version.into(), number(expected)));
                }
                conds.extend(conditions.conds(def)?);
                let write = Write {
                    table: def.table,
                    op: WriteOp::Check { key },
                    conds,
                };
                (write, Vec::new(), Refusal::Item { def, conditions })
            }
        })
    }
}

/// How a part whose own condition failed explains it.
#[derive(Debug)]
enum Refusal {
    /// A create: the key is taken.
    Exists,
    /// A write on an existing item: missing, changed, or not meeting the conditions.
    Item {
        def: &'static EntityDef,
        conditions: Conditions,
    },
}

impl Refusal {
    fn why(&self, found: Found) -> StoreError {
        match self {
            Refusal::Exists => StoreError::AlreadyExists,
            Refusal::Item { def, conditions } => conditions.refusal(def, found),
        }
    }
}
