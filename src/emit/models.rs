//! `src/generated/models.rs`: a Rust type for every schema the API uses.

use std::fmt::Write;

use super::rust::{bare_type, doc, is_eq, lit, type_of, unraw};
use crate::model::names::Scope;
use crate::model::{Additional, Api, EnumDef, Field, StructDef, TypeDef, TypeKind, UnionDef};

pub fn emit(api: &Api) -> String {
    let mut out = String::new();
    out.push_str("//! Models: one type per schema of the spec, with the spec's property names on the wire.\n\n");
    let space = &api.types;
    let mut needs_double_option = false;
    for id in space.ids() {
        let def = space.get(id);
        match &def.kind {
            TypeKind::Struct(s) => {
                needs_double_option |= s.fields.iter().any(|f| f.optional() && f.shape.nullable);
                emit_struct(api, def, s, &mut out);
            }
            TypeKind::Enum(e) => emit_enum(def, e, &mut out),
            TypeKind::Union(u) => emit_union(api, def, u, &mut out),
            TypeKind::Alias(shape) if def.newtype => {
                // `#[serde(transparent)]`: on the wire it is the aliased value.
                let _ = writeln!(
                    out,
                    "{}{}\n#[serde(transparent)]\npub struct {}(pub {});\n",
                    doc(def.doc.as_deref()),
                    derives(api, def),
                    def.name,
                    type_of(space, shape)
                );
            }
            TypeKind::Alias(shape) => {
                let _ = writeln!(
                    out,
                    "{}pub type {} = {};\n",
                    doc(def.doc.as_deref()),
                    def.name,
                    type_of(space, shape)
                );
            }
        }
    }
    if needs_double_option {
        out.push_str(DOUBLE_OPTION);
    }
    out
}

/// Optional *and* nullable fields are `Option<Option<T>>`: absent, `null`
/// and a value are three different things (a merge patch removes a field
/// with `null`), and serde alone folds the first two.
const DOUBLE_OPTION: &str = r#"
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
"#;

fn derives(api: &Api, def: &TypeDef) -> &'static str {
    let eq = is_eq(
        &api.types,
        &crate::model::Shape::new(crate::model::Ty::Ref(type_id(api, def))),
        &mut Vec::new(),
    );
    if eq {
        "#[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]"
    } else {
        "#[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]"
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

/// The Rust type of a field: boxed, optional and nullable as needed.
pub fn field_type(api: &Api, f: &Field) -> String {
    let mut ty = bare_type(&api.types, &f.shape);
    if f.boxed {
        ty = format!("Box<{ty}>");
    }
    if f.shape.nullable {
        ty = format!("Option<{ty}>");
    }
    if f.optional() {
        ty = format!("Option<{ty}>");
    }
    ty
}

fn emit_struct(api: &Api, def: &TypeDef, s: &StructDef, out: &mut String) {
    out.push_str(&doc(def.doc.as_deref()));
    out.push_str(derives(api, def));
    let _ = writeln!(out, "\npub struct {} {{", def.name);
    let mut idents = Scope::default();
    for f in &s.fields {
        idents.claim(f.ident.clone());
        out.push_str(&doc(f.doc.as_deref()));
        let mut attrs = Vec::new();
        if unraw(&f.ident) != f.name {
            attrs.push(format!("rename = {}", lit(&f.name)));
        }
        if f.optional() {
            attrs.push("default".into());
            attrs.push("skip_serializing_if = \"Option::is_none\"".into());
            if f.shape.nullable {
                attrs.push("with = \"double_option\"".into());
            }
        } else if f.shape.nullable {
            attrs.push("default".into());
        }
        if !attrs.is_empty() {
            let _ = writeln!(out, "#[serde({})]", attrs.join(", "));
        }
        let _ = writeln!(out, "pub {}: {},", f.ident, field_type(api, f));
    }
    if let Additional::Typed(shape) = &s.additional {
        let name = idents.claim("additional_properties".into());
        out.push_str("/// Properties beyond the declared ones.\n#[serde(flatten)]\n");
        let _ = writeln!(
            out,
            "pub {name}: std::collections::BTreeMap<String, {}>,",
            type_of(&api.types, shape)
        );
    }
    out.push_str("}\n\n");
}

fn emit_enum(def: &TypeDef, e: &EnumDef, out: &mut String) {
    out.push_str(&doc(def.doc.as_deref()));
    let integer = e.is_integer();
    if integer {
        out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\n");
    } else {
        out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]\n");
    }
    let _ = writeln!(out, "pub enum {} {{", def.name);
    for v in &e.values {
        if !integer {
            let text = v.value.as_str().unwrap_or_default();
            if text != v.ident {
                let _ = writeln!(out, "#[serde(rename = {})]", lit(text));
            }
        }
        let _ = writeln!(out, "{},", v.ident);
    }
    out.push_str("}\n\n");
    let name = &def.name;
    if integer {
        let _ = writeln!(out, "impl {name} {{\n/// The value on the wire.\npub fn value(self) -> i64 {{ match self {{");
        for v in &e.values {
            let _ = writeln!(out, "Self::{} => {},", v.ident, v.value);
        }
        out.push_str("} } }\n\n");
        let _ = writeln!(
            out,
            "impl ::serde::Serialize for {name} {{ fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{ serializer.serialize_i64(self.value()) }} }}\n"
        );
        let _ = writeln!(out, "impl<'de> ::serde::Deserialize<'de> for {name} {{ fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{ match <i64 as ::serde::Deserialize>::deserialize(deserializer)? {{");
        for v in &e.values {
            let _ = writeln!(out, "{} => Ok(Self::{}),", v.value, v.ident);
        }
        let _ = writeln!(out, "other => Err(serde::de::Error::custom(format!(\"{{other}} is not a valid {name}\"))), }} }} }}\n");
    } else {
        let _ = writeln!(out, "impl {name} {{\n/// The value on the wire.\npub fn as_str(self) -> &'static str {{ match self {{");
        for v in &e.values {
            let _ = writeln!(
                out,
                "Self::{} => {},",
                v.ident,
                lit(v.value.as_str().unwrap_or_default())
            );
        }
        out.push_str("} } }\n\n");
        let _ = writeln!(
            out,
            "impl std::fmt::Display for {name} {{ fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.as_str()) }} }}\n"
        );
    }
}

