//! Products in one table keyed `CATEGORY#<category>` / `PRODUCT#<productId>`: in DynamoDB when
//! `TABLE_NAME` is set, otherwise in memory.

use std::collections::BTreeMap;
use std::sync::RwLock;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use crate::Product;

#[derive(Debug)]
pub enum StoreError {
    NotFound,
    Exists,
    VersionMismatch,
    /// Every attempt of an update without If-Match lost its race with another writer.
    Contended,
    BadCursor,
    Backend(String),
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub enum Store {
    Memory(RwLock<BTreeMap<(String, Uuid), Product>>),
    Dynamo { client: Client, table: String },
}

/// How many times an update without If-Match reads and writes before it gives up.
const UPDATE_ATTEMPTS: usize = 5;

fn pk(category: &str) -> String {
    format!("CATEGORY#{category}")
}

fn sk(id: Uuid) -> String {
    format!("PRODUCT#{id}")
}

impl Store {
    pub async fn from_env() -> Self {
        match std::env::var("TABLE_NAME") {
            Ok(table) => Self::Dynamo {
                client: Client::new(&aws_config::load_from_env().await),
                table,
            },
            Err(_) => Self::Memory(RwLock::default()),
        }
    }

    pub async fn create(&self, product: &Product) -> Result<(), StoreError> {
        match self {
            Self::Memory(items) => {
                let mut items = items.write().expect("no writer panics");
                let key = (product.category.clone(), product.product_id);
                if items.contains_key(&key) {
                    return Err(StoreError::Exists);
                }
                items.insert(key, product.clone());
                Ok(())
            }
            Self::Dynamo { client, table } => {
                let result = client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item(product)?))
                    .condition_expression("attribute_not_exists(PK)")
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) if is_condition_failure(&e) => Err(StoreError::Exists),
                    Err(e) => Err(backend(e)),
                }
            }
        }
    }

    pub async fn get(&self, category: &str, id: Uuid) -> Result<Product, StoreError> {
        match self {
            Self::Memory(items) => items
                .read()
                .expect("no writer panics")
                .get(&(category.to_owned(), id))
                .cloned()
                .ok_or(StoreError::NotFound),
            Self::Dynamo { client, table } => {
                let output = client
                    .get_item()
                    .table_name(table)
                    .key("PK", AttributeValue::S(pk(category)))
                    .key("SK", AttributeValue::S(sk(id)))
                    .send()
                    .await
                    .map_err(backend)?;
                let item = output.item.ok_or(StoreError::NotFound)?;
                serde_dynamo::from_item(item).map_err(backend)
            }
        }
    }

    /// Applies `change` to the product if it is at `if_match` (any version without one).
    pub async fn update(
        &self,
        category: &str,
        id: Uuid,
        if_match: Option<i64>,
        change: impl Fn(&mut Product),
    ) -> Result<Product, StoreError> {
        match self {
            Self::Memory(items) => {
                let mut items = items.write().expect("no writer panics");
                let product = items
                    .get_mut(&(category.to_owned(), id))
                    .ok_or(StoreError::NotFound)?;
                if if_match.is_some_and(|v| v != product.version) {
                    return Err(StoreError::VersionMismatch);
                }
                change(product);
                Ok(product.clone())
            }
            Self::Dynamo { client, table } => {
                // Read, change, write if nothing changed in between; without If-Match, a lost
                // race is tried again on the newer version.
                for _ in 0..UPDATE_ATTEMPTS {
                    let mut product = self.get(category, id).await?;
                    let before = product.version;
                    if if_match.is_some_and(|v| v != before) {
                        return Err(StoreError::VersionMismatch);
                    }
                    change(&mut product);
                    let result = client
                        .put_item()
                        .table_name(table)
                        .set_item(Some(item(&product)?))
                        .condition_expression("version = :before")
                        .expression_attribute_values(
                            ":before",
                            AttributeValue::N(before.to_string()),
                        )
                        .send()
                        .await;
                    match result {
                        Ok(_) => return Ok(product),
                        Err(e) if is_condition_failure(&e) && if_match.is_none() => continue,
                        Err(e) if is_condition_failure(&e) => {
                            return Err(StoreError::VersionMismatch)
                        }
                        Err(e) => return Err(backend(e)),
                    }
                }
                Err(StoreError::Contended)
            }
        }
    }

    /// Up to `limit` products of the category after `after`, in id order, and the id to
    /// continue after when there are more.
    pub async fn query(
        &self,
        category: &str,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<(Vec<Product>, Option<Uuid>), StoreError> {
        match self {
            Self::Memory(items) => {
                use std::ops::Bound;
                let items = items.read().expect("no writer panics");
                let start = match after {
                    Some(id) => Bound::Excluded((category.to_owned(), id)),
                    None => Bound::Included((category.to_owned(), Uuid::nil())),
                };
                let end = Bound::Included((category.to_owned(), Uuid::max()));
                let mut page: Vec<Product> = items
                    .range((start, end))
                    .take(limit + 1)
                    .map(|(_, p)| p.clone())
                    .collect();
                Ok(page_of(&mut page, limit))
            }
            Self::Dynamo { client, table } => {
                let mut request = client
                    .query()
                    .table_name(table)
                    .key_condition_expression("PK = :pk AND begins_with(SK, :product)")
                    .expression_attribute_values(":pk", AttributeValue::S(pk(category)))
                    .expression_attribute_values(":product", AttributeValue::S("PRODUCT#".into()))
                    .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
                if let Some(id) = after {
                    request = request
                        .exclusive_start_key("PK", AttributeValue::S(pk(category)))
                        .exclusive_start_key("SK", AttributeValue::S(sk(id)));
                }
                let output = request.send().await.map_err(backend)?;
                let mut page: Vec<Product> =
                    serde_dynamo::from_items(output.items.unwrap_or_default()).map_err(backend)?;
                Ok(page_of(&mut page, limit))
            }
        }
    }
}

