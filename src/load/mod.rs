//! Reading a spec: text to a typed OpenAPI document, with a source map for
//! diagnostics. The only stage besides `write` that touches the disk.

mod normalize;
mod numbers;
mod refs;
mod security;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Report};
pub use crate::source_map::SourceMap;

/// The OpenAPI version a document declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecVersion {
    V30,
    V31,
}

/// A parsed spec: the document as written (for the generated project's
/// copy), the JSON value the model reads hints from, and the typed document.
#[derive(Debug)]
pub struct Spec {
    pub path: PathBuf,
    pub text: String,
    pub version: SpecVersion,
    /// The document in the 3.0 shape, with every extension kept.
    pub value: Value,
    pub document: openapiv3::OpenAPI,
    /// Warnings from loading (dropped webhooks, say).
    pub warnings: Vec<Diagnostic>,
}

impl Spec {
    /// The map of every place in the spec.
    pub fn source_map(&self) -> SourceMap {
        SourceMap::build(&self.text)
    }

    /// A report for diagnostics found in this spec; the text is read for their places only
    /// when there are some.
    pub fn report(&self, diagnostics: Vec<Diagnostic>) -> Report {
        report(&self.path, &self.text, diagnostics)
    }
}

/// A report for `diagnostics` in the spec `text` read from `path`, with their places and
/// quoted lines.
fn report(path: &Path, text: &str, diagnostics: Vec<Diagnostic>) -> Report {
    let map = SourceMap::locate(text, diagnostics.iter().map(|d| d.pointer.as_str()));
    Report::new(path, diagnostics, Some(map)).with_source(text)
}

/// Why a spec could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Report),
}

/// Reads and parses the spec at `path`.
pub fn load(path: &Path) -> Result<Spec, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, text)
}

/// Parses spec text; `path` is used for messages and to pick the format.
pub fn parse(path: &Path, text: String) -> Result<Spec, LoadError> {
    let fail = |diagnostic: Diagnostic, map: Option<SourceMap>| {
        LoadError::Invalid(Report::new(path, vec![diagnostic], map).with_source(&text))
    };
    let (mut value, wide) = parse_text(path, &text).map_err(|(d, line_col)| {
        let map = line_col.map(|(line, col)| SourceMap::single("", line, col));
        fail(d, map)
    })?;
    let version =
        detect_version(&value).map_err(|d| LoadError::Invalid(report(path, &text, vec![d])))?;
    let mut warnings = Vec::new();
    if wide {
        numbers::unmark(&mut value, &mut warnings);
    }
    warnings.extend(normalize::normalize(&mut value, version));
    let held = security::hold_unread_schemes(&mut value);
    let parsed: Result<openapiv3::OpenAPI, _> = serde_path_to_error::deserialize(&value);
    security::restore(&mut value, &held);
    let mut document = parsed.map_err(|e| {
        let pointer = path_to_pointer(&e.path().to_string());
        LoadError::Invalid(report(
            path,
            &text,
            vec![Diagnostic::error(
                pointer,
                format!("not a valid OpenAPI document: {}", e.inner()),
            )
            .help("check this value against the OpenAPI specification's object definitions")],
        ))
    })?;
    security::forget(&mut document, &held);
    Ok(Spec {
        path: path.to_path_buf(),
        text,
        version,
        value,
        document,
        warnings,
    })
}

type SyntaxError = (Diagnostic, Option<(usize, usize)>);

/// The document as a JSON value, and whether it holds numbers too wide for
/// 64 bits (see [`numbers`]).
fn parse_text(path: &Path, text: &str) -> Result<(Value, bool), SyntaxError> {
    if text.trim().is_empty() {
        return Err((
            Diagnostic::error("", "the file is empty")
                .help("start from an example in specs/, beginning with `openapi: 3.1.0`"),
            None,
        ));
    }
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    if is_json {
        if let Some(marked) = numbers::mark_wide_json(text) {
            if let Ok(value) = serde_json::from_str(&marked) {
                return Ok((value, true));
            }
        }
        let value = serde_json::from_str(text).map_err(|e| {
            (
                Diagnostic::error(
                    "",
                    format!("invalid JSON: {}", without_position(&e.to_string())),
                )
                .help("check for a missing comma, quote or bracket up to this point"),
                Some((e.line(), e.column())),
            )
        })?;
        Ok((value, false))
    } else {
        let yaml: numbers::Yaml = serde_norway::from_str(text).map_err(|e| {
            let at = e.location().map(|l| (l.line(), l.column()));
            (
                Diagnostic::error(
                    "",
                    format!("invalid YAML: {}", without_position(&e.to_string())),
                )
                .help("check this line and the one above for a missing `:`, quote or bracket, or a wrong indentation"),
                at,
            )
        })?;
        let mut wide = false;
        let value = yaml_to_json(yaml, &mut wide).map_err(|m| (Diagnostic::error("", m), None))?;
        Ok((value, wide))
    }
}

/// A parser's message without its own "at line L column C": the report
/// puts the position first, as `file:line:col`.
fn without_position(message: &str) -> String {
    let re = regex::Regex::new(r" at line \d+ column \d+").expect("a valid pattern");
    re.replace(message, "").into_owned()
}

/// YAML allows keys that JSON does not (`200:` is an integer); OpenAPI
/// means them as strings.
fn yaml_to_json(v: numbers::Yaml, wide: &mut bool) -> Result<Value, String> {
    use numbers::Yaml as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => Value::Number(n),
        Y::String(s) => {
            *wide |= numbers::is_marked(&s);
            Value::String(s)
        }
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|item| yaml_to_json(item, wide))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    Y::Sequence(_) | Y::Mapping(_) => {
                        return Err(
                            "a YAML key that is a list or a mapping cannot be an OpenAPI key"
                                .to_string(),
                        )
                    }
                };
                out.insert(key, yaml_to_json(v, wide)?);
            }
            Value::Object(out)
        }
    })
}

fn detect_version(value: &Value) -> Result<SpecVersion, Diagnostic> {
    let Some(root) = value.as_object() else {
        return Err(Diagnostic::error(
            "",
            "not an OpenAPI document: the top level is not an object",
        )
        .help("an OpenAPI document is a mapping that starts with `openapi: 3.1.0`"));
    };
    if let Some(swagger) = root.get("swagger") {
        return Err(Diagnostic::error(
            "/swagger",
            format!("Swagger {} documents are not supported", display(swagger)),
        )
        .help("convert it to OpenAPI 3 first, for example with swagger2openapi or the Swagger Editor's converter"));
    }
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0") => Ok(SpecVersion::V30),
        Some(v) if v.starts_with("3.1") => Ok(SpecVersion::V31),
        Some(v) => Err(
            Diagnostic::error("/openapi", format!("OpenAPI {v} is not supported"))
                .help("apigen reads OpenAPI 3.0.x and 3.1.x: write `openapi: 3.1.0`"),
        ),
        None => Err(
            Diagnostic::error("", "not an OpenAPI document: no `openapi` version field")
                .help("add `openapi: 3.1.0` (or 3.0.3) at the top of the document"),
        ),
    }
}

fn display(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// serde_path_to_error writes `paths./pets.get`; turn it into a pointer.
fn path_to_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    path.split('.')
        .map(|s| {
            format!(
                "/{}",
                crate::json_pointer::escape_segment(s.trim_matches(|c| c == '[' || c == ']'))
            )
        })
        .collect()
}

impl SourceMap {
    fn single(pointer: &str, line: usize, col: usize) -> Self {
        let mut map = SourceMap::default();
        map.insert(pointer, line, col);
        map
    }
}
