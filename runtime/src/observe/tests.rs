use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tower::ServiceExt as _;

use super::*;
use crate::http::ApiError;

static OPERATIONS: Operations = Operations(&[("GET", "/orders/{id}", "getOrder")]);

/// What the handler saw of its scope: the request id, the operation and the usage so far.
fn seen() -> (Option<String>, Option<&'static str>, Usage) {
    SCOPE
        .try_with(|s| {
            (
                Some(s.request_id.clone()),
                *s.operation.lock().unwrap(),
                *s.usage.lock().unwrap(),
            )
        })
        .unwrap_or((None, None, Usage::default()))
}

fn app() -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                record_dynamodb(0.5);
                record_dynamodb(1.0);
                record_condition_failure();
                let (id, operation, usage) = seen();
                assert_eq!(operation, Some("getOrder"));
                assert_eq!(usage.requests, 2);
                assert!((usage.consumed_capacity - 1.5).abs() < f64::EPSILON);
                assert_eq!(usage.condition_failures, 1);
                assert_eq!(request_id(), id);
                ApiError::conflict("taken").into_response()
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            OPERATIONS,
            Operations::name,
        ))
        .layer(axum::middleware::from_fn(middleware))
}

async fn body(response: Response) -> Value {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test]
async fn a_problem_names_the_request_and_the_handler_sees_its_scope() {
    let request = axum::http::Request::get("/orders/1")
        .header("x-request-id", "req-42")
        .body(Body::empty())
        .expect("a request");
    let response = app().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body(response).await["requestId"], "req-42");
}

#[tokio::test]
async fn without_an_id_the_server_makes_one_up_and_refuses_odd_ones() {
    let request = axum::http::Request::get("/orders/1")
        .header("x-request-id", "two words")
        .body(Body::empty())
        .expect("a request");
    let response = app().oneshot(request).await.expect("infallible");
    let id = body(response).await["requestId"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

#[tokio::test]
async fn a_function_serves_only_its_operations() {
    let operations = Operations(&[("GET", "/a", "getA"), ("GET", "/b", "getB")]);
    let app = Router::new()
        .route("/a", get(|| async { "a" }))
        .route("/b", get(|| async { "b" }))
        .layer(axum::middleware::from_fn_with_state(
            operations.only(&["getA"]),
            Only::refuse_others,
        ));
    let status = |path: &'static str| {
        let app = app.clone();
        async move {
            let request = axum::http::Request::get(path)
                .body(Body::empty())
                .expect("a request");
            app.oneshot(request).await.expect("infallible").status()
        }
    };
    assert_eq!(status("/a").await, StatusCode::OK);
    assert_eq!(status("/b").await, StatusCode::NOT_FOUND);
    assert_eq!(status("/c").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn outside_a_scope_nothing_is_recorded_and_problems_carry_no_id() {
    record_dynamodb(1.0);
    name_operation("x");
    assert_eq!(request_id(), None);
    let response = ApiError::conflict("taken").into_response();
    assert!(body(response).await.get("requestId").is_none());
}

#[test]
fn a_metric_line_is_embedded_metric_format() {
    let line = emf::Line {
        operation: "getOrder",
        status: 412,
        latency_ms: 12.3456,
        usage: Usage {
            requests: 2,
            consumed_capacity: 1.5,
            condition_failures: 1,
        },
        request_id: "req-1",
        trace_id: Some("Root=1-abc"),
    };
    let text = emf::render(&line, &emf::directive("shop-api"), 1_700_000_000_000);
    assert!(!text.contains('\n'));
    let v: Value = serde_json::from_str(&text).expect("JSON");
    let directive = &v["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    assert_eq!(directive["Namespace"], "shop-api");
    assert_eq!(directive["Dimensions"], serde_json::json!([["Operation"]]));
    // Every metric the directive names is a number at the top level, as EMF requires.
    for metric in directive["Metrics"].as_array().expect("metrics") {
        let name = metric["Name"].as_str().expect("a name");
        assert!(v[name].is_number(), "{name} in {v}");
    }
    assert_eq!(v["Operation"], "getOrder");
    assert_eq!(v["StatusClass"], "4xx");
    assert_eq!(v["ClientError"], 1);
    assert_eq!(v["Fault"], 0);
    assert_eq!(v["Latency"], 12.346);
    assert_eq!(v["DynamoDBRequests"], 2);
    assert_eq!(v["ConditionFailures"], 1);
    assert_eq!(v["requestId"], "req-1");
    assert_eq!(v["traceId"], "Root=1-abc");
}
