//! The user's half of a project, read (never written) after regeneration to
//! say what the spec now asks of it: a method for each operation without a
//! storage action that `impl Handlers` lacks (the build fails naming it),
//! and the methods whose operation is gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::model::Api;

/// How the user's `impl Handlers` compares with the operations.
#[derive(Debug, Default)]
pub struct HandlerGaps {
    /// The files holding `impl Handlers`; empty when none was found, and
    /// then nothing can be said.
    pub files: Vec<PathBuf>,
    /// Operations that need a method the impl lacks, with a stub to paste.
    pub missing: Vec<MissingHandler>,
    /// Methods of the impl that are no longer operations.
    pub unknown: Vec<String>,
}

#[derive(Debug)]
pub struct MissingHandler {
    pub operation: String,
    pub method: String,
    /// The method, formatted and indented for an `impl` block.
    pub stub: String,
}

/// Compares the `impl Handlers` blocks under `dir/src` (outside
/// `src/generated`) with `api`'s operations.
pub fn handler_gaps(api: &Api, dir: &Path) -> HandlerGaps {
    let mut gaps = HandlerGaps::default();
    let mut implemented = BTreeSet::new();
    for file in rust_files(&dir.join("src")) {
        let Some(parsed) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| syn::parse_file(&text).ok())
        else {
            continue;
        };
        collect(&parsed.items, &mut implemented, &mut gaps.files, &file);
    }
    gaps.files.dedup();
    if gaps.files.is_empty() {
        return gaps;
    }
    let mut known: BTreeSet<&str> = api.operations.iter().map(|o| o.ident.as_str()).collect();
    known.insert("store");
    for op in api.operations.iter().filter(|o| o.action.is_none()) {
        if !implemented.contains(&op.ident) {
            gaps.missing.push(MissingHandler {
                operation: op.id.clone(),
                method: op.ident.clone(),
                stub: format_stub(&crate::emit::handler_stub(op)),
            });
        }
    }
    gaps.unknown = implemented
        .into_iter()
        .filter(|m| !known.contains(m.as_str()))
        .collect();
    gaps
}

fn collect(
    items: &[syn::Item],
    methods: &mut BTreeSet<String>,
    files: &mut Vec<PathBuf>,
    file: &Path,
) {
    for item in items {
        match item {
            syn::Item::Impl(imp) => {
                let is_handlers = imp
                    .trait_
                    .as_ref()
                    .and_then(|(_, path, _)| path.segments.last())
                    .is_some_and(|s| s.ident == "Handlers");
                if !is_handlers {
                    continue;
                }
                files.push(file.to_path_buf());
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it {
                        methods.insert(f.sig.ident.to_string());
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect(inner, methods, files, file);
                }
            }
            _ => {}
        }
    }
}

/// The user's Rust files, sorted, skipping what apigen generates.
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path != src.join("generated") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Formats a method as it sits in an `impl` block, four spaces in.
fn format_stub(method: &str) -> String {
    let wrapped = format!("impl Handlers for Service {{\n{method}\n}}\n");
    let Ok(file) = syn::parse_file(&wrapped) else {
        return method.to_string();
    };
    let text = prettyplease::unparse(&file);
    let lines: Vec<&str> = text.lines().collect();
    let inner = &lines[1..lines.len().saturating_sub(1).max(1)];
    let mut out = inner.join("\n");
    out.push('\n');
    out
}

/// The lines of the `[dependencies]` table in `planned` (apigen's
/// Cargo.toml for the spec) whose crate the user's `Cargo.toml` lacks: a
/// spec that gains storage needs the AWS SDK, say. A line-level reading of
/// the two tables as apigen writes them, which is all this hint needs.
pub fn missing_dependencies(planned: &str, yours: &str) -> Vec<String> {
    let have = dependency_lines(yours)
        .map(|(name, _)| name)
        .collect::<BTreeSet<_>>();
    dependency_lines(planned)
        .filter(|(name, _)| !have.contains(name))
        .map(|(_, line)| line.to_string())
        .collect()
}

/// `(crate, feature)` for each feature that `planned` asks of a crate and
/// the user's `Cargo.toml` lists that crate without: a spec that gains
/// storage needs apigen-runtime's `dynamodb`, say. Crates the user lacks
/// altogether are [`missing_dependencies`]' to report.
pub fn missing_features(planned: &str, yours: &str) -> Vec<(String, String)> {
    let theirs = dependency_texts(yours);
    let mut out = Vec::new();
    for (name, line) in dependency_lines(planned) {
        let Some(text) = theirs.iter().find(|(n, _)| *n == name).map(|(_, t)| t) else {
            continue;
        };
        for feature in quoted_features(line) {
            if !quoted_features(text).contains(&feature) {
                out.push((name.clone(), feature));
            }
        }
    }
    out
}

