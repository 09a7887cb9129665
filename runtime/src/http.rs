//! HTTP plumbing shared by every operation: reading and validating requests, and problem responses.

use std::borrow::Cow;
use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use regex::Regex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Lambda refuses synchronous payloads above 6 MB, so a larger body could never have come through
/// API Gateway; locally the same cap keeps behaviour identical.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// A 400 lists at most this many violations, and at most [`MAX_LISTED_TEXT`] bytes of their
/// pointers and details; the rest are only counted. Without a cap a 6 MiB array of bad items
/// answered with millions of violations: hundreds of MB of JSON and a crashed Lambda.
const MAX_LISTED: usize = 100;
const MAX_LISTED_TEXT: usize = 3 * 1024;
/// Input echoed back in a pointer or a detail (a long key, a header value) is cut to this.
const MAX_ECHOED: usize = 200;
/// A detail is cut to this, whatever wrote it: serde's messages quote the offending input.
const MAX_DETAIL: usize = 512;

// ---------------------------------------------------------------------------------------------
// Problem responses (RFC 9457)
// ---------------------------------------------------------------------------------------------

/// Where in the request a violation was found, so clients can point at the faulty input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// The request body.
    Body,
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A cookie.
    Cookie,
}

/// One reason a request was refused, precise enough for a client to fix its input.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// Where the faulty input is (`in` in the answer, as OpenAPI names it).
    #[serde(rename = "in")]
    pub location: Location,
    /// JSON pointer: into the body for `Body`, `/<parameter name>` for parameters.
    pub pointer: String,
    /// What is wrong, e.g. "must be >= 1".
    pub detail: String,
}

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    /// The response's status code.
    pub status: StatusCode,
    /// What went wrong, for the client to read.
    pub detail: String,
    /// The violations listed in the answer (`errors`); empty unless validation failed.
    pub violations: Vec<Violation>,
    /// Violations found beyond those listed.
    pub unlisted: usize,
}

impl ApiError {
    /// Any status, for the cases the shorthands below do not cover. A long detail is cut short.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut detail = detail.into();
        clip(&mut detail, MAX_DETAIL);
        Self {
            status,
            detail,
            violations: Vec::new(),
            unlisted: 0,
        }
    }

    /// The request cannot be processed as sent (400).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// Validation failed; the violations are listed (up to a cap) so the client can fix them
    /// all in one go.
    pub fn invalid(violations: impl Into<Violations>) -> Self {
        let Violations {
            listed, unlisted, ..
        } = violations.into();
        let detail = match (listed.len() + unlisted, unlisted) {
            (1, _) => "the request is invalid (1 problem)".to_owned(),
            (count, 0) => format!("the request is invalid ({count} problems)"),
            (count, _) => format!(
                "the request is invalid ({count} problems; the first {} are listed)",
                listed.len()
            ),
        };
        Self {
            status: StatusCode::BAD_REQUEST,
            detail,
            violations: listed,
            unlisted,
        }
    }

    /// The body is larger than any API Gateway would pass on (413).
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than 6 MiB",
        )
    }

    /// The addressed resource does not exist (404).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// The request clashes with the current state of a resource (409).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// A conditional request (e.g. `If-Match`) did not hold (412).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// The default body of every generated handler until someone writes it (501).
    pub fn not_implemented(operation_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "operation `{operation_id}` is not implemented yet: write it in src/handlers.rs"
            ),
        )
    }

    /// A failure on our side (500): the cause goes to the logs only, because it may reveal
    /// internals (table names, SDK messages) that callers must not see.
    pub fn internal(error: impl fmt::Display) -> Self {
        tracing::error!(error = %error, "answering 500 Internal Server Error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong on our side; it has been logged",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl std::error::Error for ApiError {}

/// The RFC 9457 document; `about:blank` means the status code says it all.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[Violation]>::is_empty")]
    errors: &'a [Violation],
    /// How many violations were found beyond those in `errors`.
    #[serde(skip_serializing_if = "is_zero")]
    unlisted: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &self.violations,
            unlisted: self.unlisted,
        };
        match serde_json::to_vec(&problem) {
            Ok(body) => raw(self.status, "application/problem+json", body),
            // Strings and numbers always serialize; this arm only keeps the code panic-free.
            Err(_) => self.status.into_response(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation schemas
// ---------------------------------------------------------------------------------------------

/// The shape a JSON value must have, as a `static` table emitted by apigen from the OpenAPI
/// document; checking against tables keeps the generated code small and this file the only
/// place where validation rules live.
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// Any JSON value (a schema without constraints).
    Any,
    /// `true` or `false`.
    Boolean,
    /// A JSON number without a fractional part in its text: `1.0` is not an integer.
    Integer(Numeric),
    /// Any JSON number.
    Number(Numeric),
    /// A JSON string.
    String(Text),
    /// A JSON array.
    Array(List),
    /// A JSON object with named properties.
    Object(Record),
    /// An object used as a dictionary from arbitrary keys to values of one schema.
    Map(Dict),
    /// `null` or the inner schema.
    Nullable(&'static Schema),
    /// Exactly one of the schemas matches.
    OneOf(&'static [&'static Schema]),
    /// At least one of the schemas matches.
    AnyOf(&'static [&'static Schema]),
    /// Every schema matches.
    AllOf(&'static [&'static Schema]),
}

impl Schema {
    /// Any string: the most common schema, named to keep the tables short.
    pub const STRING: Schema = Schema::String(Text::PLAIN);
    /// An `int32`.
    pub const INT32: Schema = Schema::Integer(Numeric {
        minimum: Some(i32::MIN as f64),
        maximum: Some(i32::MAX as f64),
        ..Numeric::ANY
    });
    /// An `int64`, the default integer.
    pub const INT64: Schema = Schema::Integer(Numeric {
        minimum: Some(i64::MIN as f64),
        maximum: Some(i64::MAX as f64),
        ..Numeric::ANY
    });
}

/// Bounds of an `integer` or `number`.
#[derive(Debug, Clone, Copy)]
pub struct Numeric {
    /// The lower bound, if any; inclusive unless `exclusive_minimum`.
    pub minimum: Option<f64>,
    /// The upper bound, if any; inclusive unless `exclusive_maximum`.
    pub maximum: Option<f64>,
    /// The value must be greater than `minimum`, not only equal to it.
    pub exclusive_minimum: bool,
    /// The value must be less than `maximum`, not only equal to it.
    pub exclusive_maximum: bool,
    /// The value must be a multiple of this, if any (ignored unless positive).
    pub multiple_of: Option<f64>,
    /// The only values allowed (`enum`); empty allows any.
    pub allowed: &'static [f64],
}

impl Numeric {
    /// No constraint, so generated tables can write `..Numeric::ANY`.
    pub const ANY: Numeric = Numeric {
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        multiple_of: None,
        allowed: &[],
    };
}

/// Constraints of a `string`.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    /// The fewest characters (not bytes) allowed, if any.
    pub min_length: Option<usize>,
    /// The most characters (not bytes) allowed, if any.
    pub max_length: Option<usize>,
    /// Compiled once per process; apigen checks the pattern when generating.
    pub pattern: Option<&'static LazyLock<Regex>>,
    /// The format the text must be written in.
    pub format: Format,
    /// The only values allowed (`enum`); empty allows any.
    pub allowed: &'static [&'static str],
}

impl Text {
    /// Any string, so generated tables can write `..Text::PLAIN`.
    pub const PLAIN: Text = Text {
        min_length: None,
        max_length: None,
        pattern: None,
        format: Format::None,
        allowed: &[],
    };
}

/// The OpenAPI `format`s worth checking; `None` stands for no format or one that is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No format is checked.
    None,
    /// `date-time`: an RFC 3339 date-time, e.g. `2024-01-05T10:00:00Z`.
    DateTime,
    /// `date`: an RFC 3339 full-date, exactly `YYYY-MM-DD`.
    Date,
    /// `uuid`: a UUID.
    Uuid,
    /// `email`: something that looks like an email address (checked loosely).
    Email,
    /// `uri`: an absolute URI, i.e. one starting with a scheme.
    Uri,
    /// Base64 with the standard alphabet and padding.
    Byte,
    /// `ipv4`: an IPv4 address in dotted decimal.
    Ipv4,
    /// `ipv6`: an IPv6 address.
    Ipv6,
}

impl Format {
    /// The violation detail when `text` is not written in this format.
    fn problem(self, text: &str) -> Option<&'static str> {
        let (valid, expectation) = match self {
            Format::None => return None,
            Format::DateTime => (
                chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                "must be a valid date-time (RFC 3339)",
            ),
            Format::Date => (is_full_date(text), "must be a valid date (YYYY-MM-DD)"),
            Format::Uuid => (uuid::Uuid::parse_str(text).is_ok(), "must be a valid UUID"),
            Format::Email => (is_email(text), "must be a valid email address"),
            Format::Uri => (has_uri_scheme(text), "must be a valid URI"),
            Format::Byte => (BASE64.decode(text).is_ok(), "must be valid base64"),
            Format::Ipv4 => (
                text.parse::<Ipv4Addr>().is_ok(),
                "must be a valid IPv4 address",
            ),
            Format::Ipv6 => (
                text.parse::<Ipv6Addr>().is_ok(),
                "must be a valid IPv6 address",
            ),
        };
        (!valid || text.chars().any(is_hidden_control)).then_some(expectation)
    }
}

/// No checked format has room for control characters (a NUL cuts a value short in C code
/// downstream) or for bidirectional overrides, which make a value display as something else.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// chrono's `%Y-%m-%d` also takes `2024-1-5`, `24-01-05` and `+2024-01-05`; RFC 3339's full-date
/// (what OpenAPI's `date` means) is exactly `YYYY-MM-DD`.
fn is_full_date(text: &str) -> bool {
    let shaped = match text.as_bytes() {
        [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] => [y0, y1, y2, y3, m0, m1, d0, d1]
            .iter()
            .all(|b| b.is_ascii_digit()),
        _ => false,
    };
    shaped && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// Deliberately loose: the only reliable test of an address is sending mail to it, so this
/// only catches input that is clearly something else.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !text.chars().any(char::is_whitespace)
}

/// An absolute URI starts with `scheme:` (RFC 3986); the rest is too varied to check usefully.
fn has_uri_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// Constraints of an `array`.
#[derive(Debug, Clone, Copy)]
pub struct List {
    /// The schema of every item.
    pub items: &'static Schema,
    /// The fewest items allowed, if any.
    pub min_items: Option<usize>,
    /// The most items allowed, if any.
    pub max_items: Option<usize>,
    /// No two items may be equal.
    pub unique_items: bool,
}

impl List {
    /// Any items, so generated tables can write `List { items: &PET, ..List::ANY }`.
    pub const ANY: List = List {
        items: &Schema::Any,
        min_items: None,
        max_items: None,
        unique_items: false,
    };
}

/// An `object` with named properties.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    /// The named properties.
    pub properties: &'static [Property],
    /// What to do with properties not among `properties`.
    pub additional: Additional,
}

/// One named property of a [`Record`].
#[derive(Debug, Clone, Copy)]
pub struct Property {
    /// The property's key in the object.
    pub name: &'static str,
    /// The schema of its value.
    pub schema: &'static Schema,
    /// Every value must have the property.
    pub required: bool,
    /// Set by the server, so ignored in requests.
    pub read_only: bool,
    /// Sent by clients only, never in responses.
    pub write_only: bool,
}

impl Property {
    /// A property every value must have.
    pub const fn required(name: &'static str, schema: &'static Schema) -> Self {
        Self {
            name,
            schema,
            required: true,
            read_only: false,
            write_only: false,
        }
    }

    /// A property a value may leave out.
    pub const fn optional(name: &'static str, schema: &'static Schema) -> Self {
        Self {
            required: false,
            ..Self::required(name, schema)
        }
    }

    /// Set by the server, so ignored in requests.
    pub const fn read_only(self) -> Self {
        Self {
            read_only: true,
            ..self
        }
    }

    /// Sent by clients only.
    pub const fn write_only(self) -> Self {
        Self {
            write_only: true,
            ..self
        }
    }
}