fn emit_union(api: &Api, def: &TypeDef, u: &UnionDef, out: &mut String) {
    out.push_str(&doc(def.doc.as_deref()));
    let derive = derives(api, def);
    match &u.discriminator {
        None => {
            out.push_str(derive);
            out.push_str("\n#[serde(untagged)]\n");
        }
        Some(_) => {
            // The tag is a property of each variant's own schema, so the
            // variant types keep it; serde's internal tagging would strip it.
            out.push_str(&derive.replace(", ::serde::Deserialize", ""));
            out.push_str("\n#[serde(untagged)]\n");
        }
    }
    let _ = writeln!(out, "pub enum {} {{", def.name);
    for v in &u.variants {
        let ty = type_of(&api.types, &v.shape);
        // An enum is as large as its largest variant: objects are boxed so
        // that a union of a big object and a string stays small (and so
        // that a union containing itself has a size at all).
        let boxed = matches!(v.shape.ty, crate::model::Ty::Ref(id)
            if id == type_id(api, def)
                || matches!(api.types.defs[id.0].kind, TypeKind::Struct(_) | TypeKind::Union(_)));
        let ty = if boxed { format!("Box<{ty}>") } else { ty };
        let _ = writeln!(out, "{}({ty}),", v.ident);
    }
    out.push_str("}\n\n");
    if let Some(d) = &u.discriminator {
        let name = &def.name;
        let _ = writeln!(
            out,
            "impl<'de> ::serde::Deserialize<'de> for {name} {{\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\nuse serde::de::Error as _;\nlet value = <serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;\nlet tag = value.get({}).and_then(serde_json::Value::as_str).map(str::to_owned);\nmatch tag.as_deref() {{",
            lit(&d.property)
        );
        for (v, tag) in u.variants.iter().zip(&d.values) {
            let _ = writeln!(out, "Some({}) => serde_json::from_value(value).map(Self::{}).map_err(D::Error::custom),", lit(tag), v.ident);
        }
        let _ = writeln!(
            out,
            "other => Err(D::Error::custom(format!(\"unknown {} {{other:?}} for {name}\"))),\n}}\n}}\n}}\n",
            d.property
        );
    }
}
