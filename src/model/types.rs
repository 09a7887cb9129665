//! The type IR: every schema the API uses, as Rust will see it.
//!
//! A [`Shape`] is one use of a schema (a field's type, a parameter's type)
//! with the constraints that hold at that use. Objects, enums and unions
//! become named [`TypeDef`]s that shapes refer to by [`TypeId`].

use serde_json::Value;

/// Index of a [`TypeDef`] in [`TypeSpace::defs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub usize);

#[derive(Debug, Default, Clone)]
pub struct TypeSpace {
    pub defs: Vec<TypeDef>,
}

impl TypeSpace {
    pub fn get(&self, id: TypeId) -> &TypeDef {
        &self.defs[id.0]
    }

    pub fn get_mut(&mut self, id: TypeId) -> &mut TypeDef {
        &mut self.defs[id.0]
    }

    pub fn ids(&self) -> impl Iterator<Item = TypeId> {
        (0..self.defs.len()).map(TypeId)
    }

    /// The struct behind a shape, following aliases.
    pub fn struct_of(&self, shape: &Shape) -> Option<(TypeId, &StructDef)> {
        match &shape.ty {
            Ty::Ref(id) => match &self.get(*id).kind {
                TypeKind::Struct(s) => Some((*id, s)),
                TypeKind::Alias(inner) => self.struct_of(inner),
                _ => None,
            },
            _ => None,
        }
    }

    /// Follows aliases to the shape that says what a value is.
    pub fn resolve<'a>(&'a self, shape: &'a Shape) -> &'a Shape {
        match &shape.ty {
            Ty::Ref(id) => match &self.get(*id).kind {
                TypeKind::Alias(inner) => self.resolve(inner),
                _ => shape,
            },
            _ => shape,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Rust type name, unique in the generated models module.
    pub name: String,
    pub doc: Option<String>,
    pub kind: TypeKind,
    /// Where the schema is in the spec.
    pub pointer: String,
    pub example: Option<Value>,
    /// A request-side twin without readOnly fields, when one was needed.
    pub input: Option<TypeId>,
    /// The type this one is the request-side twin of.
    pub input_of: Option<TypeId>,
    /// An alias that contains itself (`Tree: {type: array, items: {$ref: Tree}}`):
    /// Rust has no recursive type aliases, so it is a transparent newtype instead.
    pub newtype: bool,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Struct(StructDef),
    Enum(EnumDef),
    Union(UnionDef),
    /// A named schema that is not an object, enum or union
    /// (`Id: {type: string, format: uuid}`).
    Alias(Shape),
}

#[derive(Debug, Clone, Default)]
pub struct StructDef {
    pub fields: Vec<Field>,
    pub additional: Additional,
}

/// What an object does with properties it does not declare.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Additional {
    /// Accepted and dropped (OpenAPI's default).
    #[default]
    Allow,
    /// `additionalProperties: false`: rejected by validation.
    Deny,
    /// `additionalProperties: {schema}`: kept in a map beside the fields.
    Typed(Box<Shape>),
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The property name on the wire.
    pub name: String,
    /// The Rust field name (may be a raw identifier).
    pub ident: String,
    pub shape: Shape,
    pub required: bool,
    pub read_only: bool,
    pub write_only: bool,
    pub doc: Option<String>,
    /// Boxed to break a cycle of types that contain each other.
    pub boxed: bool,
}

impl Field {
    /// Absent is allowed on the wire (as opposed to null).
    pub fn optional(&self) -> bool {
        !self.required
    }
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub values: Vec<EnumValue>,
}

impl EnumDef {
    pub fn is_integer(&self) -> bool {
        self.values.iter().all(|v| v.value.is_i64())
    }
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub ident: String,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub struct UnionDef {
    pub variants: Vec<UnionVariant>,
    /// oneOf (exactly one matches) rather than anyOf (at least one).
    pub exclusive: bool,
    pub discriminator: Option<Discriminator>,
}

#[derive(Debug, Clone)]
pub struct UnionVariant {
    pub ident: String,
    pub shape: Shape,
}

#[derive(Debug, Clone)]
pub struct Discriminator {
    pub property: String,
    /// Tag value for each variant, in variant order.
    pub values: Vec<String>,
}

/// One use of a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub ty: Ty,
    /// `null` is a valid value (as opposed to absent).
    pub nullable: bool,
    pub rules: Rules,
}

impl Shape {
    pub fn new(ty: Ty) -> Self {
        Self {
            ty,
            nullable: false,
            rules: Rules::default(),
        }
    }

