//! Any name a spec gives a schema, property, parameter or operation gives a project
//! that compiles. tests/specs/names.yaml names its schemas like every public item of the
//! runtime and every name generated modules import (it is generated, clippy'd and tested
//! like the other unseen specs); these tests keep that spec and the reserved-name lists
//! in step with the code, so that a runtime name added later fails here first.

mod common;

use std::collections::BTreeSet;
use std::fs;

use apigen::model::names::{RESERVED_FNS, RESERVED_TYPES};
use regex::Regex;

fn names_spec() -> std::path::PathBuf {
    common::repo().join("tests/specs/names.yaml")
}

/// The names of the runtime's public items that callers name by path (`http`, `ApiError`,
/// `from_env`; not methods, fields or variants, which sit under their type), read from
/// runtime/public-api.txt, which tests/runtime_surface.rs keeps equal to the runtime's sources.
fn runtime_names() -> BTreeSet<String> {
    let listing = fs::read_to_string(common::repo().join("runtime/public-api.txt")).unwrap();
    let item = Regex::new(
        r"^pub (?:(?:async|const|unsafe) )*(?:struct|enum|type|trait|fn|const|static|mod|use) ([A-Za-z0-9_]+(?:::[A-Za-z0-9_]+)*)",
    )
    .unwrap();
    let names: BTreeSet<String> = listing
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Past the features the item needs: `#[cfg(feature = "dynamodb")] pub fn ...`.
            let line = line.rsplit("] ").next().unwrap_or(line);
            let path: Vec<&str> = item.captures(line)?.get(1)?.as_str().split("::").collect();
            let [.., parent, name] = path.as_slice() else {
                return None;
            };
            parent
                .starts_with(|c: char| c.is_ascii_lowercase())
                .then(|| name.to_string())
        })
        .collect();
    assert!(
        names.contains("ApiError") && names.contains("http"),
        "runtime/public-api.txt lists no runtime items: {names:?}"
    );
    names
}

/// Names imported one by one (not by glob, not as `_`) into generated files that also
/// glob-import generated names (`models::*`, `operations::*`, `entities::*`): an
/// explicit import silently shadows a glob-imported type of the same name.
fn names_imported_beside_globs(files: &[(String, String)]) -> BTreeSet<(String, String)> {
    let use_item = Regex::new(r"(?ms)^\s*(?:pub )?use ([^;]*);").unwrap();
    let mut out = BTreeSet::new();
    for (path, text) in files {
        if !GLOBS.iter().any(|g| text.contains(g)) {
            continue;
        }
        for u in use_item.captures_iter(text) {
            for leaf in u[1].split(['{', '}', ',']) {
                let leaf = leaf.split_whitespace().collect::<Vec<_>>().join(" ");
                let name = leaf.rsplit("::").next().unwrap_or_default().trim();
                if !(name.is_empty() || name == "self" || name == "*" || leaf.ends_with(" as _")) {
                    out.insert((path.clone(), name.to_string()));
                }
            }
        }
    }
    out
}

const GLOBS: [&str; 3] = ["models::*", "operations::*", "entities::*"];

