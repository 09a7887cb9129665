//! Who is calling, for handlers.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Who is calling and how: passed to every handler so that authorizer claims can be read once API
/// Gateway authorizers are configured.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RequestContext {
    /// API Gateway's request id; locally the id the request's logs carry (the client's
    /// `x-request-id`, or one the server made up).
    pub request_id: Option<String>,
    /// The Lambda event's request context (authorizer claims live here); `None` outside Lambda.
    #[cfg(feature = "lambda")]
    pub lambda: Option<lambda_http::request::RequestContext>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The id the request's logs carry (the server's scope), else the client's.
        let local_id = || {
            crate::observe::request_id().or_else(|| {
                let header = parts.headers.get("x-request-id")?;
                header.to_str().ok().map(str::to_owned)
            })
        };
        #[cfg(feature = "lambda")]
        {
            // lambda_http stores the event's context as this extension when it converts the
            // event.
            let lambda = parts
                .extensions
                .get::<lambda_http::request::RequestContext>()
                .cloned();
            let request_id = lambda
                .as_ref()
                .and_then(gateway_request_id)
                .or_else(local_id);
            Ok(Self { request_id, lambda })
        }
        #[cfg(not(feature = "lambda"))]
        Ok(Self {
            request_id: local_id(),
        })
    }
}

/// The id API Gateway logs for the request, so our logs can be matched with its logs.
#[cfg(feature = "lambda")]
pub(crate) fn gateway_request_id(context: &lambda_http::request::RequestContext) -> Option<String> {
    use lambda_http::request::RequestContext as Event;
    match context {
        Event::ApiGatewayV1(context) => context.request_id.clone(),
        Event::ApiGatewayV2(context) => context.request_id.clone(),
        Event::WebSocket(context) => context.request_id.clone(),
        // ALB and VPC Lattice events carry no request id of their own.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::get_request;
    use axum::body::Body;
    use axum::extract::Request;
    #[cfg(feature = "lambda")]
    use serde_json::json;

    async fn context_of(request: Request) -> RequestContext {
        let (mut parts, _) = request.into_parts();
        match RequestContext::from_request_parts(&mut parts, &()).await {
            Ok(context) => context,
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn request_context_outside_lambda_uses_x_request_id() {
        let request = axum::http::Request::builder()
            .header("x-request-id", "local-1")
            .body(Body::empty())
            .expect("valid request");
        let context = context_of(request).await;
        assert_eq!(context.request_id.as_deref(), Some("local-1"));
        #[cfg(feature = "lambda")]
        assert!(context.lambda.is_none());
        assert!(context_of(get_request("/")).await.request_id.is_none());
    }

    #[cfg(feature = "lambda")]
    #[tokio::test]
    async fn request_context_under_lambda_uses_api_gateway_request_id() {
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/orders",
            "rawQueryString": "",
            "headers": {"x-request-id": "spoofed"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "requestId": "gw-123",
                "stage": "$default",
                "http": {"method": "GET", "path": "/orders", "protocol": "HTTP/1.1",
                         "sourceIp": "192.0.2.1", "userAgent": "test"}
            },
            "isBase64Encoded": false
        });
        let lambda_request = lambda_http::request::from_str(&event.to_string());
        let lambda_request = lambda_request.expect("valid API Gateway v2 event");
        let (parts, _) = lambda_request.into_parts();
        let context = context_of(Request::from_parts(parts, Body::empty())).await;
        assert_eq!(context.request_id.as_deref(), Some("gw-123"));
        assert!(matches!(
            context.lambda,
            Some(lambda_http::request::RequestContext::ApiGatewayV2(_))
        ));
    }
}
