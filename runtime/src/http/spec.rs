//! The tables apigen writes for each operation: its parameters and its body.

use super::problem::Location;
use super::schema::Schema;

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

/// Everything [`extract`](super::extract) needs to know about one operation; emitted by apigen as a `static`.
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