fn schema_names() -> BTreeSet<String> {
    let text = fs::read_to_string(names_spec()).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    docs[0]["components"]["schemas"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

fn generated_files() -> Vec<(String, String)> {
    let generated = apigen::plan(&names_spec(), &apigen::Options::default()).unwrap();
    generated
        .plan
        .files
        .iter()
        // The vendored runtime is not generated from the spec, and names nothing the spec names.
        .filter(|f| f.path.ends_with(".rs") && !f.path.starts_with("vendor/"))
        .map(|f| (f.path.clone(), f.contents.clone()))
        .collect()
}

#[test]
fn the_names_spec_names_a_schema_after_every_runtime_and_reserved_name() {
    let schemas = schema_names();
    let mut wanted = runtime_names();
    wanted.extend(RESERVED_TYPES.iter().map(|s| s.to_string()));
    wanted.extend(RESERVED_FNS.iter().map(|s| s.to_string()));
    let missing: Vec<&String> = wanted.iter().filter(|n| !schemas.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "tests/specs/names.yaml has no schema named {missing:?}: add one per name (a runtime item added since?)"
    );
}

#[test]
fn only_modules_are_imported_beside_glob_imports() {
    let files = generated_files();
    let imported = names_imported_beside_globs(&files);
    assert!(!imported.is_empty(), "the scan found no imports");
    let types: Vec<_> = imported
        .iter()
        .filter(|(_, name)| name.starts_with(char::is_uppercase))
        .collect();
    assert!(
        types.is_empty(),
        "these names are imported beside a glob import of generated names, so a schema \
         named so would be silently shadowed; name them by path through their module \
         (`http::ApiError`, `store::Store`, `serde_json::Value`): {types:?}"
    );
}

/// The std prelude's types, traits and variants (Rust 2021).
#[rustfmt::skip]
const PRELUDE: &[&str] = &[
    "Option", "Some", "None", "Result", "Ok", "Err", "Vec", "String", "Box", "Default", "Clone",
    "Copy", "Send", "Sync", "Sized", "Unpin", "Drop", "Fn", "FnMut", "FnOnce", "Iterator",
    "IntoIterator", "DoubleEndedIterator", "ExactSizeIterator", "Extend", "FromIterator",
    "ToString", "ToOwned", "From", "Into", "TryFrom", "TryInto", "AsRef", "AsMut", "PartialEq",
    "Eq", "PartialOrd", "Ord", "Debug", "Hash",
];

#[test]
fn prelude_names_written_bare_beside_glob_imports_are_reserved() {
    let bare = Regex::new(r"(?:^|[^A-Za-z0-9_:])([A-Z][A-Za-z0-9_]*)").unwrap();
    let mut unreserved = BTreeSet::new();
    for (path, text) in generated_files() {
        if !GLOBS.iter().any(|g| text.contains(g)) {
            continue;
        }
        for line in text.lines() {
            let line = line.trim_start();
            // Derive macros live in the macro namespace, apart from types.
            if line.starts_with("//") || line.starts_with("#[derive(") {
                continue;
            }
            for c in bare.captures_iter(line) {
                let name = &c[1];
                if PRELUDE.contains(&name) && !RESERVED_TYPES.contains(&name) {
                    unreserved.insert((path.clone(), name.to_string()));
                }
            }
        }
    }
    assert!(
        unreserved.is_empty(),
        "generated code writes these prelude names bare beside a glob import, so a model \
         named so would shadow them: reserve them in RESERVED_TYPES or write them by path: \
         {unreserved:?}"
    );
}

#[test]
fn schemas_named_like_runtime_items_keep_their_names() {
    let models = generated_files()
        .into_iter()
        .find(|(path, _)| path == "src/generated/models.rs")
        .expect("a models file")
        .1;
    let defined: BTreeSet<&str> = Regex::new(r"(?m)^pub (?:struct|enum|type) ([A-Za-z0-9_]+)")
        .unwrap()
        .captures_iter(&models)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    let mut wanted: BTreeSet<String> = runtime_names()
        .into_iter()
        .filter(|n| {
            apigen::model::names::type_name(n) == *n && !RESERVED_TYPES.contains(&n.as_str())
        })
        .collect();
    wanted.extend(
        [
            "Problem",
            "Query",
            "Location",
            "Page",
            "Value",
            "Response",
            "Store",
            "Template",
            "Service",
            "Handlers",
            "ApiError",
            "Map",
            "Arc",
            "Future",
            "Router",
            "StatusCode",
            "Serialize",
            "Deserialize",
            "Debug",
            "Clone",
            "Default",
        ]
        .map(String::from),
    );
    let renamed: Vec<&String> = wanted
        .iter()
        .filter(|n| !defined.contains(n.as_str()))
        .collect();
    assert!(
        renamed.is_empty(),
        "tests/specs/names.yaml's schemas named {renamed:?} did not keep their names"
    );
}

#[test]
fn no_generated_type_takes_a_reserved_name() {
    let item = Regex::new(r"(?m)^pub (?:struct|enum|type|trait) ([A-Za-z0-9_]+)").unwrap();
    for (path, text) in generated_files() {
        for c in item.captures_iter(&text) {
            assert!(
                !RESERVED_TYPES.contains(&&c[1])
                    || path == "src/generated/api.rs"
                    || path == "src/handlers.rs",
                "{path} defines `{}`, a reserved name",
                &c[1]
            );
        }
    }
}

#[test]
fn every_dependency_of_the_template_is_a_crate_name_packages_avoid() {
    let manifest =
        fs::read_to_string(common::repo().join("templates/project/Cargo.toml.tera")).unwrap();
    let dependency = Regex::new(r"(?m)^([a-z][a-z0-9_-]*) = ").unwrap();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_dependencies = line.contains("dependencies");
            continue;
        }
        if let Some(c) = dependency.captures(line).filter(|_| in_dependencies) {
            let name = c[1].replace('-', "_");
            assert!(
                apigen::model::names::CRATES.contains(&name.as_str()),
                "add `{name}` to CRATES in src/model/names.rs"
            );
        }
    }
}

#[test]
fn the_names_spec_has_an_operation_named_after_every_reserved_function() {
    let text = fs::read_to_string(names_spec()).unwrap();
    let ids: BTreeSet<&str> = Regex::new(r"operationId: (\S+)")
        .unwrap()
        .captures_iter(&text)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    let missing: Vec<&&str> = RESERVED_FNS.iter().filter(|f| !ids.contains(**f)).collect();
    assert!(
        missing.is_empty(),
        "tests/specs/names.yaml has no operation {missing:?}"
    );
}
