//! Problems found in a spec, reported the way rustc reports problems in code:
//! a location, a message, and a line that says what to write instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where they were before JSON pointers had a module of their own.
pub use crate::json_pointer::{escape_segment, pointer};
use crate::source_map::SourceMap;

/// How bad a finding is. Errors stop generation; warnings and notes are
/// printed and generation goes on. A note is a fact worth knowing about a
/// spec that is as meant, such as an index that leaves items out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// One finding, anchored at a JSON pointer into the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// JSON pointer into the document (`/paths/~1pets/post`), or empty for
    /// the whole document.
    pub pointer: String,
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            pointer: pointer.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(pointer, message)
        }
    }

    pub fn note(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            ..Self::error(pointer, message)
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics together with the file they point into, so that they can be
/// rendered with line and column.
#[derive(Debug)]
pub struct Report {
    pub file: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
    source_map: Option<SourceMap>,
    /// The lines of the file's text that the diagnostics point at, by index from 0, to quote
    /// them.
    lines: BTreeMap<usize, String>,
}

impl Report {
    pub fn new(file: &Path, diagnostics: Vec<Diagnostic>, source_map: Option<SourceMap>) -> Self {
        Self {
            file: file.to_path_buf(),
            diagnostics,
            source_map,
            lines: BTreeMap::new(),
        }
    }

    /// Quotes the spec's lines under each diagnostic, as rustc quotes code. The lines are
    /// taken from `text` now, in one reading however many diagnostics there are.
    pub fn with_source(mut self, text: &str) -> Self {
        let wanted: BTreeSet<usize> = self
            .diagnostics
            .iter()
            .filter_map(|d| self.position(&d.pointer))
            .map(|(line, _)| line.saturating_sub(1))
            .collect();
        if let Some(&last) = wanted.last() {
            self.lines = text
                .lines()
                .take(last + 1)
                .enumerate()
                .filter(|(i, _)| wanted.contains(i))
                .map(|(i, line)| (i, line.to_string()))
                .collect();
        }
        self
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// Line and column (1-based) of a pointer, or of its nearest ancestor
    /// that the source map knows.
    pub fn position(&self, pointer: &str) -> Option<(usize, usize)> {
        self.source_map.as_ref()?.position(pointer)
    }

    /// Renders every diagnostic, rustc style. `color` adds ANSI colours.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&self.render_one(d, color));
        }
        let errors = self.errors().count();
        if errors > 0 {
            let s = if errors == 1 { "" } else { "s" };
            out.push_str(&paint(color, "1;31", "error"));
            out.push_str(&format!(
                ": could not use `{}` due to {errors} previous error{s}\n",
                self.file.display()
            ));
        }
        out
    }

    fn render_one(&self, d: &Diagnostic, color: bool) -> String {
        let (label, code) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
            Severity::Note => ("note", "1;36"),
        };
        let position = self.position(&d.pointer);
        let location = match position {
            Some((line, col)) => format!("{}:{line}:{col}", self.file.display()),
            None => self.file.display().to_string(),
        };
        let mut out = format!(
            "{}: {}: {}\n",
            location,
            paint(color, code, label),
            paint(color, "1", &d.message)
        );
        // rustc aligns the notes under the quote's gutter.
        let mut indent = "  ".to_string();
        if let Some((line, col)) = position {
            let quoted = self
                .lines
                .get(&line.saturating_sub(1))
                .map_or_else(String::new, |text| quote(text, line, col, color, code));
            if !quoted.is_empty() {
                indent = " ".repeat(line.to_string().len() + 1);
            }
            out.push_str(&quoted);
        }
        if !d.pointer.is_empty() {
            out.push_str(&format!(
                "{indent}{} at {}\n",
                paint(color, "1;34", "="),
                d.pointer
            ));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!(
                "{indent}{} help: {help}\n",
                paint(color, "1;34", "=")
            ));
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// `text`, the line numbered `line`, with a caret under the token at `col`
/// (both 1-based), in rustc's layout.
fn quote(text: &str, line: usize, col: usize, color: bool, code: &str) -> String {
    let text = text.trim_end();
    let start: usize = text
        .chars()
        .take(col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let token = text.get(start..).unwrap_or("");
    let width = token
        .chars()
        .take_while(|c| !c.is_whitespace() && !":,{}[]".contains(*c))
        .count()
        .max(1);
    let gutter = line.to_string().len();
    let bar = paint(color, "1;34", "|");
    format!(
        "{:gutter$} {bar}\n{} {bar} {text}\n{:gutter$} {bar} {}{}\n",
        "",
        paint(color, "1;34", &line.to_string()),
        "",
        " ".repeat(text[..start.min(text.len())].chars().count()),
        paint(color, code, &"^".repeat(width)),
    )
}

/// `text` in an ANSI style (`1;31` is bold red) when `color`.
pub fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
