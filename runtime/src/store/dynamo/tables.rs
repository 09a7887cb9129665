//! Creating missing tables for local development (`Store::ensure_tables`).

use std::time::Duration;

use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus,
};

use super::{backend, DynamoStore};
use crate::store::{KeyAttr, KeyKind, StoreError, TableDef};

/// How long to wait for a new table to become ACTIVE, and how often to look.
const WAIT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(500);

impl DynamoStore {
    /// Creates each missing table with its GSIs (PAY_PER_REQUEST) and waits until it is ACTIVE.
    pub(crate) async fn ensure_tables(
        &self,
        tables: &[&'static TableDef],
    ) -> Result<(), StoreError> {
        for table in tables {
            let name = self.table_name(table);
            if self.describe(&name).await?.is_none() {
                self.create(table, &name).await?;
            }
            self.wait_active(&name).await?;
        }
        Ok(())
    }

    /// Whether the table and all its indexes are ACTIVE; `None` when it does not exist.
    async fn describe(&self, name: &str) -> Result<Option<bool>, StoreError> {
        let output = match self.client().describe_table().table_name(name).send().await {
            Ok(output) => output,
            Err(err) => {
                return match err.into_service_error() {
                    DescribeTableError::ResourceNotFoundException(_) => Ok(None),
                    other => Err(backend("DescribeTable", other)),
                }
            }
        };
        let Some(table) = output.table else {
            return Ok(None);
        };
        let indexes_active = table
            .global_secondary_indexes()
            .iter()
            .all(|index| index.index_status() == Some(&IndexStatus::Active));
        Ok(Some(
            table.table_status() == Some(&TableStatus::Active) && indexes_active,
        ))
    }

    async fn create(&self, table: &TableDef, name: &str) -> Result<(), StoreError> {
        let mut definitions: Vec<AttributeDefinition> = Vec::new();
        let mut define = |attr: &KeyAttr| -> Result<(), StoreError> {
            // An attribute used by several keys is defined once.
            if !definitions.iter().any(|d| d.attribute_name() == attr.name) {
                definitions.push(
                    AttributeDefinition::builder()
                        .attribute_name(attr.name)
                        .attribute_type(attribute_type(attr.kind))
                        .build()
                        .map_err(|e| backend("CreateTable", e))?,
                );
            }
            Ok(())
        };
        let mut indexes = Vec::new();
        for attr in [Some(&table.pk), table.sk.as_ref()].into_iter().flatten() {
            define(attr)?;
        }
        for index in table.indexes {
            for attr in [Some(&index.pk), index.sk.as_ref()].into_iter().flatten() {
                define(attr)?;
            }
            let projection = if index.keys_only {
                ProjectionType::KeysOnly
            } else {
                ProjectionType::All
            };
            indexes.push(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .set_key_schema(Some(key_schema(&index.pk, index.sk.as_ref())?))
                    .projection(Projection::builder().projection_type(projection).build())
                    .build()
                    .map_err(|e| backend("CreateTable", e))?,
            );
        }
        let result = self
            .client()
            .create_table()
            .table_name(name)
            .set_attribute_definitions(Some(definitions))
            .set_key_schema(Some(key_schema(&table.pk, table.sk.as_ref())?))
            .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match result.map_err(|e| e.into_service_error()) {
            // Created meanwhile by someone else: just as good.
            Ok(_) | Err(CreateTableError::ResourceInUseException(_)) => Ok(()),
            Err(other) => Err(backend("CreateTable", other)),
        }
    }

    async fn wait_active(&self, name: &str) -> Result<(), StoreError> {
        let mut waited = Duration::ZERO;
        while self.describe(name).await? != Some(true) {
            if waited >= WAIT {
                let message = format!("table `{name}` did not become ACTIVE in {WAIT:?}");
                return Err(StoreError::backend(message));
            }
            // Clients built by `aws_config` have one; a bare `Config::builder()` may not.
            let sleep = self.client().config().sleep_impl().ok_or_else(|| {
                StoreError::backend("the DynamoDB client cannot sleep: build it with aws_config")
            })?;
            sleep.sleep(POLL).await;
            waited += POLL;
        }
        Ok(())
    }
}

fn attribute_type(kind: KeyKind) -> ScalarAttributeType {
    match kind {
        KeyKind::S => ScalarAttributeType::S,
        KeyKind::N => ScalarAttributeType::N,
        KeyKind::B => ScalarAttributeType::B,
    }
}

fn key_schema(pk: &KeyAttr, sk: Option<&KeyAttr>) -> Result<Vec<KeySchemaElement>, StoreError> {
    let hash = Some((pk, KeyType::Hash));
    let range = sk.map(|sk| (sk, KeyType::Range));
    [hash, range]
        .into_iter()
        .flatten()
        .map(|(attr, key_type)| {
            KeySchemaElement::builder()
                .attribute_name(attr.name)
                .key_type(key_type)
                .build()
                .map_err(|e| backend("CreateTable", e))
        })
        .collect()
}
