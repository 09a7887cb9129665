//! Every DynamoDB request goes through [`sent`]: a span naming its table, action and outcome,
//! and a count (with the capacity it consumed) in the metrics of the request being served.

use std::future::Future;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::ConsumedCapacity;
use tracing::Instrument as _;

/// What a request's output says it consumed.
pub(super) trait Consumed {
    fn capacity_units(&self) -> f64;
}

fn units<'a>(consumed: impl IntoIterator<Item = &'a ConsumedCapacity>) -> f64 {
    consumed.into_iter().filter_map(|c| c.capacity_units).sum()
}

macro_rules! consumed {
    (one: $($output:path),*; many: $($outputs:path),*) => {
        $(impl Consumed for $output {
            fn capacity_units(&self) -> f64 {
                units(self.consumed_capacity())
            }
        })*
        $(impl Consumed for $outputs {
            fn capacity_units(&self) -> f64 {
                units(self.consumed_capacity())
            }
        })*
    };
}

use aws_sdk_dynamodb::operation::{
    batch_get_item::BatchGetItemOutput, batch_write_item::BatchWriteItemOutput,
    delete_item::DeleteItemOutput, get_item::GetItemOutput, put_item::PutItemOutput,
    query::QueryOutput, scan::ScanOutput, transact_write_items::TransactWriteItemsOutput,
    update_item::UpdateItemOutput,
};

consumed!(
    one: GetItemOutput, PutItemOutput, DeleteItemOutput, UpdateItemOutput, QueryOutput, ScanOutput;
    many: BatchGetItemOutput, BatchWriteItemOutput, TransactWriteItemsOutput
);

/// Awaits `request` (DynamoDB's `action` on `table`) inside its span, and counts it.
pub(super) async fn sent<T, E, R>(
    action: &'static str,
    table: &str,
    request: impl Future<Output = Result<T, SdkError<E, R>>>,
) -> Result<T, SdkError<E, R>>
where
    T: Consumed,
    E: ProvideErrorMetadata,
{
    let span = tracing::info_span!("dynamodb", table, action, outcome = tracing::field::Empty);
    let result = request.instrument(span.clone()).await;
    let (outcome, consumed) = match &result {
        Ok(output) => ("ok", output.capacity_units()),
        Err(error) => match error.code() {
            Some("ConditionalCheckFailedException") => {
                crate::observe::record_condition_failure();
                ("condition_failed", 0.0)
            }
            Some("TransactionCanceledException") => ("cancelled", 0.0),
            _ => ("error", 0.0),
        },
    };
    span.record("outcome", outcome);
    crate::observe::record_dynamodb(consumed);
    result
}
