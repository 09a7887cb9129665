//! Operations: every method on every path, with typed parameters, bodies
//! and responses. `super::paths` reads them from the spec.

use super::actions::BoundAction;
use super::security::OpSecurity;
use super::types::{Shape, Ty};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    pub fn lower(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Put => "put",
            Self::Post => "post",
            Self::Delete => "delete",
            Self::Options => "options",
            Self::Head => "head",
            Self::Patch => "patch",
            Self::Trace => "trace",
        }
    }

    pub fn upper(self) -> String {
        self.lower().to_uppercase()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParamIn {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ident: String,
    pub location: ParamIn,
    pub required: bool,
    pub shape: Shape,
    pub doc: Option<String>,
    /// Arrays as repeated keys (`?tag=a&tag=b`) rather than `?tag=a,b`.
    pub explode: bool,
    /// An object as `?filter[name]=x&filter[age]=3` (`style: deepObject`).
    pub deep_object: bool,
    /// The schema's `default`, used when the parameter is absent.
    pub default: Option<serde_json::Value>,
    /// Where the parameter is written, after following a `$ref`.
    pub pointer: String,
}

/// How a body is carried.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a handful per operation
pub enum Media {
    Json(Shape),
    /// `application/x-www-form-urlencoded` request bodies: fields arrive as text and are
    /// converted by the object's property schemas, then read like JSON.
    Form(Shape),
    Text,
    Binary,
}

impl Media {
    /// The schema of a body read into a generated type.
    pub fn typed(&self) -> Option<&Shape> {
        match self {
            Media::Json(shape) | Media::Form(shape) => Some(shape),
            Media::Text | Media::Binary => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Body {
    pub required: bool,
    pub content_type: String,
    pub media: Media,
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Code(u16),
    /// `2XX`: the first digit.
    Range(u16),
    Default,
}

impl Status {
    pub fn is_success(self) -> bool {
        match self {
            Status::Code(c) => (200..400).contains(&c),
            Status::Range(r) => r == 2 || r == 3,
            Status::Default => false,
        }
    }

    pub fn code(self) -> Option<u16> {
        match self {
            Status::Code(c) => Some(c),
            Status::Range(r) => Some(r * 100),
            Status::Default => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResponseHeader {
    pub name: String,
    pub ident: String,
    pub required: bool,
    pub shape: Shape,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: Status,
    /// Variant name in the operation's response enum.
    pub variant: String,
    pub doc: Option<String>,
    pub content_type: Option<String>,
    pub media: Option<Media>,
    pub headers: Vec<ResponseHeader>,
    /// An error the generated `ApiError` renders (problem+json), rather than
    /// a variant of the response enum.
    pub problem: bool,
}

impl Response {
    pub fn json(&self) -> Option<&Shape> {
        match &self.media {
            Some(Media::Json(s)) => Some(s),
            _ => None,
        }
    }

    pub fn header(&self, name: &str) -> Option<&ResponseHeader> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId`, or one made from the method and path.
    pub id: String,
    /// Rust function name.
    pub ident: String,
    /// Prefix of the operation's Rust type names.
    pub type_name: String,
    pub method: Method,
    pub path: String,
    /// The router pattern serving `path`; see [`super::routes`].
    pub route: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// The spec's tags; the first groups the operation's function under `functions: perTag`.
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub responses: Vec<Response>,
    pub action: Option<BoundAction>,
    /// Who may call it.
    pub security: OpSecurity,
    /// Why the operation has the action it has (or none), for `apigen check`.
    pub reason: String,
    pub pointer: String,
    /// The raw `x-apigen-action`, when present.
    pub hint: Option<serde_json::Value>,
}

impl Operation {
    pub fn param(&self, name: &str, location: ParamIn) -> Option<usize> {
        self.params
            .iter()
            .position(|p| p.name == name && p.location == location)
    }

    pub fn success(&self) -> impl Iterator<Item = &Response> {
        self.responses.iter().filter(|r| r.status.is_success())
    }

    pub fn doc(&self) -> Option<String> {
        match (&self.summary, &self.description) {
            (Some(s), Some(d)) if s.trim() != d.trim() => {
                Some(format!("{}\n\n{}", s.trim(), d.trim()))
            }
            (Some(s), _) => Some(s.trim().to_string()),
            (None, Some(d)) => Some(d.trim().to_string()),
            (None, None) => None,
        }
    }
}

/// Whether a JSON shape is a plain array of something.
pub fn is_array(shape: &Shape) -> bool {
    matches!(shape.ty, Ty::Array(_))
}
