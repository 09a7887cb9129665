//! Rust names for things named in a spec. Spec names can be anything
//! (`@type`, `2fa`, `self`, `user-id` next to `user_id`); Rust names must be
//! identifiers and unique in their scope.

use std::collections::BTreeSet;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names a schema cannot have: the std prelude names that generated code writes
/// bare in modules that also glob-import the models (`use super::models::*;`), where a
/// model of that name would shadow the prelude. Everything else generated code uses
/// (the runtime's `http::ApiError` and `store::Store`, axum, serde, serde_json, the
/// rest of std) it names by path through a lower-case module, which no type name can
/// clash with, so a schema named `Problem`, `Query` or `Value` keeps its name. Derive
/// macros (`Debug`, `Clone`) live in the macro namespace and clash with nothing.
/// A schema named like one of these is numbered (`Option2`). `tests/names.rs` checks
/// that generated code writes no other prelude name bare and imports no name beside
/// a glob import.
#[rustfmt::skip]
pub const RESERVED_TYPES: &[&str] = &[
    "Option", "Some", "None", "Result", "Ok", "Err", "Vec", "String", "Box", "Send", "Sync",
];

/// Function names an operation cannot have: the helpers and methods that share a
/// module with the operations' functions (`actions.rs`, `routes.rs`, the `Handlers`
/// trait) and the modules that generated code names by path (`http::ApiError`).
#[rustfmt::skip]
pub const RESERVED_FNS: &[&str] = &[
    "new", "router", "store", "repositories", "json", "fields", "typed_key", "text", "key_text",
    "etag", "expected_version", "key_fields", "http", "models", "schemas", "operations",
    "entities", "actions", "api", "routes", "runtime", "generated", "handlers", "serde",
    "serde_json", "axum", "std", "core", "alloc", "tower", "lambda_http",
];

/// Crates a generated project names by path (its dependencies and the standard
/// ones): the project's own library cannot share a name with one of them.
/// `tests/names.rs` checks the list against the template's Cargo.toml.
#[rustfmt::skip]
pub const CRATES: &[&str] = &[
    "std", "core", "alloc", "test", "proc_macro", "axum", "base64", "bytes", "chrono",
    "form_urlencoded", "http", "lambda_http", "regex", "serde", "serde_json", "tokio",
    "tracing", "tracing_subscriber", "uuid", "aws_config", "aws_sdk_dynamodb", "serde_dynamo",
    "sha2", "thiserror", "ulid", "http_body_util", "tower", "hyper", "hyper_util", "apigen_runtime",
];

/// Whether a package name gives a library crate name that Rust code can use:
/// not a keyword, and not the name of a crate the project depends on.
pub fn usable_crate_name(package: &str) -> bool {
    let ident = package.replace('-', "_");
    !KEYWORDS.contains(&ident.as_str()) && !CRATES.contains(&ident.as_str())
}

/// Words that cannot be raw identifiers either.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// Keeps letters, digits and word breaks; everything else separates words.
fn words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_string()
}

/// `UpperCamelCase` name for a type or variant.
pub fn type_name(s: &str) -> String {
    let mut name = words(s).to_upper_camel_case();
    if name.is_empty() {
        name = "Unnamed".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'N');
    }
    if KEYWORDS.contains(&name.as_str()) {
        // Only `Self`. Not `Self_`: the name is also a prefix (`Self_Request`), and an
        // underscore inside a type name is not camel case.
        name.push_str("Type");
    }
    name
}

/// `snake_case` name for a field, function or module.
pub fn field_name(s: &str) -> String {
    let mut name = words(s).to_snake_case();
    if name.is_empty() {
        name = "value".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'n');
    }
    if NOT_RAW.contains(&name.as_str()) {
        name.push('_');
    } else if KEYWORDS.contains(&name.as_str()) {
        name.insert_str(0, "r#");
    }
    name
}

/// `SCREAMING_SNAKE_CASE`, for constants and environment variables.
pub fn const_name(s: &str) -> String {
    let name = words(s).to_shouty_snake_case();
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() {
        format!("N{name}")
    } else {
        name
    }
}

/// Plurals English spells its own way.
#[rustfmt::skip]
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"), ("child", "children"), ("man", "men"), ("woman", "women"),
    ("mouse", "mice"), ("goose", "geese"), ("foot", "feet"), ("tooth", "teeth"),
    ("ox", "oxen"), ("quiz", "quizzes"), ("leaf", "leaves"), ("knife", "knives"),
    ("wife", "wives"), ("life", "lives"), ("shelf", "shelves"), ("half", "halves"),
    ("wolf", "wolves"), ("thief", "thieves"), ("loaf", "loaves"), ("calf", "calves"),
    ("self", "selves"), ("hero", "heroes"), ("potato", "potatoes"), ("tomato", "tomatoes"),
    ("echo", "echoes"), ("veto", "vetoes"), ("criterion", "criteria"),
    ("phenomenon", "phenomena"), ("matrix", "matrices"),
    ("vertex", "vertices"),
];

/// Words that are their own plural: mass nouns and words already plural.
#[rustfmt::skip]
const SAME_IN_PLURAL: &[&str] = &[
    "data", "metadata", "media", "info", "information", "equipment", "software", "hardware",
    "feedback", "sheep", "fish", "deer", "aircraft", "staff", "money", "music", "advice",
    "evidence", "research", "traffic",
];

/// Words ending in `s` that are singular, besides those ending in `ss`, `us` or `is`.
#[rustfmt::skip]
const SINGULAR_IN_S: &[&str] = &[
    "alias", "atlas", "bias", "canvas", "gas", "lens", "chassis", "yes",
];

