//! The API as an AWS Lambda function, or as a local server on
//! 127.0.0.1:3000 outside Lambda (`PORT` changes it).

use notes_api::generated;
use notes_api::handlers::Service;

#[tokio::main]
async fn main() -> Result<(), apigen_runtime::BoxError> {
    apigen_runtime::logging::init();
    let service = Service::new(generated::store().await?);
    apigen_runtime::serve(notes_api::app(service)).await
}
