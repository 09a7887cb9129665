//! Reading a request body within the memory a function has.

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::form::read_form;
use super::problem::{ApiError, Location};
use super::spec::{BodyKind, BodySpec};
use super::validate::{validate, whole_numbers_as_integers};
use super::violations::{Pointer, Violations};

/// Lambda refuses synchronous payloads above 6 MB, so a larger body could never have come through
/// API Gateway; locally the same cap keeps behaviour identical.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// A body as read, before a handler asks for it as the type it wants.
#[derive(Debug)]
pub(super) enum Payload {
    Absent,
    Json(Value),
    Text(String),
    Binary(bytes::Bytes),
}

pub(super) async fn read_body(
    spec: &BodySpec,
    headers: &HeaderMap,
    body: Body,
    violations: &mut Violations,
) -> Result<Payload, ApiError> {
    // Under Lambda the body is already in memory, so the size limit is the only way reading can
    // fail; locally a failed read means the client went away and will not see the answer.
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::body_too_large())?;
    match spec.kind {
        BodyKind::Json(schema) | BodyKind::Form(schema) => {
            if bytes.is_empty() {
                if spec.required {
                    let detail = "a request body is required";
                    violations.add(Location::Body, &Pointer::Root, detail);
                }
                return Ok(Payload::Absent);
            }
            let form = matches!(spec.kind, BodyKind::Form(_));
            let (accepts, size): (fn(&str) -> bool, _) = if form {
                (is_form_media_type, form_size(&bytes))
            } else {
                (is_json_media_type, parsed_size(&bytes))
            };
            check_content_type(headers, spec.content_type, accepts)?;
            if size > *PARSE_BUDGET {
                let detail = "the body holds too many values to read in this function's \
                              memory: send fewer";
                return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, detail));
            }
            let mut value = if form {
                read_form(schema, &bytes, violations)
            } else {
                serde_json::from_slice(&bytes).map_err(|error| {
                    ApiError::bad_request(format!("the body is not valid JSON: {error}"))
                })?
            };
            violations.afford(bytes.len());
            validate(schema, &value, Location::Body, &Pointer::Root, violations);
            whole_numbers_as_integers(&mut value);
            Ok(Payload::Json(value))
        }
        BodyKind::Text => String::from_utf8(bytes.into())
            .map(Payload::Text)
            .map_err(|_| ApiError::bad_request("the body is not valid UTF-8 text")),
        BodyKind::Binary => Ok(Payload::Binary(bytes)),
    }
}

/// The memory a parsed body may take: half the Lambda function's (the rest is for the process
/// and the answer), or 1 GiB outside Lambda.
static PARSE_BUDGET: LazyLock<usize> = LazyLock::new(|| {
    let megabytes = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok();
    match megabytes.and_then(|m| m.parse::<usize>().ok()) {
        Some(megabytes) => megabytes << 19,
        None => 1 << 30,
    }
});

// A value's slot in its array or map: 32 bytes, times three while a growing array moves to a
// buffer twice the size. A non-empty object's first B-tree node, and a non-empty array's first
// allocation of four slots.
const SLOT: usize = 96;
const OBJECT: usize = 640;
const ARRAY: usize = 128;

/// [`parsed_size`] for a form: each field takes a slot and its text, and each `[` (or `%5B`)
/// in a key may open an object, as `a0[b]=1&a1[b]=1&...` does.
pub(super) fn form_size(form: &[u8]) -> usize {
    let fields = 1 + form.iter().filter(|&&b| b == b'&').count();
    let brackets = form.iter().filter(|&&b| b == b'[').count()
        + form
            .windows(3)
            .filter(|w| w.eq_ignore_ascii_case(b"%5b"))
            .count();
    fields * SLOT + brackets * OBJECT + 2 * form.len()
}

