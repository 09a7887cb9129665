//! `src/generated/schemas.rs`: the spec's constraints as static tables that
//! `http::validate` walks, so that every violation in a request is reported
//! at once, with its JSON pointer, before any handler runs.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::rust::{float, int_bounds, lit};
use crate::model::names::{const_name, Scope};
use crate::model::{Additional, Api, Rules, Shape, StrFormat, Ty, TypeId, TypeKind};

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
            Ty::Integer(f) => {
                let (lo, hi) = int_bounds(*f);
                let mut rules = r.clone();
                rules.minimum = Some(r.minimum.map_or(lo, |m| m.max(lo)));
                rules.maximum = Some(r.maximum.map_or(hi, |m| m.min(hi)));
                format!("Schema::Integer({})", numeric(&rules))
            }
            Ty::Number(_) => format!("Schema::Number({})", numeric(r)),
            Ty::String(f) => format!("Schema::String({})", text(r, f, &[], patterns)),
            Ty::Array(items) => format!(
                "Schema::Array(List {{ items: {}, min_items: {}, max_items: {}, unique_items: {} }})",
                self.reference(api, items, patterns),
                opt(r.min_items),
                opt(r.max_items),
                r.unique_items
            ),
            Ty::Map(values) => format!(
                "Schema::Map(Dict {{ values: {}, min_properties: {}, max_properties: {} }})",
                self.reference(api, values, patterns),
                opt(r.min_properties),
                opt(r.max_properties)
            ),
            Ty::Ref(_) => unreachable!("references are handled by `reference`"),
        }
    }

    fn definition(&self, api: &Api, id: TypeId, patterns: &mut Patterns) -> String {
        let def = api.types.get(id);
        match &def.kind {
            TypeKind::Struct(s) => {
                let mut props = String::new();
                for f in &s.fields {
                    let _ = writeln!(
                        props,
                        "Property {{ name: {}, schema: {}, required: {}, read_only: {}, write_only: {} }},",
                        lit(&f.name),
                        self.reference(api, &f.shape, patterns),
                        f.required,
                        f.read_only,
                        f.write_only
                    );
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
                    let allowed: Vec<String> = e
                        .values
                        .iter()
                        .map(|v| float(v.value.as_f64().unwrap_or_default()))
                        .collect();
                    let mut n = numeric(&Rules::default());
                    n = n.replace(
                        "allowed: &[]",
                        &format!("allowed: &[{}]", allowed.join(", ")),
                    );
                    format!("Schema::Integer({n})")
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

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    match v {
        Some(v) => format!("Some({v})"),
        None => "None".into(),
    }
}

fn numeric(r: &Rules) -> String {
    let allowed: Vec<String> = r
        .enumeration
        .iter()
        .filter_map(|v| v.as_f64())
        .map(float)
        .collect();
    format!(
        "Numeric {{ minimum: {}, maximum: {}, exclusive_minimum: {}, exclusive_maximum: {}, multiple_of: {}, allowed: &[{}] }}",
        opt(r.minimum.map(float)),
        opt(r.maximum.map(float)),
        r.exclusive_minimum,
        r.exclusive_maximum,
        opt(r.multiple_of.map(float)),
        allowed.join(", ")
    )
}

fn text(r: &Rules, f: &StrFormat, allowed: &[String], patterns: &mut Patterns) -> String {
    let format = match f {
        StrFormat::DateTime => "DateTime",
        StrFormat::Date => "Date",
        StrFormat::Uuid => "Uuid",
        StrFormat::Email => "Email",
        StrFormat::Uri => "Uri",
        StrFormat::Byte => "Byte",
        StrFormat::Ipv4 => "Ipv4",
        StrFormat::Ipv6 => "Ipv6",
        StrFormat::Plain | StrFormat::Binary | StrFormat::Other(_) => "None",
    };
    let pattern = match &r.pattern {
        Some(p) => format!("Some(&{})", patterns.name(p)),
        None => "None".into(),
    };
    format!(
        "Text {{ min_length: {}, max_length: {}, pattern: {pattern}, format: Format::{format}, allowed: &[{}] }}",
        opt(r.min_length),
        opt(r.max_length),
        allowed.join(", ")
    )
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