/// The strings inside `features = [...]` in `text`.
fn quoted_features(text: &str) -> Vec<String> {
    let Some(list) = text.split_once("features").and_then(|(_, rest)| {
        let rest = rest
            .trim_start()
            .strip_prefix('=')?
            .trim_start()
            .strip_prefix('[')?;
        rest.split_once(']').map(|(list, _)| list)
    }) else {
        return Vec::new();
    };
    list.split(',')
        .map(|f| f.trim().trim_matches('"').to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// `(crate, text)` for each entry of `[dependencies]`: its line, or the
/// whole `[dependencies.name]` table.
fn dependency_texts(toml: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut table: Option<usize> = None;
    for line in toml.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed.strip_prefix("[dependencies.").map(|name| {
                let name = name.trim_end_matches(']').trim_matches('"');
                out.push((name.to_string(), String::new()));
                out.len() - 1
            });
        } else if let Some(i) = table {
            out[i].1.push_str(line);
            out[i].1.push('\n');
        }
    }
    for (name, line) in dependency_lines(toml) {
        if !line.trim().starts_with('[') {
            out.push((name, line.to_string()));
        }
    }
    out
}

/// `(crate, line)` for each entry of `[dependencies]`, including
/// `[dependencies.name]` tables.
fn dependency_lines(toml: &str) -> impl Iterator<Item = (String, &str)> {
    let mut in_table = false;
    toml.lines().filter_map(move |line| {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            let header = header.trim_end_matches(']').trim();
            in_table = header == "dependencies";
            return header
                .strip_prefix("dependencies.")
                .map(|name| (name.trim_matches('"').to_string(), line));
        }
        if !in_table || trimmed.starts_with('#') {
            return None;
        }
        let name = trimmed.split(['=', '.']).next()?.trim().trim_matches('"');
        (!name.is_empty()).then(|| (name.to_string(), line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_features_the_user_lacks_in_either_table_form() {
        let planned = "[dependencies]\napigen-runtime = { version = \"0.1\", path = \"vendor/apigen-runtime\", features = [\"lambda\", \"dynamodb\"] }\naxum = { version = \"0.8\", features = [\"json\"] }\n";
        let inline = "[dependencies]\napigen-runtime = { version = \"0.1\", features = [\"lambda\"] }\naxum = { version = \"0.8\", features = [\"json\", \"ws\"] }\n";
        let expected = vec![("apigen-runtime".to_string(), "dynamodb".to_string())];
        assert_eq!(missing_features(planned, inline), expected);
        let table = "[dependencies.apigen-runtime]\nversion = \"0.1\"\nfeatures = [\"lambda\"]\n\n[dependencies]\naxum = { version = \"0.8\", features = [\"json\"] }\n";
        assert_eq!(missing_features(planned, table), expected);
        let complete = "[dependencies]\napigen-runtime = { version = \"0.1\", features = [\"dynamodb\", \"lambda\"] }\naxum = { version = \"0.8\", features = [\"json\"] }\n";
        assert!(missing_features(planned, complete).is_empty());
        // A crate the user lacks is the other check's to report.
        assert!(missing_features(planned, "[dependencies]\n").is_empty());
    }

    #[test]
    fn finds_crates_the_user_lacks_in_either_table_form() {
        let planned = "[package]\nname = \"x\"\n\n[dependencies]\naxum = \"0.8\"\nsha2 = \"0.10\"\nulid = \"1\"\n\n[dev-dependencies]\ntower = \"0.5\"\n";
        let yours = "[dependencies]\naxum = { version = \"0.8\" }\n# ulid = \"1\"\n\n[dependencies.sha2]\nversion = \"0.10\"\n";
        assert_eq!(missing_dependencies(planned, yours), vec!["ulid = \"1\""]);
    }

    #[test]
    fn stubs_are_indented_for_an_impl_block() {
        let stub = format_stub("async fn a(&self) -> Result<(), ApiError> { todo!() }");
        assert!(stub.starts_with("    async fn a(&self)"), "{stub}");
        assert!(stub.ends_with("    }\n"), "{stub}");
    }
}
