//! `src/generated/schemas.rs`: the spec's constraints as static tables that
//! `http::validate` walks, so that every violation in a request is reported
//! at once, with its JSON pointer, before any handler runs.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::rust::{float, int_bounds, lit};
use crate::model::names::{const_name, Scope};
use crate::model::{Additional, Api, IntFormat, Rules, Shape, StrFormat, Ty, TypeId, TypeKind};

/// Names of the statics, shared with the emitters that refer to them.
pub struct SchemaNames {
    by_type: BTreeMap<TypeId, String>,
}

impl SchemaNames {
    pub fn new(api: &Api) -> Self {
        let mut scope = Scope::default();
        let by_type = api
            .types
            .ids()
            .filter(|id| api.types.get(*id).input_of.is_none())
            .map(|id| (id, scope.claim(const_name(&api.types.get(id).name))))
            .collect();
        Self { by_type }
    }

    /// An expression of type `&'static Schema` for a shape, to be used
    /// inside `crate::generated::schemas`.
    pub fn reference(&self, api: &Api, shape: &Shape, patterns: &mut Patterns) -> String {
        let inner = match &shape.ty {
            Ty::Ref(id) => {
                let id = api.types.get(*id).input_of.unwrap_or(*id);
                format!("&{}", self.by_type[&id])
            }
            _ => format!("&{}", self.value(api, shape, patterns)),
        };
        if shape.nullable {
            format!("&Schema::Nullable({inner})")
        } else {
            inner
        }
    }

    /// An expression of type `Schema` for a non-reference shape.
    fn value(&self, api: &Api, shape: &Shape, patterns: &mut Patterns) -> String {
        let r = &shape.rules;
        match &shape.ty {
            Ty::Any => "Schema::Any".into(),
            Ty::Bool => "Schema::Boolean".into(),
            Ty::Integer(f)
                if *r == Rules::default() && matches!(f, IntFormat::I32 | IntFormat::I64) =>
            {
                format!(
                    "Schema::{}",
                    if *f == IntFormat::I32 {
                        "INT32"
                    } else {
                        "INT64"
                    }
                )
            }
            Ty::String(StrFormat::Plain) if *r == Rules::default() => "Schema::STRING".into(),
            Ty::Integer(f) => {
                let (lo, hi) = int_bounds(*f);
                let mut rules = r.clone();
                rules.minimum = Some(r.minimum.map_or(lo, |m| m.max(lo)));
                rules.maximum = Some(r.maximum.map_or(hi, |m| m.min(hi)));
                format!("Schema::Integer({})", numeric(&rules))
            }
            Ty::Number(_) => format!("Schema::Number({})", numeric(r)),
            Ty::String(f) => format!("Schema::String({})", text(r, f, &[], patterns)),
            Ty::Array(items) => {
                let mut fields = vec![format!("items: {}", self.reference(api, items, patterns))];
                set(&mut fields, "min_items", r.min_items);
                set(&mut fields, "max_items", r.max_items);
                if r.unique_items {
                    fields.push("unique_items: true".into());
                }
                format!("Schema::Array({})", update("List", "ANY", &fields, 4))
            }
            Ty::Map(values) => {
                let mut fields = vec![format!("values: {}", self.reference(api, values, patterns))];
                set(&mut fields, "min_properties", r.min_properties);
                set(&mut fields, "max_properties", r.max_properties);
                format!("Schema::Map({})", update("Dict", "ANY", &fields, 3))
            }
            Ty::Ref(_) => unreachable!("references are handled by `reference`"),
        }
    }

    fn definition(&self, api: &Api, id: TypeId, patterns: &mut Patterns) -> String {
        let def = api.types.get(id);
        match &def.kind {
            TypeKind::Struct(s) => {
                let mut props = String::new();
                for f in &s.fields {
                    let _ = write!(
                        props,
                        "Property::{}({}, {})",
                        if f.required { "required" } else { "optional" },
                        lit(&f.name),
                        self.reference(api, &f.shape, patterns),
                    );
                    if f.read_only {
                        props.push_str(".read_only()");
                    }
                    if f.write_only {
                        props.push_str(".write_only()");
                    }
                    props.push_str(",\n");
                }
                let additional = match &s.additional {
                    Additional::Allow => "Additional::Allow".to_string(),
                    Additional::Deny => "Additional::Deny".to_string(),
                    Additional::Typed(shape) => format!(
                        "Additional::Schema({})",
                        self.reference(api, shape, patterns)
                    ),
                };
                format!("Schema::Object(Record {{ properties: &[\n{props}], additional: {additional} }})")
            }
            TypeKind::Enum(e) => {
                if e.is_integer() {
                    let rules = Rules {
                        enumeration: e.values.iter().map(|v| v.value.clone()).collect(),
                        ..Rules::default()
                    };
                    format!("Schema::Integer({})", numeric(&rules))
                } else {
                    let allowed: Vec<String> = e
                        .values
                        .iter()
                        .map(|v| lit(v.value.as_str().unwrap_or_default()))
                        .collect();
                    format!(
                        "Schema::String({})",
                        text(&Rules::default(), &StrFormat::Plain, &allowed, patterns)
                    )
                }
            }
            TypeKind::Union(u) => {
                let members: Vec<String> = u
                    .variants
                    .iter()
                    .map(|v| self.reference(api, &v.shape, patterns))
                    .collect();
                let kind = if u.exclusive { "OneOf" } else { "AnyOf" };
                format!("Schema::{kind}(&[{}])", members.join(", "))
            }
            TypeKind::Alias(shape) => match &shape.ty {
                Ty::Ref(_) => format!("Schema::AllOf(&[{}])", self.reference(api, shape, patterns)),
                _ if shape.nullable => {
                    format!("Schema::Nullable(&{})", self.value(api, shape, patterns))
                }
                _ => self.value(api, shape, patterns),
            },
        }
    }
}

