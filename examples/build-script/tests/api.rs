//! The generated router with the hand-written handlers and layer, over the
//! in-memory store.

use std::sync::atomic::Ordering;

use apigen_runtime::store::Store;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use notes_api::handlers::Service;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, body) = exchange(app, method, uri, body).await;
    (status, body)
}

async fn exchange(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).expect("a valid request"))
        .await
        .expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn notes_are_stored_listed_by_descending_id_and_deleted() {
    let app = notes_api::app(Service::new(Store::memory()));
    let (status, body) = send(&app, "GET", "/health", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));

    let mut ids = Vec::new();
    for text in ["first", "second"] {
        let (status, note) = send(&app, "POST", "/notes", Some(json!({"text": text}))).await;
        assert_eq!(status, StatusCode::CREATED, "{note}");
        ids.push(note["id"].as_str().expect("an id").to_string());
    }
    let (status, page) = send(&app, "GET", "/notes", None).await;
    assert_eq!(status, StatusCode::OK);
    // `order: desc` on the sort key `NOTE#{id}`: descending ids. (Two ULIDs
    // minted in one millisecond are not ordered by time, so the test does
    // not assume creation order.)
    let listed: Vec<(&str, &str)> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            (
                n["id"].as_str().expect("id"),
                n["text"].as_str().expect("text"),
            )
        })
        .collect();
    let mut expected: Vec<(&str, &str)> = vec![(&ids[0], "first"), (&ids[1], "second")];
    expected.sort_by(|a, b| b.0.cmp(a.0));
    assert_eq!(listed, expected);

    let (status, problem) = send(&app, "POST", "/notes", Some(json!({"text": ""}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");

    let (status, _) = send(&app, "DELETE", &format!("/notes/{}", ids[0]), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&app, "GET", &format!("/notes/{}", ids[0]), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// What the project adds in its own files (src/lib.rs, src/handlers.rs), none
/// of them generated: a layer over every answer, and state the handlers keep.
#[tokio::test]
async fn the_service_adds_its_own_layer_and_state() {
    let service = Service::new(Store::memory());
    let written = service.written();
    let app = notes_api::app(service);
    for (method, uri, body) in [
        ("POST", "/notes", Some(json!({"text": "one"}))),
        ("POST", "/notes", Some(json!({"text": "two"}))),
        ("POST", "/notes", Some(json!({"text": ""}))),
        ("GET", "/no/such/route", None),
    ] {
        let (status, headers, _) = exchange(&app, method, uri, body).await;
        assert_eq!(
            headers.get("x-served-by").map(|v| v.as_bytes()),
            Some(&b"notes-api"[..]),
            "{method} {uri} answered {status} without the layer's header"
        );
    }
    // The refused note was not counted: the handler runs only for valid requests.
    assert_eq!(written.load(Ordering::Relaxed), 2);
}
