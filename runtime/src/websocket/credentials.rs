//! A browser's credentials at `$connect`: the WebSocket API in browsers sets no headers, so a
//! token travels in the subprotocol list or the query string, and is moved where the REST
//! side's verification looks for it.

use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::{HeaderMap, HeaderValue};

/// The subprotocol that announces a token: `new WebSocket(url, ["bearer", token])`. The server
/// answers with it, as a browser requires an answer naming one of the protocols it offered.
pub const CHOSEN_PROTOCOL: &str = "bearer";

/// The query parameter a token may travel in (RFC 6750, section 2.3).
const QUERY_PARAMETER: &str = "access_token";

/// Copies a bearer token from the `Sec-WebSocket-Protocol` list (`bearer, <token>`) or the
/// `access_token` query parameter into `Authorization`, unless the request has that header
/// already. Returns the subprotocol to answer with when the client offered `bearer`.
pub fn credentials_as_headers(
    headers: &mut HeaderMap,
    query: Option<&str>,
) -> Option<&'static str> {
    let offered: Vec<String> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let position = offered
        .iter()
        .position(|p| p.eq_ignore_ascii_case(CHOSEN_PROTOCOL));
    let from_protocol = position.and_then(|at| offered.get(at + 1)).cloned();
    let from_query = query.and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == QUERY_PARAMETER)
            .map(|(_, value)| value.into_owned())
    });
    if !headers.contains_key(AUTHORIZATION) {
        let token = from_protocol.or(from_query);
        let value = token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok());
        if let Some(value) = value {
            headers.insert(AUTHORIZATION, value);
        }
    }
    position.map(|_| CHOSEN_PROTOCOL)
}