/// Regular expressions, one lazily compiled static each.
#[derive(Default)]
pub struct Patterns {
    sources: Vec<String>,
}

impl Patterns {
    fn name(&mut self, source: &str) -> String {
        let index = match self.sources.iter().position(|s| s == source) {
            Some(i) => i,
            None => {
                self.sources.push(source.to_string());
                self.sources.len() - 1
            }
        };
        format!("PATTERN_{index}")
    }
}

/// `Name { a, b, ..Name::BASE }`, or `Name::BASE` when every field is the base's: the tables
/// stay short enough to read, and to compile quickly.
/// `all` is how many fields the struct has.
fn update(name: &str, base: &str, fields: &[String], all: usize) -> String {
    if fields.is_empty() {
        format!("{name}::{base}")
    } else if fields.len() == all {
        // clippy's `needless_update`: nothing is left to take from the base.
        format!("{name} {{ {} }}", fields.join(", "))
    } else {
        format!("{name} {{ {}, ..{name}::{base} }}", fields.join(", "))
    }
}

fn set<T: std::fmt::Display>(fields: &mut Vec<String>, name: &str, value: Option<T>) {
    if let Some(value) = value {
        fields.push(format!("{name}: Some({value})"));
    }
}

fn numeric(r: &Rules) -> String {
    let mut fields = Vec::new();
    set(&mut fields, "minimum", r.minimum.map(float));
    set(&mut fields, "maximum", r.maximum.map(float));
    if r.exclusive_minimum {
        fields.push("exclusive_minimum: true".into());
    }
    if r.exclusive_maximum {
        fields.push("exclusive_maximum: true".into());
    }
    set(&mut fields, "multiple_of", r.multiple_of.map(float));
    let allowed: Vec<String> = r
        .enumeration
        .iter()
        .filter_map(|v| v.as_f64())
        .map(float)
        .collect();
    if !allowed.is_empty() {
        fields.push(format!("allowed: &[{}]", allowed.join(", ")));
    }
    update("Numeric", "ANY", &fields, 6)
}

fn text(r: &Rules, f: &StrFormat, allowed: &[String], patterns: &mut Patterns) -> String {
    let format = match f {
        StrFormat::DateTime => Some("DateTime"),
        StrFormat::Date => Some("Date"),
        StrFormat::Uuid => Some("Uuid"),
        StrFormat::Email => Some("Email"),
        StrFormat::Uri => Some("Uri"),
        StrFormat::Byte => Some("Byte"),
        StrFormat::Ipv4 => Some("Ipv4"),
        StrFormat::Ipv6 => Some("Ipv6"),
        StrFormat::Plain | StrFormat::Binary | StrFormat::Other(_) => None,
    };
    let mut fields = Vec::new();
    set(&mut fields, "min_length", r.min_length);
    set(&mut fields, "max_length", r.max_length);
    if let Some(p) = &r.pattern {
        fields.push(format!("pattern: Some(&{})", patterns.name(p)));
    }
    if let Some(format) = format {
        fields.push(format!("format: Format::{format}"));
    }
    if !allowed.is_empty() {
        fields.push(format!("allowed: &[{}]", allowed.join(", ")));
    }
    update("Text", "PLAIN", &fields, 5)
}

/// The module: one static per named type, plus the patterns they use.
pub fn emit(api: &Api, names: &SchemaNames, extra: &str, patterns: &mut Patterns) -> String {
    let mut body = String::new();
    for (id, name) in &names.by_type {
        let def = api.types.get(*id);
        let _ = writeln!(body, "/// Constraints of [`{}`].", def.name);
        let _ = writeln!(
            body,
            "pub static {name}: Schema = {};\n",
            names.definition(api, *id, patterns)
        );
    }
    let mut out = String::from(
        "//! Validation tables: the spec's constraints on every schema, checked before any handler runs.\n\n\
         #[allow(unused_imports)]\nuse super::http::{Additional, Dict, Format, List, Numeric, Property, Record, Schema, Text};\n",
    );
    if !patterns.sources.is_empty() {
        out.push_str("use regex::Regex;\nuse std::sync::LazyLock;\n\n");
    }
    for (i, source) in patterns.sources.iter().enumerate() {
        let _ = writeln!(
            out,
            "static PATTERN_{i}: LazyLock<Regex> = LazyLock::new(|| Regex::new({}).expect(\"apigen compiled this pattern\"));",
            lit(source)
        );
    }
    out.push('\n');
    out.push_str(&body);
    out.push_str(extra);
    out
}
