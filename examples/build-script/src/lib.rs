//! Notes API. `generated` is written by build.rs from openapi.yaml;
//! `handlers` and `app` are the hand-written half.

include!(concat!(env!("OUT_DIR"), "/apigen.rs"));

pub mod handlers;

use axum::http::HeaderValue;
use axum::response::Response;

/// The generated router with what this service adds around it: every answer, problems and
/// unknown routes included, names the service that gave it.
pub fn app(service: handlers::Service) -> axum::Router {
    generated::router(service).layer(axum::middleware::map_response(served_by))
}

async fn served_by(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("x-served-by", HeaderValue::from_static("notes-api"));
    response
}
