//! `src/generated/models.rs`: a Rust type for every schema the API uses.

use proc_macro2::TokenStream;
use quote::quote;

use super::rust::{bare_ty, docs, ident, inner_docs, is_eq, number, ty, unraw};
use crate::model::names::Scope;
use crate::model::{
    Additional, Api, EnumDef, Field, StrFormat, StructDef, Ty, TypeDef, TypeKind, UnionDef,
};

pub fn emit(api: &Api) -> TokenStream {
    let mut out = inner_docs(
        "Models: one type per schema of the spec, with the spec's property names on the wire.",
    );
    let space = &api.types;
    let mut needs_double_option = false;
    for id in space.ids() {
        let def = space.get(id);
        let doc = docs(def.doc.as_deref());
        let name = ident(&def.name);
        out.extend(match &def.kind {
            TypeKind::Struct(s) => {
                needs_double_option |= s.fields.iter().any(|f| f.optional() && f.shape.nullable);
                emit_struct(api, def, s)
            }
            TypeKind::Enum(e) => emit_enum(def, e),
            TypeKind::Union(u) => emit_union(api, def, u),
            TypeKind::Alias(shape) if def.newtype => {
                // `#[serde(transparent)]`: on the wire it is the aliased value.
                let derive = derives(api, def, true);
                let inner = ty(space, shape, None);
                quote! {
                    #doc
                    #derive
                    #[serde(transparent)]
                    pub struct #name(pub #inner);
                }
            }
            TypeKind::Alias(shape) => {
                let inner = ty(space, shape, None);
                quote! {
                    #doc
                    pub type #name = #inner;
                }
            }
        });
    }
    if needs_double_option {
        out.extend(double_option());
    }
    out
}

/// Optional *and* nullable fields are `Option<Option<T>>`: absent, `null`
/// and a value are three different things (a merge patch removes a field
/// with `null`), and serde alone folds the first two.
fn double_option() -> TokenStream {
    quote! {
        /// Serde glue for fields that may be absent, `null` or a value.
        mod double_option {
            use serde::{Deserialize, Deserializer, Serialize, Serializer};

            /// A present field (even `null`) is `Some`; `#[serde(default)]` makes an absent one `None`.
            pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
            where
                T: Deserialize<'de>,
                D: Deserializer<'de>,
            {
                Option::<T>::deserialize(deserializer).map(Some)
            }

            /// Only called for `Some` (absent fields are skipped): writes the value or `null`.
            pub fn serialize<T, S>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error>
            where
                T: Serialize,
                S: Serializer,
            {
                match value {
                    Some(inner) => inner.serialize(serializer),
                    None => serializer.serialize_none(),
                }
            }
        }
    }
}

/// The derives of a type; `deserialize` is false for a type that deserializes itself.
fn derives(api: &Api, def: &TypeDef, deserialize: bool) -> TokenStream {
    let eq = is_eq(
        &api.types,
        &crate::model::Shape::new(crate::model::Ty::Ref(type_id(api, def))),
        &mut Vec::new(),
    );
    let eq = if eq {
        quote! { Eq, }
    } else {
        quote! {}
    };
    let deserialize = if deserialize {
        quote! { ::serde::Deserialize, }
    } else {
        quote! {}
    };
    quote! {
        #[derive(Debug, Clone, PartialEq, #eq ::serde::Serialize, #deserialize)]
    }
}

fn type_id(api: &Api, def: &TypeDef) -> crate::model::TypeId {
    crate::model::TypeId(
        api.types
            .defs
            .iter()
            .position(|d| std::ptr::eq(d, def))
            .expect("def is in the space"),
    )
}

