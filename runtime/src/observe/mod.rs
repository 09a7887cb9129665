//! What each request leaves for operators: a span carrying its request id and X-Ray trace id
//! (so that every log line written while it runs names both), the id in its problem bodies,
//! and one CloudWatch Embedded Metric Format line with its operation, status, latency and the
//! DynamoDB work it caused.
//!
//! [`middleware`] opens the request's scope; [`serve`](crate::serve) puts it outside everything
//! else, so that answers the server gives itself (413, 408) are measured too. Outside a scope
//! (a router driven by `tower::ServiceExt::oneshot` in tests) everything here is a no-op.

mod emf;
mod xray;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use tracing::Instrument as _;

pub use emf::{MetricsConfig, METRICS};
pub use xray::XRayLayer;

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// What is known about the request being served.
#[derive(Debug)]
struct Scope {
    request_id: String,
    trace_id: Option<String>,
    operation: Mutex<Option<&'static str>>,
    usage: Mutex<Usage>,
}

/// The DynamoDB work a request caused.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Requests the store sent to DynamoDB, its own retries included (the SDK's are not seen).
    pub requests: u32,
    /// Capacity units they consumed, as DynamoDB reported them.
    pub consumed_capacity: f64,
    /// Writes refused because a condition did not hold (a version, a unique value, a guard).
    pub condition_failures: u32,
}

/// The request id of the request being served: API Gateway's under Lambda (the one its access
/// log shows), the client's `x-request-id` or a new UUID locally.
pub fn request_id() -> Option<String> {
    SCOPE.try_with(|scope| scope.request_id.clone()).ok()
}

/// The X-Ray trace header of the request being served.
fn trace_id() -> Option<String> {
    SCOPE
        .try_with(|scope| scope.trace_id.clone())
        .ok()
        .flatten()
}

#[cfg(test)]
impl Scope {
    fn for_test(trace_id: &str) -> Self {
        Self {
            request_id: "test".into(),
            trace_id: Some(trace_id.into()),
            operation: Mutex::new(None),
            usage: Mutex::new(Usage::default()),
        }
    }
}

/// Names the operation the request is for, as logs and metrics show it.
pub fn name_operation(operation_id: &'static str) {
    let _ = SCOPE.try_with(|scope| {
        *scope.operation.lock().unwrap_or_else(|e| e.into_inner()) = Some(operation_id);
    });
}

fn with_usage(change: impl FnOnce(&mut Usage)) {
    let _ =
        SCOPE.try_with(|scope| change(&mut scope.usage.lock().unwrap_or_else(|e| e.into_inner())));
}

/// Counts one DynamoDB request of the request being served.
#[cfg_attr(not(feature = "dynamodb"), allow(dead_code))]
pub(crate) fn record_dynamodb(consumed_capacity: f64) {
    with_usage(|usage| {
        usage.requests += 1;
        usage.consumed_capacity += consumed_capacity;
    });
}

/// Counts a write DynamoDB refused because its condition did not hold.
#[cfg_attr(not(feature = "dynamodb"), allow(dead_code))]
pub(crate) fn record_condition_failure() {
    with_usage(|usage| usage.condition_failures += 1);
}

/// Each route's operation: `(method, route as the router declares it, operationId)`. The
/// generated router adds [`Operations::name`] as a layer, so that requests refused before
/// their handler runs (400, 401) are named too.
#[derive(Debug, Clone, Copy)]
pub struct Operations(pub &'static [(&'static str, &'static str, &'static str)]);

impl Operations {
    /// The operation of the route and method `request` matched.
    fn of(&self, request: &Request) -> Option<&'static str> {
        let route = request.extensions().get::<MatchedPath>()?;
        let method = request.method().as_str();
        self.0
            .iter()
            .find(|(m, r, _)| *m == method && *r == route.as_str())
            .map(|(_, _, operation)| *operation)
    }

    /// Middleware naming the operation of the route the request matched.
    pub async fn name(State(operations): State<Self>, request: Request, next: Next) -> Response {
        if let Some(operation) = operations.of(&request) {
            name_operation(operation);
        }
        next.run(request).await
    }

    /// Only the routes of `serving` (operationIds), for [`Only::refuse_others`].
    pub fn only(self, serving: &'static [&'static str]) -> Only {
        Only {
            operations: self,
            serving,
        }
    }
}

