//! `tests/examples.rs`: every example the spec writes, deserialized into its generated type
//! and serialized back, so an example the types cannot hold, or hold only in part, fails a
//! test instead of a client.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::operations::body_ty;
use super::rust::{generated_at, ident, inner_docs, ty, Site};
use crate::model::names::{field_name, Scope};
use crate::model::Api;

const HEADER: &str =
    "The spec's examples, each deserialized into its generated type and serialized back to
the same JSON: an example the types cannot hold, or hold only in part, fails here. Examples
that `apigen generate` warned about are left out.";

/// What the examples are checked with; the comparison is the JSON data model's, not the
/// text's, since serde writes `1.0`, `Z` and lowercase UUIDs its own way.
fn helpers() -> TokenStream {
    quote! {
    /// Deserializes `json` into `T` and serializes it back, panicking unless the result is the
    /// same JSON as the example.
    #[track_caller]
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(json: &str) {
        let example: serde_json::Value = serde_json::from_str(json).expect("the example is JSON");
        let typed: T = match serde_json::from_str(json) {
            Ok(typed) => typed,
            Err(error) => panic!(
                "the example does not fit `{}`: {error}",
                std::any::type_name::<T>()
            ),
        };
        // Through text, as on the wire: `to_value` would widen an `f32` to a longer `f64`.
        let text = serde_json::to_string(&typed).expect("generated types serialize");
        let back: serde_json::Value = serde_json::from_str(&text).expect("serde_json writes JSON");
        if let Err(at) = same(&example, &back, String::new()) {
            panic!(
                "the example changed at `{at}` going through `{}`:\n  example: {}\n  back:    {}",
                std::any::type_name::<T>(),
                example,
                back
            );
        }
    }

    /// Whether two values are the same data: a field set to `null` and an absent one are alike,
    /// numbers compare by value, and strings by what they denote when they are instants or UUIDs.
    fn same(expected: &serde_json::Value, actual: &serde_json::Value, at: String) -> Result<(), String> {
        match (expected, actual) {
            (serde_json::Value::Object(e), serde_json::Value::Object(a)) => {
                for key in e.keys().chain(a.keys()) {
                    let (e, a) = (e.get(key), a.get(key));
                    same(e.unwrap_or(&serde_json::Value::Null), a.unwrap_or(&serde_json::Value::Null), format!("{at}/{key}"))?;
                }
                Ok(())
            }
            (serde_json::Value::Array(e), serde_json::Value::Array(a)) if e.len() == a.len() => e
                .iter()
                .zip(a)
                .enumerate()
                .try_for_each(|(i, (e, a))| same(e, a, format!("{at}/{i}"))),
            (serde_json::Value::Number(e), serde_json::Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
            (serde_json::Value::String(e), serde_json::Value::String(a)) if same_text(e, a) => Ok(()),
            _ if expected == actual => Ok(()),
            _ => Err(at),
        }
    }

    fn same_text(e: &str, a: &str) -> bool {
        if e == a {
            return true;
        }
        if let (Ok(e), Ok(a)) = (
            chrono::DateTime::parse_from_rfc3339(e),
            chrono::DateTime::parse_from_rfc3339(a),
        ) {
            return e == a;
        }
        matches!((uuid::Uuid::parse_str(e), uuid::Uuid::parse_str(a)), (Ok(e), Ok(a)) if e == a)
    }
        }
}

/// Whether the spec has examples that fit their schemas, and so a test file.
pub fn any(api: &Api) -> bool {
    api.examples.iter().any(|e| e.misfit.is_none())
}

/// The test file.
pub fn emit(api: &Api) -> TokenStream {
    let fitting = api.examples.iter().filter(|e| e.misfit.is_none());
    let krate = api.settings.crate_ident();
    let models = generated_at(Site::Tests { krate: &krate }, "models");
    let mut out = inner_docs(HEADER);
    out.extend(quote! {
        #![allow(unused_imports)]
        use #models;
    });
    let models = quote! { models };
    let mut names = Scope::default();
    for example in fitting {
        let example_ty = if example.request {
            body_ty(api, &example.shape, &models)
        } else {
            ty(&api.types, &example.shape, Some(&models))
        };
        let doc = format!(" `#{}`", example.pointer);
        let name = ident(&names.claim(field_name(&example.subject)));
        let json = raw_string(&example.value.to_string());
        out.extend(quote! {
            #[doc = #doc]
            #[test]
            fn #name() {
                let example = #json;
                round_trip::<#example_ty>(example);
            }
        });
    }
    out.extend(helpers());
    out
}

/// `text` as a raw string literal, with as many `#` as it needs, so that the JSON reads as
/// itself.
fn raw_string(text: &str) -> Literal {
    let mut hashes = 1;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let fence = "#".repeat(hashes);
    // proc-macro2 builds no raw string literal itself; this text is that one literal.
    format!("r{fence}\"{text}\"{fence}")
        .parse()
        .expect("a raw string literal")
}
