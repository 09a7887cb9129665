//! `src/generated/schemas.rs`: the spec's constraints as static tables that
//! `http::validate` walks, so that every violation in a request is reported
//! at once, with its JSON pointer, before any handler runs.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rust::{float_tokens, ident, inner_docs, int_bounds, number, runtime};
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

    /// The static of a named type's schema (`ORDER`).
    pub fn of(&self, id: TypeId) -> Option<&str> {
        self.by_type.get(&id).map(String::as_str)
    }

    /// An expression of type `&'static Schema` for a shape, to be used
    /// inside `crate::generated::schemas`.
    pub fn reference(&self, api: &Api, shape: &Shape, patterns: &mut Patterns) -> TokenStream {
        let inner = match &shape.ty {
            Ty::Ref(id) => {
                let id = api.types.get(*id).input_of.unwrap_or(*id);
                let name = ident(&self.by_type[&id]);
                quote! { &#name }
            }
            _ => {
                let value = self.value(api, shape, patterns);
                quote! { &#value }
            }
        };
        if shape.nullable {
            quote! { &Schema::Nullable(#inner) }
        } else {
            inner
        }
    }

    /// An expression of type `Schema` for a non-reference shape.
    fn value(&self, api: &Api, shape: &Shape, patterns: &mut Patterns) -> TokenStream {
        let r = &shape.rules;
        match &shape.ty {
            Ty::Any => quote! { Schema::Any },
            Ty::Bool => quote! { Schema::Boolean },
            Ty::Integer(IntFormat::I32) if *r == Rules::default() => quote! { Schema::INT32 },
            Ty::Integer(IntFormat::I64) if *r == Rules::default() => quote! { Schema::INT64 },
            Ty::String(StrFormat::Plain) if *r == Rules::default() => quote! { Schema::STRING },
            Ty::Integer(f) => {
                let (lo, hi) = int_bounds(*f);
                let mut rules = r.clone();
                rules.minimum = Some(r.minimum.map_or(lo, |m| m.max(lo)));
                rules.maximum = Some(r.maximum.map_or(hi, |m| m.min(hi)));
                let numeric = numeric(&rules);
                quote! { Schema::Integer(#numeric) }
            }
            Ty::Number(_) => {
                let numeric = numeric(r);
                quote! { Schema::Number(#numeric) }
            }
            Ty::String(f) => {
                let text = text(r, f, &[], patterns);
                quote! { Schema::String(#text) }
            }
            Ty::Array(items) => {
                let items = self.reference(api, items, patterns);
                let mut fields = vec![quote! { items: #items }];
                set(&mut fields, "min_items", r.min_items);
                set(&mut fields, "max_items", r.max_items);
                if r.unique_items {
                    fields.push(quote! { unique_items: true });
                }
                let list = update("List", "ANY", &fields, 4);
                quote! { Schema::Array(#list) }
            }
            Ty::Map(values) => {
                let values = self.reference(api, values, patterns);
                let mut fields = vec![quote! { values: #values }];
                set(&mut fields, "min_properties", r.min_properties);
                set(&mut fields, "max_properties", r.max_properties);
                let dict = update("Dict", "ANY", &fields, 3);
                quote! { Schema::Map(#dict) }
            }
            Ty::Ref(_) => unreachable!("references are handled by `reference`"),
        }
    }

    fn definition(&self, api: &Api, id: TypeId, patterns: &mut Patterns) -> TokenStream {
        let def = api.types.get(id);
        match &def.kind {
            TypeKind::Struct(s) => {
                let props = s.fields.iter().map(|f| {
                    let make =
                        format_ident!("{}", if f.required { "required" } else { "optional" });
                    let name = &f.name;
                    let schema = self.reference(api, &f.shape, patterns);
                    let read_only = f.read_only.then(|| quote! { .read_only() });
                    let write_only = f.write_only.then(|| quote! { .write_only() });
                    quote! { Property::#make(#name, #schema) #read_only #write_only }
                });
                let props: Vec<_> = props.collect();
                let additional = match &s.additional {
                    Additional::Allow => quote! { Additional::Allow },
                    Additional::Deny => quote! { Additional::Deny },
                    Additional::Typed(shape) => {
                        let schema = self.reference(api, shape, patterns);
                        quote! { Additional::Schema(#schema) }
                    }
                };
                quote! {
                    Schema::Object(Record { properties: &[#(#props),*], additional: #additional })
                }
            }
            TypeKind::Enum(e) => {
                if e.is_integer() {
                    let rules = Rules {
                        enumeration: e.values.iter().map(|v| v.value.clone()).collect(),
                        ..Rules::default()
                    };
                    let numeric = numeric(&rules);
                    quote! { Schema::Integer(#numeric) }
                } else {
                    let allowed: Vec<TokenStream> = e
                        .values
                        .iter()
                        .map(|v| {
                            let text = v.value.as_str().unwrap_or_default();
                            quote! { #text }
                        })
                        .collect();
                    let text = text(&Rules::default(), &StrFormat::Plain, &allowed, patterns);
                    quote! { Schema::String(#text) }
                }
            }
            TypeKind::Union(u) => {
                let members: Vec<TokenStream> = u
                    .variants
                    .iter()
                    .map(|v| self.reference(api, &v.shape, patterns))
                    .collect();
                let kind = format_ident!("{}", if u.exclusive { "OneOf" } else { "AnyOf" });
                quote! { Schema::#kind(&[#(#members),*]) }
            }
            TypeKind::Alias(shape) => match &shape.ty {
                Ty::Ref(_) => {
                    let schema = self.reference(api, shape, patterns);
                    quote! { Schema::AllOf(&[#schema]) }
                }
                _ if shape.nullable => {
                    let value = self.value(api, shape, patterns);
                    quote! { Schema::Nullable(&#value) }
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
    fn name(&mut self, source: &str) -> proc_macro2::Ident {
        let index = match self.sources.iter().position(|s| s == source) {
            Some(i) => i,
            None => {
                self.sources.push(source.to_string());
                self.sources.len() - 1
            }
        };
        format_ident!("PATTERN_{index}")
    }
}

/// `Name { a, b, ..Name::BASE }`, or `Name::BASE` when every field is the base's: the tables
/// stay short enough to read, and to compile quickly.
/// `all` is how many fields the struct has.
fn update(name: &str, base: &str, fields: &[TokenStream], all: usize) -> TokenStream {
    let name = format_ident!("{name}");
    let base = format_ident!("{base}");
    if fields.is_empty() {
        quote! { #name::#base }
    } else if fields.len() == all {
        // clippy's `needless_update`: nothing is left to take from the base.
        quote! { #name { #(#fields),* } }
    } else {
        quote! { #name { #(#fields),*, ..#name::#base } }
    }
}

fn set<T: std::fmt::Display>(fields: &mut Vec<TokenStream>, name: &str, value: Option<T>) {
    if let Some(value) = value {
        let name = format_ident!("{name}");
        let value = number(&value.to_string());
        fields.push(quote! { #name: Some(#value) });
    }
}

fn set_float(fields: &mut Vec<TokenStream>, name: &str, value: Option<f64>) {
    if let Some(value) = value {
        let name = format_ident!("{name}");
        let value = float_tokens(value);
        fields.push(quote! { #name: Some(#value) });
    }
}

fn numeric(r: &Rules) -> TokenStream {
    let mut fields = Vec::new();
    set_float(&mut fields, "minimum", r.minimum);
    set_float(&mut fields, "maximum", r.maximum);
    if r.exclusive_minimum {
        fields.push(quote! { exclusive_minimum: true });
    }
    if r.exclusive_maximum {
        fields.push(quote! { exclusive_maximum: true });
    }
    set_float(&mut fields, "multiple_of", r.multiple_of);
    let allowed: Vec<TokenStream> = r
        .enumeration
        .iter()
        .filter_map(|v| v.as_f64())
        .map(float_tokens)
        .collect();
    if !allowed.is_empty() {
        fields.push(quote! { allowed: &[#(#allowed),*] });
    }
    update("Numeric", "ANY", &fields, 6)
}

fn text(r: &Rules, f: &StrFormat, allowed: &[TokenStream], patterns: &mut Patterns) -> TokenStream {
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
        let pattern = patterns.name(p);
        fields.push(quote! { pattern: Some(&#pattern) });
    }
    if let Some(format) = format {
        let format = format_ident!("{format}");
        fields.push(quote! { format: Format::#format });
    }
    if !allowed.is_empty() {
        fields.push(quote! { allowed: &[#(#allowed),*] });
    }
    update("Text", "PLAIN", &fields, 5)
}

/// The module: one static per named type, plus the patterns they use, then `extra`.
pub fn emit(
    api: &Api,
    names: &SchemaNames,
    extra: TokenStream,
    patterns: &mut Patterns,
) -> TokenStream {
    let mut body = TokenStream::new();
    for (id, name) in &names.by_type {
        let def = api.types.get(*id);
        let doc = format!(
            " Constraints of [`{0}`](crate::generated::models::{0}).",
            def.name
        );
        let name = ident(name);
        let definition = names.definition(api, *id, patterns);
        body.extend(quote! {
            #[doc = #doc]
            pub static #name: Schema = #definition;
        });
    }
    let http = runtime("http");
    let mut out = inner_docs(
        "Validation tables: the spec's constraints on every schema, checked before any handler runs.",
    );
    out.extend(quote! {
        #[allow(unused_imports)]
        use #http::{Additional, Dict, Format, List, Numeric, Property, Record, Schema, Text};
    });
    if !patterns.sources.is_empty() {
        out.extend(quote! {
            use regex::Regex;
            use std::sync::LazyLock;
        });
    }
    for (i, source) in patterns.sources.iter().enumerate() {
        let name = format_ident!("PATTERN_{i}");
        out.extend(quote! {
            static #name: LazyLock<Regex> = LazyLock::new(|| Regex::new(#source).expect("apigen compiled this pattern"));
        });
    }
    out.extend(body);
    out.extend(extra);
    out
}
