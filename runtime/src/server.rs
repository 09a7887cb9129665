//! Serving a router: under AWS Lambda behind API Gateway, or locally over HTTP/1.1 with the
//! limits API Gateway would apply.

use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::http::{ApiError, MAX_BODY_BYTES};
use crate::BoxError;

/// Whether the process runs inside AWS Lambda.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Serves `router` to Lambda's runtime API under Lambda, and on 127.0.0.1:$PORT (default 3000)
/// elsewhere.
pub async fn serve(router: Router) -> Result<(), BoxError> {
    if in_lambda() {
        return serve_lambda(router).await;
    }
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT must be a port number, not {port:?}"))?,
        Err(_) => 3000,
    };
    let timeouts = Timeouts::from_env()?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    serve_local(listener, router, timeouts).await;
    Ok(())
}

#[cfg(feature = "lambda")]
async fn serve_lambda(router: Router) -> Result<(), BoxError> {
    let mapping = BasePath::from_env();
    let router = router
        .layer(axum::middleware::from_fn(crate::observe::middleware))
        .layer(axum::middleware::from_fn(move |request, next| {
            strip_base_path(mapping.clone(), request, next)
        }));
    lambda_http::run(router).await
}

/// A custom domain's API mapping: API Gateway passes requests to it with the mapping's path in
/// front of the route's (`/v1/orders` for `/orders`), which the router must not see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasePath {
    /// The custom domain (`APIGEN_DOMAIN_NAME`): requests to the API's own endpoint carry no
    /// base path.
    pub domain: String,
    /// The mapping's path without slashes (`APIGEN_BASE_PATH`).
    pub path: String,
}

impl BasePath {
    /// From `APIGEN_DOMAIN_NAME` and `APIGEN_BASE_PATH`, which template.yaml sets with a mapped
    /// domain; `None` without them.
    pub fn from_env() -> Option<Self> {
        let domain = std::env::var("APIGEN_DOMAIN_NAME").ok()?;
        let path = std::env::var("APIGEN_BASE_PATH").ok()?;
        let path = path.trim_matches('/').to_owned();
        (!domain.is_empty() && !path.is_empty()).then_some(Self { domain, path })
    }

    /// `path` without the mapping's, for a request to the domain; `None` if it has none.
    pub fn strip<'p>(&self, host: &str, path: &'p str) -> Option<&'p str> {
        let host = host.split(':').next().unwrap_or(host);
        if !host.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let rest = path.strip_prefix('/')?.strip_prefix(self.path.as_str())?;
        match rest {
            "" => Some("/"),
            rest if rest.starts_with('/') => Some(rest),
            _ => None,
        }
    }
}

#[cfg(feature = "lambda")]
async fn strip_base_path(mapping: Option<BasePath>, mut request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let uri = request.uri();
    let stripped = mapping.as_ref().and_then(|m| m.strip(&host, uri.path()));
    if let Some(path) = stripped {
        let path_and_query = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(value) = path_and_query.parse() {
            parts.path_and_query = Some(value);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

#[cfg(not(feature = "lambda"))]
async fn serve_lambda(_router: Router) -> Result<(), BoxError> {
    Err("this service was built without apigen-runtime's `lambda` feature".into())
}

/// How long the local server waits for a client. API Gateway reads a whole request before it
/// invokes Lambda, so there a slow client holds nothing; locally nothing else stops connections
/// that send nothing, or half a request, from being held open forever.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For a request's headers, counted from the connection's start or the previous response
    /// (so it also closes idle kept-alive connections).
    pub header: Duration,
    /// For the whole body, once the headers are in.
    pub body: Duration,
}

impl Timeouts {
    /// `APIGEN_HEADER_TIMEOUT_MS` (default 10 s) and `APIGEN_BODY_TIMEOUT_MS` (default 30 s).
    pub fn from_env() -> Result<Self, BoxError> {
        Ok(Self {
            header: millis("APIGEN_HEADER_TIMEOUT_MS", 10_000)?,
            body: millis("APIGEN_BODY_TIMEOUT_MS", 30_000)?,
        })
    }
}

fn millis(variable: &str, default: u64) -> Result<Duration, BoxError> {
    match std::env::var(variable) {
        Ok(text) => match text.parse() {
            Ok(millis) => Ok(Duration::from_millis(millis)),
            Err(_) => {
                Err(format!("{variable} must be a number of milliseconds, not {text:?}").into())
            }
        },
        Err(_) => Ok(Duration::from_millis(default)),
    }
}

/// Serves `router` over HTTP/1.1 on `listener`, closing connections whose client is too slow.
pub async fn serve_local(listener: TcpListener, router: Router, timeouts: Timeouts) {
    let body_timeout = timeouts.body;
    // Observed outside the body's read, so that 408 and 413 answers are logged and counted too.
    let router = router
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| read_body_within(body_timeout, request, next),
        ))
        .layer(axum::middleware::from_fn(crate::observe::middleware));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, most likely: give connections time to close.
            Err(error) => {
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header)
                .serve_connection(TokioIo::new(stream), service)
                // WebSocket APIs served locally upgrade their connections.
                .with_upgrades();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
        });
    }
}

