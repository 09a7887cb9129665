//! Global tables: what replicating a table to other regions allows, checked
//! before the template promises it.
//!
//! An eventually consistent table gets a replica in the deploying region
//! whatever that region is (the template adds it), and each region accepts
//! writes on its own: conditions hold per region, and the last writer wins
//! across regions. A strongly consistent table lists all its regions, which
//! DynamoDB limits to three (or two and a witness) of one region set.

use super::hints::child;
use super::storage::{Consistency, Entity, Table};
use crate::diagnostic::Diagnostic;

/// The regions a strongly consistent global table may span, by set.
pub const STRONG_REGION_SETS: &[(&str, &[&str])] = &[
    ("US", &["us-east-1", "us-east-2", "us-west-2"]),
    (
        "EU",
        &["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
    ),
    (
        "AP",
        &["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
    ),
];

pub fn check(tables: &[Table], entities: &[Entity]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let stored: Vec<&Entity> = entities.iter().filter(|e| e.table == i).collect();
        if t.replicas.is_empty() {
            if t.consistency == Consistency::Strong || t.witness.is_some() {
                let key = if t.witness.is_some() {
                    "witness"
                } else {
                    "consistency"
                };
                out.push(
                    Diagnostic::error(
                        child(&t.pointer, key),
                        format!(
                            "table `{}` has no replicas, so it is not a global table",
                            t.name
                        ),
                    )
                    .help("list the other regions in `replicas`, or remove it"),
                );
            }
            continue;
        }
        match t.consistency {
            Consistency::Eventual => {
                if let Some(witness) = &t.witness {
                    out.push(
                        Diagnostic::error(
                            child(&t.pointer, "witness"),
                            format!("a witness ({witness}) takes part in strongly consistent global tables only"),
                        )
                        .help("add `consistency: strong`, or remove `witness`"),
                    );
                }
                out.extend(stored.iter().filter_map(|e| races(t, e)));
            }
            Consistency::Strong => out.extend(strong(t, &stored)),
        }
    }
    out
}

/// The cross-region race an entity with preconditions runs on an eventually
/// consistent global table.
fn races(t: &Table, e: &Entity) -> Option<Diagnostic> {
    let (key, what) = match (e.unique.is_empty(), &e.version) {
        (false, _) => ("unique", format!("unique `{}`", e.unique.join("`, `"))),
        (true, Some(version)) => ("version", format!("version `{version}`")),
        (true, None) => return None,
    };
    Some(
        Diagnostic::warning(
            child(&e.pointer, key),
            format!(
                "`{}` is in global table `{}`, where its {what} is checked in one region at a time",
                e.schema, t.name
            ),
        )
        .help(format!(
            "two regions can accept conflicting writes before either sees the other's, and the last \
             writer wins: write `{}` in one region, or make the table `consistency: strong`",
            e.schema
        )),
    )
}

fn strong(t: &Table, stored: &[&Entity]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |key: &str| child(&t.pointer, key);
    let regions: Vec<&str> = t
        .replicas
        .iter()
        .chain(&t.witness)
        .map(String::as_str)
        .collect();
    let set = STRONG_REGION_SETS
        .iter()
        .find(|(_, members)| regions.iter().all(|r| members.contains(r)));
    let sets = STRONG_REGION_SETS
        .iter()
        .map(|(name, members)| format!("{name}: {}", members.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    let shape_ok = match &t.witness {
        Some(w) => t.replicas.len() == 2 && !t.replicas.contains(w),
        None => t.replicas.len() == 3,
    };
    let distinct = {
        let mut sorted = regions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.len() == regions.len()
    };
    if !shape_ok || !distinct {
        out.push(
            Diagnostic::error(
                at("replicas"),
                format!(
                    "strongly consistent table `{}` spans {}: DynamoDB needs three regions, or two and a witness",
                    t.name,
                    regions.join(", ")
                ),
            )
            .help("list three regions (the deploying one among them) in `replicas`, or two and a `witness`"),
        );
    } else if set.is_none() {
        out.push(
            Diagnostic::error(
                at("replicas"),
                format!(
                    "strongly consistent table `{}` spans regions of more than one region set",
                    t.name
                ),
            )
            .help(format!("take every region from one set: {sets}")),
        );
    }
    // DynamoDB runs neither transactions nor TTL on these tables.
    for e in stored {
        if !e.unique.is_empty() {
            out.push(
                Diagnostic::error(
                    child(&e.pointer, "unique"),
                    format!(
                        "`{}` keeps values unique with transactions, which strongly consistent table `{}` does not run",
                        e.schema, t.name
                    ),
                )
                .help("remove `unique`, or keep the entity in a table with `consistency: eventual`"),
            );
        }
        if e.expires.is_some() {
            out.push(
                Diagnostic::error(
                    child(&e.pointer, "expires"),
                    format!(
                        "`{}` expires through TTL, which strongly consistent table `{}` does not have",
                        e.schema, t.name
                    ),
                )
                .help("remove `expires`, or keep the entity in a table with `consistency: eventual`"),
            );
        }
    }
    if out.is_empty() {
        out.push(Diagnostic::note(
            at("replicas"),
            format!(
                "table `{}` is strongly consistent across {}: deploy the stack in one of {} (the template refuses any other region)",
                t.name,
                regions.join(", "),
                t.replicas.join(", ")
            ),
        ));
    }
    out
}
