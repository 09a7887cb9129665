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
    match backend(in_lambda(), local_endpoint) {
        Backend::Memory => {
            tracing::info!(
                "using the in-memory store; set AWS_ENDPOINT_URL_DYNAMODB to use DynamoDB"
            );
            Ok(Store::memory())
        }
        Backend::Dynamo { create_tables } => {
            let store = dynamodb(prefix, tables).await;
            if create_tables {
                store.ensure_tables(tables).await?;
            }
            Ok(store)
        }
    }
}

/// Where the entities live.
#[derive(Debug, PartialEq, Eq)]
enum Backend {
    Memory,
    /// DynamoDB; `create_tables` only for local development, as under Lambda the tables belong
    /// to CloudFormation.
    Dynamo {
        create_tables: bool,
    },
}

fn backend(in_lambda: bool, local_endpoint: bool) -> Backend {
    match (in_lambda, local_endpoint) {
        (true, _) => Backend::Dynamo {
            create_tables: false,
        },
        (false, true) => Backend::Dynamo {
            create_tables: true,
        },
        (false, false) => Backend::Memory,
    }
}

/// A DynamoDB store configured from the environment (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION`,
/// credentials), whatever the process runs in; its tables are not created.
pub async fn dynamodb(prefix: &str, tables: &[&'static TableDef]) -> Store {
    Store::dynamo(client().await, tables, prefix)
}

/// A DynamoDB client from the environment.
async fn client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// The AWS configuration from the environment. A local server needs no AWS account, so outside
/// Lambda a region and credentials are supplied when none are set.
pub(crate) async fn sdk_config() -> aws_config::SdkConfig {
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
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_uses_dynamodb_and_leaves_its_tables_to_cloudformation() {
        let expected = Backend::Dynamo {
            create_tables: false,
        };
        assert_eq!(backend(true, false), expected);
        assert_eq!(backend(true, true), expected);
    }

    #[test]
    fn a_local_endpoint_uses_dynamodb_and_creates_missing_tables() {
        assert_eq!(
            backend(false, true),
            Backend::Dynamo {
                create_tables: true
            }
        );
    }

    #[test]
    fn without_lambda_or_an_endpoint_entities_live_in_memory() {
        assert_eq!(backend(false, false), Backend::Memory);
    }

    // Reads the process's environment without changing it (other tests run in parallel).
    #[tokio::test]
    async fn from_env_gives_the_memory_store_in_a_plain_environment() {
        if in_lambda() || std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
            eprintln!("skipped: the environment names Lambda or a DynamoDB endpoint");
            return;
        }
        let store = from_env("test", &[]).await.unwrap();
        assert!(matches!(store, Store::Memory(_)));
    }
}
