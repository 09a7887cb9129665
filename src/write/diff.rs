//! `apigen generate --check`: regeneration's changes as a unified diff.

use similar::TextDiff;

use super::changeset::{Change, Changes};

/// Every change as a unified diff with `a/` and `b/` paths, as git shows
/// them; hand edits that block regeneration are shown as the change that
/// `--force` would make.
pub fn unified(changes: &Changes) -> String {
    let mut out = String::new();
    for change in &changes.changes {
        match change {
            Change::Write { path, old, new } => {
                let a = old.as_ref().map(|_| format!("a/{path}"));
                out.push_str(&file_diff(
                    old.as_deref().unwrap_or(""),
                    new,
                    a,
                    Some(format!("b/{path}")),
                ));
            }
            Change::Remove { path, old } => {
                out.push_str(&file_diff(old, "", Some(format!("a/{path}")), None));
            }
        }
    }
    out
}

fn file_diff(old: &str, new: &str, a: Option<String>, b: Option<String>) -> String {
    let a = a.unwrap_or_else(|| "/dev/null".to_string());
    let b = b.unwrap_or_else(|| "/dev/null".to_string());
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    let mut unified = diff.unified_diff();
    out.push_str(&unified.context_radius(3).header(&a, &b).to_string());
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out
}
