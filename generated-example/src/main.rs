//! Entry point: the API as an AWS Lambda function, or as a local HTTP server on 127.0.0.1:$PORT
//! (default 3000) outside Lambda.
//!
//! Yours: apigen wrote this file once and never overwrites it. Add layers to the router here,
//! and clients and configuration to `Service` (in src/handlers.rs).

use shop_api::generated;
use shop_api::handlers::Service;

#[tokio::main]
async fn main() -> Result<(), apigen_runtime::BoxError> {
    apigen_runtime::logging::init();
    let service = Service::new(generated::store().await?);
    apigen_runtime::serve(generated::router(service)).await
}