/// What to do with properties a [`Record`] does not name.
#[derive(Debug, Clone, Copy)]
pub enum Additional {
    /// Any other property is accepted as it is.
    Allow,
    /// Any other property is a violation.
    Deny,
    /// Any other property's value must match the schema.
    Schema(&'static Schema),
}

/// An object used as a dictionary.
#[derive(Debug, Clone, Copy)]
pub struct Dict {
    /// The schema of every value.
    pub values: &'static Schema,
    /// The fewest keys allowed, if any.
    pub min_properties: Option<usize>,
    /// The most keys allowed, if any.
    pub max_properties: Option<usize>,
}

impl Dict {
    /// Any values, so generated tables can write `Dict { values: &TAG, ..Dict::ANY }`.
    pub const ANY: Dict = Dict {
        values: &Schema::Any,
        min_properties: None,
        max_properties: None,
    };
}

const TOO_COSTLY: &str = "is too costly to check against the schema: send a simpler value";

/// A JSON pointer kept on the stack while validation descends, so that it is only written out
/// for the few violations that are listed: building one per array item or key would cost
/// memory in proportion to the input even when it is valid.
#[derive(Debug, Clone, Copy)]
pub enum Pointer<'a> {
    /// The whole body (`""`).
    Root,
    /// A property of the object at the parent pointer.
    Key(&'a Pointer<'a>, &'a str),
    /// An item of the array at the parent pointer.
    Index(&'a Pointer<'a>, usize),
}

impl Pointer<'_> {
    /// The pointer of a parameter: `/<name>`.
    pub fn param(name: &str) -> Pointer<'_> {
        Pointer::Key(&Pointer::Root, name)
    }
}