/// Reads the whole body before routing, as API Gateway does, within the time and size limits:
/// a client trickling a body in would otherwise hold its connection and memory indefinitely.
async fn read_body_within(limit: Duration, request: Request, next: Next) -> Response {
    // A declared length over the limit is refused before a byte of the body is read.
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return ApiError::body_too_large().into_response();
    }
    let (parts, body) = request.into_parts();
    // Most reads carry no body: nothing to wait for, so no timer to arm.
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match tokio::time::timeout(limit, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // A failed read is either the size limit or a client that went away and will not see
        // the answer anyway.
        Ok(Err(_)) => ApiError::body_too_large().into_response(),
        Err(_) => {
            let detail = "the request body did not arrive in time";
            ApiError::new(StatusCode::REQUEST_TIMEOUT, detail).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    use super::*;

    const SHORT: Timeouts = Timeouts {
        header: Duration::from_millis(200),
        body: Duration::from_millis(200),
    };
    /// Far longer than `SHORT`: only a server that never closes the connection waits this long.
    const PATIENCE: Duration = Duration::from_secs(20);

    /// Starts a server with short timeouts, connects to it and sends `request`; what the
    /// server sends until it closes the connection, or `None` if it never does.
    async fn exchange(request: &'static [u8]) -> Option<String> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a free port");
        let address = listener.local_addr().expect("a bound address");
        let echo = axum::routing::post(|body: String| async move { body });
        tokio::spawn(serve_local(listener, Router::new().route("/", echo), SHORT));
        // A plain blocking client on its own thread, so the server keeps this one.
        let client = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(address).expect("the server accepts");
            stream.set_read_timeout(Some(PATIENCE)).expect("a timeout");
            stream.write_all(request).expect("sent");
            let mut received = Vec::new();
            match stream.read_to_end(&mut received) {
                Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
                // A reset is a close too; a timeout is not.
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                    Some(String::new())
                }
                Err(_) => None,
            }
        });
        client.await.expect("the client ran")
    }

    #[test]
    fn a_base_path_is_stripped_on_its_domain_only() {
        let mapping = BasePath {
            domain: "api.example.com".into(),
            path: "v1".into(),
        };
        assert_eq!(
            mapping.strip("api.example.com", "/v1/orders/7"),
            Some("/orders/7")
        );
        assert_eq!(mapping.strip("API.example.com:443", "/v1"), Some("/"));
        // The API's own endpoint has no mapping, whatever its first segment.
        assert_eq!(
            mapping.strip("abc.execute-api.us-east-1.amazonaws.com", "/v1/orders"),
            None
        );
        assert_eq!(mapping.strip("api.example.com", "/v10/orders"), None);
        assert_eq!(mapping.strip("api.example.com", "/orders"), None);
    }

    #[tokio::test]
    async fn silent_connections_are_closed() {
        let answer = exchange(b"").await;
        assert!(answer.is_some());
    }

    #[tokio::test]
    async fn half_sent_headers_are_not_waited_for() {
        let half = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Le";
        let answer = exchange(half).await;
        assert!(answer.is_some());
    }

    #[tokio::test]
    async fn a_trickling_body_is_answered_408() {
        let head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc";
        let answer = exchange(head).await.expect("closed");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }

    #[tokio::test]
    async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
        // No body follows: a server that waited for it would answer 408 after the timeout.
        let head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 7340032\r\n\r\n";
        let answer = exchange(head).await.expect("closed");
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
    }

    #[tokio::test]
    async fn a_chunked_body_over_the_limit_is_refused() {
        let head = b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
        let chunk = format!(
            "{:x}\r\n{}\r\n",
            MAX_BODY_BYTES + 1,
            "a".repeat(MAX_BODY_BYTES + 1)
        );
        let request: &'static [u8] = [head.as_slice(), chunk.as_bytes()].concat().leak();
        let answer = exchange(request).await.expect("closed");
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }

    #[tokio::test]
    async fn idle_kept_alive_connections_are_closed_after_answering() {
        let request = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi";
        let answer = exchange(request).await.expect("closed");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("hi"), "{answer}");
    }
}
