//! How operations become API Gateway routes.
//!
//! Each route is a SAM event, and each event a route and a permission in the stack, so past
//! [`MAX_ROUTES`] the API is served by catch-all routes (`/` and `/{proxy+}`). A catch-all
//! route has one authorizer: it checks what most operations need, and every route whose
//! operations need something else keeps routes of its own, all its methods, so that neither
//! API kind lets a request fall through to the catch-all's check.

use std::collections::BTreeSet;

use super::operations::Operation;
use super::security::{Auth, Gateway};
use crate::diagnostic::Diagnostic;

/// API Gateway allows 300 routes per API, and CloudFormation 500 resources per stack with
/// each route adding a Lambda permission: past this many the catch-all routes serve the rest,
/// and the function's router answers unknown paths and methods itself.
pub const MAX_ROUTES: usize = 200;

/// The routes of the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Routes {
    /// Every operation has a route of its own.
    #[default]
    Each,
    /// Catch-all routes checking `common` (without scopes: the function checks them), and
    /// routes of their own for the operations (indexes) that need something else, or share a
    /// route with one that does.
    CatchAll {
        common: Gateway,
        explicit: Vec<usize>,
    },
}

/// Plans the routes, or says why they cannot be deployed.
pub fn plan(operations: &[Operation], auth: &Auth) -> Result<Routes, Diagnostic> {
    let routes: BTreeSet<(&str, _)> = operations
        .iter()
        .map(|o| (o.route.as_str(), o.method))
        .collect();
    if routes.len() <= MAX_ROUTES {
        return Ok(Routes::Each);
    }
    let checks: Vec<Gateway> = operations
        .iter()
        .map(|o| Gateway {
            scopes: Vec::new(),
            ..o.security.gateway(auth)
        })
        .collect();
    // The check most operations share goes to the catch-all (the first such on a tie).
    let common = checks
        .iter()
        .max_by_key(|c| {
            let count = checks.iter().filter(|other| other == c).count();
            let first = checks.iter().position(|other| other == *c).unwrap_or(0);
            (count, std::cmp::Reverse(first))
        })
        .cloned()
        .unwrap_or_default();
    let differing: BTreeSet<&str> = operations
        .iter()
        .zip(&checks)
        .filter(|(_, c)| **c != common)
        .map(|(o, _)| o.route.as_str())
        .collect();
    let explicit: Vec<usize> = (0..operations.len())
        .filter(|&i| differing.contains(operations[i].route.as_str()))
        .collect();
    let explicit_routes: BTreeSet<(&str, _)> = explicit
        .iter()
        .map(|&i| (operations[i].route.as_str(), operations[i].method))
        .collect();
    // Two catch-all routes beside the explicit ones.
    if explicit_routes.len() + 2 > MAX_ROUTES {
        return Err(Diagnostic::error(
            "/paths",
            format!(
                "{} routes are more than the {MAX_ROUTES} a stack deploys one by one, and {} of them need other credentials than the rest, which one catch-all route cannot check",
                routes.len(),
                explicit_routes.len()
            ),
        )
        .help("give more operations the same `security` (the root `security`, without overrides), or split the API into several specs"));
    }
    Ok(Routes::CatchAll { common, explicit })
}