fn page_of(page: &mut Vec<Product>, limit: usize) -> (Vec<Product>, Option<Uuid>) {
    let more = page.len() > limit;
    page.truncate(limit);
    let last = more.then(|| page.last().map(|p| p.product_id)).flatten();
    (std::mem::take(page), last)
}

fn item(
    product: &Product,
) -> Result<std::collections::HashMap<String, AttributeValue>, StoreError> {
    let mut item: std::collections::HashMap<String, AttributeValue> =
        serde_dynamo::to_item(product).map_err(backend)?;
    item.insert("PK".into(), AttributeValue::S(pk(&product.category)));
    item.insert("SK".into(), AttributeValue::S(sk(product.product_id)));
    Ok(item)
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    e: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    e.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// Cursors: the last id as base64url, with a checksum so that a changed one is refused.
pub mod cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    use uuid::Uuid;

    use super::StoreError;

    fn tag(category: &str, id: &Uuid) -> [u8; 8] {
        let digest = Sha256::new()
            .chain_update(b"catalog cursor v1\0")
            .chain_update(category.as_bytes())
            .chain_update(id.as_bytes())
            .finalize();
        let mut tag = [0; 8];
        tag.copy_from_slice(&digest[..8]);
        tag
    }

    pub fn seal(category: &str, id: Uuid) -> String {
        let mut bytes = id.as_bytes().to_vec();
        bytes.extend_from_slice(&tag(category, &id));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The id a cursor continues after, if it is one this category's query gave.
    pub fn open(cursor: &str, category: &str) -> Result<Uuid, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::BadCursor)?;
        if bytes.len() != 24 {
            return Err(StoreError::BadCursor);
        }
        let id = Uuid::from_slice(&bytes[..16]).map_err(|_| StoreError::BadCursor)?;
        if bytes[16..] != tag(category, &id) {
            return Err(StoreError::BadCursor);
        }
        Ok(id)
    }
}
