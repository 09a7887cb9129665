//! The DynamoDB backend: each primitive operation as one request.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put, PutRequest,
    ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;

use super::backend::{
    Actions, BatchOp, Cond, Found, QueryPage, RawPage, ScanPage, Write, WriteError, WriteOp,
};
use super::expr::{self, Placeholders};
use super::item::{Item, TOO_LARGE};
use super::{StoreError, TableDef};

mod sent;
mod tables;

use sent::sent;

/// DynamoDB through one client, with the physical name of each table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    names: HashMap<&'static str, String>,
    default_prefix: String,
}

/// Requests a batch makes before it gives up on keys DynamoDB keeps leaving unprocessed.
const BATCH_ATTEMPTS: u32 = 8;

/// The pause before a batch's `attempt`-th retry: 25 ms doubling, at most 1.6 s, with jitter so
/// that clients retrying together spread out.
fn backoff(attempt: u32) -> std::time::Duration {
    let base = 25u64 << attempt.min(6);
    let jitter = u64::from(ulid::Ulid::new().random() as u16) % (base / 2 + 1);
    std::time::Duration::from_millis(base / 2 + jitter)
}

/// A failed request as a `StoreError`, with the whole error chain for the log.
fn backend(operation: &str, err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend {
        message: format!("{operation}: {}", DisplayErrorContext(&err)),
        source: Some(Box::new(err)),
    }
}

/// A failed write as a `StoreError`: an item over DynamoDB's size limit is the client's doing.
fn write_failed(
    operation: &str,
    err: impl std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
) -> StoreError {
    if err.code() == Some("ValidationException") && is_size_message(err.message()) {
        StoreError::Invalid(TOO_LARGE.into())
    } else {
        backend(operation, err)
    }
}

/// DynamoDB says "Item size has exceeded…" or "Item size to update has exceeded…".
fn is_size_message(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.starts_with("Item size"))
}

/// Maps a single write's error: a failed condition (with the item DynamoDB returned), a write
/// that met a transaction in progress, or anything else.
macro_rules! write_error {
    ($err:expr, $kind:ident, $operation:literal) => {
        match $err.into_service_error() {
            $kind::ConditionalCheckFailedException(e) => WriteError::Condition {
                index: 0,
                found: found(e.item),
            },
            $kind::TransactionConflictException(_) => WriteError::Condition {
                index: 0,
                found: Found::Busy,
            },
            other => WriteError::Store(write_failed($operation, other)),
        }
    };
}

fn found(item: Option<Item>) -> Found {
    item.map_or(Found::Nothing, Found::Item)
}

impl DynamoStore {
    pub(super) fn new(client: Client, tables: &[&'static TableDef], default_prefix: &str) -> Self {
        let names = tables
            .iter()
            .map(|table| (table.name, physical_name(table, default_prefix)))
            .collect();
        let default_prefix = default_prefix.to_string();
        DynamoStore {
            inner: Arc::new(Inner {
                client,
                names,
                default_prefix,
            }),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The physical name of a table.
    pub(crate) fn table_name(&self, table: &TableDef) -> String {
        match self.inner.names.get(table.name) {
            Some(name) => name.clone(),
            None => physical_name(table, &self.inner.default_prefix),
        }
    }

    pub(super) async fn get(
        &self,
        table: &TableDef,
        key: Item,
    ) -> Result<Option<Item>, StoreError> {
        let name = self.table_name(table);
        let request = self
            .client()
            .get_item()
            .table_name(&name)
            .set_key(Some(key))
            // Read-your-writes, as the memory backend and REST clients expect.
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let output = sent("GetItem", &name, request)
            .await
            .map_err(|e| backend("GetItem", e))?;
        Ok(output.item)
    }

    /// One BatchGetItem of at most 100 keys, strongly consistent, then one more for whatever
    /// DynamoDB left unprocessed (it may, under load), after a growing pause, up to a bound.
    pub(super) async fn batch_get(
        &self,
        table: &TableDef,
        keys: &[Item],
    ) -> Result<Vec<Item>, StoreError> {
        let name = self.table_name(table);
        let mut pending = keys.to_vec();
        let mut found = Vec::with_capacity(keys.len());
        for attempt in 0..BATCH_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| backend("BatchGetItem", e))?;
            let request = self
                .client()
                .batch_get_item()
                .request_items(&name, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            let output = sent("BatchGetItem", &name, request)
                .await
                .map_err(|e| backend("BatchGetItem", e))?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(&name).unwrap_or_default());
            }
            if let Some(mut unprocessed) = output.unprocessed_keys {
                if let Some(left) = unprocessed.remove(&name) {
                    pending = left.keys;
                }
            }
        }
        if pending.is_empty() {
            Ok(found)
        } else {
            Err(StoreError::backend(format!(
                "BatchGetItem: {} keys still unprocessed after {BATCH_ATTEMPTS} attempts",
                pending.len()
            )))
        }
    }

