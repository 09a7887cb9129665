//! The routes a template deploys, so that `apigen generate` can say which of the spec's a
//! template the user took over lacks.

use std::collections::BTreeSet;

use serde_norway::Value;

/// `(METHOD, path)` of every API event of every function in `template`; `None` when the text
/// is not a YAML mapping.
pub fn deployed(template: &str) -> Option<BTreeSet<(String, String)>> {
    let value: Value = serde_norway::from_str(template).ok()?;
    let resources = value.get("Resources")?.as_mapping()?;
    let mut out = BTreeSet::new();
    for resource in resources.values() {
        let Some(events) = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for event in events.values() {
            let api = matches!(
                event.get("Type").and_then(Value::as_str),
                Some("Api" | "HttpApi")
            );
            let properties = event.get("Properties");
            let field = |name: &str| {
                properties
                    .and_then(|p| p.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            if let (true, Some(path), Some(method)) = (api, field("Path"), field("Method")) {
                out.insert((method.to_ascii_uppercase(), path));
            }
        }
    }
    Some(out)
}

/// The routes `generated` deploys that `adopted` does not (where a catch-all `ANY /{proxy+}`
/// of the adopted template serves every route, nothing is missing).
pub fn missing(adopted: &str, generated: &str) -> Vec<(String, String)> {
    let (Some(have), Some(want)) = (deployed(adopted), deployed(generated)) else {
        return Vec::new();
    };
    if have.contains(&("ANY".to_string(), "/{proxy+}".to_string())) {
        return Vec::new();
    }
    want.into_iter()
        .filter(|(method, path)| {
            !have.contains(&(method.clone(), path.clone()))
                && !have.contains(&("ANY".to_string(), path.clone()))
        })
        .collect()
}
