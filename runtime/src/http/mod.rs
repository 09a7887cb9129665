//! HTTP plumbing shared by every operation: reading and validating requests, and problem
//! responses.
//!
//! - `problem`: errors answered as RFC 9457 problem documents,
//! - `schema` and `format`: the validation tables apigen writes from the OpenAPI document,
//! - `validate` and `violations`: checking a value against them within fixed bounds of work
//!   and answer size,
//! - `spec`: the tables describing an operation's parameters and body,
//! - `extract`: reading a request as its operation's spec says, with `path` (matching path
//!   segments), `body` (reading bodies within memory bounds), `form` (form bodies) and
//!   `coerce` (text into the JSON its schema expects),
//! - `respond`: building responses,
//! - `context`: who is calling.

mod body;
mod coerce;
pub(crate) mod context;
mod cors;
mod extract;
#[cfg(test)]
mod fixtures;
mod form;
mod format;
mod path;
mod problem;
mod respond;
mod schema;
mod spec;
mod validate;
mod violations;

pub use body::MAX_BODY_BYTES;
pub use context::RequestContext;
pub use cors::Cors;
pub use extract::{extract, Extracted};
pub use format::Format;
pub use path::path_matches;
pub use problem::{ApiError, Location, Violation};
pub use respond::{empty, json, method_not_allowed, not_found, raw, router, with_header};
pub use schema::{Additional, Dict, List, Numeric, Property, Record, Schema, Text};
pub use spec::{BodyKind, BodySpec, OperationSpec, ParamSpec};
pub use validate::problems;
pub use validate::validate;
#[cfg(feature = "websocket")]
pub(crate) use validate::whole_numbers_as_integers;
pub use violations::{Pointer, Violations};
