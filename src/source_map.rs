//! Maps JSON pointers to line and column in the spec's text, so that a
//! diagnostic about `/paths/~1pets/post` can say `spec.yaml:12:5`.
//!
//! JSON is a subset of YAML's flow style, so one YAML event parser serves
//! both formats. The map is only built when there is something to report, and
//! then only for the places reported ([`SourceMap::locate`]): the text is read
//! once whatever the number of diagnostics, and only their pointers are kept.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::json_pointer::escape_segment;

#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    positions: HashMap<String, (usize, usize)>,
}

impl SourceMap {
    /// Builds the map of every place in the document; a document that does not parse gives an
    /// empty map.
    pub fn build(text: &str) -> Self {
        Self::scan(text, None)
    }

    /// The map of `pointers` and their ancestors only (what [`SourceMap::position`] asks for
    /// them), in one reading of the text; none at all for no pointers.
    pub fn locate<'a>(text: &str, pointers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut wanted = HashSet::new();
        for pointer in pointers {
            let mut current = pointer;
            while wanted.insert(current.to_string()) && !current.is_empty() {
                current = current.rfind('/').map_or("", |i| &current[..i]);
            }
        }
        if wanted.is_empty() {
            return Self::default();
        }
        Self::scan(text, Some(wanted))
    }

    fn scan(text: &str, wanted: Option<HashSet<String>>) -> Self {
        let mut builder = Builder {
            wanted,
            ..Builder::default()
        };
        let mut parser = Parser::new_from_str(text);
        // A syntax error was already reported by the loader; keep whatever
        // positions were collected before it.
        let _ = parser.load(&mut builder, false);
        Self {
            positions: builder.positions,
        }
    }

    /// Position of `pointer`, or of the nearest ancestor with one.
    pub fn position(&self, pointer: &str) -> Option<(usize, usize)> {
        let mut current = pointer;
        loop {
            if let Some(pos) = self.positions.get(current) {
                return Some(*pos);
            }
            if current.is_empty() {
                return None;
            }
            current = match current.rfind('/') {
                Some(i) => &current[..i],
                None => "",
            };
        }
    }
}

impl SourceMap {
    pub(crate) fn insert(&mut self, pointer: &str, line: usize, col: usize) {
        self.positions.insert(pointer.to_string(), (line, col));
    }
}

enum Frame {
    Map {
        pointer: String,
        key: Option<String>,
    },
    Seq {
        pointer: String,
        index: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    positions: HashMap<String, (usize, usize)>,
    anchors: HashMap<usize, String>,
    /// The pointers to keep, with their ancestors; `None` keeps every one.
    wanted: Option<HashSet<String>>,
    /// How deep inside a value that holds no wanted place the parser is: its events are
    /// skipped without building their pointers.
    skipping: usize,
}

impl Builder {
    fn wants(&self, pointer: &str) -> bool {
        self.wanted.as_ref().is_none_or(|w| w.contains(pointer))
    }

    /// Whether a collection at `pointer` is skipped whole.
    fn skips(&self, pointer: Option<&str>) -> bool {
        self.wanted.is_some() && !pointer.is_some_and(|p| self.wants(p))
    }

    /// Where the next value goes; `None` when the next scalar is a map key.
    fn next_value_pointer(&mut self, mark: Marker) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { pointer, index }) => {
                let p = format!("{pointer}/{index}");
                *index += 1;
                if self.wants(&p) {
                    self.positions.entry(p.clone()).or_insert(pos(mark));
                }
                Some(p)
            }
            Some(Frame::Map { pointer, key }) => key.take().map(|k| format!("{pointer}/{k}")),
        }
    }

    fn on_value(&mut self, mark: Marker) -> Option<String> {
        let p = self.next_value_pointer(mark)?;
        if self.wants(&p) {
            self.positions.entry(p.clone()).or_insert(pos(mark));
        }
        Some(p)
    }
}

fn pos(mark: Marker) -> (usize, usize) {
    (mark.line(), mark.col() + 1)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.skipping > 0 {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => self.skipping += 1,
                Event::MappingEnd | Event::SequenceEnd => self.skipping -= 1,
                _ => {}
            }
            return;
        }
        match event {
            Event::Scalar(value, _, anchor, _) => {
                let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
                if is_key {
                    let segment = escape_segment(&value);
                    if let Some(Frame::Map { pointer, .. }) = self.stack.last() {
                        let p = format!("{pointer}/{segment}");
                        if self.wants(&p) {
                            self.positions.insert(p, pos(mark));
                        }
                    }
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(segment);
                    }
                } else if let Some(p) = self.on_value(mark) {
                    if anchor > 0 {
                        self.anchors.insert(anchor, p);
                    }
                }
            }
            Event::MappingStart(..) => {
                let p = self.on_value(mark);
                if self.skips(p.as_deref()) {
                    self.skipping = 1;
                    return;
                }
                self.stack.push(Frame::Map {
                    pointer: p.unwrap_or_default(),
                    key: None,
                });
            }
            Event::SequenceStart(..) => {
                let p = self.on_value(mark);
                if self.skips(p.as_deref()) {
                    self.skipping = 1;
                    return;
                }
                self.stack.push(Frame::Seq {
                    pointer: p.unwrap_or_default(),
                    index: 0,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                let _ = self.on_value(mark);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_positions() {
        let map =
            SourceMap::build("openapi: 3.0.3\npaths:\n  /pets:\n    get:\n      operationId: x\n");
        assert_eq!(map.position("/paths/~1pets/get"), Some((4, 5)));
        assert_eq!(map.position("/paths/~1pets/get/operationId"), Some((5, 7)));
        assert_eq!(map.position("/paths/~1pets/get/missing"), Some((4, 5)));
    }

    #[test]
    fn json_positions() {
        let map = SourceMap::build("{\n  \"a\": {\n    \"b\": [1, {\"c\": 2}]\n  }\n}");
        assert_eq!(map.position("/a/b"), Some((3, 5)));
        assert_eq!(map.position("/a/b/1/c"), Some((3, 15)));
    }

    #[test]
    fn located_places_are_where_the_whole_map_puts_them() {
        let text = "openapi: 3.0.3\npaths:\n  /pets:\n    get:\n      operationId: x\n      tags: [a, {b: c}]\n  /other:\n    get: {}\n";
        let whole = SourceMap::build(text);
        for pointer in [
            "/paths/~1pets/get/operationId",
            "/paths/~1pets/get/tags/1/b",
            "/paths/~1pets/get/missing",
            "/paths/~1other/get",
            "/nowhere",
            "",
        ] {
            let located = SourceMap::locate(text, [pointer]);
            assert_eq!(
                located.position(pointer),
                whole.position(pointer),
                "{pointer}"
            );
        }
        assert!(SourceMap::locate(text, []).positions.is_empty());
        let one = SourceMap::locate(text, ["/paths/~1other/get"]);
        assert_eq!(one.position("/paths/~1pets/get"), one.position("/paths"));
    }
}
