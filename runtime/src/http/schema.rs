//! The validation tables apigen writes from the OpenAPI document.

use std::sync::LazyLock;

use regex::Regex;

use super::format::Format;

/// The shape a JSON value must have, as a `static` table emitted by apigen from the OpenAPI
/// document; checking against tables keeps the generated code small and this crate the only
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