/// The operations one function of a project deployed as several serves.
#[derive(Debug, Clone, Copy)]
pub struct Only {
    operations: Operations,
    serving: &'static [&'static str],
}

impl Only {
    /// Middleware answering the routes of other operations 404, as the router answers paths it
    /// has no route for: whatever reaches the function, it serves only its own.
    pub async fn refuse_others(State(only): State<Self>, request: Request, next: Next) -> Response {
        match only.operations.of(&request) {
            Some(operation) if !only.serving.contains(&operation) => {
                crate::http::ApiError::not_found("no route for this path").into_response()
            }
            _ => next.run(request).await,
        }
    }
}

/// Serves `request` inside its scope and span, then writes its metric line.
pub async fn middleware(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (request_id, trace_id) = ids(&request);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let scope = Arc::new(Scope {
        request_id: request_id.clone(),
        trace_id: trace_id.clone(),
        operation: Mutex::new(None),
        usage: Mutex::new(Usage::default()),
    });
    // Logs and metrics name the trace by its root, as X-Ray's console does.
    let root = trace_id.as_deref().map(trace_root).unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %request_id, trace_id = root);
    let response = SCOPE
        .scope(scope.clone(), next.run(request).instrument(span.clone()))
        .await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let operation = scope
        .operation
        .lock()
        .map(|o| *o)
        .unwrap_or_else(|e| *e.into_inner());
    let usage = *scope.usage.lock().unwrap_or_else(|e| e.into_inner());
    let status = response.status().as_u16();
    // At debug: under Lambda the metric line below and API Gateway's access log already record
    // every request, and a second line per request costs as much as a small handler.
    span.in_scope(|| {
        tracing::debug!(
            %method,
            %path,
            operation = operation.unwrap_or(emf::UNROUTED),
            status,
            latency_ms,
            dynamodb_requests = usage.requests,
            "request"
        );
    });
    emf::write(&emf::Line {
        operation: operation.unwrap_or(emf::UNROUTED),
        status,
        latency_ms,
        usage,
        request_id: &scope.request_id,
        trace_id: (!root.is_empty()).then_some(root),
    });
    response
}

/// `1-5759e988-bd862e3fe1be46a994272793` of `Root=1-5759e988-…;Parent=…;Sampled=1`.
fn trace_root(header: &str) -> &str {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
        .unwrap_or(header)
}

/// The request's id and its X-Ray trace header.
fn ids(request: &Request) -> (String, Option<String>) {
    // Locally, the trace header as Lambda would pass it (the tests send one).
    let (gateway_id, trace_id) = lambda_ids(request, header(request.headers(), "x-amzn-trace-id"));
    let id = gateway_id
        .or_else(|| header(request.headers(), "x-request-id"))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    (id, trace_id)
}

/// A header's value, if it is plausibly an id: a client's header is written to every log line.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    let plausible =
        !value.is_empty() && value.len() <= 200 && value.bytes().all(|b| b.is_ascii_graphic());
    plausible.then(|| value.to_owned())
}

/// Under Lambda: API Gateway's request id (Lambda's without one), and the function's own trace
/// header (its segment is the `Parent`), not the one API Gateway forwarded.
#[cfg(feature = "lambda")]
fn lambda_ids(request: &Request, local_trace: Option<String>) -> (Option<String>, Option<String>) {
    let gateway = request
        .extensions()
        .get::<lambda_http::request::RequestContext>()
        .and_then(crate::http::context::gateway_request_id);
    let lambda = request.extensions().get::<lambda_http::Context>();
    let trace = lambda.and_then(|c| c.xray_trace_id.clone()).or(local_trace);
    (
        gateway.or_else(|| lambda.map(|c| c.request_id.clone())),
        trace,
    )
}

#[cfg(not(feature = "lambda"))]
fn lambda_ids(_: &Request, local_trace: Option<String>) -> (Option<String>, Option<String>) {
    (None, local_trace)
}

#[cfg(test)]
mod tests;
