//! Cross-origin resource sharing, answered as API Gateway answers it for the configuration
//! template.yaml deploys, so that a browser front end behaves the same against the local server
//! as against the deployed API.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

/// Which other origins may call the API from a browser, and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cors {
    /// Origins as browsers send them (`https://app.example.com`); `*` for any.
    pub origins: &'static [&'static str],
    /// The methods the API's operations use.
    pub methods: &'static [&'static str],
    /// Request headers a caller may send: the spec's header parameters, `content-type`, and
    /// the headers its security schemes read.
    pub headers: &'static [&'static str],
    /// Response headers a caller's script may read.
    pub expose: &'static [&'static str],
    /// Whether browsers send cookies and `Authorization` set by the browser.
    pub credentials: bool,
    /// Seconds a browser may cache a preflight answer.
    pub max_age: u32,
}

impl Cors {
    /// Middleware answering preflight requests itself (204) and marking other answers to
    /// allowed origins; answers to other origins carry no CORS header, so browsers withhold
    /// them from the page.
    pub async fn answer(
        State(cors): State<&'static Cors>,
        request: Request,
        next: Next,
    ) -> Response {
        let origin = request.headers().get(ORIGIN).cloned();
        let allowed = origin.as_ref().and_then(|o| cors.allow(o));
        let preflight = request.method() == Method::OPTIONS
            && origin.is_some()
            && request
                .headers()
                .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            let mut response = StatusCode::NO_CONTENT.into_response();
            if let Some(allowed) = allowed {
                let headers = response.headers_mut();
                cors.mark(headers, allowed);
                headers.insert(ACCESS_CONTROL_ALLOW_METHODS, list(cors.methods));
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, list(cors.headers));
                headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(cors.max_age));
            }
            return response;
        }
        let mut response = next.run(request).await;
        if let Some(allowed) = allowed {
            let headers = response.headers_mut();
            cors.mark(headers, allowed);
            if !cors.expose.is_empty() {
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, list(cors.expose));
            }
        }
        response
    }

    /// The `Access-Control-Allow-Origin` an allowed origin gets: `*` when any origin may call
    /// without credentials, the origin itself otherwise.
    fn allow(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        // Any origin is never sent credentials, whatever `credentials` says: echoing every
        // origin with credentials would let any site read a signed-in user's answers.
        if self.origins.contains(&"*") {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        self.origins.contains(&text).then(|| origin.clone())
    }

    fn mark(&self, headers: &mut HeaderMap, allowed: HeaderValue) {
        let any = allowed == "*";
        if !any {
            // The answer depends on the origin: caches must not serve it to another.
            headers.append(VARY, HeaderValue::from_static("origin"));
        }
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        if self.credentials && !any {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}

fn list(items: &[&str]) -> HeaderValue {
    HeaderValue::from_str(&items.join(",")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt as _;

    use super::*;

    static APP: Cors = Cors {
        origins: &["https://app.example.com"],
        methods: &["GET", "POST"],
        headers: &["authorization", "content-type"],
        expose: &["etag", "location"],
        credentials: true,
        max_age: 600,
    };
    static ANY: Cors = Cors {
        origins: &["*"],
        credentials: false,
        ..APP
    };
    static ANY_WITH_CREDENTIALS: Cors = Cors {
        origins: &["*"],
        ..APP
    };

    async fn send(cors: &'static Cors, request: axum::http::Request<Body>) -> Response {
        Router::new()
            .route("/orders", post(|| async { StatusCode::CREATED }))
            .layer(axum::middleware::from_fn_with_state(cors, Cors::answer))
            .oneshot(request)
            .await
            .expect("infallible")
    }

    fn preflight(origin: &str) -> axum::http::Request<Body> {
        axum::http::Request::builder()
            .method(Method::OPTIONS)
            .uri("/orders")
            .header(ORIGIN, origin)
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .expect("a request")
    }

    fn post_from(origin: &str) -> axum::http::Request<Body> {
        axum::http::Request::builder()
            .method(Method::POST)
            .uri("/orders")
            .header(ORIGIN, origin)
            .body(Body::empty())
            .expect("a request")
    }

    #[tokio::test]
    async fn an_allowed_origin_gets_its_preflight_answered() {
        let response = send(&APP, preflight("https://app.example.com")).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let h = response.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example.com");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "GET,POST");
        assert_eq!(
            h[ACCESS_CONTROL_ALLOW_HEADERS],
            "authorization,content-type"
        );
        assert_eq!(h[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(h[ACCESS_CONTROL_MAX_AGE], "600");
        assert_eq!(h[VARY], "origin");
    }

    #[tokio::test]
    async fn another_origin_gets_no_cors_header() {
        let response = send(&APP, preflight("https://evil.example.com")).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
        let response = send(&APP, post_from("https://evil.example.com")).await;
        // The request is served (CORS is the browser's check), but the page may not read it.
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }

    #[tokio::test]
    async fn answers_to_an_allowed_origin_are_marked_and_expose_headers() {
        let response = send(&APP, post_from("https://app.example.com")).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let h = response.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example.com");
        assert_eq!(h[ACCESS_CONTROL_EXPOSE_HEADERS], "etag,location");
    }

    #[tokio::test]
    async fn any_origin_without_credentials_is_a_star() {
        let response = send(&ANY, post_from("https://whoever.example")).await;
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none());
        assert!(response.headers().get(VARY).is_none());
    }

    #[tokio::test]
    async fn any_origin_is_never_sent_credentials() {
        let response = send(&ANY_WITH_CREDENTIALS, post_from("https://evil.example")).await;
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none());
    }

    #[tokio::test]
    async fn requests_without_an_origin_pass_untouched() {
        let request = axum::http::Request::builder()
            .method(Method::OPTIONS)
            .uri("/orders")
            .body(Body::empty())
            .expect("a request");
        let response = send(&APP, request).await;
        // Not a preflight: the router answers (405 for a method the route lacks).
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }
}
