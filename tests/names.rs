//! Any name a spec gives a schema, property, parameter or operation gives a project
//! that compiles. tests/specs/names.yaml names its schemas like every public item of the
//! runtime and every name generated modules import (it is generated, clippy'd and tested
//! like the other unseen specs); these tests keep that spec and the reserved-name lists
//! in step with the code, so that a runtime name added later fails here first.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use apigen::model::names::{RESERVED_FNS, RESERVED_TYPES};
use regex::Regex;

fn names_spec() -> std::path::PathBuf {
    common::repo().join("tests/specs/names.yaml")
}

/// `pub struct|enum|type|trait|fn|const|static|mod NAME` in the runtime templates.
fn runtime_names() -> BTreeSet<String> {
    let item = Regex::new(
        r"(?m)^\s*pub(?:\([a-z]+\))? (?:async )?(?:struct|enum|type|trait|fn|const|static|mod) ([A-Za-z_][A-Za-z0-9_]*)",
    )
    .unwrap();
    let mut names = BTreeSet::new();
    let mut dirs = vec![common::repo().join("templates/project/src")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let text = fs::read_to_string(&path).unwrap();
                names.extend(item.captures_iter(&text).map(|c| c[1].to_string()));
            }
        }
    }
    names
}

/// Names imported one by one (not by glob) into generated files that also glob-import
/// generated names (`models::*`, `operations::*`, `entities::*`): those must never be
/// the name of a generated item, or the import silently wins.
fn names_imported_beside_globs(files: &[(String, String)]) -> BTreeSet<(String, String)> {
    let use_item = Regex::new(r"(?ms)^\s*(?:pub )?use ([^;]*);").unwrap();
    let ident = Regex::new(r"(?:\bas\s+)?\b([A-Za-z_][A-Za-z0-9_]*)\s*(?:[,}]|$)").unwrap();
    let mut out = BTreeSet::new();
    for (path, text) in files {
        let globs = ["models::*", "operations::*", "entities::*"];
        if !globs.iter().any(|g| text.contains(g)) {
            continue;
        }
        for u in use_item.captures_iter(text) {
            let tree = u[1].replace(char::is_whitespace, "");
            for c in ident.captures_iter(&tree) {
                let name = &c[1];
                if name != "self" && name != "_" {
                    out.insert((path.clone(), name.to_string()));
                }
            }
        }
    }
    out
}

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
        .filter(|f| f.path.ends_with(".rs"))
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
fn names_imported_beside_glob_imports_are_reserved() {
    let files = generated_files();
    let imported = names_imported_beside_globs(&files);
    assert!(!imported.is_empty(), "the scan found no imports");
    let unreserved: Vec<_> = imported
        .iter()
        .filter(|(_, name)| {
            if name.starts_with(char::is_uppercase) {
                !RESERVED_TYPES.contains(&name.as_str())
            } else {
                !RESERVED_FNS.contains(&name.as_str())
            }
        })
        .collect();
    assert!(
        unreserved.is_empty(),
        "these names are imported beside a glob import of generated names, so a schema or \
         operation named so would be silently shadowed; add them to RESERVED_TYPES or \
         RESERVED_FNS in src/model/names.rs (and a schema to tests/specs/names.yaml): {unreserved:?}"
    );
}

#[test]
fn no_generated_type_takes_a_reserved_name() {
    let item = Regex::new(r"(?m)^pub (?:struct|enum|type|trait) ([A-Za-z0-9_]+)").unwrap();
    for (path, text) in generated_files() {
        if Path::new(&path).starts_with("src/generated/store") || path.ends_with("http.rs") {
            continue;
        }
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
