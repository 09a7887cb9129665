//! Locally on DynamoDB (a local server such as moto): the streams of the tables holding
//! published entities, read as Lambda's event source mapping reads them, so that a write from
//! any process reaches the subscribers of this one, as it does when deployed.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamSpecification, StreamViewType};
use aws_sdk_dynamodbstreams::types::{
    AttributeValue as StreamValue, OperationType, ShardIteratorType,
};

use super::Publisher;
use crate::store::dynamo::DynamoStore;
use crate::store::{Item, ItemChange, TableDef};
use crate::BoxError;

/// How often a shard is read, as a Lambda event source mapping would poll it.
const POLL: Duration = Duration::from_millis(250);

/// The streams being read: each table's, and an iterator per shard.
pub(super) struct Followed {
    client: aws_sdk_dynamodbstreams::Client,
    streams: Vec<(String, String)>,
    iterators: BTreeMap<String, Option<String>>,
}

/// Opens the streams of `tables` (enabling them on a local table that has none) at their
/// latest records: every change written after this returns is read.
pub(super) async fn open(
    store: &DynamoStore,
    client: aws_sdk_dynamodbstreams::Client,
    tables: Vec<&'static TableDef>,
) -> Result<Followed, BoxError> {
    let mut followed = Followed {
        client,
        streams: Vec::new(),
        iterators: BTreeMap::new(),
    };
    for table in tables {
        let arn = stream_of(store, table).await?;
        followed.streams.push((store.table_name(table), arn));
    }
    for (_, arn) in followed.streams.clone() {
        followed.shards(&arn, ShardIteratorType::Latest).await?;
    }
    Ok(followed)
}

impl Followed {
    /// Iterators for the stream's shards not yet read, from `start`.
    async fn shards(
        &mut self,
        arn: &str,
        start: ShardIteratorType,
    ) -> Result<Vec<String>, BoxError> {
        let described = self.client.describe_stream().stream_arn(arn).send().await?;
        let shards = described
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default();
        let mut ids = Vec::new();
        for id in shards.into_iter().filter_map(|s| s.shard_id) {
            if !self.iterators.contains_key(&id) {
                let iterator = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(arn)
                    .shard_id(&id)
                    .shard_iterator_type(start.clone())
                    .send()
                    .await?
                    .shard_iterator;
                self.iterators.insert(id.clone(), iterator);
            }
            ids.push(id);
        }
        Ok(ids)
    }

    /// Pushes the streams' changes with `publisher`, until the process ends.
    pub(super) async fn run(mut self, publisher: Publisher) {
        loop {
            for (table, arn) in self.streams.clone() {
                if let Err(error) = self.read(&publisher, &table, &arn).await {
                    tracing::warn!(%table, %error, "could not read the table's stream");
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn read(
        &mut self,
        publisher: &Publisher,
        table: &str,
        arn: &str,
    ) -> Result<(), BoxError> {
        // Shards that open later are read whole.
        for id in self.shards(arn, ShardIteratorType::TrimHorizon).await? {
            // A closed shard read to its end has no iterator left.
            let Some(Some(iterator)) = self.iterators.get(&id).cloned() else {
                continue;
            };
            let page = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await?;
            for record in page.records.unwrap_or_default() {
                let Some(images) = record.dynamodb else {
                    continue;
                };
                let old = images.old_image.map(item);
                let new = match record.event_name {
                    Some(OperationType::Remove) => None,
                    _ => images.new_image.map(item),
                };
                let change = ItemChange::new(table.to_owned(), old, new);
                if let Err(error) = publisher.push(&change).await {
                    tracing::warn!(%error, "a change could not be pushed");
                }
            }
            self.iterators.insert(id, page.next_shard_iterator);
        }
        Ok(())
    }
}

/// The table's latest stream, enabled with both images if it has none (local tables only).
async fn stream_of(store: &DynamoStore, table: &TableDef) -> Result<String, BoxError> {
    let name = store.table_name(table);
    if let Some(arn) = enabled_stream(store, &name).await? {
        return Ok(arn);
    }
    let specification = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()?;
    let updated = store
        .client()
        .update_table()
        .table_name(&name)
        .stream_specification(specification)
        .send()
        .await;
    match updated {
        Ok(output) => {
            let arn = output.table_description.and_then(|t| t.latest_stream_arn);
            arn.ok_or_else(|| "UpdateTable answered no stream".into())
        }
        // Another process started beside this one may have enabled it first.
        Err(error) => match enabled_stream(store, &name).await? {
            Some(arn) => Ok(arn),
            None => Err(aws_sdk_dynamodb::error::DisplayErrorContext(error)
                .to_string()
                .into()),
        },
    }
}

/// The table's stream, if it has one enabled.
async fn enabled_stream(store: &DynamoStore, name: &str) -> Result<Option<String>, BoxError> {
    let described = store
        .client()
        .describe_table()
        .table_name(name)
        .send()
        .await;
    let described =
        described.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
    let table = described.table.ok_or("DescribeTable answered no table")?;
    let enabled = table
        .stream_specification
        .as_ref()
        .is_some_and(|s| s.stream_enabled);
    Ok(enabled.then_some(table.latest_stream_arn).flatten())
}

/// The streams client of the environment's DynamoDB: a local server serves its streams too.
pub(super) async fn streams_client() -> aws_sdk_dynamodbstreams::Client {
    let shared = crate::store::sdk_config().await;
    let mut config = aws_sdk_dynamodbstreams::config::Builder::from(&shared);
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_dynamodbstreams::Client::from_conf(config.build())
}

fn item(image: std::collections::HashMap<String, StreamValue>) -> Item {
    image
        .into_iter()
        .map(|(name, value)| (name, value_of(value)))
        .collect()
}

/// The streams API's attribute value as the DynamoDB API's: the same data, another crate.
fn value_of(value: StreamValue) -> AttributeValue {
    match value {
        StreamValue::S(s) => AttributeValue::S(s),
        StreamValue::N(n) => AttributeValue::N(n),
        StreamValue::B(b) => {
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b.into_inner()))
        }
        StreamValue::Ss(v) => AttributeValue::Ss(v),
        StreamValue::Ns(v) => AttributeValue::Ns(v),
        StreamValue::Bs(v) => AttributeValue::Bs(
            v.into_iter()
                .map(|b| aws_sdk_dynamodb::primitives::Blob::new(b.into_inner()))
                .collect(),
        ),
        StreamValue::M(m) => AttributeValue::M(item(m)),
        StreamValue::L(l) => AttributeValue::L(l.into_iter().map(value_of).collect()),
        StreamValue::Null(n) => AttributeValue::Null(n),
        StreamValue::Bool(b) => AttributeValue::Bool(b),
        // A kind added to the API after this code: kept as nothing rather than guessed.
        _ => AttributeValue::Null(true),
    }
}
