//! The store a service gets from its environment: what AWS Lambda sets, or what a developer
//! sets locally.

use super::{Store, StoreError, TableDef};
use crate::server::in_lambda;

/// The store: DynamoDB under Lambda, or when `AWS_ENDPOINT_URL_DYNAMODB` names a local server
/// (whose missing tables are then created); memory otherwise.
///
/// Table names come from each table's environment variable (the SAM template sets them), or are
/// `<prefix>-<table>` when it is unset.
pub async fn from_env(prefix: &str, tables: &[&'static TableDef]) -> Result<Store, StoreError> {
    let local_endpoint = std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some();
    if !in_lambda() && !local_endpoint {
        tracing::info!("using the in-memory store; set AWS_ENDPOINT_URL_DYNAMODB to use DynamoDB");
        return Ok(Store::memory());
    }
    let store = dynamodb(prefix, tables).await;
    if !in_lambda() {
        // Only for local development: under Lambda the tables belong to CloudFormation.
        store.ensure_tables(tables).await?;
    }
    Ok(store)
}

/// A DynamoDB store configured from the environment (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION`,
/// credentials), whatever the process runs in; its tables are not created.
pub async fn dynamodb(prefix: &str, tables: &[&'static TableDef]) -> Store {
    Store::dynamo(client().await, tables, prefix)
}

/// A DynamoDB client from the environment. A local server needs no AWS account, so outside
/// Lambda a region and credentials are supplied when none are set.
async fn client() -> aws_sdk_dynamodb::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if !in_lambda() {
        let region_set = std::env::var_os("AWS_REGION").is_some()
            || std::env::var_os("AWS_DEFAULT_REGION").is_some();
        if !region_set {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
        let credentials_set = std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
            || std::env::var_os("AWS_PROFILE").is_some();
        if !credentials_set {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "apigen-local",
            ));
        }
    }
    aws_sdk_dynamodb::Client::new(&loader.load().await)
}
