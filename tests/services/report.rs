//! The figures of a run, as the Markdown tables the README shows.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::common;
use crate::schemathesis::{Outcome, MAX_EXAMPLES, SEED};

pub struct Row {
    pub spec: String,
    pub journeys: Vec<String>,
    /// HTTP exchanges the journeys and races checked, on each store.
    pub steps: usize,
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    pub schemathesis: Option<Outcome>,
}

pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let _ = writeln!(out, "#### specs/{}.yaml\n", row.spec);
        let _ = writeln!(
            out,
            "| Journeys passed (both stores) | Steps compared | schemathesis test cases | Failures |\n|---|---|---|---|"
        );
        let cases = row
            .schemathesis
            .as_ref()
            .map(|o| o.cases.to_string())
            .unwrap_or_else(|| "not run".into());
        let _ = writeln!(
            out,
            "| {} | {} | {cases} | 0 |\n",
            row.journeys.len(),
            row.steps
        );
        let _ = writeln!(out, "| DynamoDB requests per action | |\n|---|---|");
        for (action, made) in &row.requests {
            let made = if made.is_empty() {
                "none".to_string()
            } else {
                made.iter()
                    .map(|(a, n)| format!("{n} {a}"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            let _ = writeln!(out, "| {action} | {made} |");
        }
        if let Some(o) = &row.schemathesis {
            let _ = writeln!(out, "\nschemathesis: `{}`", o.command);
        }
        let _ = writeln!(out, "\n<details><summary>Journeys</summary>\n");
        for journey in &row.journeys {
            let _ = writeln!(out, "- {journey}");
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    let _ = writeln!(
        out,
        "schemathesis: seed {SEED}, at most {MAX_EXAMPLES} examples per operation and phase."
    );
    out
}

/// Writes the report beside the projects' build output and prints it.
pub fn write(rows: &[Row]) {
    let text = render(rows);
    let path = common::projects_target().join("service-report.md");
    std::fs::create_dir_all(common::projects_target()).expect("the target folder");
    std::fs::write(&path, &text).expect("the report is written");
    eprintln!("{text}\n(written to {})", path.display());
}