/// The plural of a `snake_case` name, by its last word: `category` gives `categories`,
/// `order_line` `order_lines`, `address` `addresses`, `person` `people`. A word that
/// already reads as a plural (`orders`, `news`, `settings`) is kept.
pub fn plural(snake: &str) -> String {
    let trimmed = snake.trim_end_matches('_');
    let (head, word) = match trimmed.rfind('_') {
        Some(i) => trimmed.split_at(i + 1),
        None => ("", trimmed),
    };
    let lower = word.to_ascii_lowercase();
    let consonant_before = |suffix: usize| {
        lower[..lower.len() - suffix]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphabetic() && !"aeiou".contains(c))
    };
    let many = if let Some((_, many)) = IRREGULAR.iter().find(|(one, _)| *one == lower) {
        many.to_string()
    } else if SAME_IN_PLURAL.contains(&lower.as_str()) || word.is_empty() {
        word.to_string()
    } else if let Some(stem) = lower.strip_suffix("sis") {
        // analysis, basis, thesis
        format!("{stem}ses")
    } else if SINGULAR_IN_S.contains(&lower.as_str())
        || ["ss", "us", "is", "x", "z", "ch", "sh"]
            .iter()
            .any(|end| lower.ends_with(end))
    {
        format!("{word}es")
    } else if lower.ends_with('s') {
        // orders, news, settings
        word.to_string()
    } else if lower.ends_with('y') && consonant_before(1) {
        format!("{}ies", &word[..word.len() - 1])
    } else {
        format!("{word}s")
    };
    format!("{head}{many}")
}

/// A scope of names: the first comer keeps a name, later ones get a number.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    pub fn with_reserved(names: &[&str]) -> Self {
        Self {
            taken: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn claim(&mut self, wanted: String) -> String {
        if self.taken.insert(wanted.clone()) {
            return wanted;
        }
        let (base, sep) = match wanted.strip_prefix("r#") {
            Some(b) => (b.to_string(), "_"),
            // `self_` (a keyword made a field name) numbers as `self_2`, not `self__2`.
            None if wanted.contains('_') || wanted.chars().all(|c| !c.is_uppercase()) => {
                (wanted.trim_end_matches('_').to_string(), "_")
            }
            None => (wanted.clone(), ""),
        };
        (2..)
            .map(|n| format!("{base}{sep}{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .expect("an unused name exists")
    }

    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awkward_names() {
        assert_eq!(type_name("pet-store"), "PetStore");
        assert_eq!(type_name("2fa"), "N2fa");
        assert_eq!(type_name("."), "Unnamed");
        assert_eq!(type_name("self"), "SelfType");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("@id"), "id");
        assert_eq!(field_name("+1"), "n1");
        assert_eq!(field_name("userId"), "user_id");
        assert_eq!(const_name("Main"), "MAIN");
    }

    #[test]
    fn package_names_avoid_keywords_and_dependencies() {
        for bad in [
            "serde",
            "serde-json",
            "http",
            "axum",
            "self",
            "crate",
            "std",
        ] {
            assert!(!usable_crate_name(bad), "{bad}");
        }
        for good in ["serde-api", "http-api", "shop"] {
            assert!(usable_crate_name(good), "{good}");
        }
    }

    #[test]
    fn plurals_follow_english_spelling() {
        for (one, many) in [
            ("category", "categories"),
            ("company", "companies"),
            ("day", "days"),
            ("key", "keys"),
            ("order", "orders"),
            ("order_line", "order_lines"),
            ("product_category", "product_categories"),
            ("address", "addresses"),
            ("status", "statuses"),
            ("bus", "buses"),
            ("box", "boxes"),
            ("quiz", "quizzes"),
            ("branch", "branches"),
            ("wish", "wishes"),
            ("alias", "aliases"),
            ("analysis", "analyses"),
            ("person", "people"),
            ("child", "children"),
            ("leaf", "leaves"),
            ("roof", "roofs"),
            ("hero", "heroes"),
            ("photo", "photos"),
            ("n2fa", "n2fas"),
        ] {
            assert_eq!(plural(one), many, "{one}");
        }
    }

    #[test]
    fn words_already_plural_or_uncountable_are_kept() {
        for word in [
            "orders",
            "news",
            "settings",
            "data",
            "metadata",
            "sheep",
            "user_data",
        ] {
            assert_eq!(plural(word), word, "{word}");
        }
    }

    #[test]
    fn plurals_drop_the_keyword_underscore() {
        // `self` is a field name as `self_`; `query_selves` needs no escape.
        assert_eq!(plural("self_"), "selves");
        assert_eq!(plural("type"), "types");
    }

    #[test]
    fn scope_numbers_collisions() {
        let mut s = Scope::default();
        assert_eq!(s.claim("user_id".into()), "user_id");
        assert_eq!(s.claim("user_id".into()), "user_id_2");
        assert_eq!(s.claim("Pet".into()), "Pet");
        assert_eq!(s.claim("Pet".into()), "Pet2");
        assert_eq!(s.claim("r#type".into()), "r#type");
        assert_eq!(s.claim("r#type".into()), "type_2");
        assert_eq!(s.claim("self_".into()), "self_");
        assert_eq!(s.claim("self_".into()), "self_2");
        assert_eq!(s.claim("SelfType".into()), "SelfType");
        assert_eq!(s.claim("SelfType".into()), "SelfType2");
    }
}
