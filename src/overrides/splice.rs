//! Writing the merge into the generated template's text: entries the overrides change are
//! written anew where they were, removed ones are cut, added ones go at the end of their
//! section, so that the rest keeps its comments and layout.

use serde_norway::{Mapping, Value};

use super::Edit;

/// The line range of each `  Name:` entry of `section`, and where its section ends.
struct Section {
    end: usize,
    entries: Vec<(String, usize, usize)>,
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn section(lines: &[&str], name: &str) -> Option<Section> {
    let header = format!("{name}:");
    let start = lines.iter().position(|l| l.trim_end() == header)?;
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        if !line.starts_with(' ') && !is_comment_or_blank(line) {
            end = i;
            break;
        }
    }
    // Comments and blank lines before the next section are that section's.
    while end > start + 1 && is_comment_or_blank(lines[end - 1]) {
        end -= 1;
    }
    let heads: Vec<(String, usize)> = (start + 1..end)
        .filter_map(|i| {
            let line = lines[i];
            let rest = line.strip_prefix("  ")?;
            if rest.starts_with(' ') || is_comment_or_blank(line) {
                return None;
            }
            let name = rest.split(':').next()?.trim().trim_matches('"').to_string();
            Some((name, i))
        })
        .collect();
    let entries = heads
        .iter()
        .enumerate()
        .map(|(k, (name, first))| {
            let mut last = heads.get(k + 1).map_or(end, |(_, next)| *next);
            while last > first + 1 && is_comment_or_blank(lines[last - 1]) {
                last -= 1;
            }
            (name.clone(), *first, last)
        })
        .collect();
    Some(Section { end, entries })
}

/// `name: value` as YAML, two spaces in.
fn render(name: &str, value: &Value) -> Vec<String> {
    let mut one = Mapping::new();
    one.insert(Value::String(name.to_string()), value.clone());
    let text = serde_norway::to_string(&Value::Mapping(one)).unwrap_or_default();
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {}", quote_yaml_1_1(l))
            }
        })
        .collect()
}

/// A line whose plain scalar YAML 1.2 reads as text but YAML 1.1 (which SAM and cfn-lint use)
/// as a date or a boolean (`2012-10-17`, `yes`, `off`), with the scalar quoted. serde_norway
/// quotes only what YAML 1.2 would misread; a real boolean is written `true` or `false`.
fn quote_yaml_1_1(line: &str) -> String {
    let (head, value) = match line.rsplit_once(": ") {
        Some((head, value)) => (format!("{head}: "), value),
        None => match line.trim_start().strip_prefix("- ") {
            Some(value) => (line[..line.len() - value.len()].to_string(), value),
            None => return line.to_string(),
        },
    };
    let date = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let boolean = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ]
    .contains(&value);
    if date || boolean {
        format!("{head}'{value}'")
    } else {
        line.to_string()
    }
}

pub(super) fn apply(template: &str, merged: &Value, edits: &[Edit]) -> String {
    if edits.is_empty() {
        return template.to_string();
    }
    let lines: Vec<&str> = template.lines().collect();
    // (first line, line after the last, replacement), applied from the bottom up.
    let mut replacements: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut new_sections: Vec<String> = Vec::new();
    let value = |section: &str, name: &str| merged[section][name].clone();
    let mut added: Vec<(&str, &str)> = Vec::new();
    for edit in edits {
        match edit {
            Edit::Changed { section, name } | Edit::Removed { section, name } => {
                let Some(s) = self::section(&lines, section) else {
                    continue;
                };
                let Some((_, first, last)) = s.entries.iter().find(|(n, ..)| n == name) else {
                    continue;
                };
                let replacement = match edit {
                    Edit::Changed { .. } => {
                        let mut out = vec!["  # Changed by template.overrides.yaml.".to_string()];
                        out.extend(render(name, &value(section, name)));
                        out
                    }
                    _ => vec![format!("  # {name}: removed by template.overrides.yaml.")],
                };
                replacements.push((*first, *last, replacement));
            }
            Edit::Added { section, name } => added.push((section, name)),
        }
    }
    let mut sections: Vec<&str> = Vec::new();
    for (section, _) in &added {
        if !sections.contains(section) {
            sections.push(section);
        }
    }
    for section in sections {
        let mut out = Vec::new();
        for (_, name) in added.iter().filter(|(s, _)| *s == section) {
            out.push(String::new());
            out.push("  # Added by template.overrides.yaml.".to_string());
            out.extend(render(name, &value(section, name)));
        }
        match self::section(&lines, section) {
            Some(s) => replacements.push((s.end, s.end, out)),
            None => {
                new_sections.push(String::new());
                new_sections.push(format!("{section}:"));
                new_sections.extend(out.into_iter().skip(1));
            }
        }
    }
    replacements.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for (first, last, replacement) in replacements {
        out.splice(first..last, replacement);
    }
    out.extend(new_sections);
    if out.len() > 1 {
        out.insert(
            1,
            "# Merged with template.overrides.yaml, which is yours: change that file, not this one."
                .to_string(),
        );
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}