impl fmt::Display for Pointer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pointer::Root => Ok(()),
            Pointer::Index(parent, index) => write!(f, "{parent}/{index}"),
            // RFC 6901: `~` and `/` inside a key must be escaped or the pointer is ambiguous.
            Pointer::Key(parent, key) => {
                write!(f, "{parent}/")?;
                for c in key.chars() {
                    match c {
                        '~' => f.write_str("~0")?,
                        '/' => f.write_str("~1")?,
                        c => fmt::Write::write_char(f, c)?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The violations found in a request: the first ones in full, the rest only counted, so that
/// the answer and the work behind it stay small whatever the input holds.
#[derive(Debug)]
pub struct Violations {
    listed: Vec<Violation>,
    unlisted: usize,
    /// How many more may be listed, and how many bytes of text they may still take.
    room: usize,
    text_room: usize,
    /// Only whether there is any violation matters (a member of a union being tried), so
    /// validation stops at the first.
    probe: bool,
    /// How many more schemas may be checked. A recursive union checks a value once per member
    /// at every level, which grows exponentially with nesting; this keeps the work in
    /// proportion to the input (see [`Self::afford`]).
    budget: usize,
    /// The budget ran out; validation stops and says so.
    exhausted: bool,
}

/// Schema checks a request may make, at least, and per byte of its body: ordinary validation
/// makes a few per value, so only pathological union nesting runs out.
const MIN_CHECKS: usize = 1 << 20;
const CHECKS_PER_BYTE: usize = 64;

impl Violations {
    /// No violation yet; bodies add their share of the check budget with [`Self::afford`].
    pub fn new() -> Self {
        Self {
            listed: Vec::new(),
            unlisted: 0,
            room: MAX_LISTED,
            text_room: MAX_LISTED_TEXT,
            probe: false,
            budget: MIN_CHECKS,
            exhausted: false,
        }
    }

    /// Allows the checks that a body of `length` bytes may need.
    pub fn afford(&mut self, length: usize) {
        let checks = length.saturating_mul(CHECKS_PER_BYTE);
        self.budget = self.budget.saturating_add(checks);
    }

    /// An empty collection with this one's remaining room, whose findings [`Self::merge`]
    /// brings back.
    fn fork(&self) -> Self {
        Self {
            listed: Vec::new(),
            unlisted: 0,
            ..*self
        }
    }

    /// Whether no violation was found.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty() && self.unlisted == 0
    }

    /// Every violation found, listed or not.
    pub fn len(&self) -> usize {
        self.listed.len() + self.unlisted
    }

    /// Records a violation; its pointer and detail are only written if it is listed.
    pub fn add(&mut self, location: Location, pointer: &Pointer<'_>, detail: impl fmt::Display) {
        if self.room == 0 {
            self.unlisted += 1;
            return;
        }
        self.list(Violation {
            location,
            pointer: bounded(pointer, MAX_ECHOED),
            detail: bounded(&detail, MAX_ECHOED),
        });
    }

    /// Lists `violation` if there is room for it; once one does not fit, none after it is
    /// listed either, so the list is always a prefix of what was found.
    pub fn push(&mut self, violation: Violation) {
        if self.room == 0 {
            self.unlisted += 1;
        } else {
            self.list(violation);
        }
    }

    fn list(&mut self, violation: Violation) {
        // Control characters are escaped as six bytes each in the JSON answer.
        let text = json_length(&violation.pointer) + json_length(&violation.detail);
        if text > self.text_room {
            self.room = 0;
            self.unlisted += 1;
        } else {
            self.room -= 1;
            self.text_room -= text;
            self.listed.push(violation);
        }
    }

    /// Brings back what a [`Self::fork`] found, leaving out violations already listed since
    /// `start`.
    fn merge(&mut self, found: Violations, start: usize) {
        for violation in found.listed {
            if !self.listed[start..].contains(&violation) {
                self.push(violation);
            }
        }
        self.unlisted += found.unlisted;
        self.budget = found.budget;
        self.exhausted |= found.exhausted;
    }

    /// Whether validation can stop: a probe needs only one violation, and nothing more may be
    /// checked once the budget has run out.
    fn settled(&self) -> bool {
        self.exhausted || (self.probe && self.unlisted > 0)
    }

    /// Takes one check from the budget; when none is left, records that (once) instead.
    fn spend(&mut self, location: Location, pointer: &Pointer<'_>) -> bool {
        if self.budget > 0 {
            self.budget -= 1;
            return true;
        }
        if !self.exhausted {
            self.exhausted = true;
            self.add(location, pointer, TOO_COSTLY);
        }
        false
    }
}

impl Default for Violations {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(found: Vec<Violation>) -> Self {
        let mut violations = Violations::new();
        for violation in found {
            violations.push(violation);
        }
        violations
    }
}

/// `value` written out, cut to at most `max` bytes (and a `…`): formatting stops there, so a
/// long key costs no more than a short one.
fn bounded(value: &(impl fmt::Display + ?Sized), max: usize) -> String {
    struct Capped {
        text: String,
        max: usize,
    }
    impl fmt::Write for Capped {
        fn write_str(&mut self, part: &str) -> fmt::Result {
            if self.text.len() + part.len() <= self.max {
                self.text.push_str(part);
                return Ok(());
            }
            let mut end = self.max - self.text.len();
            while !part.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&part[..end]);
            self.text.push('…');
            Err(fmt::Error)
        }
    }
    let mut capped = Capped {
        text: String::new(),
        max,
    };
    // The only error is the one `Capped` raises to stop once it is full.
    let _ = fmt::write(&mut capped, format_args!("{value}"));
    capped.text
}

/// Cuts `text` to at most `max` bytes (and a `…`).
fn clip(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

/// The length of `text` as a JSON string's contents (at most; `\n` takes 2 bytes, not 6).
fn json_length(text: &str) -> usize {
    let escaped = |c: char| match c {
        '"' | '\\' => 2,
        c if c.is_control() => 6,
        c => c.len_utf8(),
    };
    text.chars().map(escaped).sum()
}

/// Checks `value` against `schema`, recording every violation (up to [`Violations`]' cap).
/// Request bodies: readOnly properties are ignored entirely (not required, not type-checked, never
/// rejected even with Additional::Deny) because the server sets them.
pub fn validate(
    schema: &Schema,
    value: &Value,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    if !out.spend(location, pointer) {
        return;
    }
    match schema {
        Schema::Any => {}
        Schema::Boolean => {
            if !value.is_boolean() {
                out.add(location, pointer, "expected a boolean");
            }
        }
        // JSON Schema counts any number without a fractional part, `1.0` too, as an integer.
        Schema::Integer(rules) => match value.as_f64().filter(|n| n.fract() == 0.0) {
            Some(number) => number_problems(rules, number, location, pointer, out),
            None => out.add(location, pointer, "expected an integer"),
        },
        Schema::Number(rules) => match value.as_f64() {
            Some(number) => number_problems(rules, number, location, pointer, out),
            None => out.add(location, pointer, "expected a number"),
        },
        Schema::String(rules) => match value.as_str() {
            Some(text) => text_problems(rules, text, location, pointer, out),
            None => out.add(location, pointer, "expected a string"),
        },
        Schema::Array(list) => match value.as_array() {
            Some(items) => validate_list(list, items, location, pointer, out),
            None => out.add(location, pointer, "expected an array"),
        },
        Schema::Object(record) => match value.as_object() {
            Some(object) => validate_record(record, object, location, pointer, out),
            None => out.add(location, pointer, "expected an object"),
        },
        Schema::Map(dict) => match value.as_object() {
            Some(object) => validate_dict(dict, object, location, pointer, out),
            None => out.add(location, pointer, "expected an object"),
        },
        Schema::Nullable(inner) => {
            if !value.is_null() {
                validate(inner, value, location, pointer, out);
            }
        }
        // Every branch fails for its own reasons, so listing their violations would mostly be
        // noise; a single violation at the value says which rule failed.
        Schema::OneOf(choices) => {
            let matching = choices
                .iter()
                .filter(|c| conforms(c, value, location, pointer, out));
            match matching.take(2).count() {
                _ if out.exhausted => {}
                0 => out.add(location, pointer, "matches none of the allowed shapes"),
                1 => {}
                _ => out.add(
                    location,
                    pointer,
                    "matches more than one of the allowed shapes",
                ),
            }
        }
        Schema::AnyOf(choices) => {
            let any = choices
                .iter()
                .any(|c| conforms(c, value, location, pointer, out));
            if !any && !out.exhausted {
                out.add(location, pointer, "matches none of the allowed shapes");
            }
        }
        Schema::AllOf(parts) => {
            // Parts often repeat a constraint (`expected an object`); say each thing once.
            let start = out.listed.len();
            for part in parts.iter() {
                let mut found = out.fork();
                validate(part, value, location, pointer, &mut found);
                out.merge(found, start);
                if out.settled() {
                    return;
                }
            }
        }
    }
}

fn validate_list(
    list: &List,
    items: &[Value],
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    let count = items.len();
    if let Some(min) = list.min_items.filter(|&min| count < min) {
        out.add(
            location,
            pointer,
            format_args!("must have at least {min} items"),
        );
    }
    if let Some(max) = list.max_items.filter(|&max| count > max) {
        // Items past the limit would only add noise and work: the client must drop some anyway.
        out.add(
            location,
            pointer,
            format_args!("must have at most {max} items"),
        );
        return;
    }
    if list.unique_items && !all_unique(items) {
        out.add(location, pointer, "items must be unique");
    }
    for (index, item) in items.iter().enumerate() {
        if out.settled() {
            return;
        }
        validate(
            list.items,
            item,
            location,
            &Pointer::Index(pointer, index),
            out,
        );
    }
}

/// Hashing keeps this linear: a 6 MiB body can hold a million items, and comparing every pair
/// would let one request keep a Lambda busy until it times out.
fn all_unique(items: &[Value]) -> bool {
    let mut seen = HashSet::with_capacity(items.len());
    items.iter().all(|item| seen.insert(item))
}

fn validate_record(
    record: &Record,
    object: &serde_json::Map<String, Value>,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    // Read-only properties stay known (so `Deny` accepts them) but are otherwise skipped.
    for property in record.properties.iter().filter(|p| !p.read_only) {
        let child = Pointer::Key(pointer, property.name);
        match object.get(property.name) {
            Some(value) => validate(property.schema, value, location, &child, out),
            None if property.required => out.add(location, &child, "is required"),
            None => {}
        }
        if out.settled() {
            return;
        }
    }
    if let Additional::Allow = record.additional {
        return;
    }
    let is_known = |key: &str| record.properties.iter().any(|p| p.name == key);
    for (key, value) in object.iter().filter(|(key, _)| !is_known(key)) {
        let child = Pointer::Key(pointer, key);
        match record.additional {
            Additional::Allow => {}
            Additional::Deny => out.add(location, &child, "is not allowed"),
            Additional::Schema(schema) => validate(schema, value, location, &child, out),
        }
        if out.settled() {
            return;
        }
    }
}

fn validate_dict(
    dict: &Dict,
    object: &serde_json::Map<String, Value>,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    let count = object.len();
    if let Some(min) = dict.min_properties.filter(|&min| count < min) {
        out.add(
            location,
            pointer,
            format_args!("must have at least {min} properties"),
        );
    }
    if let Some(max) = dict.max_properties.filter(|&max| count > max) {
        out.add(
            location,
            pointer,
            format_args!("must have at most {max} properties"),
        );
        return;
    }
    for (key, value) in object {
        if out.settled() {
            return;
        }
        validate(
            dict.values,
            value,
            location,
            &Pointer::Key(pointer, key),
            out,
        );
    }
}

/// Whether `value` matches `schema`, spending `out`'s budget; running out is reported at
/// `pointer`.
fn conforms(
    schema: &Schema,
    value: &Value,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) -> bool {
    let mut probe = Violations {
        room: 0,
        text_room: 0,
        probe: true,
        ..out.fork()
    };
    validate(schema, value, location, pointer, &mut probe);
    out.budget = probe.budget;
    if probe.exhausted && !out.exhausted {
        // The probe's own record of it is not listed.
        out.spend(location, pointer);
    }
    probe.is_empty()
}

fn number_problems(
    rules: &Numeric,
    number: f64,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    if !rules.allowed.is_empty() && !rules.allowed.contains(&number) {
        let allowed: Vec<String> = rules.allowed.iter().map(f64::to_string).collect();
        out.add(
            location,
            pointer,
            format_args!("must be one of {}", allowed.join(", ")),
        );
    }
    if let Some(min) = rules.minimum {
        if rules.exclusive_minimum && number <= min {
            out.add(location, pointer, format_args!("must be > {min}"));
        } else if !rules.exclusive_minimum && number < min {
            out.add(location, pointer, format_args!("must be >= {min}"));
        }
    }
    if let Some(max) = rules.maximum {
        if rules.exclusive_maximum && number >= max {
            out.add(location, pointer, format_args!("must be < {max}"));
        } else if !rules.exclusive_maximum && number > max {
            out.add(location, pointer, format_args!("must be <= {max}"));
        }
    }
    if let Some(step) = rules.multiple_of {
        if step > 0.0 && !is_multiple(number, step) {
            out.add(
                location,
                pointer,
                format_args!("must be a multiple of {step}"),
            );
        }
    }
}

/// Binary floating point cannot represent most decimal steps exactly (`0.3 / 0.1` is not 3), so
/// the quotient only has to be very close to a whole number.
fn is_multiple(number: f64, step: f64) -> bool {
    let quotient = number / step;
    (quotient - quotient.round()).abs() < 1e-9
}

fn text_problems(
    rules: &Text,
    text: &str,
    location: Location,
    pointer: &Pointer<'_>,
    out: &mut Violations,
) {
    if !rules.allowed.is_empty() && !rules.allowed.contains(&text) {
        let allowed: Vec<String> = rules.allowed.iter().map(|a| format!("{a:?}")).collect();
        out.add(
            location,
            pointer,
            format_args!("must be one of {}", allowed.join(", ")),
        );
    }
    // JSON Schema counts characters, not the bytes of the UTF-8 encoding.
    let length = text.chars().count();
    if let Some(min) = rules.min_length.filter(|&min| length < min) {
        out.add(
            location,
            pointer,
            format_args!("must be at least {min} characters long"),
        );
    }
    if let Some(max) = rules.max_length.filter(|&max| length > max) {
        out.add(
            location,
            pointer,
            format_args!("must be at most {max} characters long"),
        );
    }
    if let Some(pattern) = rules.pattern.filter(|pattern| !pattern.is_match(text)) {
        out.add(
            location,
            pointer,
            format_args!("must match the pattern {}", pattern.as_str()),
        );
    }
    if let Some(problem) = rules.format.problem(text) {
        out.add(location, pointer, problem);
    }
}

/// JSON Schema counts `1.0`, `1e2` and `-0.0` as integers, but serde will not read them into an
/// `i64`; once validated they are written as the integers they are, so both agree.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(whole) = number.as_f64().and_then(integer_of) {
                *number = whole;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// `number` as a JSON integer, if it is a whole number an `i64` or `u64` can hold.
fn integer_of(number: f64) -> Option<serde_json::Number> {
    // 2^63 and 2^64 are exact in binary floating point; the integer types stop one below them.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    if number.fract() != 0.0 {
        None
    } else if (-I64_END..I64_END).contains(&number) {
        Some((number as i64).into())
    } else if (0.0..U64_END).contains(&number) {
        Some((number as u64).into())
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Reading requests
// ---------------------------------------------------------------------------------------------

/// A path, query, header or cookie parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// The parameter's name, as the request spells it.
    pub name: &'static str,
    /// Where the parameter is sent.
    pub location: Location,
    /// The request must carry the parameter.
    pub required: bool,
    /// The schema its value is converted by and checked against.
    pub schema: &'static Schema,
    /// For arrays: `true` repeats the key (`?id=1&id=2`), `false` separates with commas.
    pub explode: bool,
    /// For objects in the query: `?filter[name]=x&filter[age]=3`.
    pub deep_object: bool,
}

impl ParamSpec {
    /// A parameter the request must carry.
    pub const fn required(location: Location, name: &'static str, schema: &'static Schema) -> Self {
        Self {
            name,
            location,
            required: true,
            schema,
            explode: false,
            deep_object: false,
        }
    }

    /// A parameter the request may leave out.
    pub const fn optional(location: Location, name: &'static str, schema: &'static Schema) -> Self {
        Self {
            required: false,
            ..Self::required(location, name, schema)
        }
    }

    /// An array as repeated keys: `?id=1&id=2`.
    pub const fn exploded(self) -> Self {
        Self {
            explode: true,
            ..self
        }
    }

    /// An object as `?filter[name]=x`.
    pub const fn deep_object(self) -> Self {
        Self {
            deep_object: true,
            ..self
        }
    }
}

/// How an operation's request body is read.
#[derive(Debug, Clone, Copy)]
pub enum BodyKind {
    /// JSON, checked against the schema.
    Json(&'static Schema),
    /// `application/x-www-form-urlencoded`, read into the JSON the schema describes.
    Form(&'static Schema),
    /// UTF-8 text, read as it is.
    Text,
    /// Any bytes, read as they are.
    Binary,
}

/// The request body of an operation.
#[derive(Debug, Clone, Copy)]
pub struct BodySpec {
    /// The request must carry a body.
    pub required: bool,
    /// The media type the spec declares, named in the answer when a request sends another.
    pub content_type: &'static str,
    /// How the body is read.
    pub kind: BodyKind,
}

/// Everything [`extract`] needs to know about one operation; emitted by apigen as a `static`.
#[derive(Debug, Clone, Copy)]
pub struct OperationSpec {
    /// The operation's `operationId`.
    pub id: &'static str,
    /// The path as the spec writes it, such as `/compare/{base}...{head}`.
    pub path: &'static str,
    /// The router pattern serving it, one capture per segment, such as `/compare/{base_head}`.
    pub route: &'static str,
    /// The operation's parameters.
    pub params: &'static [ParamSpec],
    /// The operation's request body, if it takes one.
    pub body: Option<BodySpec>,
}

#[derive(Debug)]
enum Payload {
    Absent,
    Json(Value),
    Text(String),
    Binary(bytes::Bytes),
}

/// A request that passed validation, ready to be turned into typed values.
#[derive(Debug)]
pub struct Extracted {
    params: Vec<(Location, &'static str, Value)>,
    body: Payload,
}

impl Extracted {
    /// Deserializes a parameter; an absent optional parameter is `null` (so `Option<T>` gives
    /// `None`).
    pub fn param<T: DeserializeOwned>(
        &mut self,
        location: Location,
        name: &str,
    ) -> Result<T, ApiError> {
        let Some((_, _, value)) = self
            .params
            .iter_mut()
            .find(|(at, known, _)| *at == location && *known == name)
        else {
            return Err(ApiError::internal(format!(
                "parameter `{name}` ({location:?}) is not in the operation's spec"
            )));
        };
        serde_json::from_value(value.take())
            .map_err(|error| ApiError::bad_request(format!("parameter `{name}`: {error}")))
    }

    /// Deserializes the JSON body; an absent optional body is `null`.
    pub fn json<T: DeserializeOwned>(&mut self) -> Result<T, ApiError> {
        // Generated code only asks for the kind of body its operation declares, so a mismatch
        // here is a bug on our side rather than a bad request.
        let value = match std::mem::replace(&mut self.body, Payload::Absent) {
            Payload::Absent => Value::Null,
            Payload::Json(value) => value,
            Payload::Text(_) | Payload::Binary(_) => {
                return Err(ApiError::internal("the operation's body is not JSON"))
            }
        };
        serde_json::from_value(value)
            .map_err(|error| ApiError::bad_request(format!("the body: {error}")))
    }

    /// The body of a `text/*` operation (empty string when absent).
    pub fn text(&mut self) -> Result<String, ApiError> {
        match std::mem::replace(&mut self.body, Payload::Absent) {
            Payload::Absent => Ok(String::new()),
            Payload::Text(text) => Ok(text),
            Payload::Json(_) | Payload::Binary(_) => {
                Err(ApiError::internal("the operation's body is not text"))
            }
        }
    }

    /// The raw bytes of a binary body (empty when absent).
    pub fn bytes(&mut self) -> Result<bytes::Bytes, ApiError> {
        match std::mem::replace(&mut self.body, Payload::Absent) {
            Payload::Absent => Ok(bytes::Bytes::new()),
            Payload::Binary(bytes) => Ok(bytes),
            Payload::Json(_) | Payload::Text(_) => {
                Err(ApiError::internal("the operation's body is not binary"))
            }
        }
    }
}

/// Reads path, query, header and cookie parameters and the body of `req` as `spec` describes
/// them, and validates all of them, answering one 400 with every violation.
pub async fn extract(req: Request, spec: &'static OperationSpec) -> Result<Extracted, ApiError> {
    let (mut parts, body) = req.into_parts();
    let path = read_path_params(&mut parts, spec).await?;
    let query: Vec<(Cow<str>, Cow<str>)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).collect();
    let cookies = read_cookies(&parts.headers);

    let mut violations = Violations::new();
    let mut params = Vec::with_capacity(spec.params.len());
    for param in spec.params {
        let raw: Vec<Cow<str>> = match param.location {
            Location::Path => matching(path.iter().map(|(k, v)| (*k, v.as_str())), param.name),
            Location::Query => matching(query.iter().map(|(k, v)| (&**k, &**v)), param.name),
            Location::Cookie => matching(cookies.iter().copied(), param.name),
            Location::Header => header_values(&parts.headers, param.name),
            // Parameters never live in the body; apigen does not emit such a spec.
            Location::Body => Vec::new(),
        };
        let value = if param.deep_object && raw.is_empty() {
            read_deep_object(param, &query, &mut violations)
        } else {
            read_param(param, &raw, &mut violations)
        };
        params.push((param.location, param.name, value));
    }

    let body = match &spec.body {
        Some(body_spec) => read_body(body_spec, &parts.headers, body, &mut violations).await?,
        None => Payload::Absent,
    };

    if violations.is_empty() {
        Ok(Extracted { params, body })
    } else {
        Err(ApiError::invalid(violations))
    }
}

async fn read_path_params(
    parts: &mut Parts,
    spec: &OperationSpec,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    // Outside a route with captures axum has none to give; that only matters if we need them.
    if !spec.params.iter().any(|p| p.location == Location::Path) {
        return Ok(Vec::new());
    }
    let captures = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(captures) => captures,
        Err(rejection) if rejection.status().is_server_error() => {
            return Err(ApiError::internal(rejection.body_text()))
        }
        Err(rejection) => return Err(ApiError::new(rejection.status(), rejection.body_text())),
    };
    path_variables(&captures, spec).ok_or_else(|| ApiError::not_found("no route for this path"))
}

/// Whether the request's path matches `spec`'s, not only the route it shares with others.
pub fn path_matches(captures: &RawPathParams, spec: &OperationSpec) -> bool {
    path_variables(captures, spec).is_some()
}

/// The spec's path variables, read from the router's whole-segment captures; `None` when the
/// fixed text around them does not match.
fn path_variables(
    captures: &RawPathParams,
    spec: &OperationSpec,
) -> Option<Vec<(&'static str, String)>> {
    let mut variables = Vec::new();
    for (pattern, capture) in spec.path.split('/').zip(spec.route.split('/')) {
        let Some(name) = capture.strip_prefix('{').and_then(|c| c.strip_suffix('}')) else {
            continue;
        };
        let (_, value) = captures.iter().find(|(key, _)| *key == name)?;
        if !split_segment(pattern, value, &mut variables) {
            return None;
        }
    }
    Some(variables)
}

/// Matches one segment against its pattern (`{base}...{head}`, `{name}.json`), each variable
/// taking the shortest non-empty text that lets the rest match.
fn split_segment(
    pattern: &'static str,
    value: &str,
    variables: &mut Vec<(&'static str, String)>,
) -> bool {
    split_counting(pattern, value, variables, &mut 0)
}

/// [`split_segment`], adding the positions it examines to `steps`. Trying every way to split a
/// segment took time quadratic in its length; instead, one pass per variable from the end
/// finds where that variable may end, and the variables are then taken left to right.
fn split_counting(
    pattern: &'static str,
    value: &str,
    variables: &mut Vec<(&'static str, String)>,
    steps: &mut usize,
) -> bool {
    // The pattern as `texts[0] {names[0]} texts[1] {names[1]} ...`; an unclosed brace is text.
    let (mut names, mut texts) = (Vec::new(), Vec::new());
    let mut rest = pattern;
    while let Some((open, close)) = rest
        .find('{')
        .and_then(|open| Some((open, open + rest[open..].find('}')?)))
    {
        texts.push(&rest[..open]);
        names.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    texts.push(rest);
    let Some(value) = value.strip_prefix(texts[0]) else {
        return false;
    };
    let length = value.len();
    // fits[i][end]: variable i may end at byte `end`, because the rest of the pattern then
    // matches `value[end..]`. Worked out from the last variable back.
    let mut fits: Vec<Vec<bool>> = Vec::with_capacity(names.len());
    for i in (0..names.len()).rev() {
        let text = texts[i + 1];
        // later[at]: the next variable may end at `at` or beyond.
        let later = fits.last().map(|next: &Vec<bool>| {
            let mut later = next.clone();
            for at in (0..length).rev() {
                *steps += 1;
                later[at] |= later[at + 1];
            }
            later
        });
        let row = (0..=length)
            .map(|end| {
                *steps += 1 + text.len();
                value.is_char_boundary(end)
                    && match &later {
                        None => &value[end..] == text,
                        // The next variable starts after `text` and is not empty.
                        Some(later) => {
                            value[end..].starts_with(text)
                                && later.get(end + text.len() + 1) == Some(&true)
                        }
                    }
            })
            .collect();
        fits.push(row);
    }
    fits.reverse();
    let mark = variables.len();
    let mut start = 0;
    for (i, name) in names.iter().enumerate() {
        let end = (start + 1..=length).find(|&end| {
            *steps += 1;
            fits[i][end]
        });
        let Some(end) = end else {
            variables.truncate(mark);
            return false;
        };
        variables.push((name, value[start..end].to_owned()));
        start = end + texts[i + 1].len();
    }
    !names.is_empty() || value.is_empty()
}

fn read_cookies(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| {
            let value = value.trim();
            // RFC 6265 allows a cookie value to be wrapped in double quotes.
            let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            (name.trim(), unquoted.unwrap_or(value))
        })
        .collect()
}

/// Header values may carry bytes that are not UTF-8; the replacement characters then fail the
/// schema's checks instead of the parameter silently vanishing.
fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<Cow<'a, str>> {
    headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
        .collect()
}

fn matching<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, name: &str) -> Vec<Cow<'a, str>> {
    pairs
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| Cow::Borrowed(value))
        .collect()
}

fn read_param(param: &ParamSpec, raw: &[Cow<str>], violations: &mut Violations) -> Value {
    let pointer = Pointer::param(param.name);
    let Some(first) = raw.first() else {
        if param.required {
            violations.add(param.location, &pointer, "is required");
        }
        return Value::Null;
    };
    let value = match without_null(param.schema) {
        Schema::Array(list) => {
            let items: Vec<&str> = if param.explode {
                raw.iter().map(|item| &**item).collect()
            } else if first.is_empty() {
                // `?ids=` is how the comma-separated style spells an empty list.
                Vec::new()
            } else {
                first.split(',').collect()
            };
            Value::Array(
                items
                    .into_iter()
                    .map(|item| coerce(list.items, item))
                    .collect(),
            )
        }
        schema => coerce(schema, first),
    };
    validate(param.schema, &value, param.location, &pointer, violations);
    value
}

/// A `deepObject` parameter: `?filter[name]=x&filter[age]=3` gives `{"name": "x", "age": 3}`,
/// each value converted by its property's schema. Absent when no key has the `filter[` prefix.
fn read_deep_object(
    param: &ParamSpec,
    query: &[(Cow<str>, Cow<str>)],
    violations: &mut Violations,
) -> Value {
    let prefix = format!("{}[", param.name);
    let object: serde_json::Map<String, Value> = query
        .iter()
        .filter_map(|(key, value)| {
            let property = key.strip_prefix(&prefix)?.strip_suffix(']')?;
            let schema = property_schema(param.schema, property).unwrap_or(&Schema::Any);
            Some((property.to_owned(), coerce(schema, value)))
        })
        .collect();
    if object.is_empty() {
        return read_param(param, &[], violations);
    }
    let value = Value::Object(object);
    let pointer = Pointer::param(param.name);
    validate(param.schema, &value, param.location, &pointer, violations);
    value
}

/// The schema of property `name` of an object schema, looking into unions for the object.
fn property_schema(schema: &'static Schema, name: &str) -> Option<&'static Schema> {
    match without_null(schema) {
        Schema::Object(record) => match record.properties.iter().find(|p| p.name == name) {
            Some(property) => Some(property.schema),
            None => match record.additional {
                Additional::Schema(values) => Some(values),
                _ => None,
            },
        },
        Schema::Map(dict) => Some(dict.values),
        Schema::OneOf(members) | Schema::AnyOf(members) | Schema::AllOf(members) => {
            members.iter().find_map(|m| property_schema(m, name))
        }
        _ => None,
    }
}

fn without_null(schema: &Schema) -> &Schema {
    match schema {
        Schema::Nullable(inner) => without_null(inner),
        other => other,
    }
}

/// Parameters arrive as text; turning them into the JSON type the schema expects lets them go
/// through the same validation and deserialization as bodies. Text that does not convert stays a
/// string, so validation names the problem (`expected an integer`) instead of us guessing.
fn coerce(schema: &Schema, text: &str) -> Value {
    let fallback = || Value::String(text.to_owned());
    match without_null(schema) {
        // `1.0` and `1e2` too, as in JSON bodies.
        Schema::Integer(_) => match (text.parse::<i64>(), text.parse::<u64>()) {
            (Ok(signed), _) => Value::from(signed),
            (_, Ok(unsigned)) => Value::from(unsigned),
            _ => match text.parse().ok().and_then(integer_of) {
                Some(whole) => Value::Number(whole),
                None => fallback(),
            },
        },
        // `from_f64` refuses NaN and infinities, which JSON cannot represent.
        Schema::Number(_) => match text.parse().ok().and_then(serde_json::Number::from_f64) {
            Some(number) => Value::Number(number),
            None => fallback(),
        },
        Schema::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => fallback(),
        },
        // An object in one text is JSON: a parameter with `content: application/json`, or a
        // form field, whose objects OpenAPI encodes as JSON.
        Schema::Object(_) | Schema::Map(_) => match serde_json::from_str(text) {
            Ok(value @ Value::Object(_)) => value,
            _ => fallback(),
        },
        // The first member the text converts for; a string member needs no conversion.
        Schema::OneOf(members) | Schema::AnyOf(members) | Schema::AllOf(members) => members
            .iter()
            .map(|member| coerce(member, text))
            .find(|value| !value.is_string())
            .unwrap_or_else(fallback),
        _ => fallback(),
    }
}

async fn read_body(
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
fn form_size(form: &[u8]) -> usize {
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
fn parsed_size(json: &[u8]) -> usize {
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

/// How deeply a form key may nest (`a[b][c]` is 3): placing a value recurses once per level,
/// and a 6 MiB key of `[x]` would otherwise overflow the stack.
const MAX_FORM_DEPTH: usize = 32;

/// A form's fields as the JSON object its schema describes. Keys may nest, as Stripe and
/// Rails write them (`items[0][price]=p1&metadata[k]=v`); each value is converted by the
/// schema at its place, and a repeated key whose schema is an array collects its values.
fn read_form(schema: &'static Schema, bytes: &[u8], violations: &mut Violations) -> Value {
    let mut root = Value::Object(serde_json::Map::new());
    for (key, text) in form_urlencoded::parse(bytes) {
        let path: Vec<&str> = match key.split_once('[') {
            Some((name, rest)) => std::iter::once(name)
                .chain(rest.trim_end_matches(']').split("]["))
                .take(MAX_FORM_DEPTH + 1)
                .collect(),
            None => vec![&key],
        };
        if path.len() > MAX_FORM_DEPTH {
            let pointer = Pointer::Key(&Pointer::Root, path[0]);
            let detail = format!("nests deeper than {MAX_FORM_DEPTH} levels");
            violations.add(Location::Body, &pointer, detail);
            continue;
        }
        place(&mut root, schema, &path, &text);
    }
    root
}

/// The member of a union that can hold the next step of a form key: an array for an index
/// (`[0]`, `[]`), otherwise an object. Stripe writes `anyOf: [array, ""]` for clearable lists.
fn container(schema: &'static Schema, step: &str) -> &'static Schema {
    let wants_array = step.is_empty() || step.bytes().all(|b| b.is_ascii_digit());
    match without_null(schema) {
        Schema::OneOf(members) | Schema::AnyOf(members) | Schema::AllOf(members) => members
            .iter()
            .map(|member| container(member, step))
            .find(|member| match member {
                Schema::Array(_) => wants_array,
                Schema::Object(_) | Schema::Map(_) => !wants_array,
                _ => false,
            })
            .unwrap_or(schema),
        other => other,
    }
}

fn place(slot: &mut Value, schema: &'static Schema, path: &[&str], text: &str) {
    let Some((head, rest)) = path.split_first() else {
        match without_null(schema) {
            Schema::Array(list) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(items) = slot {
                    items.push(coerce(list.items, text));
                }
            }
            _ => *slot = coerce(schema, text),
        }
        return;
    };
    if let Schema::Array(list) = container(schema, head) {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            // An index past the end appends: `items[999999999]` must not allocate that much.
            let index = match head.parse::<usize>() {
                Ok(index) if index < items.len() => index,
                _ => {
                    items.push(Value::Null);
                    items.len() - 1
                }
            };
            place(&mut items[index], list.items, rest, text);
        }
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = slot {
        let property = property_schema(container(schema, head), head).unwrap_or(&Schema::Any);
        let field = fields.entry((*head).to_owned()).or_insert(Value::Null);
        place(field, property, rest, text);
    }
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

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// A JSON response with the given status and content type (e.g. "application/json").
pub fn json<T: Serialize>(status: StatusCode, content_type: &'static str, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw(status, content_type, bytes),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// A response with no body.
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// A text or bytes response.
pub fn raw(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    // Going through axum's fallible header conversion turns a malformed content type into a
    // 500 answer instead of a panic.
    (status, [(CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// Adds a header; a value that is not a valid header value is dropped with a warning log, never a
/// panic.
pub fn with_header(
    mut response: Response,
    name: &'static str,
    value: impl fmt::Display,
) -> Response {
    let header = HeaderName::try_from(name);
    let value = HeaderValue::try_from(value.to_string());
    match (header, value) {
        (Ok(header), Ok(value)) => {
            response.headers_mut().append(header, value);
        }
        // The value is not logged: headers often carry tokens.
        _ => tracing::warn!(
            header = name,
            "dropped a response header that is not valid HTTP"
        ),
    }
    response
}

/// Router fallback for paths that match no operation, answered as a problem.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no route for this path")
}

/// Router fallback for a known path with a method it does not accept, answered as a problem.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this path does not accept this method",
    )
}

// ---------------------------------------------------------------------------------------------
// Request context
// ---------------------------------------------------------------------------------------------

/// Who is calling and how: passed to every handler so that authorizer claims can be read once API
/// Gateway authorizers are configured.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RequestContext {
    /// API Gateway's request id, or `x-request-id` when running locally.
    pub request_id: Option<String>,
    /// The Lambda event's request context (authorizer claims live here); `None` outside Lambda.
    pub lambda: Option<lambda_http::request::RequestContext>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // lambda_http stores the event's context as this extension when it converts the event.
        let lambda = parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
            .cloned();
        let request_id = lambda.as_ref().and_then(gateway_request_id).or_else(|| {
            let header = parts.headers.get("x-request-id")?;
            header.to_str().ok().map(str::to_owned)
        });
        Ok(Self { request_id, lambda })
    }
}

/// The id API Gateway logs for the request, so our logs can be matched with its logs.
fn gateway_request_id(context: &lambda_http::request::RequestContext) -> Option<String> {
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
    use axum::routing::get;
    use axum::Router;
    use serde_json::json;
    use tower::ServiceExt as _;

    fn violations(schema: &Schema, value: Value) -> Vec<(String, String)> {
        let mut out = Violations::new();
        validate(schema, &value, Location::Body, &Pointer::Root, &mut out);
        out.listed
            .into_iter()
            .map(|v| (v.pointer, v.detail))
            .collect()
    }

    fn details(schema: &Schema, value: Value) -> Vec<String> {
        violations(schema, value)
            .into_iter()
            .map(|(_, detail)| detail)
            .collect()
    }

    fn pair(pointer: &str, detail: &str) -> (String, String) {
        (pointer.to_owned(), detail.to_owned())
    }

    fn assert_valid(schema: &Schema, value: Value) {
        assert_eq!(
            details(schema, value.clone()),
            Vec::<String>::new(),
            "{value}"
        );
    }

    fn assert_invalid(schema: &Schema, value: Value, detail: &str) {
        assert_eq!(
            details(schema, value.clone()),
            vec![detail.to_owned()],
            "{value}"
        );
    }

    // --- schemas -------------------------------------------------------------------------------

    static INTEGER: Schema = Schema::Integer(Numeric::ANY);
    static NUMBER: Schema = Schema::Number(Numeric::ANY);
    static STRING: Schema = Schema::String(Text::PLAIN);
    static BOOLEAN: Schema = Schema::Boolean;
    static DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d").expect("valid pattern"));
    static UPPER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("^[A-Z]+$").expect("valid pattern"));

    #[test]
    fn an_object_in_one_text_is_json() {
        let map = Schema::Map(Dict::ANY);
        assert_eq!(coerce(&map, r#"{"color":"red"}"#), json!({"color": "red"}));
        assert_eq!(coerce(&map, "[1]"), json!("[1]"));
        assert_eq!(coerce(&map, "red"), json!("red"));
    }

    #[test]
    fn any_accepts_everything() {
        for value in [
            json!(null),
            json!(1),
            json!("x"),
            json!([1]),
            json!({"a": 1}),
        ] {
            assert_valid(&Schema::Any, value);
        }
    }

    #[test]
    fn boolean() {
        assert_valid(&BOOLEAN, json!(false));
        assert_invalid(&BOOLEAN, json!("true"), "expected a boolean");
    }

    #[test]
    fn integer_is_any_whole_number() {
        assert_valid(&INTEGER, json!(-3));
        assert_valid(&INTEGER, json!(u64::MAX));
        // JSON Schema: a number with a zero fractional part is an integer, however written.
        for whole in ["1.0", "1e2", "-0.0", "1.5e1"] {
            let value: Value = serde_json::from_str(whole).expect("JSON number");
            assert_valid(&INTEGER, value);
        }
        assert_invalid(&INTEGER, json!(1.5), "expected an integer");
        assert_invalid(&INTEGER, json!("1"), "expected an integer");
        assert_invalid(&Schema::INT32, json!(1e10), "must be <= 2147483647");
    }

    #[test]
    fn whole_numbers_are_read_into_integer_types() {
        let mut value: Value =
            serde_json::from_str(r#"{"a": [1.0, -0.0, 1e2, 2.5], "b": 1e19, "c": 1e30}"#)
                .expect("JSON");
        whole_numbers_as_integers(&mut value);
        assert_eq!(value["a"], json!([1, 0, 100, 2.5]));
        assert_eq!(value["b"], json!(10_000_000_000_000_000_000_u64));
        // Too large for any integer type: left as it is, for deserialization to refuse.
        assert!(value["c"].is_f64());
        let small: Vec<i64> = serde_json::from_value(value["a"].take()).unwrap_or_default();
        assert!(small.is_empty(), "2.5 is no i64");
    }

    #[test]
    fn number() {
        assert_valid(&NUMBER, json!(1.5));
        assert_valid(&NUMBER, json!(2));
        assert_invalid(&NUMBER, json!("1.5"), "expected a number");
    }

    #[test]
    fn numeric_bounds() {
        let at_least_zero = Schema::Number(Numeric {
            minimum: Some(0.0),
            ..Numeric::ANY
        });
        assert_valid(&at_least_zero, json!(0));
        assert_invalid(&at_least_zero, json!(-0.5), "must be >= 0");

        let above_zero = Schema::Integer(Numeric {
            minimum: Some(0.0),
            exclusive_minimum: true,
            ..Numeric::ANY
        });
        assert_valid(&above_zero, json!(1));
        assert_invalid(&above_zero, json!(0), "must be > 0");

        let at_most_ten = Schema::Integer(Numeric {
            maximum: Some(10.0),
            ..Numeric::ANY
        });
        assert_valid(&at_most_ten, json!(10));
        assert_invalid(&at_most_ten, json!(11), "must be <= 10");

        let below_ten = Schema::Number(Numeric {
            maximum: Some(10.0),
            exclusive_maximum: true,
            ..Numeric::ANY
        });
        assert_valid(&below_ten, json!(9.99));
        assert_invalid(&below_ten, json!(10), "must be < 10");
    }

    #[test]
    fn numeric_multiple_of_tolerates_binary_rounding() {
        let cents = Schema::Number(Numeric {
            multiple_of: Some(0.01),
            ..Numeric::ANY
        });
        assert_valid(&cents, json!(0.3));
        assert_valid(&cents, json!(19.99));
        assert_invalid(&cents, json!(0.125), "must be a multiple of 0.01");
    }

    #[test]
    fn numeric_allowed_values() {
        let sizes = Schema::Integer(Numeric {
            allowed: &[1.0, 2.0],
            ..Numeric::ANY
        });
        assert_valid(&sizes, json!(2));
        assert_invalid(&sizes, json!(3), "must be one of 1, 2");
    }

    #[test]
    fn string_type() {
        assert_valid(&STRING, json!(""));
        assert_invalid(&STRING, json!(1), "expected a string");
    }

    #[test]
    fn string_length_counts_characters_not_bytes() {
        let short = Schema::String(Text {
            min_length: Some(1),
            max_length: Some(2),
            ..Text::PLAIN
        });
        assert_valid(&short, json!("éé"));
        assert_invalid(&short, json!(""), "must be at least 1 characters long");
        assert_invalid(&short, json!("abc"), "must be at most 2 characters long");
    }

    #[test]
    fn string_pattern_is_unanchored() {
        let digit = Schema::String(Text {
            pattern: Some(&DIGIT),
            ..Text::PLAIN
        });
        assert_valid(&digit, json!("a1b"));
        assert_invalid(&digit, json!("abc"), r"must match the pattern \d");

        let upper = Schema::String(Text {
            pattern: Some(&UPPER),
            ..Text::PLAIN
        });
        assert_valid(&upper, json!("ABC"));
        assert_invalid(&upper, json!("ABc"), "must match the pattern ^[A-Z]+$");
    }

    #[test]
    fn string_allowed_values() {
        let colour = Schema::String(Text {
            allowed: &["a", "b"],
            ..Text::PLAIN
        });
        assert_valid(&colour, json!("b"));
        assert_invalid(&colour, json!("c"), r#"must be one of "a", "b""#);
    }

    #[test]
    fn string_formats() {
        let cases: &[(Format, &[&str], &[&str], &str)] = &[
            (
                Format::DateTime,
                &["2024-05-01T12:30:00Z", "2024-05-01T12:30:00.5+02:00"],
                &["2024-05-01 12:30", "2024-05-01"],
                "must be a valid date-time (RFC 3339)",
            ),
            (
                Format::Date,
                &["2024-02-29"],
                &[
                    "2023-02-29",
                    "2024-1-5",
                    "+2024-01-05",
                    " 2024-01-05",
                    "01/05/2024",
                ],
                "must be a valid date (YYYY-MM-DD)",
            ),
            (
                Format::Uuid,
                &["67e55044-10b1-426f-9247-bb680e5fe0c8"],
                &["67e55044-10b1-426f-9247", "not-a-uuid"],
                "must be a valid UUID",
            ),
            (
                Format::Email,
                &["ada@example.com", "a.b+c@mail.example.org"],
                &[
                    "ada",
                    "@example.com",
                    "ada@localhost",
                    "a b@example.com",
                    "a@b@c.com",
                ],
                "must be a valid email address",
            ),
            (
                Format::Uri,
                &[
                    "https://example.com/x",
                    "urn:isbn:0451450523",
                    "mailto:ada@example.com",
                ],
                &["example.com/x", "1http://x", ":nothing"],
                "must be a valid URI",
            ),
            (
                Format::Byte,
                &["aGVsbG8=", ""],
                &["aGVsbG8", "***", "aGVsbG8_"],
                "must be valid base64",
            ),
            (
                Format::Ipv4,
                &["10.0.0.1"],
                &["256.0.0.1", "::1"],
                "must be a valid IPv4 address",
            ),
            (
                Format::Ipv6,
                &["::1", "2001:db8::8a2e:370:7334"],
                &["10.0.0.1", "2001:db8::g"],
                "must be a valid IPv6 address",
            ),
        ];
        for &(format, good, bad, detail) in cases {
            let schema = Schema::String(Text {
                format,
                ..Text::PLAIN
            });
            for text in good {
                assert_valid(&schema, json!(text));
            }
            for text in bad {
                assert_invalid(&schema, json!(text), detail);
            }
        }
        assert_valid(&STRING, json!("anything"));
    }

    #[test]
    fn formats_refuse_control_and_bidirectional_characters() {
        let valid = [
            (Format::DateTime, "2024-05-01T12:30:00Z"),
            (Format::Date, "2024-02-29"),
            (Format::Uuid, "67e55044-10b1-426f-9247-bb680e5fe0c8"),
            (Format::Email, "ada@example.com"),
            (Format::Uri, "https://example.com/x"),
            (Format::Byte, "aGVsbG8="),
            (Format::Ipv4, "10.0.0.1"),
            (Format::Ipv6, "::1"),
        ];
        let hidden = [
            '\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{61c}', '\u{200e}', '\u{200f}',
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ];
        for (format, text) in valid {
            let schema = Schema::String(Text {
                format,
                ..Text::PLAIN
            });
            assert_valid(&schema, json!(text));
            for c in hidden {
                for at in [1, text.len()] {
                    let mut text = text.to_owned();
                    text.insert(at, c);
                    assert_eq!(
                        details(&schema, json!(text)).len(),
                        1,
                        "{format:?} {text:?}"
                    );
                }
            }
        }
        // Unformatted strings may hold anything.
        assert_valid(&STRING, json!("a\u{0}\u{202e}b"));
    }

    static SMALL_SET: Schema = Schema::Array(List {
        items: &INTEGER,
        min_items: Some(1),
        max_items: Some(3),
        unique_items: true,
    });

    #[test]
    fn array() {
        assert_valid(&SMALL_SET, json!([1, 2, 3]));
        assert_invalid(&SMALL_SET, json!({"0": 1}), "expected an array");
        assert_invalid(&SMALL_SET, json!([]), "must have at least 1 items");
        assert_invalid(&SMALL_SET, json!([1, 2, 3, 4]), "must have at most 3 items");
        assert_invalid(&SMALL_SET, json!([1, 2, 1]), "items must be unique");
        assert_eq!(
            violations(&SMALL_SET, json!([1, "2", 3.5])),
            [
                pair("/1", "expected an integer"),
                pair("/2", "expected an integer")
            ]
        );
    }

    #[test]
    fn unique_items_compares_objects_by_content() {
        static OBJECTS: Schema = Schema::Array(List {
            items: &Schema::Any,
            min_items: None,
            max_items: None,
            unique_items: true,
        });
        assert_valid(&OBJECTS, json!([{"a": 1}, {"a": 2}]));
        assert_invalid(
            &OBJECTS,
            json!([{"a": 1, "b": [2]}, {"b": [2], "a": 1}]),
            "items must be unique",
        );
    }

    static ORDER_LINE: Schema = Schema::Object(Record {
        properties: &[
            Property {
                name: "id",
                schema: &Schema::String(Text {
                    format: Format::Uuid,
                    ..Text::PLAIN
                }),
                required: true,
                read_only: true,
                write_only: false,
            },
            Property {
                name: "sku",
                schema: &Schema::String(Text {
                    min_length: Some(1),
                    max_length: None,
                    pattern: Some(&UPPER),
                    format: Format::None,
                    allowed: &[],
                }),
                required: true,
                read_only: false,
                write_only: false,
            },
            Property {
                name: "quantity",
                schema: &Schema::Integer(Numeric {
                    minimum: Some(1.0),
                    ..Numeric::ANY
                }),
                required: true,
                read_only: false,
                write_only: false,
            },
            Property {
                name: "note",
                schema: &Schema::Nullable(&STRING),
                required: false,
                read_only: false,
                write_only: false,
            },
        ],
        additional: Additional::Deny,
    });

    #[test]
    fn object_checks_properties_and_denies_unknown_ones() {
        assert_valid(&ORDER_LINE, json!({"sku": "AB", "quantity": 2}));
        assert_valid(
            &ORDER_LINE,
            json!({"sku": "AB", "quantity": 2, "note": null}),
        );
        assert_invalid(&ORDER_LINE, json!([]), "expected an object");
        assert_eq!(
            violations(
                &ORDER_LINE,
                json!({"quantity": 0, "note": 3, "colour": "red"})
            ),
            [
                pair("/sku", "is required"),
                pair("/quantity", "must be >= 1"),
                pair("/note", "expected a string"),
                pair("/colour", "is not allowed"),
            ]
        );
    }

    #[test]
    fn read_only_properties_are_ignored_in_requests() {
        // Missing although required, of the wrong type, and present despite `Additional::Deny`.
        assert_valid(&ORDER_LINE, json!({"sku": "AB", "quantity": 1}));
        assert_valid(&ORDER_LINE, json!({"id": 42, "sku": "AB", "quantity": 1}));
    }

    #[test]
    fn object_additional_properties_with_a_schema() {
        static LABELS: Schema = Schema::Object(Record {
            properties: &[Property {
                name: "name",
                schema: &STRING,
                required: false,
                read_only: false,
                write_only: false,
            }],
            additional: Additional::Schema(&INTEGER),
        });
        assert_valid(&LABELS, json!({"name": "x", "size": 3}));
        assert_eq!(
            violations(&LABELS, json!({"name": "x", "size": "big"})),
            [pair("/size", "expected an integer")]
        );
        let open = Schema::Object(Record {
            properties: &[],
            additional: Additional::Allow,
        });
        assert_valid(&open, json!({"anything": [1]}));
    }

    #[test]
    fn map() {
        static COUNTS: Schema = Schema::Map(Dict {
            values: &INTEGER,
            min_properties: Some(1),
            max_properties: Some(2),
        });
        assert_valid(&COUNTS, json!({"a": 1}));
        assert_invalid(&COUNTS, json!([1]), "expected an object");
        assert_invalid(&COUNTS, json!({}), "must have at least 1 properties");
        assert_invalid(
            &COUNTS,
            json!({"a": 1, "b": 2, "c": 3}),
            "must have at most 2 properties",
        );
        assert_eq!(
            violations(&COUNTS, json!({"a/b~c": "x"})),
            [pair("/a~1b~0c", "expected an integer")]
        );
    }

    #[test]
    fn nullable() {
        let maybe = Schema::Nullable(&INTEGER);
        assert_valid(&maybe, json!(null));
        assert_valid(&maybe, json!(1));
        assert_invalid(&maybe, json!("x"), "expected an integer");
        assert_invalid(&INTEGER, json!(null), "expected an integer");
    }

    #[test]
    fn one_of_reports_one_violation_at_the_value() {
        static ID: Schema = Schema::OneOf(&[&INTEGER, &STRING]);
        static AMOUNT: Schema = Schema::OneOf(&[&INTEGER, &NUMBER]);
        static HOLDER: Schema = Schema::Map(Dict {
            values: &ID,
            min_properties: None,
            max_properties: None,
        });
        assert_valid(&ID, json!(1));
        assert_valid(&ID, json!("a"));
        assert_valid(&AMOUNT, json!(1.5));
        assert_eq!(
            violations(&HOLDER, json!({"v": true})),
            [pair("/v", "matches none of the allowed shapes")]
        );
        assert_invalid(
            &AMOUNT,
            json!(1),
            "matches more than one of the allowed shapes",
        );
    }

    #[test]
    fn any_of() {
        static ID: Schema = Schema::AnyOf(&[&INTEGER, &NUMBER]);
        assert_valid(&ID, json!(1));
        assert_valid(&ID, json!(1.5));
        assert_invalid(&ID, json!("1"), "matches none of the allowed shapes");
    }

    #[test]
    fn all_of_reports_every_part_once() {
        static NAMED: Schema = Schema::Object(Record {
            properties: &[Property {
                name: "name",
                schema: &STRING,
                required: true,
                read_only: false,
                write_only: false,
            }],
            additional: Additional::Allow,
        });
        static AGED: Schema = Schema::Object(Record {
            properties: &[Property {
                name: "age",
                schema: &INTEGER,
                required: true,
                read_only: false,
                write_only: false,
            }],
            additional: Additional::Allow,
        });
        static PERSON: Schema = Schema::AllOf(&[&NAMED, &AGED]);
        assert_valid(&PERSON, json!({"name": "Ada", "age": 36}));
        assert_eq!(
            violations(&PERSON, json!({})),
            [pair("/name", "is required"), pair("/age", "is required")]
        );
        assert_invalid(&PERSON, json!(1), "expected an object");
    }

    #[test]
    fn every_violation_is_reported_with_an_escaped_pointer() {
        static TRICKY: Schema = Schema::Object(Record {
            properties: &[
                Property {
                    name: "a/b",
                    schema: &INTEGER,
                    required: true,
                    read_only: false,
                    write_only: false,
                },
                Property {
                    name: "m~n",
                    schema: &STRING,
                    required: true,
                    read_only: false,
                    write_only: false,
                },
                Property {
                    name: "lines",
                    schema: &Schema::Array(List {
                        items: &ORDER_LINE,
                        min_items: None,
                        max_items: None,
                        unique_items: false,
                    }),
                    required: true,
                    read_only: false,
                    write_only: false,
                },
            ],
            additional: Additional::Allow,
        });
        let value = json!({
            "a/b": "x",
            "m~n": 1,
            "lines": [{"sku": "A", "quantity": 1}, {"sku": "a", "quantity": 1}],
        });
        let found = violations(&TRICKY, value);
        assert_eq!(
            found,
            [
                pair("/a~1b", "expected an integer"),
                pair("/m~0n", "expected a string"),
                pair("/lines/1/sku", "must match the pattern ^[A-Z]+$"),
            ]
        );
    }

    // --- requests ------------------------------------------------------------------------------

    static LIMIT: Schema = Schema::Integer(Numeric {
        minimum: Some(1.0),
        maximum: Some(100.0),
        ..Numeric::ANY
    });
    static IDS: Schema = Schema::Array(List {
        items: &INTEGER,
        min_items: None,
        max_items: None,
        unique_items: false,
    });
    static TAGS: Schema = Schema::Array(List {
        items: &STRING,
        min_items: None,
        max_items: None,
        unique_items: false,
    });

    static SEARCH: OperationSpec = OperationSpec {
        id: "search",
        path: "/search",
        route: "/search",
        params: &[
            ParamSpec {
                name: "limit",
                location: Location::Query,
                required: true,
                schema: &LIMIT,
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "active",
                location: Location::Query,
                required: false,
                schema: &Schema::Nullable(&BOOLEAN),
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "id",
                location: Location::Query,
                required: false,
                schema: &IDS,
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "tags",
                location: Location::Query,
                required: false,
                schema: &TAGS,
                explode: false,
                deep_object: false,
            },
            ParamSpec {
                name: "ratio",
                location: Location::Query,
                required: false,
                schema: &NUMBER,
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "X-Trace",
                location: Location::Header,
                required: false,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
            ParamSpec {
                name: "session",
                location: Location::Cookie,
                required: false,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
        ],
        body: None,
    };

    static CREATE: OperationSpec = OperationSpec {
        id: "createLine",
        path: "/lines",
        route: "/lines",
        params: &[ParamSpec {
            name: "dry_run",
            location: Location::Query,
            required: false,
            schema: &BOOLEAN,
            explode: true,
            deep_object: false,
        }],
        body: Some(BodySpec {
            required: true,
            content_type: "application/json",
            kind: BodyKind::Json(&ORDER_LINE),
        }),
    };

    static UPLOAD_TEXT: OperationSpec = OperationSpec {
        id: "uploadText",
        path: "/text",
        route: "/text",
        params: &[],
        body: Some(BodySpec {
            required: false,
            content_type: "text/plain",
            kind: BodyKind::Text,
        }),
    };

    static UPLOAD_BYTES: OperationSpec = OperationSpec {
        id: "uploadBytes",
        path: "/bytes",
        route: "/bytes",
        params: &[],
        body: Some(BodySpec {
            required: false,
            content_type: "application/octet-stream",
            kind: BodyKind::Binary,
        }),
    };

    fn get_request(uri: &str) -> Request {
        axum::http::Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("valid request")
    }

    fn post(uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request {
        let mut builder = axum::http::Request::builder().method("POST").uri(uri);
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        builder.body(body.into()).expect("valid request")
    }

    fn rejection(result: Result<Extracted, ApiError>) -> ApiError {
        match result {
            Ok(extracted) => panic!("expected an error, got {extracted:?}"),
            Err(error) => error,
        }
    }

    fn located(error: &ApiError) -> Vec<(Location, &str, &str)> {
        let violations = error.violations.iter();
        violations
            .map(|v| (v.location, v.pointer.as_str(), v.detail.as_str()))
            .collect()
    }

    async fn body_json(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        serde_json::from_slice(&bytes.expect("readable body")).expect("JSON body")
    }

    #[tokio::test]
    async fn query_parameters_are_coerced_to_their_schema() -> Result<(), ApiError> {
        let uri = "/search?limit=10&limit=99&active=true&id=1&id=2&tags=a,b&ratio=0.5";
        let mut extracted = extract(get_request(uri), &SEARCH).await?;
        // A repeated parameter that is not an array: the first one wins.
        assert_eq!(extracted.param::<i64>(Location::Query, "limit")?, 10);
        assert_eq!(
            extracted.param::<Option<bool>>(Location::Query, "active")?,
            Some(true)
        );
        assert_eq!(extracted.param::<Vec<i64>>(Location::Query, "id")?, [1, 2]);
        assert_eq!(
            extracted.param::<Vec<String>>(Location::Query, "tags")?,
            ["a", "b"]
        );
        assert_eq!(extracted.param::<f64>(Location::Query, "ratio")?, 0.5);
        Ok(())
    }

    #[tokio::test]
    async fn absent_optional_parameters_are_none() -> Result<(), ApiError> {
        let mut extracted = extract(get_request("/search?limit=1&tags="), &SEARCH).await?;
        assert_eq!(
            extracted.param::<Option<bool>>(Location::Query, "active")?,
            None
        );
        assert_eq!(
            extracted.param::<Option<Vec<i64>>>(Location::Query, "id")?,
            None
        );
        assert_eq!(
            extracted.param::<Vec<String>>(Location::Query, "tags")?,
            Vec::<String>::new()
        );
        assert_eq!(
            extracted.param::<Option<String>>(Location::Header, "X-Trace")?,
            None
        );
        Ok(())
    }

    #[tokio::test]
    async fn parameter_violations_are_reported_together() {
        let uri = "/search?active=yes&id=1&id=x&tags=a&ratio=NaN";
        let error = rejection(extract(get_request(uri), &SEARCH).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.detail, "the request is invalid (4 problems)");
        assert_eq!(
            located(&error),
            [
                (Location::Query, "/limit", "is required"),
                (Location::Query, "/active", "expected a boolean"),
                (Location::Query, "/id/1", "expected an integer"),
                (Location::Query, "/ratio", "expected a number"),
            ]
        );

        let error = rejection(extract(get_request("/search?limit=0"), &SEARCH).await);
        assert_eq!(
            located(&error),
            [(Location::Query, "/limit", "must be >= 1")]
        );
    }

    #[tokio::test]
    async fn headers_are_case_insensitive_and_cookies_are_split() -> Result<(), ApiError> {
        let request = axum::http::Request::builder()
            .uri("/search?limit=5")
            .header("x-trace", "abc")
            .header("Cookie", "theme=dark; session=\"s3cr3t\"")
            .body(Body::empty())
            .expect("valid request");
        let mut extracted = extract(request, &SEARCH).await?;
        assert_eq!(
            extracted.param::<String>(Location::Header, "X-Trace")?,
            "abc"
        );
        assert_eq!(
            extracted.param::<String>(Location::Cookie, "session")?,
            "s3cr3t"
        );
        Ok(())
    }

    #[tokio::test]
    async fn unknown_parameter_is_an_internal_error() -> Result<(), ApiError> {
        let mut extracted = extract(get_request("/search?limit=5"), &SEARCH).await?;
        let error = extracted.param::<String>(Location::Path, "limit").err();
        assert_eq!(
            error.map(|e| e.status),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        Ok(())
    }

    static GET_ITEM: OperationSpec = OperationSpec {
        id: "getItem",
        path: "/items/{item_id}",
        route: "/items/{item_id}",
        params: &[ParamSpec {
            name: "item_id",
            location: Location::Path,
            required: true,
            schema: &INTEGER,
            explode: false,
            deep_object: false,
        }],
        body: None,
    };

    async fn get_item(request: Request) -> Result<Response, ApiError> {
        let mut extracted = extract(request, &GET_ITEM).await?;
        let id: i64 = extracted.param(Location::Path, "item_id")?;
        Ok(json(
            StatusCode::OK,
            "application/json",
            &json!({ "id": id }),
        ))
    }

    fn router() -> Router {
        let item = get(get_item).fallback(method_not_allowed);
        Router::new()
            .route("/items/{item_id}", item)
            .fallback(not_found)
    }

    #[tokio::test]
    async fn fallbacks_answer_problems() {
        let response = router().oneshot(get_request("/nowhere")).await;
        assert_eq!(
            response.expect("infallible").status(),
            StatusCode::NOT_FOUND
        );
        let response = router()
            .oneshot(post("/items/1", None, Body::empty()))
            .await;
        assert_eq!(
            response.expect("infallible").status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[tokio::test]
    async fn path_parameters_come_from_the_router() {
        let app = router();

        let response = app.clone().oneshot(get_request("/items/%34%32")).await;
        let response = response.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_json(response).await, json!({"id": 42}));

        let response = app
            .oneshot(get_request("/items/abc"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(response).await;
        assert_eq!(
            body["errors"],
            json!([{"in": "path", "pointer": "/item_id", "detail": "expected an integer"}])
        );
    }

    static COMPARE: OperationSpec = OperationSpec {
        id: "compare",
        path: "/compare/{base}...{head}",
        route: "/compare/{base_head}",
        params: &[
            ParamSpec {
                name: "base",
                location: Location::Path,
                required: true,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
            ParamSpec {
                name: "head",
                location: Location::Path,
                required: true,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
        ],
        body: None,
    };

    async fn compare(request: Request) -> Result<Response, ApiError> {
        let mut extracted = extract(request, &COMPARE).await?;
        let base: String = extracted.param(Location::Path, "base")?;
        let head: String = extracted.param(Location::Path, "head")?;
        Ok(json(
            StatusCode::OK,
            "application/json",
            &json!([base, head]),
        ))
    }

    #[tokio::test]
    async fn a_segment_with_several_variables_is_taken_apart() {
        let app = Router::new().route("/compare/{base_head}", get(compare));

        let response = app
            .clone()
            .oneshot(get_request("/compare/main...feature%2Fa..b"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_json(response).await, json!(["main", "feature/a..b"]));

        // The route matches, the spec's path does not: as if no route did.
        let response = app
            .oneshot(get_request("/compare/main..feature"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    static RANGE: Schema = Schema::Object(Record {
        properties: &[
            Property::optional("gt", &INTEGER),
            Property::optional("lt", &INTEGER),
        ],
        additional: Additional::Deny,
    });
    static CREATED: Schema = Schema::AnyOf(&[&RANGE, &INTEGER]);
    static LIST: OperationSpec = OperationSpec {
        id: "list",
        path: "/items",
        route: "/items",
        params: &[ParamSpec {
            name: "created",
            location: Location::Query,
            required: false,
            schema: &CREATED,
            explode: true,
            deep_object: true,
        }],
        body: None,
    };

    #[tokio::test]
    async fn deep_object_parameters_gather_their_keys() -> Result<(), ApiError> {
        let mut extracted =
            extract(get_request("/items?created[gt]=3&created[lt]=9"), &LIST).await?;
        let created: Value = extracted.param(Location::Query, "created")?;
        assert_eq!(created, json!({"gt": 3, "lt": 9}));

        // The union's other member, written plainly.
        let mut extracted = extract(get_request("/items?created=5"), &LIST).await?;
        let created: Value = extracted.param(Location::Query, "created")?;
        assert_eq!(created, json!(5));

        let error = extract(get_request("/items?created[gt]=x"), &LIST)
            .await
            .expect_err("not an integer");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(!error.violations.is_empty());
        Ok(())
    }

    static SIGNUP: Schema = Schema::Object(Record {
        properties: &[
            Property::required("name", &STRING),
            Property::optional("age", &INTEGER),
            Property::optional("tags", &TAGS),
        ],
        additional: Additional::Deny,
    });
    static LINE: Schema = Schema::Object(Record {
        properties: &[Property::optional("qty", &INTEGER)],
        additional: Additional::Allow,
    });
    static LINES: Schema = Schema::Array(List {
        items: &LINE,
        ..List::ANY
    });
    static ITEMS: Schema = Schema::Object(Record {
        properties: &[Property::optional("items", &LINES)],
        additional: Additional::Allow,
    });
    static CLEARABLE: Schema = Schema::Object(Record {
        properties: &[Property::optional(
            "items",
            &Schema::AnyOf(&[&LINES, &STRING]),
        )],
        additional: Additional::Allow,
    });
    static FORM: OperationSpec = OperationSpec {
        id: "signUp",
        path: "/signups",
        route: "/signups",
        params: &[],
        body: Some(BodySpec {
            required: true,
            content_type: "application/x-www-form-urlencoded",
            kind: BodyKind::Form(&SIGNUP),
        }),
    };

    #[tokio::test]
    async fn form_bodies_are_read_as_their_schema_describes() -> Result<(), ApiError> {
        let form = "application/x-www-form-urlencoded";
        let request = post("/signups", Some(form), "name=Ada+L&age=36&tags=a&tags=b");
        let value: Value = extract(request, &FORM).await?.json()?;
        assert_eq!(
            value,
            json!({"name": "Ada L", "age": 36, "tags": ["a", "b"]})
        );

        // Nested keys: indexes into arrays, names into objects.
        let request = post("/signups", Some(form), "name=Ada&tags[0]=x&tags[1]=y");
        let value: Value = extract(request, &FORM).await?.json()?;
        assert_eq!(value["tags"], json!(["x", "y"]));
        let mut root = Value::Object(serde_json::Map::new());
        place(&mut root, &Schema::Any, &["meta", "k"], "v");
        place(&mut root, &ITEMS, &["items", "0", "qty"], "2");
        place(&mut root, &ITEMS, &["items", "99999999", "qty"], "3");
        assert_eq!(
            root,
            json!({"meta": {"k": "v"}, "items": [{"qty": 2}, {"qty": 3}]})
        );
        // A list that may also be cleared with "": the index picks the array.
        let mut root = Value::Object(serde_json::Map::new());
        place(&mut root, &CLEARABLE, &["items", "0", "qty"], "2");
        assert_eq!(root, json!({"items": [{"qty": 2}]}));

        let request = post("/signups", Some(form), "name=Ada&age=old");
        let error = extract(request, &FORM).await.expect_err("not an integer");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.violations[0].pointer, "/age");

        let request = post("/signups", Some("application/json"), r#"{"name": "Ada"}"#);
        let error = extract(request, &FORM).await.expect_err("not a form");
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        Ok(())
    }

    #[test]
    fn segments_split_at_the_first_place_the_rest_matches() {
        let split = |pattern: &'static str, value: &str| {
            let mut variables = Vec::new();
            split_segment(pattern, value, &mut variables).then_some(variables)
        };
        let pairs = |pairs: &[(&'static str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (*k, (*v).to_owned()))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(split("{id}", "42"), pairs(&[("id", "42")]));
        assert_eq!(split("{id}", ""), None);
        assert_eq!(
            split("{name}.json", "a.json.json"),
            pairs(&[("name", "a.json")])
        );
        assert_eq!(split("{name}.json", "a.xml"), None);
        assert_eq!(
            split("v{major}.{minor}", "v1.2.3"),
            pairs(&[("major", "1"), ("minor", "2.3")])
        );
        assert_eq!(
            split("{a}...{b}", "x...y...z"),
            pairs(&[("a", "x"), ("b", "y...z")])
        );
        assert_eq!(split("{a}...{b}", "...y"), None);
        assert_eq!(
            split("{a}..{b}..{c}", "x....y..z"),
            pairs(&[("a", "x"), ("b", "..y"), ("c", "z")])
        );
        assert_eq!(split("{a}{b}", "xy"), pairs(&[("a", "x"), ("b", "y")]));
        assert_eq!(split("{a}{b}", "x"), None);
        assert_eq!(split("é{a}é", "éüé"), pairs(&[("a", "ü")]));
        assert_eq!(split("plain", "plain"), pairs(&[]));
        assert_eq!(split("plain", "plainer"), None);
        assert_eq!(split("{open", "{open"), pairs(&[]));
    }

    #[test]
    fn splitting_a_segment_takes_steps_linear_in_its_length() {
        for length in [64 * 1024, 1024 * 1024] {
            let matching = "a".repeat(length) + "...b";
            // Near misses everywhere: what made the old backtracking quadratic.
            let near_misses = "a..".repeat(length / 3);
            let cases = [
                ("{id}", &matching),
                ("{a}...{b}", &matching),
                ("{a}...{b}", &near_misses),
                ("v{major}.{minor}", &near_misses),
                ("{name}.json", &near_misses),
                ("{a}..{b}..{c}", &near_misses),
            ];
            for (pattern, value) in cases {
                let mut steps = 0;
                split_counting(pattern, value, &mut Vec::new(), &mut steps);
                assert!(
                    steps <= 16 * value.len(),
                    "{pattern}: {steps} steps for {} bytes",
                    value.len()
                );
            }
        }
    }

    #[tokio::test]
    async fn json_body_is_validated_and_deserialized() -> Result<(), ApiError> {
        #[derive(serde::Deserialize)]
        struct Line {
            sku: String,
            quantity: u32,
        }
        let body = r#"{"sku": "AB", "quantity": 3}"#;
        let request = post("/lines", Some("application/json; charset=utf-8"), body);
        let line: Line = extract(request, &CREATE).await?.json()?;
        assert_eq!((line.sku.as_str(), line.quantity), ("AB", 3));

        let request = post("/lines", Some("application/vnd.api+json"), body);
        assert!(extract(request, &CREATE).await.is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn body_and_parameter_violations_share_one_answer() {
        let request = post(
            "/lines?dry_run=maybe",
            Some("application/json"),
            r#"{"sku": 1}"#,
        );
        let error = rejection(extract(request, &CREATE).await);
        assert_eq!(
            located(&error),
            [
                (Location::Query, "/dry_run", "expected a boolean"),
                (Location::Body, "/sku", "expected a string"),
                (Location::Body, "/quantity", "is required"),
            ]
        );
    }

    #[tokio::test]
    async fn missing_required_body_is_a_violation() {
        let error = rejection(extract(post("/lines", None, Body::empty()), &CREATE).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            located(&error),
            [(Location::Body, "", "a request body is required")]
        );
    }

    #[tokio::test]
    async fn json_body_needs_a_json_content_type() {
        let body = r#"{"sku": "AB", "quantity": 3}"#;
        let error = rejection(extract(post("/lines", None, body), &CREATE).await);
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            error.detail,
            "send the body with Content-Type: application/json"
        );

        let request = post("/lines", Some("text/plain"), body);
        let error = rejection(extract(request, &CREATE).await);
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[tokio::test]
    async fn malformed_json_is_a_bad_request() {
        let request = post("/lines", Some("application/json"), "{\"sku\": ");
        let error = rejection(extract(request, &CREATE).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(
            error.detail.starts_with("the body is not valid JSON: "),
            "{}",
            error.detail
        );
        assert!(error.violations.is_empty());
    }

    #[tokio::test]
    async fn too_large_body_is_refused() {
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        let error =
            rejection(extract(post("/lines", Some("application/json"), body), &CREATE).await);
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error.detail, "the request body is larger than 6 MiB");
    }

    #[tokio::test]
    async fn text_and_binary_bodies() -> Result<(), ApiError> {
        let request = post("/notes", Some("text/plain"), "héllo");
        assert_eq!(extract(request, &UPLOAD_TEXT).await?.text()?, "héllo");
        let request = post("/notes", None, Body::empty());
        assert_eq!(extract(request, &UPLOAD_TEXT).await?.text()?, "");
        let request = post("/notes", Some("text/plain"), vec![0xff, 0xfe]);
        let error = rejection(extract(request, &UPLOAD_TEXT).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);

        let request = post("/blobs", None, vec![0xff, 0x00]);
        let bytes = extract(request, &UPLOAD_BYTES).await?.bytes()?;
        assert_eq!(&bytes[..], [0xff, 0x00]);
        Ok(())
    }

    // --- hostile input -------------------------------------------------------------------------

    static ANY_LINES: Schema = Schema::Array(List {
        items: &ORDER_LINE,
        ..List::ANY
    });
    static BULK: OperationSpec = OperationSpec {
        id: "bulk",
        path: "/lines",
        route: "/lines",
        params: &[ParamSpec {
            name: "id",
            location: Location::Query,
            required: false,
            schema: &IDS,
            explode: true,
            deep_object: false,
        }],
        body: Some(BodySpec {
            required: true,
            content_type: "application/json",
            kind: BodyKind::Json(&ANY_LINES),
        }),
    };
    /// A dictionary of itself, to nest as deeply as serde_json allows.
    static TREE: Schema = Schema::Map(Dict {
        values: &TREE,
        ..Dict::ANY
    });
    static NESTED: OperationSpec = OperationSpec {
        body: Some(BodySpec {
            required: true,
            content_type: "application/json",
            kind: BodyKind::Json(&TREE),
        }),
        ..BULK
    };
    static LINE_FORM: OperationSpec = OperationSpec {
        body: Some(BodySpec {
            required: true,
            content_type: "application/x-www-form-urlencoded",
            kind: BodyKind::Form(&ORDER_LINE),
        }),
        ..BULK
    };

    /// `[{"quantity":"x","colour":0}, ...]`: three violations per item, as near 6 MiB as fits.
    fn bad_items() -> String {
        let item = r#"{"quantity":"x","colour":0},"#;
        let mut body = "[".to_owned() + &item.repeat((MAX_BODY_BYTES - 2) / item.len());
        body.pop();
        body + "]"
    }

    async fn answer_length(request: Request, spec: &'static OperationSpec) -> usize {
        let error = rejection(extract(request, spec).await);
        let response = error.into_response();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        body.expect("readable body").len()
    }

    #[test]
    fn violations_past_the_cap_are_counted_not_listed() {
        let items = vec![json!({"quantity": "x"}); 1000];
        let mut out = Violations::new();
        validate(
            &ANY_LINES,
            &Value::Array(items),
            Location::Body,
            &Pointer::Root,
            &mut out,
        );
        assert_eq!(out.len(), 2000);
        assert!(
            (50..=MAX_LISTED).contains(&out.listed.len()),
            "{}",
            out.listed.len()
        );
        assert_eq!(out.listed[0].pointer, "/0/sku");
        let listed = out.listed.len();
        let error = ApiError::invalid(out);
        assert_eq!(error.unlisted, 2000 - listed);
        assert_eq!(
            error.detail,
            format!("the request is invalid (2000 problems; the first {listed} are listed)")
        );
    }

    /// Either member reads the whole subtree before the first can fail on `extra`, so each
    /// level doubles the work.
    static NODE: Schema = Schema::AnyOf(&[&EXTRA_NODE, &PLAIN_NODE]);
    static EXTRA_NODE: Schema = Schema::Object(Record {
        properties: &[
            Property::optional("child", &NODE),
            Property::required("extra", &STRING),
        ],
        additional: Additional::Allow,
    });
    static PLAIN_NODE: Schema = Schema::Object(Record {
        properties: &[Property::optional("child", &NODE)],
        additional: Additional::Allow,
    });

    #[test]
    fn recursive_unions_are_checked_within_a_budget() {
        let nested = |depth: usize| {
            let text = r#"{"child":"#.repeat(depth) + "{}" + &"}".repeat(depth);
            serde_json::from_str::<Value>(&text).expect("JSON")
        };
        assert_valid(&NODE, nested(8));
        // 2^100 checks without a budget.
        let deep = nested(100);
        let mut out = Violations::new();
        out.afford(deep.to_string().len());
        validate(&NODE, &deep, Location::Body, &Pointer::Root, &mut out);
        assert!(out.exhausted);
        let found: Vec<_> = out.listed.iter().map(|v| v.detail.as_str()).collect();
        assert_eq!(found, [TOO_COSTLY]);
    }

    #[test]
    fn items_past_max_items_are_not_checked() {
        static FEW: Schema = Schema::Array(List {
            items: &INTEGER,
            max_items: Some(2),
            ..List::ANY
        });
        assert_invalid(&FEW, json!(["a", "b", "c"]), "must have at most 2 items");
        let many = Schema::Map(Dict {
            values: &INTEGER,
            max_properties: Some(1),
            ..Dict::ANY
        });
        assert_invalid(
            &many,
            json!({"a": "x", "b": "y"}),
            "must have at most 1 properties",
        );
    }

    #[test]
    fn echoed_input_is_cut_short() {
        let key = "k/".repeat(50_000) + "\u{1}";
        let mut line = json!({"sku": "A", "quantity": 1});
        line[key] = json!(1);
        let found = violations(&ORDER_LINE, line);
        let [(pointer, detail)] = &found[..] else {
            panic!("one violation: {found:?}");
        };
        assert!(pointer.starts_with("/k~1k~1"), "{pointer}");
        assert!(
            pointer.len() <= MAX_ECHOED + '…'.len_utf8(),
            "{}",
            pointer.len()
        );
        assert_eq!(detail, "is not allowed");

        let error = ApiError::bad_request("x".repeat(1_000_000));
        assert!(error.detail.len() <= MAX_DETAIL + '…'.len_utf8());
    }

    #[tokio::test]
    async fn no_request_gets_an_answer_larger_than_8_kib() {
        const LIMIT: usize = 8 * 1024;
        let json = Some("application/json");
        let length = answer_length(post("/lines", json, bad_items()), &BULK).await;
        assert!(length < LIMIT, "invalid items: {length} bytes");

        // Long keys with control characters, which JSON escapes to six bytes each.
        let key = "\\u0001".repeat(10_000);
        let fields: Vec<String> = (0..MAX_BODY_BYTES / (key.len() + 8))
            .map(|n| format!(r#""{n}{key}":0"#))
            .collect();
        let body = format!("[{{{}}}]", fields.join(","));
        let length = answer_length(post("/lines", json, body), &BULK).await;
        assert!(length < LIMIT, "long unknown keys: {length} bytes");

        // As deep as serde_json reads, every level a long key, and a string at the bottom.
        let level = format!(r#"{{"{}":"#, "k".repeat(10_000));
        let body = level.repeat(120) + r#""leaf""# + &"}".repeat(120);
        let length = answer_length(post("/lines", json, body), &NESTED).await;
        assert!(length < LIMIT, "deep nesting: {length} bytes");

        // A syntax error at the very end of a long document.
        let body = "[".to_owned() + &"1,".repeat(MAX_BODY_BYTES / 2 - 1);
        let length = answer_length(post("/lines", json, body), &BULK).await;
        assert!(length < LIMIT, "syntax error: {length} bytes");

        // A content type the operation does not read, as long as a header may be.
        let content_type = "text/".to_owned() + &"x".repeat(60_000);
        let request = post("/lines", Some(content_type.as_str()), "[]");
        let length = answer_length(request, &BULK).await;
        assert!(length < LIMIT, "content type: {length} bytes");

        // Thousands of bad query parameters.
        let uri = "/lines?".to_owned() + &"id=x&".repeat(12_000);
        let length = answer_length(post(&uri, json, "[]"), &BULK).await;
        assert!(length < LIMIT, "query: {length} bytes");

        // Form keys nesting far deeper than any schema: refused, not a stack overflow.
        let form = Some("application/x-www-form-urlencoded");
        let body = "sku".to_owned() + &"[x]".repeat(1_000_000) + "=1";
        let error = rejection(extract(post("/lines", form, body), &LINE_FORM).await);
        assert_eq!(error.violations[0].detail, "nests deeper than 32 levels");
        let body = "colour=1&".repeat(MAX_BODY_BYTES / 9) + &"a[b]=1&".repeat(1000);
        let length = answer_length(post("/lines", form, body), &LINE_FORM).await;
        assert!(length < LIMIT, "form: {length} bytes");
    }

    #[tokio::test]
    async fn typed_deserialization_errors_do_not_echo_the_input() {
        #[derive(Debug, serde::Deserialize)]
        struct Numbered {
            #[allow(dead_code)]
            sku: u32,
        }
        let sku = "A".repeat(1_000_000);
        let body = json!({"sku": sku, "quantity": 1}).to_string();
        let mut extracted =
            match extract(post("/lines", Some("application/json"), body), &CREATE).await {
                Ok(extracted) => extracted,
                Err(error) => panic!("valid line: {error}"),
            };
        let error = extracted
            .json::<Numbered>()
            .expect_err("a string is no u32");
        assert!(
            error.detail.len() <= MAX_DETAIL + '…'.len_utf8(),
            "{}",
            error.detail.len()
        );
    }

    #[tokio::test]
    async fn whole_numbers_in_bodies_and_parameters_read_as_integers() -> Result<(), ApiError> {
        #[derive(serde::Deserialize)]
        struct Line {
            quantity: i64,
        }
        let body = r#"{"sku": "AB", "quantity": 3.0}"#;
        let line: Line = extract(post("/lines", Some("application/json"), body), &CREATE)
            .await?
            .json()?;
        assert_eq!(line.quantity, 3);

        let mut extracted = extract(get_request("/search?limit=1e1&id=2.0"), &SEARCH).await?;
        assert_eq!(extracted.param::<i64>(Location::Query, "limit")?, 10);
        assert_eq!(extracted.param::<Vec<i64>>(Location::Query, "id")?, [2]);
        let error = rejection(extract(get_request("/search?limit=1.5"), &SEARCH).await);
        assert_eq!(
            located(&error),
            [(Location::Query, "/limit", "expected an integer")]
        );
        Ok(())
    }

    /// Counts this thread's heap, so a test can see the most it held at once.
    mod heap {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static LIVE: Cell<isize> = const { Cell::new(0) };
            static PEAK: Cell<isize> = const { Cell::new(0) };
        }

        pub struct Counting;

        // SAFETY: every call is passed on to the system allocator unchanged.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                track(layout.size() as isize);
                // SAFETY: the caller's guarantees are those `System.alloc` needs.
                unsafe { System.alloc(layout) }
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                track(-(layout.size() as isize));
                // SAFETY: `ptr` came from `System.alloc` with this layout.
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        fn track(change: isize) {
            // `try_with`: the allocator also runs while a thread's locals are torn down.
            let _ = LIVE.try_with(|live| {
                live.set(live.get() + change);
                let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
            });
        }

        /// The most this thread's heap grew above its size at the start, while `work` ran.
        pub async fn peak_growth<T>(work: impl std::future::Future<Output = T>) -> (T, usize) {
            let start = LIVE.with(Cell::get);
            PEAK.with(|peak| peak.set(start));
            let result = work.await;
            let peak = PEAK.with(Cell::get);
            (result, usize::try_from(peak - start).unwrap_or(0))
        }
    }

    #[global_allocator]
    static HEAP: heap::Counting = heap::Counting;

    #[tokio::test]
    async fn memory_for_a_rejected_body_is_bounded_by_its_size() {
        let body = bad_items();
        let size = body.len();
        let value: Value = serde_json::from_str(&body).expect("JSON");
        // Validation and the answer: a small fixed amount, whatever the number of violations
        // (it was over a gigabyte for this body before they were capped).
        let (length, grew) = heap::peak_growth(async {
            let mut out = Violations::new();
            validate(&ANY_LINES, &value, Location::Body, &Pointer::Root, &mut out);
            let response = ApiError::invalid(out).into_response();
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .map(|b| b.len())
        })
        .await;
        assert!(length.is_ok());
        assert!(grew < 64 * 1024, "validation took {grew} bytes");
        drop(value);

        // The whole request, reading and parsing included: serde_json's `Value` for small
        // objects is the bulk of it.
        let request = post("/lines", Some("application/json"), body);
        let (error, grew) = heap::peak_growth(extract(request, &BULK)).await;
        assert_eq!(
            error.map(|_| ()).map_err(|e| e.status),
            Err(StatusCode::BAD_REQUEST)
        );
        assert!(grew < 40 * size, "{grew} bytes for a body of {size}");
    }

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

    // --- responses -----------------------------------------------------------------------------

    #[tokio::test]
    async fn problems_are_rfc_9457_documents() {
        let error = ApiError::invalid(vec![Violation {
            location: Location::Query,
            pointer: "/limit".to_owned(),
            detail: "is required".to_owned(),
        }]);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            body_json(response).await,
            json!({
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "the request is invalid (1 problem)",
                "errors": [{"in": "query", "pointer": "/limit", "detail": "is required"}],
            })
        );

        let body = body_json(not_found().await.into_response()).await;
        assert_eq!(
            body,
            json!({
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "no route for this path",
            })
        );
    }

    #[test]
    fn shorthand_errors() {
        let cases = [
            (ApiError::bad_request("x"), 400),
            (ApiError::conflict("x"), 409),
            (ApiError::precondition_failed("x"), 412),
            (ApiError::not_found("x"), 404),
        ];
        for (error, status) in cases {
            assert_eq!(error.status.as_u16(), status);
        }
        let error = ApiError::not_implemented("listOrders");
        assert_eq!(error.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(
            error.to_string(),
            "501 Not Implemented: operation `listOrders` is not implemented yet: \
             write it in src/handlers.rs"
        );
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let error = ApiError::internal("dynamodb table orders-prod is missing");
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.detail.contains("orders-prod"));
        let response = method_not_allowed().await.into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn json_raw_and_empty_responses() {
        let response = json(StatusCode::CREATED, "application/json", &json!({"a": 1}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body_json(response).await, json!({"a": 1}));

        let response = raw(StatusCode::OK, "text/plain; charset=utf-8", "hi");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );

        let response = empty(StatusCode::NO_CONTENT);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.headers().get(CONTENT_TYPE).is_none());
    }

    #[test]
    fn with_header_drops_invalid_values() {
        let response = with_header(empty(StatusCode::OK), "ETag", "\"v1\"");
        let response = with_header(response, "X-Bad", "line\nbreak");
        assert_eq!(response.headers()["etag"], "\"v1\"");
        assert!(response.headers().get("x-bad").is_none());
    }

    // --- request context -----------------------------------------------------------------------

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
        assert!(context.lambda.is_none());
        assert!(context_of(get_request("/")).await.request_id.is_none());
    }

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
