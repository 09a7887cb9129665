//! The runtime crate generated projects depend on: where its vendored copy goes, the version
//! they require, and what changed between two versions.

use super::templates::{RUNTIME, RUNTIME_VERSION};

/// Where `apigen new` puts its copy of the runtime crate, relative to the project.
pub const VENDOR: &str = "vendor/apigen-runtime";

/// The version requirement generated projects put on the runtime: the runtime apigen embeds,
/// as Cargo reads a bare requirement (compatible updates allowed).
pub fn runtime_requirement() -> String {
    let mut parts = RUNTIME_VERSION.split('.');
    match (parts.next(), parts.next()) {
        // 0.x: each minor version may break, so it is the unit of compatibility.
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(major), _) => major.to_string(),
        _ => RUNTIME_VERSION.to_string(),
    }
}

/// The changelog entries of the runtime after `since` up to the embedded version, newest first;
/// all of them when `since` is unknown. Empty when nothing changed.
pub fn changes_since(since: Option<&str>) -> String {
    let Some((_, changelog)) = RUNTIME.iter().find(|(path, _)| *path == "CHANGELOG.md") else {
        return String::new();
    };
    let mut out = String::new();
    let mut keep = false;
    for line in changelog.lines() {
        if let Some(version) = line.strip_prefix("## ") {
            let version = version.split_whitespace().next().unwrap_or_default();
            keep = Some(version) != since && since.is_none_or(|s| newer(version, s));
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Whether version `a` comes after `b` (numeric `major.minor.patch`; anything else compares as 0).
fn newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) > parse(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(newer("0.10.0", "0.9.3"));
        assert!(newer("1.0.0", "0.99.0"));
        assert!(!newer("0.1.0", "0.1.0"));
        assert!(!newer("0.1.0", "0.2.0"));
    }

    #[test]
    fn the_current_version_has_changed_nothing_since_itself() {
        assert_eq!(changes_since(Some(RUNTIME_VERSION)), "");
    }

    #[test]
    fn an_unknown_version_gets_the_whole_changelog_from_the_current_entry() {
        let all = changes_since(None);
        assert!(all.starts_with(&format!("## {RUNTIME_VERSION}")), "{all}");
    }

    #[test]
    fn an_older_version_gets_the_entries_after_it() {
        let since = changes_since(Some("0.0.1"));
        assert!(since.contains(&format!("## {RUNTIME_VERSION}")), "{since}");
    }

    #[test]
    fn requirement_allows_compatible_versions_only() {
        let requirement = runtime_requirement();
        assert!(RUNTIME_VERSION.starts_with(&requirement), "{requirement}");
        assert!(!requirement.is_empty());
    }
}
