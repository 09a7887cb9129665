//! The catalog API of `benches/service/catalog.yaml`, written by hand with lambda_http, axum,
//! serde and the AWS SDK: what a team would write without apigen, and the baseline the load
//! benchmark holds the generated service to.
//!
//! It does the same work per request: the same checks with every violation reported as
//! problem+json, the same single-table keys, conditional writes, versions and ETags, the same
//! checksummed cursors, in memory locally and in DynamoDB when `TABLE_NAME` is set. It writes
//! no line per request (API Gateway's access log has them), as a lean service would not.

mod checks;
mod store;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use checks::Problem;
use store::{Store, StoreError};

/// A product as stored and as returned.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: uuid::Uuid,
    pub category: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub price: f64,
    pub stock: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "millis")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// Timestamps as RFC 3339 with milliseconds, which sort as text.
mod millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// The body of a create: what a client may set.
#[derive(Debug, Deserialize)]
struct ProductInput {
    name: String,
    description: Option<String>,
    price: f64,
    stock: Option<i64>,
    tags: Option<Vec<String>>,
}

/// A JSON merge patch: an absent field is kept, a null one removed.
#[derive(Debug, Deserialize)]
struct ProductPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    price: Option<f64>,
    stock: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    tags: Option<Option<Vec<String>>>,
}

fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductPage {
    items: Vec<Product>,
    next_cursor: Option<String>,
}

type Shared = Arc<Store>;

fn router(store: Shared) -> Router {
    Router::new()
        .route(
            "/categories/{category}/products",
            get(list_products).post(create_product),
        )
        .route(
            "/categories/{category}/products/{product_id}",
            get(get_product).patch(update_product),
        )
        .with_state(store)
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes")
}

fn with_etag(status: StatusCode, product: &Product) -> Response {
    let mut response = (status, axum::Json(product)).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(product.version));
    response
}

fn content_type_is(headers: &HeaderMap, expected: &str) -> Result<(), Problem> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match media {
        Some(media) if media.eq_ignore_ascii_case(expected) => Ok(()),
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be {expected}"),
        )),
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

async fn create_product(
    State(store): State<Shared>,
    Path(category): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    content_type_is(&headers, "application/json")?;
    let mut found = checks::Found::default();
    checks::category(&category, "/category", &mut found);
    let input: ProductInput = checks::body(&body, &mut found)?;
    checks::name(&input.name, &mut found);
    if let Some(description) = &input.description {
        checks::description(description, &mut found);
    }
    checks::price(input.price, &mut found);
    if let Some(stock) = input.stock {
        checks::stock(stock, &mut found);
    }
    if let Some(tags) = &input.tags {
        checks::tags(tags, &mut found);
    }
    found.into_result()?;
    let at = now();
    let product = Product {
        product_id: uuid::Uuid::new_v4(),
        category,
        name: input.name,
        description: input.description,
        price: input.price,
        stock: input.stock.unwrap_or(0),
        tags: input.tags,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    store.create(&product).await?;
    Ok(with_etag(StatusCode::CREATED, &product))
}

fn product_path(category: &str, product_id: &str) -> Result<uuid::Uuid, Problem> {
    let mut found = checks::Found::default();
    checks::category(category, "/category", &mut found);
    let id = uuid::Uuid::try_parse(product_id);
    if id.is_err() {
        found.add("/productId", "must be a UUID");
    }
    found.into_result()?;
    Ok(id.expect("checked above"))
}

async fn get_product(
    State(store): State<Shared>,
    Path((category, product_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = product_path(&category, &product_id)?;
    let product = store.get(&category, id).await?;
    Ok(with_etag(StatusCode::OK, &product))
}

async fn update_product(
    State(store): State<Shared>,
    Path((category, product_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    content_type_is(&headers, "application/merge-patch+json")?;
    let id = product_path(&category, &product_id)?;
    let mut found = checks::Found::default();
    let patch: ProductPatch = checks::body(&body, &mut found)?;
    if let Some(name) = &patch.name {
        checks::name(name, &mut found);
    }
    if let Some(Some(description)) = &patch.description {
        checks::description(description, &mut found);
    }
    if let Some(price) = patch.price {
        checks::price(price, &mut found);
    }
    if let Some(stock) = patch.stock {
        checks::stock(stock, &mut found);
    }
    if let Some(Some(tags)) = &patch.tags {
        checks::tags(tags, &mut found);
    }
    found.into_result()?;
    let if_match = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().trim_matches('"').parse::<i64>().ok())
                .ok_or_else(|| {
                    Problem::new(StatusCode::PRECONDITION_FAILED, "no such version".into())
                })?,
        ),
    };
    let product = store
        .update(&category, id, if_match, |product| {
            if let Some(name) = &patch.name {
                product.name = name.clone();
            }
            if let Some(description) = &patch.description {
                product.description = description.clone();
            }
            if let Some(price) = patch.price {
                product.price = price;
            }
            if let Some(stock) = patch.stock {
                product.stock = stock;
            }
            if let Some(tags) = &patch.tags {
                product.tags = tags.clone();
            }
            product.updated_at = now();
            product.version += 1;
        })
        .await?;
    Ok(with_etag(StatusCode::OK, &product))
}

async fn list_products(
    State(store): State<Shared>,
    Path(category): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, Problem> {
    let mut found = checks::Found::default();
    checks::category(&category, "/category", &mut found);
    let limit = match &query.limit {
        None => 20,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=100).contains(&limit) => limit,
            _ => {
                found.add("/limit", "must be an integer from 1 to 100");
                0
            }
        },
    };
    if query.cursor.as_ref().is_some_and(|c| c.len() > 1024) {
        found.add("/cursor", "must be at most 1024 characters");
    }
    found.into_result()?;
    let after = match &query.cursor {
        Some(cursor) => Some(store::cursor::open(cursor, &category)?),
        None => None,
    };
    let (items, last) = store.query(&category, after, limit).await?;
    let page = ProductPage {
        items,
        next_cursor: last.map(|id| store::cursor::seal(&category, id)),
    };
    Ok(axum::Json(page).into_response())
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Problem::new(StatusCode::NOT_FOUND, "no such product".into()),
            StoreError::Exists => {
                Problem::new(StatusCode::CONFLICT, "the product exists already".into())
            }
            StoreError::VersionMismatch => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "the product changed since that version".into(),
            ),
            StoreError::Contended => Problem::new(
                StatusCode::CONFLICT,
                "the product kept changing; retry the request".into(),
            ),
            StoreError::BadCursor => Problem::new(StatusCode::BAD_REQUEST, "bad cursor".into()),
            StoreError::Backend(e) => {
                tracing::error!(error = %e, "storage failed");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "storage failed".into())
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .without_time()
        .init();
    let store = Arc::new(Store::from_env().await);
    let app = router(store);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_http::run(app).await;
    }
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(port, "listening");
    axum::serve(listener, app).await?;
    Ok(())
}