/// The Rust type of a field as tokens; named types under `models`, or bare inside the models
/// module.
fn field_ty(api: &Api, f: &Field, models: Option<&TokenStream>) -> TokenStream {
    let mut ty = bare_ty(&api.types, &f.shape, models);
    if f.boxed {
        ty = quote! { Box<#ty> };
    }
    if f.shape.nullable {
        ty = quote! { Option<#ty> };
    }
    if f.optional() {
        ty = quote! { Option<#ty> };
    }
    ty
}

fn emit_struct(api: &Api, def: &TypeDef, s: &StructDef) -> TokenStream {
    let doc = docs(def.doc.as_deref());
    let derive = derives(api, def, true);
    let name = ident(&def.name);
    let mut idents = Scope::default();
    let mut fields = TokenStream::new();
    for f in &s.fields {
        idents.claim(f.ident.clone());
        let field_doc = docs(f.doc.as_deref());
        let mut attrs = Vec::new();
        if unraw(&f.ident) != f.name {
            let wire = &f.name;
            attrs.push(quote! { rename = #wire });
        }
        if f.optional() {
            attrs.push(quote! { default });
            attrs.push(quote! { skip_serializing_if = "Option::is_none" });
            if f.shape.nullable {
                attrs.push(quote! { with = "double_option" });
            }
        } else if f.shape.nullable {
            attrs.push(quote! { default });
        }
        if let Some(with) = date_time_writer(f) {
            attrs.push(quote! { serialize_with = #with });
        }
        let serde = if attrs.is_empty() {
            quote! {}
        } else {
            quote! { #[serde(#(#attrs),*)] }
        };
        let field = ident(&f.ident);
        let field_ty = field_ty(api, f, None);
        fields.extend(quote! {
            #field_doc
            #serde
            pub #field: #field_ty,
        });
    }
    if let Additional::Typed(shape) = &s.additional {
        let field = ident(&idents.claim("additional_properties".into()));
        let values = ty(&api.types, shape, None);
        fields.extend(quote! {
            /// Properties beyond the declared ones.
            #[serde(flatten)]
            pub #field: std::collections::BTreeMap<String, #values>,
        });
    }
    quote! {
        #doc
        #derive
        pub struct #name {
            #fields
        }
    }
}

/// The runtime's writer for a date-time field, which writes the text chrono's `Serialize`
/// writes in one piece instead of twenty (a page of items wrote itself at twice the cost).
/// Boxed and absent-or-null fields keep chrono's own, through their wrappers.
fn date_time_writer(f: &Field) -> Option<&'static str> {
    if f.boxed || !matches!(f.shape.ty, Ty::String(StrFormat::DateTime)) {
        return None;
    }
    match (f.optional(), f.shape.nullable) {
        (false, false) => Some("::apigen_runtime::wire::date_time"),
        (true, false) | (false, true) => Some("::apigen_runtime::wire::optional_date_time"),
        (true, true) => None,
    }
}

fn emit_enum(def: &TypeDef, e: &EnumDef) -> TokenStream {
    let doc = docs(def.doc.as_deref());
    let name = ident(&def.name);
    let integer = e.is_integer();
    let variants = e.values.iter().map(|v| {
        let variant = ident(&v.ident);
        let text = v.value.as_str().unwrap_or_default();
        if !integer && text != v.ident {
            quote! { #[serde(rename = #text)] #variant, }
        } else {
            quote! { #variant, }
        }
    });
    let serde = if integer {
        quote! {}
    } else {
        quote! { ::serde::Serialize, ::serde::Deserialize }
    };
    let mut out = quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, #serde)]
        pub enum #name {
            #(#variants)*
        }
    };
    let idents: Vec<_> = e.values.iter().map(|v| ident(&v.ident)).collect();
    if integer {
        let values: Vec<_> = e
            .values
            .iter()
            .map(|v| number(&v.value.to_string()))
            .collect();
        let invalid = format!("{{other}} is not a valid {}", def.name);
        out.extend(quote! {
            impl #name {
                /// The value on the wire.
                pub fn value(self) -> i64 {
                    match self {
                        #(Self::#idents => #values,)*
                    }
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_i64(self.value())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    match <i64 as ::serde::Deserialize>::deserialize(deserializer)? {
                        #(#values => Ok(Self::#idents),)*
                        other => Err(serde::de::Error::custom(format!(#invalid))),
                    }
                }
            }
        });
    } else {
        let texts = e
            .values
            .iter()
            .map(|v| v.value.as_str().unwrap_or_default());
        out.extend(quote! {
            impl #name {
                /// The value on the wire.
                pub fn as_str(self) -> &'static str {
                    match self {
                        #(Self::#idents => #texts,)*
                    }
                }
            }

            impl std::fmt::Display for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        });
    }
    out
}

fn emit_union(api: &Api, def: &TypeDef, u: &UnionDef) -> TokenStream {
    let doc = docs(def.doc.as_deref());
    let name = ident(&def.name);
    // With a discriminator, the tag is a property of each variant's own schema, so the
    // variant types keep it; serde's internal tagging would strip it.
    let derive = derives(api, def, u.discriminator.is_none());
    let variants = u.variants.iter().map(|v| {
        let variant = ident(&v.ident);
        let inner = ty(&api.types, &v.shape, None);
        // An enum is as large as its largest variant: objects are boxed so
        // that a union of a big object and a string stays small (and so
        // that a union containing itself has a size at all).
        let boxed = matches!(v.shape.ty, crate::model::Ty::Ref(id)
            if id == type_id(api, def)
                || matches!(api.types.defs[id.0].kind, TypeKind::Struct(_) | TypeKind::Union(_)));
        if boxed {
            quote! { #variant(Box<#inner>), }
        } else {
            quote! { #variant(#inner), }
        }
    });
    let mut out = quote! {
        #doc
        #derive
        #[serde(untagged)]
        pub enum #name {
            #(#variants)*
        }
    };
    if let Some(d) = &u.discriminator {
        let property = &d.property;
        let tags = &d.values;
        let idents = u.variants.iter().map(|v| ident(&v.ident));
        let unknown = format!("unknown {} {{other:?}} for {}", d.property, def.name);
        out.extend(quote! {
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    use serde::de::Error as _;
                    let value = <serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                    let tag = value.get(#property).and_then(serde_json::Value::as_str).map(str::to_owned);
                    match tag.as_deref() {
                        #(Some(#tags) => serde_json::from_value(value).map(Self::#idents).map_err(D::Error::custom),)*
                        other => Err(D::Error::custom(format!(#unknown))),
                    }
                }
            }
        });
    }
    out
}
