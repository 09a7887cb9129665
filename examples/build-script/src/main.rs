//! The API as an AWS Lambda function, or as a local server on
//! 127.0.0.1:3000 outside Lambda (`PORT` changes it).

use std::sync::Arc;

use notes_api::generated::{routes, runtime};
use notes_api::handlers::Service;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_tracing();
    let service = Service::new(runtime::store().await?);
    runtime::serve(routes::router(Arc::new(service))).await
}