    pub fn any() -> Self {
        Self::new(Ty::Any)
    }

    pub fn string() -> Self {
        Self::new(Ty::String(StrFormat::Plain))
    }

    pub fn is_ref_to(&self, id: TypeId) -> bool {
        self.ty == Ty::Ref(id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Any JSON value (an empty schema).
    Any,
    Bool,
    Integer(IntFormat),
    Number(NumFormat),
    String(StrFormat),
    Array(Box<Shape>),
    /// An object used as a dictionary.
    Map(Box<Shape>),
    Ref(TypeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntFormat {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl IntFormat {
    pub fn from_format(format: Option<&str>) -> Self {
        match format {
            Some("int8") => Self::I8,
            Some("int16") => Self::I16,
            Some("int32") => Self::I32,
            Some("uint8") => Self::U8,
            Some("uint16") => Self::U16,
            Some("uint32") => Self::U32,
            Some("uint64") => Self::U64,
            _ => Self::I64,
        }
    }

    /// Whether the Rust type holds `n`.
    pub fn holds(self, n: i128) -> bool {
        let (min, max) = match self {
            Self::I8 => (i8::MIN.into(), i8::MAX.into()),
            Self::I16 => (i16::MIN.into(), i16::MAX.into()),
            Self::I32 => (i32::MIN.into(), i32::MAX.into()),
            Self::I64 => (i64::MIN.into(), i64::MAX.into()),
            Self::U8 => (0, u8::MAX.into()),
            Self::U16 => (0, u16::MAX.into()),
            Self::U32 => (0, u32::MAX.into()),
            Self::U64 => (0, u64::MAX.into()),
        };
        (min..=max).contains(&n)
    }

    pub fn rust(self) -> &'static str {
        match self {
            Self::I8 => "i8",
            Self::I16 => "i16",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::U8 => "u8",
            Self::U16 => "u16",
            Self::U32 => "u32",
            Self::U64 => "u64",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumFormat {
    F32,
    F64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrFormat {
    Plain,
    DateTime,
    Date,
    Uuid,
    Email,
    Uri,
    /// base64 text in JSON.
    Byte,
    Binary,
    Ipv4,
    Ipv6,
    /// A format apigen does not check; kept for documentation.
    Other(String),
}

impl StrFormat {
    pub fn from_format(format: Option<&str>) -> Self {
        match format {
            None | Some("") => Self::Plain,
            Some("date-time") => Self::DateTime,
            Some("date") => Self::Date,
            Some("uuid") => Self::Uuid,
            Some("email") => Self::Email,
            Some("uri") | Some("url") => Self::Uri,
            Some("byte") => Self::Byte,
            Some("binary") => Self::Binary,
            Some("ipv4") => Self::Ipv4,
            Some("ipv6") => Self::Ipv6,
            Some(other) => Self::Other(other.to_string()),
        }
    }
}

/// Constraints that hold at one use of a schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub multiple_of: Option<f64>,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    pub unique_items: bool,
    pub min_properties: Option<usize>,
    pub max_properties: Option<usize>,
    /// Allowed values of a primitive that is not an enum type (a number
    /// enum, say).
    pub enumeration: Vec<Value>,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        *self == Rules::default()
    }
}