/// About how much memory serde_json's `Value` for `json` takes, found by one scan of the text.
/// It can be a hundred times the text: `{"a":0}` is 7 bytes but a 632-byte map node, so a
/// 6 MiB body of them took over 500 MB and killed a 256 MB Lambda before validation began.
pub(super) fn parsed_size(json: &[u8]) -> usize {
    let mut total = 0usize;
    let mut at = 0;
    while at < json.len() {
        let start = at;
        match json[at] {
            b'"' => {
                at += 1;
                while at < json.len() && json[at] != b'"' {
                    at += if json[at] == b'\\' { 2 } else { 1 };
                }
                // The allocator hands out at least 16 bytes, in steps of 16. A key lives in its
                // object's node, with no slot of its own.
                let next = json[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
                let slot = if next == Some(&b':') { 0 } else { SLOT };
                total += slot + (at - start).next_multiple_of(16);
            }
            open @ (b'{' | b'[') => {
                let next = json[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if !matches!(next, Some(b'}' | b']')) {
                    total += if open == b'{' { OBJECT } else { ARRAY };
                }
                total += SLOT;
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                while at + 1 < json.len() && !b",]} \t\r\n".contains(&json[at + 1]) {
                    at += 1;
                }
                total += SLOT;
            }
            _ => {}
        }
        at += 1;
    }
    total
}

/// A body must say it is of the kind its operation reads. For JSON this also protects against
/// cross-site form posts, which browsers send without a CORS preflight.
fn check_content_type(
    headers: &HeaderMap,
    expected: &str,
    accepts: fn(&str) -> bool,
) -> Result<(), ApiError> {
    let sent = headers
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()));
    let detail = match sent {
        Some(sent) if accepts(&sent) => return Ok(()),
        Some(sent) => format!("send the body with Content-Type: {expected}, not {sent}"),
        None => format!("send the body with Content-Type: {expected}"),
    };
    Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail))
}

/// `application/x-www-form-urlencoded`, whatever its parameters.
fn is_form_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// `application/json` or a structured `+json` type (RFC 6839), whatever its parameters.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json"
        || essence
            .split_once('/')
            .is_some_and(|(_, subtype)| subtype.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::heap;
    use crate::http::Schema;

    #[tokio::test]
    async fn the_parsed_size_of_a_body_is_estimated_before_parsing() {
        let record = r#"{"sku":"TSH-00042","quantity":2,"unitPrice":19.99,"note":null}"#;
        let keys: Vec<String> = (0..20_000).map(|n| format!(r#""key{n}":{n}"#)).collect();
        let shapes = [
            format!("[{}]", vec![r#"{"a":0}"#; 20_000].join(",")),
            format!("[{}]", vec!["[0]"; 20_000].join(",")),
            format!("[{}]", vec!["0"; 20_000].join(",")),
            format!("[{}]", vec![r#""ab""#; 20_000].join(",")),
            format!("[{}]", vec!["{}"; 20_000].join(", ")),
            format!("[{}]", vec![record; 5_000].join(",\n")),
            format!("{{{}}}", keys.join(",")),
            "[".repeat(120) + &"]".repeat(120),
        ];
        for json in shapes {
            let (value, took) =
                heap::peak_growth(async { serde_json::from_str::<Value>(&json).expect("JSON") })
                    .await;
            drop(value);
            let estimate = parsed_size(json.as_bytes());
            let shape = &json[..json.len().min(40)];
            eprintln!("SIZE {shape}: took {took}, estimate {estimate}");
            assert!(
                took <= estimate,
                "{shape}: took {took}, estimated {estimate}"
            );
            assert!(
                estimate <= 3 * took + 4096,
                "{shape}: took {took}, estimated {estimate}"
            );
        }
        // What took over 500 MB: refused by a 256 MB Lambda before it is parsed.
        let tiny = "[".to_owned() + &r#"{"a":0},"#.repeat(MAX_BODY_BYTES / 8 - 1) + "{}]";
        assert!(parsed_size(tiny.as_bytes()) > 128 << 20);
        let nested_form = (0..MAX_BODY_BYTES / 12)
            .map(|n| format!("a{n}[b]=1"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(form_size(nested_form.as_bytes()) > 128 << 20);
        let flat_form = "name=Ada+Lovelace&".repeat(MAX_BODY_BYTES / 18);
        assert!(form_size(flat_form.as_bytes()) < 128 << 20);
        let mut root = Value::Null;
        let (_, took) = heap::peak_growth(async {
            root = read_form(
                &Schema::Any,
                &nested_form.as_bytes()[..100_000],
                &mut Violations::new(),
            );
        })
        .await;
        assert!(
            took <= form_size(&nested_form.as_bytes()[..100_000]),
            "{took}"
        );
        drop(root);
        // A body of realistic records that size still fits.
        let records = vec![record; MAX_BODY_BYTES / (record.len() + 1)].join(",");
        assert!(parsed_size(format!("[{records}]").as_bytes()) < 128 << 20);
    }
}
