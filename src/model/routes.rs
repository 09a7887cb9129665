//! Routes: the patterns a spec's paths are served under.
//!
//! OpenAPI allows what neither axum nor API Gateway does: several variables in one segment
//! (`/compare/{base}...{head}`), text around a variable (`/files/{name}.json`), and different
//! variable names at the same position (`/users/{id}` beside `/users/{login}/repos`). Both
//! routers allow exactly one capture per segment and one name per position. So every segment
//! holding a variable becomes one whole-segment capture, named the same wherever paths share
//! the prefix before it, and the generated service takes the segment apart against the spec's
//! path at run time.

use std::collections::{BTreeMap, BTreeSet};

use super::names;
use super::operations::{Method, Operation};
use crate::diagnostic::Diagnostic;

/// Names captures as paths come in, so that paths sharing a prefix agree on them.
#[derive(Debug, Default)]
pub struct Routes {
    /// Keyed by the prefix as the routers see it, captures unnamed.
    names_at: BTreeMap<String, String>,
}

impl Routes {
    /// `/repos/{owner}/{repo}/compare/{base}...{head}` gives
    /// `/repos/{owner}/{repo}/compare/{base_head}`, unless an earlier path named a position.
    pub fn route(&mut self, path: &str) -> String {
        let mut route = String::new();
        let mut shape = String::new();
        let mut used = BTreeSet::new();
        for (index, segment) in path.split('/').enumerate().skip(1) {
            route.push('/');
            shape.push('/');
            if !segment.contains('{') {
                route.push_str(segment);
                shape.push_str(segment);
                continue;
            }
            shape.push_str("{}");
            let name = self.names_at.entry(shape.clone()).or_insert_with(|| {
                let variables = path_variables(segment);
                let joined = variables.join("_");
                // API Gateway accepts letters, digits and underscores in a variable's name.
                let mut name = if joined
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    joined
                } else {
                    names::field_name(&joined)
                        .trim_start_matches("r#")
                        .to_string()
                };
                if name.is_empty() || used.contains(&name) {
                    name = format!("{name}_{index}");
                }
                name
            });
            used.insert(name.clone());
            route.push('{');
            route.push_str(name);
            route.push('}');
        }
        if route.is_empty() {
            route.push('/');
        }
        route
    }
}

/// `/a/{b}/c/{d}` gives `b`, `d`.
pub fn path_variables(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 1..start + end].to_string());
        rest = &rest[start + end + 1..];
    }
    out
}

/// Warns where two operations of one method fall on the same route: the service tries the one
/// whose path has more fixed text first.
pub fn warn_shared(operations: &[Operation], diagnostics: &mut Vec<Diagnostic>) {
    let mut shared: BTreeMap<(&str, Method), Vec<&Operation>> = BTreeMap::new();
    for op in operations.iter() {
        shared.entry((&op.route, op.method)).or_default().push(op);
    }
    for ((route, method), ops) in shared {
        if ops.len() < 2 {
            continue;
        }
        let ordered = by_specificity(ops);
        let paths: Vec<String> = ordered.iter().map(|o| format!("`{}`", o.path)).collect();
        diagnostics.push(
            Diagnostic::warning(
                &ordered[1].pointer,
                format!(
                    "{} paths share the route `{} {route}`, since routers capture whole segments: {}; the service tries them in that order",
                    paths.len(),
                    method.upper(),
                    paths.join(", "),
                ),
            )
            .help("give the paths distinct fixed segments if a request could match more than one"),
        );
    }
}

/// Operations sharing a route, in the order the service tries them: most fixed text first,
/// then spec order.
pub fn by_specificity(mut ops: Vec<&Operation>) -> Vec<&Operation> {
    ops.sort_by_key(|o| std::cmp::Reverse(fixed_text(&o.path)));
    ops
}

fn fixed_text(path: &str) -> usize {
    let mut inside = false;
    path.chars()
        .filter(|&c| {
            match c {
                '{' => inside = true,
                '}' => inside = false,
                _ => return !inside,
            }
            false
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(paths: &[&str]) -> Vec<String> {
        let mut routes = Routes::default();
        paths.iter().map(|p| routes.route(p)).collect()
    }

    #[test]
    fn whole_segment_variables_keep_their_names() {
        assert_eq!(
            routes(&["/pets/{petId}", "/tags/{tag-name}", "/"]),
            ["/pets/{petId}", "/tags/{tag_name}", "/"]
        );
    }

    #[test]
    fn several_variables_in_a_segment_become_one_capture() {
        assert_eq!(
            routes(&["/compare/{base}...{head}", "/files/{name}.json"]),
            ["/compare/{base_head}", "/files/{name}"]
        );
    }

    #[test]
    fn a_position_keeps_the_first_name_given_to_it() {
        assert_eq!(
            routes(&["/users/{id}", "/users/{login}/repos", "/orgs/{login}"]),
            ["/users/{id}", "/users/{id}/repos", "/orgs/{login}"]
        );
    }

    #[test]
    fn a_name_is_not_reused_within_one_route() {
        assert_eq!(
            routes(&["/a/{x}/b/{y}", "/a/{y}/c/{x}"]),
            ["/a/{x}/b/{y}", "/a/{x}/c/{x_4}"]
        );
    }

    #[test]
    fn fixed_text_ignores_variables() {
        assert_eq!(fixed_text("/c/{base}...{head}"), 6);
        assert_eq!(fixed_text("/c/{basehead}"), 3);
    }
}
