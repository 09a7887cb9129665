//! References in the merged template (`!Ref`, `!GetAtt`, `!Sub`, `!If`, `Condition`,
//! `DependsOn`) that name nothing: an added property naming a resource that does not exist, or
//! a removed entry that the rest still names.

use serde_norway::Value;

use crate::diagnostic::Diagnostic;
use crate::json_pointer::escape_segment;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A parameter, a resource or a pseudo parameter (`!Ref`, `${...}`).
    Value,
    /// A resource (`!GetAtt`, `DependsOn`).
    Resource,
    /// A condition.
    Condition,
}

struct Found {
    kind: Kind,
    name: String,
    pointer: String,
}

/// Every reference of `merged` that resolves to nothing, reported where the overrides wrote it
/// (or removed what it names).
pub(super) fn dangling(merged: &Value, generated: &Value, fragment: &Value) -> Vec<Diagnostic> {
    let keys = |section: &str| -> Vec<String> {
        merged
            .get(section)
            .and_then(Value::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let parameters = keys("Parameters");
    let resources = keys("Resources");
    let conditions = keys("Conditions");
    // SAM expands its resources into others named after them (`ApiFunctionRole`,
    // `RestApiApiKey`), which the template may name.
    let serverless: Vec<&str> = resources
        .iter()
        .filter(|r| {
            merged["Resources"][r.as_str()]["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with("AWS::Serverless::"))
        })
        .map(String::as_str)
        .collect();
    // What SAM names after a resource: `ApiFunctionRole`, `RestApiStage`, `RestApiApiKey`,
    // `RestApiUsagePlan`, `RestApiDeployment…`, `ApiFunction<Event>Permission…`. A generated
    // resource the overrides removed is never one of them.
    let removed = |name: &str| {
        generated["Resources"].get(name).is_some() && merged["Resources"].get(name).is_none()
    };
    let sam_made = |name: &str| {
        serverless.iter().any(|s| {
            name.strip_prefix(s).is_some_and(|rest| {
                ["Role", "Stage", "ApiKey", "UsagePlan", "Deployment"]
                    .iter()
                    .any(|suffix| rest.starts_with(suffix))
                    || rest.contains("Permission")
            })
        })
    };
    let resource =
        |name: &str| resources.iter().any(|r| r == name) || (sam_made(name) && !removed(name));
    let mut found = Vec::new();
    walk(merged, "", &mut found);
    let mut out = Vec::new();
    for f in found {
        let ok = match f.kind {
            Kind::Value => {
                f.name.starts_with("AWS::") || parameters.contains(&f.name) || resource(&f.name)
            }
            Kind::Resource => resource(&f.name),
            Kind::Condition => conditions.contains(&f.name),
        };
        if ok {
            continue;
        }
        let what = match f.kind {
            Kind::Value => "parameter or resource",
            Kind::Resource => "resource",
            Kind::Condition => "condition",
        };
        if pointer(fragment, &f.pointer).is_some() {
            out.push(
                Diagnostic::error(&f.pointer, format!("no {what} is named `{}`", f.name)).help(
                    format!(
                        "name one the template has, or add `{}` to the overrides",
                        f.name
                    ),
                ),
            );
            continue;
        }
        // The generated part names it: the overrides removed it.
        let removed = ["Parameters", "Resources", "Conditions"]
            .iter()
            .map(|s| format!("/{s}/{}", escape_segment(&f.name)))
            .find(|p| {
                pointer(fragment, p).is_some_and(Value::is_null) && pointer(generated, p).is_some()
            });
        let at = removed.unwrap_or_default();
        out.push(
            Diagnostic::error(
                at,
                format!(
                    "`{}` is removed, but the generated template still names it at `{}`",
                    f.name, f.pointer
                ),
            )
            .help("keep it, or change what names it too"),
        );
    }
    out
}

/// The value at a JSON pointer of a YAML document.
fn pointer<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    let mut current = value;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        current = match current {
            Value::Mapping(m) => m.get(segment.as_str())?,
            Value::Sequence(s) => s.get(segment.parse::<usize>().ok()?)?,
            Value::Tagged(t) => return pointer_in(&t.value, &segment),
            _ => return None,
        };
    }
    Some(current)
}

fn pointer_in<'v>(value: &'v Value, segment: &str) -> Option<&'v Value> {
    match value {
        Value::Mapping(m) => m.get(segment),
        Value::Sequence(s) => s.get(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

fn add(found: &mut Vec<Found>, kind: Kind, name: &str, at: &str) {
    found.push(Found {
        kind,
        name: name.to_string(),
        pointer: at.to_string(),
    });
}

fn walk(value: &Value, at: &str, found: &mut Vec<Found>) {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            function(tag.trim_start_matches('!'), &tagged.value, at, found);
        }
        Value::Mapping(m) => {
            for (key, inner) in m {
                let Some(key) = key.as_str() else { continue };
                let child = format!("{at}/{}", escape_segment(key));
                match key {
                    "Ref" => function("Ref", inner, &child, found),
                    "Condition" if inner.is_string() => {
                        // A resource's or an output's condition (two levels below the root).
                        if at.matches('/').count() == 2 {
                            add(
                                found,
                                Kind::Condition,
                                inner.as_str().unwrap_or_default(),
                                &child,
                            );
                        } else {
                            function("Condition", inner, &child, found);
                        }
                    }
                    "DependsOn" if at.matches('/').count() == 2 => match inner {
                        Value::String(name) => add(found, Kind::Resource, name, &child),
                        Value::Sequence(names) => {
                            for (i, name) in names.iter().enumerate() {
                                if let Some(name) = name.as_str() {
                                    add(found, Kind::Resource, name, &format!("{child}/{i}"));
                                }
                            }
                        }
                        _ => {}
                    },
                    k if k.starts_with("Fn::") => function(k, inner, &child, found),
                    _ => walk(inner, &child, found),
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The references an intrinsic function makes, and those of its arguments.
fn function(name: &str, args: &Value, at: &str, found: &mut Vec<Found>) {
    let name = name.trim_start_matches("Fn::");
    match (name, args) {
        ("Ref", Value::String(target)) => add(found, Kind::Value, target, at),
        ("Condition", Value::String(target)) => add(found, Kind::Condition, target, at),
        ("GetAtt", Value::String(target)) => {
            add(
                found,
                Kind::Resource,
                target.split('.').next().unwrap_or_default(),
                at,
            );
        }
        ("GetAtt", Value::Sequence(parts)) => {
            if let Some(target) = parts.first().and_then(Value::as_str) {
                add(found, Kind::Resource, target, at);
            }
        }
        ("Sub", Value::String(text)) => {
            for target in substitutions(text) {
                add(found, Kind::Value, &target, at);
            }
        }
        ("Sub", Value::Sequence(parts)) => {
            let variables: Vec<&str> = parts
                .get(1)
                .and_then(Value::as_mapping)
                .map(|m| m.keys().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(text) = parts.first().and_then(Value::as_str) {
                for target in substitutions(text) {
                    if !variables.contains(&target.as_str()) {
                        add(found, Kind::Value, &target, at);
                    }
                }
            }
            if let Some(vars) = parts.get(1) {
                walk(vars, &format!("{at}/1"), found);
            }
        }
        ("If", Value::Sequence(parts)) => {
            if let Some(condition) = parts.first().and_then(Value::as_str) {
                add(found, Kind::Condition, condition, at);
            }
            for (i, part) in parts.iter().enumerate().skip(1) {
                walk(part, &format!("{at}/{i}"), found);
            }
        }
        (_, args) => walk(args, at, found),
    }
}

/// The names `${Name}` and `${Name.Attribute}` of a `!Sub` text (not `${!Literal}`).
fn substitutions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        if inner.starts_with('!') || inner.is_empty() {
            continue;
        }
        out.push(inner.split('.').next().unwrap_or(inner).to_string());
    }
    out
}
