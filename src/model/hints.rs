//! Reading the three hints (`x-apigen`, `x-apigen-entity`,
//! `x-apigen-action`) from the document as written. Every key is checked:
//! a misspelt hint is an error, not a silently ignored extension.

use serde_json::{Map, Value};

use crate::diagnostic::Diagnostic;
use crate::json_pointer::escape_segment;

pub const ROOT: &str = "x-apigen";
pub const ENTITY: &str = "x-apigen-entity";
pub const ACTION: &str = "x-apigen-action";

/// A value read from the document, with where it was.
#[derive(Debug, Clone)]
pub struct At<T> {
    pub value: T,
    pub pointer: String,
}

/// Reads one hint object, collecting every problem.
pub struct Reader<'d> {
    pub diagnostics: &'d mut Vec<Diagnostic>,
}

impl Reader<'_> {
    /// The object at `value`, after checking that it only has `allowed` keys.
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        at: &str,
        what: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.diagnostics.push(
                Diagnostic::error(at, format!("{what} must be a mapping")).help(format!(
                    "write it as a mapping with the keys {}",
                    list(allowed)
                )),
            );
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let suggestion = closest(key, allowed)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                self.diagnostics.push(
                    Diagnostic::error(child(at, key), format!("unknown key `{key}` in {what}"))
                        .help(format!("{suggestion}{what} takes {}", list(allowed))),
                );
            }
        }
        Some(map)
    }

    pub fn string(&mut self, map: &Map<String, Value>, key: &str, at: &str) -> Option<At<String>> {
        let value = map.get(key)?;
        let pointer = child(at, key);
        match value {
            Value::String(s) => Some(At {
                value: s.clone(),
                pointer,
            }),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(&pointer, format!("`{key}` must be a string"))
                        .help(format!("write `{key}: <text>`")),
                );
                None
            }
        }
    }

    pub fn bool(&mut self, map: &Map<String, Value>, key: &str, at: &str) -> Option<bool> {
        let value = map.get(key)?;
        match value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(child(at, key), format!("`{key}` must be true or false"))
                        .help(format!("write `{key}: true` or `{key}: false`")),
                );
                None
            }
        }
    }

    pub fn integer(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        at: &str,
        range: (u64, u64),
    ) -> Option<u64> {
        let value = map.get(key)?;
        match value.as_u64() {
            Some(n) if n >= range.0 && n <= range.1 => Some(n),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(
                        child(at, key),
                        format!(
                            "`{key}` must be a whole number from {} to {}",
                            range.0, range.1
                        ),
                    )
                    .help(format!("write for example `{key}: {}`", range.0.max(1))),
                );
                None
            }
        }
    }

    /// A number above zero (`rateLimit: 12.5`).
    pub fn positive_number(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        at: &str,
        what: &str,
    ) -> Option<f64> {
        let value = map.get(key)?;
        match value.as_f64() {
            Some(n) if n > 0.0 && n.is_finite() => Some(n),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(
                        child(at, key),
                        format!("`{key}` must be a positive number of {what}"),
                    )
                    .help(format!("write for example `{key}: 10`")),
                );
                None
            }
        }
    }

    /// One of `choices`, compared as written.
    pub fn choice(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        at: &str,
        choices: &[&str],
    ) -> Option<At<String>> {
        let s = self.string(map, key, at)?;
        if choices.contains(&s.value.as_str()) {
            Some(s)
        } else {
            self.diagnostics.push(
                Diagnostic::error(&s.pointer, format!("`{}` is not a valid `{key}`", s.value))
                    .help(format!("`{key}` is one of {}", list(choices))),
            );
            None
        }
    }

    pub fn strings(&mut self, map: &Map<String, Value>, key: &str, at: &str) -> Vec<At<String>> {
        let Some(value) = map.get(key) else {
            return Vec::new();
        };
        let pointer = child(at, key);
        match value.as_array() {
            Some(items) if items.iter().all(Value::is_string) => items
                .iter()
                .enumerate()
                .map(|(i, v)| At {
                    value: v.as_str().unwrap_or_default().to_string(),
                    pointer: format!("{pointer}/{i}"),
                })
                .collect(),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(pointer, format!("`{key}` must be a list of strings"))
                        .help(format!("write `{key}: [a, b]`")),
                );
                Vec::new()
            }
        }
    }
}

pub fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", escape_segment(key))
}

pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allowed key closest to a misspelt one, if any is close.
pub fn closest<'a>(wrong: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (distance(&wrong.to_lowercase(), &a.to_lowercase()), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 3))
        .min()
        .map(|(_, a)| a)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys() {
        assert_eq!(closest("tabel", &["table", "type"]), Some("table"));
        assert_eq!(closest("indexs", &["indexes", "key"]), Some("indexes"));
        assert_eq!(closest("zzz", &["table", "type"]), None);
    }
}