    pub(super) async fn batch_write(
        &self,
        table: &TableDef,
        ops: &[BatchOp],
    ) -> Result<(), StoreError> {
        let name = self.table_name(table);
        let mut pending = ops
            .iter()
            .map(|op| match op {
                BatchOp::Put(item) => PutRequest::builder()
                    .set_item(Some(item.clone()))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build()),
                BatchOp::Delete(key) => DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| backend("BatchWriteItem", e))?;
        for attempt in 0..BATCH_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let request = self
                .client()
                .batch_write_item()
                .request_items(&name, std::mem::take(&mut pending))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            let output = sent("BatchWriteItem", &name, request)
                .await
                .map_err(|e| write_failed("BatchWriteItem", e))?;
            if let Some(mut unprocessed) = output.unprocessed_items {
                pending = unprocessed.remove(&name).unwrap_or_default();
            }
        }
        if pending.is_empty() {
            Ok(())
        } else {
            Err(StoreError::backend(format!(
                "BatchWriteItem: {} writes still unprocessed after {BATCH_ATTEMPTS} attempts",
                pending.len()
            )))
        }
    }

    pub(super) async fn write(&self, mut writes: Vec<Write>) -> Result<(), WriteError> {
        if writes.len() > 1 {
            // The SDK retries with the same token, so a retry of a transaction that went through
            // succeeds instead of failing its own conditions.
            return self.transact(writes, ulid::Ulid::new().to_string()).await;
        }
        let Some(Write { table, op, conds }) = writes.pop() else {
            return Ok(());
        };
        let on_failure = ReturnValuesOnConditionCheckFailure::AllOld;
        match op {
            WriteOp::Update { key, actions } => {
                self.update_request(table, key, actions, conds, ReturnValue::None)
                    .await?;
            }
            WriteOp::Put(item) => {
                let mut p = Placeholders::default();
                let condition = expr::condition(&conds, &mut p);
                let (names, values) = p.into_maps();
                let name = self.table_name(table);
                let request = self
                    .client()
                    .put_item()
                    .table_name(&name)
                    .set_item(Some(item))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(on_failure)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send();
                sent("PutItem", &name, request)
                    .await
                    .map_err(|e| write_error!(e, PutItemError, "PutItem"))?;
            }
            WriteOp::Delete { key } => {
                let mut p = Placeholders::default();
                let condition = expr::condition(&conds, &mut p);
                let (names, values) = p.into_maps();
                let name = self.table_name(table);
                let request = self
                    .client()
                    .delete_item()
                    .table_name(&name)
                    .set_key(Some(key))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(on_failure)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send();
                sent("DeleteItem", &name, request)
                    .await
                    .map_err(|e| write_error!(e, DeleteItemError, "DeleteItem"))?;
            }
            // A check alone changes nothing: it is a transaction's part.
            WriteOp::Check { key } => {
                return self
                    .transact(
                        vec![Write {
                            table,
                            op: WriteOp::Check { key },
                            conds,
                        }],
                        ulid::Ulid::new().to_string(),
                    )
                    .await;
            }
        }
        Ok(())
    }

    pub(super) async fn update(
        &self,
        table: &TableDef,
        key: Item,
        actions: Actions,
        conds: Vec<Cond>,
    ) -> Result<Item, WriteError> {
        let item = self
            .update_request(table, key, actions, conds, ReturnValue::AllNew)
            .await?;
        item.ok_or_else(|| WriteError::Store(StoreError::backend("UpdateItem returned no item")))
    }

    async fn update_request(
        &self,
        table: &TableDef,
        key: Item,
        actions: Actions,
        conds: Vec<Cond>,
        returns: ReturnValue,
    ) -> Result<Option<Item>, WriteError> {
        let mut p = Placeholders::default();
        let condition = expr::condition(&conds, &mut p);
        let update = expr::update(&actions, &mut p);
        let (names, values) = p.into_maps();
        let name = self.table_name(table);
        let request = self
            .client()
            .update_item()
            .table_name(&name)
            .set_key(Some(key))
            .set_update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(returns)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let output = sent("UpdateItem", &name, request)
            .await
            .map_err(|e| write_error!(e, UpdateItemError, "UpdateItem"))?;
        Ok(output.attributes)
    }

    pub(super) async fn transact(
        &self,
        writes: Vec<Write>,
        token: String,
    ) -> Result<(), WriteError> {
        let mut tables: Vec<String> = writes.iter().map(|w| self.table_name(w.table)).collect();
        tables.sort();
        tables.dedup();
        let items = writes
            .into_iter()
            .map(|write| self.transact_item(write))
            .collect::<Result<Vec<_>, _>>()?;
        let request = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let result = sent("TransactWriteItems", &tables.join(","), request).await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => err.into_service_error(),
        };
        let TransactWriteItemsError::TransactionCanceledException(cancelled) = err else {
            let twice = err.code() == Some("ValidationException")
                && err
                    .message()
                    .is_some_and(|m| m.contains("multiple operations on one item"));
            if twice {
                let message = "a transaction cannot write one item twice";
                return Err(WriteError::Store(StoreError::Invalid(message.into())));
            }
            if err.code() == Some("IdempotentParameterMismatchException") {
                let message = "the idempotency token was used for another transaction";
                return Err(WriteError::Store(StoreError::Invalid(message.into())));
            }
            return Err(WriteError::Store(write_failed("TransactWriteItems", err)));
        };
        // Reasons come in the order of the writes; the first failed condition names the error.
        let reasons = cancelled.cancellation_reasons();
        let failed = |code: &str| {
            let mut reasons = reasons.iter().enumerate();
            reasons.find(|(_, reason)| reason.code() == Some(code))
        };
        if let Some((index, reason)) = failed("ConditionalCheckFailed") {
            crate::observe::record_condition_failure();
            let found = found(reason.item.clone());
            return Err(WriteError::Condition { index, found });
        }
        if let Some((index, _)) = failed("TransactionConflict") {
            let found = Found::Busy;
            return Err(WriteError::Condition { index, found });
        }
        let too_large = |r: &CancellationReason| {
            r.code() == Some("ValidationError") && is_size_message(r.message())
        };
        if reasons.iter().any(too_large) {
            return Err(WriteError::Store(StoreError::Invalid(TOO_LARGE.into())));
        }
        Err(WriteError::Store(backend("TransactWriteItems", cancelled)))
    }

    fn transact_item(&self, write: Write) -> Result<TransactWriteItem, WriteError> {
        let built = |e| WriteError::Store(backend("TransactWriteItems", e));
        let mut p = Placeholders::default();
        let condition = expr::condition(&write.conds, &mut p);
        let table = self.table_name(write.table);
        let on_failure = ReturnValuesOnConditionCheckFailure::AllOld;
        let item = match write.op {
            WriteOp::Put(item) => {
                let (names, values) = p.into_maps();
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().put(put)
            }
            WriteOp::Update { key, actions } => {
                let update = expr::update(&actions, &mut p);
                let (names, values) = p.into_maps();
                let update = Update::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_update_expression(update)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().update(update)
            }
            WriteOp::Delete { key } => {
                let (names, values) = p.into_maps();
                let delete = Delete::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().delete(delete)
            }
            WriteOp::Check { key } => {
                let (names, values) = p.into_maps();
                let check = ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().condition_check(check)
            }
        };
        Ok(item.build())
    }

    pub(super) async fn query(&self, page: QueryPage<'_>) -> Result<RawPage, StoreError> {
        let mut p = Placeholders::default();
        let key_condition = expr::key_condition(page.condition, &mut p);
        let filter = expr::filter(page.filter, &mut p);
        let (names, values) = p.into_maps();
        let name = self.table_name(page.table);
        let request = self
            .client()
            .query()
            .table_name(&name)
            .set_index_name(page.index.map(|index| index.name.to_string()))
            .key_condition_expression(key_condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .scan_index_forward(!page.descending)
            .limit(limit(page.limit))
            .set_exclusive_start_key(page.start)
            // Indexes are only ever eventually consistent; the table can do better.
            .consistent_read(page.index.is_none())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let output = sent("Query", &name, request)
            .await
            .map_err(|e| backend("Query", e))?;
        Ok(raw_page(output.items, output.last_evaluated_key))
    }

    pub(super) async fn scan(&self, page: ScanPage<'_>) -> Result<RawPage, StoreError> {
        let mut p = Placeholders::default();
        let filter = expr::filter(page.filter, &mut p);
        let (names, values) = p.into_maps();
        let name = self.table_name(page.table);
        let request = self
            .client()
            .scan()
            .table_name(&name)
            .set_filter_expression(filter)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .limit(limit(page.limit))
            .set_exclusive_start_key(page.start)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let output = sent("Scan", &name, request)
            .await
            .map_err(|e| backend("Scan", e))?;
        Ok(raw_page(output.items, output.last_evaluated_key))
    }
}

/// The table name from its env var, else `<prefix>-<logical name>`.
fn physical_name(table: &TableDef, default_prefix: &str) -> String {
    match std::env::var(table.env) {
        Ok(name) if !name.is_empty() => name,
        _ => format!("{default_prefix}-{}", table.name),
    }
}

fn limit(limit: usize) -> i32 {
    // Callers check 1..=1000; saturate rather than wrap if that ever changes.
    i32::try_from(limit).unwrap_or(i32::MAX)
}

fn raw_page(items: Option<Vec<Item>>, last_key: Option<Item>) -> RawPage {
    RawPage {
        items: super::backend::shared(items.unwrap_or_default()),
        last_key: last_key.filter(|key| !key.is_empty()),
    }
}
