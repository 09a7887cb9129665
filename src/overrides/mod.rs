//! The user's own part of the stack: `template.overrides.yaml`, merged into the generated
//! `template.yaml` on every generation, so that a team can add resources and change
//! properties without taking the template over (and losing every route a later spec adds).
//!
//! The file is a CloudFormation fragment. Each entry of `Parameters`, `Conditions`,
//! `Resources`, `Outputs`, `Mappings`, `Rules`, `Metadata` and `Globals` is either new (added
//! as written) or names a generated one, which it changes as a JSON merge patch (RFC 7396):
//! mappings merge key by key, anything else replaces, and `null` removes. The merge is checked
//! before anything is written: sections and entries exist, new resources have a `Type`, no
//! generated resource changes its type, and every reference resolves after the merge.

mod refs;
pub mod routes;
mod splice;

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::diagnostic::{Diagnostic, Report};
use crate::json_pointer::escape_segment;
use crate::model::hints::{closest, list};
use crate::source_map::SourceMap;

/// The file's name, in the project's folder.
pub const FILE: &str = "template.overrides.yaml";

/// The sections a fragment may hold.
pub const SECTIONS: &[&str] = &[
    "Parameters",
    "Conditions",
    "Resources",
    "Outputs",
    "Mappings",
    "Rules",
    "Metadata",
    "Globals",
];

