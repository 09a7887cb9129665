//! Which Lambda function serves which operations: one for the whole API (`functions:
//! single`), one per operation (`perOperation`) or one per tag (`perTag`). Each function is a
//! binary of the one crate, deployed with the routes, the IAM access, the logs and the alarms
//! of its own operations.

use heck::{ToKebabCase, ToUpperCamelCase};

use super::gateway::Routes;
use super::operations::Operation;
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Functions {
    Single,
    PerOperation,
    PerTag,
}

/// The binary of the project that answers Lambda authorizer requests.
pub const AUTHORIZER_BINARY: &str = "authorizer";

/// The group of operations of untagged operations under `perTag`.
pub const UNTAGGED: &str = "untagged";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The template's resource (`ApiFunction`, `GetOrderFunction`, `OrdersFunction`).
    pub resource: String,
    /// Its binary (`src/bin/<binary>.rs`); `None` for the single function, built from
    /// `src/main.rs`.
    pub binary: Option<String>,
    /// What it serves, in words: `getOrder`, or `the operations tagged orders`.
    pub label: String,
    /// The operations (indexes) it serves.
    pub operations: Vec<usize>,
}

/// The functions of the API, or why its operations cannot be split.
pub fn plan(
    functions: Functions,
    operations: &[Operation],
    routes: &Routes,
    crate_name: &str,
    pointer: &str,
) -> Result<Vec<Function>, Diagnostic> {
    if functions == Functions::Single {
        return Ok(vec![Function {
            resource: "ApiFunction".into(),
            binary: None,
            label: "every operation".into(),
            operations: (0..operations.len()).collect(),
        }]);
    }
    if let Routes::CatchAll { .. } = routes {
        return Err(Diagnostic::error(
            pointer,
            "an API with more routes than a stack deploys one by one is served by catch-all routes, which one function must answer",
        )
        .help("use `functions: single`, or split the API into several specs"));
    }
    let mut out: Vec<Function> = Vec::new();
    for (i, op) in operations.iter().enumerate() {
        // Operations sharing a route and method are one route of API Gateway: one function.
        let shared = operations[..i]
            .iter()
            .position(|o| o.route == op.route && o.method == op.method);
        if let Some(first) = shared {
            if let Some(f) = out.iter_mut().find(|f| f.operations.contains(&first)) {
                f.operations.push(i);
                continue;
            }
        }
        let (group, label) = match functions {
            Functions::PerTag => {
                let tag = op.tags.first().map_or(UNTAGGED, String::as_str);
                (tag.to_string(), format!("the operations tagged `{tag}`"))
            }
            _ => (op.id.clone(), format!("`{}`", op.id)),
        };
        // Logical ids are ASCII letters and digits.
        let ascii: String = group
            .to_upper_camel_case()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let ascii = if ascii.is_empty() {
            format!("Operation{}", i + 1)
        } else {
            ascii
        };
        let resource = format!("{ascii}Function");
        if let Some(f) = out.iter_mut().find(|f| f.resource == resource) {
            f.operations.push(i);
            continue;
        }
        let mut binary = ascii.to_kebab_case();
        if binary == crate_name || binary == AUTHORIZER_BINARY {
            binary = format!("{binary}-function");
        }
        out.push(Function {
            resource,
            binary: Some(binary),
            label,
            operations: vec![i],
        });
    }
    // Each function brings about seven resources (itself, its role, a permission per route,
    // its logs and three alarms) to a stack CloudFormation caps at 500.
    if out.len() > MAX_FUNCTIONS {
        return Err(Diagnostic::error(
            pointer,
            format!(
                "{} functions are more than the {MAX_FUNCTIONS} a stack holds with their roles, logs and alarms",
                out.len()
            ),
        )
        .help("use `functions: perTag` to group operations, or split the API into several specs"));
    }
    Ok(out)
}

/// The most functions one stack deploys.
pub const MAX_FUNCTIONS: usize = 60;