/// The overrides file as read.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// The file at `path`, when there is one.
    pub fn read(path: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(Self {
                path: path.to_path_buf(),
                text,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What the merge changed, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Added { section: String, name: String },
    Changed { section: String, name: String },
    Removed { section: String, name: String },
}

/// `template` with `source` merged in, or every problem of `source` as a report against it.
pub fn merge(template: &str, source: &Source) -> Result<String, Report> {
    let report = |diagnostics: Vec<Diagnostic>| {
        let map = SourceMap::locate(&source.text, diagnostics.iter().map(|d| d.pointer.as_str()));
        Report::new(&source.path, diagnostics, Some(map)).with_source(&source.text)
    };
    let fragment: Value = match serde_norway::from_str(&source.text) {
        Ok(v) => v,
        Err(e) => {
            let mut map = SourceMap::default();
            if let Some(at) = e.location() {
                map.insert("", at.line(), at.column());
            }
            let d = Diagnostic::error("", format!("not YAML: {e}")).help(
                "write a CloudFormation fragment: `Resources:` and the resources to add or change",
            );
            return Err(Report::new(&source.path, vec![d], Some(map)).with_source(&source.text));
        }
    };
    let generated: Value = serde_norway::from_str(template).map_err(|e| {
        report(vec![Diagnostic::error(
            "",
            format!("the generated template cannot be read back to merge this file ({e})"),
        )
        .help("this is apigen's fault: please report it with the spec")])
    })?;
    let (merged, edits) = merged(&generated, &fragment).map_err(report)?;
    let problems = refs::dangling(&merged, &generated, &fragment);
    if !problems.is_empty() {
        return Err(report(problems));
    }
    Ok(splice::apply(template, &merged, &edits))
}

/// The generated template with the fragment merged in, and what changed.
fn merged(generated: &Value, fragment: &Value) -> Result<(Value, Vec<Edit>), Vec<Diagnostic>> {
    let mut out = generated.clone();
    let mut edits = Vec::new();
    let mut problems = Vec::new();
    let sections = match fragment {
        Value::Null => return Ok((out, edits)),
        Value::Mapping(m) => m,
        _ => {
            problems.push(
                Diagnostic::error("", "the overrides are not a mapping")
                    .help(format!("write sections: {}", list(SECTIONS))),
            );
            return Err(problems);
        }
    };
    for (key, entries) in sections {
        let Some(section) = key.as_str() else {
            problems.push(Diagnostic::error("", "a section's name must be text"));
            continue;
        };
        let at = format!("/{}", escape_segment(section));
        if !SECTIONS.contains(&section) {
            let suggestion = closest(section, SECTIONS)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            problems.push(
                Diagnostic::error(&at, format!("`{section}` is not a section apigen merges"))
                    .help(format!("{suggestion}the overrides take {}", list(SECTIONS))),
            );
            continue;
        }
        let entries = match entries {
            Value::Null => continue,
            Value::Mapping(m) => m,
            _ => {
                problems.push(
                    Diagnostic::error(&at, format!("`{section}` must be a mapping")).help(format!(
                        "write `{section}:` and under it one entry per name"
                    )),
                );
                continue;
            }
        };
        let Some(template) = out.as_mapping_mut() else {
            problems.push(Diagnostic::error(
                "",
                "the generated template is not a mapping",
            ));
            break;
        };
        let target = template
            .entry(Value::String(section.to_string()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if target.is_null() {
            *target = Value::Mapping(Mapping::new());
        }
        let Some(target) = target.as_mapping_mut() else {
            continue;
        };
        for (name, patch) in entries {
            let Some(name) = name.as_str() else {
                problems.push(Diagnostic::error(&at, "an entry's name must be text"));
                continue;
            };
            let entry_at = format!("{at}/{}", escape_segment(name));
            let key = Value::String(name.to_string());
            let edit =
                |kind: fn(String, String) -> Edit| kind(section.to_string(), name.to_string());
            match (target.get_mut(&key), patch) {
                (None, Value::Null) => problems.push(
                    Diagnostic::error(&entry_at, format!("`{name}` is not in the generated template, so there is nothing to remove"))
                        .help(format!("remove the line, or name one of the generated {}", names(target))),
                ),
                (None, patch) => {
                    if section == "Resources" {
                        check_new_resource(name, patch, &entry_at, &mut problems);
                    }
                    target.insert(key, strip_nulls(patch));
                    edits.push(edit(|section, name| Edit::Added { section, name }));
                }
                (Some(_), Value::Null) => {
                    target.remove(&key);
                    edits.push(edit(|section, name| Edit::Removed { section, name }));
                }
                (Some(existing), patch) => {
                    if section == "Resources" {
                        check_same_type(name, existing, patch, &entry_at, &mut problems);
                    }
                    merge_patch(existing, patch);
                    edits.push(edit(|section, name| Edit::Changed { section, name }));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok((out, edits))
    } else {
        Err(problems)
    }
}

fn names(section: &Mapping) -> String {
    let names: Vec<&str> = section.keys().filter_map(Value::as_str).collect();
    list(&names)
}

fn check_new_resource(name: &str, patch: &Value, at: &str, problems: &mut Vec<Diagnostic>) {
    let kind = patch.get("Type").and_then(Value::as_str);
    if !kind.is_some_and(|k| k.contains("::")) {
        problems.push(
            Diagnostic::error(at, format!("new resource `{name}` has no `Type`"))
                .help("give it a CloudFormation type: `Type: AWS::SQS::Queue`; or, to change a generated resource, use its name"),
        );
    }
}

fn check_same_type(
    name: &str,
    existing: &Value,
    patch: &Value,
    at: &str,
    problems: &mut Vec<Diagnostic>,
) {
    let Some(new) = patch.get("Type") else { return };
    if existing.get("Type") != Some(new) {
        problems.push(
            Diagnostic::error(
                format!("{at}/Type"),
                format!(
                    "`{name}` is a generated `{}`; its type cannot change",
                    existing.get("Type").and_then(Value::as_str).unwrap_or("?")
                ),
            )
            .help(format!(
                "to replace it, remove it (`{name}: null`) and add a resource under another name"
            )),
        );
    }
}

/// RFC 7396 on YAML: mappings merge key by key, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Mapping(target), Value::Mapping(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else if let Some(existing) = target.get_mut(key) {
                    merge_patch(existing, value);
                } else {
                    target.insert(key.clone(), strip_nulls(value));
                }
            }
        }
        (target, patch) => *target = strip_nulls(patch),
    }
}

/// A value added as written, but for `null`s in mappings, which mean "absent".
fn strip_nulls(value: &Value) -> Value {
    match value {
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The file apigen writes once, for the user: empty, and saying how to use it.
pub fn starter() -> &'static str {
    include_str!("starter.yaml")
}

#[cfg(test)]
mod tests;
