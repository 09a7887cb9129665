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
        // A large spec is nearly always JSON, which a scanner of its own reads many times
        // faster than the YAML parser, skipping whole the values that hold no wanted place.
        if let Some(wanted) = &wanted {
            if text.trim_start().starts_with('{') {
                if let Some(positions) = Json::positions(text, wanted) {
                    return Self { positions };
                }
            }
        }
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

/// Reads JSON text for the places of wanted pointers, giving each the line and column the YAML
/// parser would (a key's place is that of its key, an item's that of its first character);
/// `None` for anything that is not plain JSON, which the YAML parser then reads.
struct Json<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
    wanted: &'a HashSet<String>,
    positions: HashMap<String, (usize, usize)>,
}

impl<'a> Json<'a> {
    /// How deep values may nest before the YAML parser is left to read the text.
    const DEPTH: usize = 256;

    fn positions(
        text: &'a str,
        wanted: &'a HashSet<String>,
    ) -> Option<HashMap<String, (usize, usize)>> {
        let mut json = Json {
            text,
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
            line_start: 0,
            wanted,
            positions: HashMap::new(),
        };
        json.space();
        json.value(Some(String::new()), 0)?;
        json.space();
        (json.at == json.bytes.len()).then_some(json.positions)
    }

    fn here(&self) -> (usize, usize) {
        let col = self
            .text
            .get(self.line_start..self.at)
            .map_or(0, |s| s.chars().count());
        (self.line, col + 1)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// After a member or element: `,` (false: more follow) or `close` (true: the container
    /// ends); anything else is not JSON.
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.space();
        match self.peek()? {
            b',' => {
                self.at += 1;
                self.space();
                Some(false)
            }
            byte if byte == close => {
                self.at += 1;
                Some(true)
            }
            _ => None,
        }
    }

    fn space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' => {}
                b'\n' => {
                    self.line += 1;
                    self.line_start = self.at + 1;
                }
                b'\r' if self.bytes.get(self.at + 1) != Some(&b'\n') => {
                    self.line += 1;
                    self.line_start = self.at + 1;
                }
                b'\r' => {}
                _ => return,
            }
            self.at += 1;
        }
    }

    /// Reads the value at the cursor; its places are kept when `pointer` is wanted (it is
    /// `None` when it is not).
    fn value(&mut self, pointer: Option<String>, depth: usize) -> Option<()> {
        if let Some(p) = &pointer {
            let here = self.here();
            self.positions.entry(p.clone()).or_insert(here);
        }
        match self.peek()? {
            b'{' | b'[' if depth >= Self::DEPTH => None,
            b'{' => {
                self.at += 1;
                self.space();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    let here = self.here();
                    let key = self.string()?;
                    let child = match &pointer {
                        Some(p) => {
                            let key = if key.contains('\\') {
                                serde_json::from_str::<String>(key).ok()?
                            } else {
                                key[1..key.len() - 1].to_string()
                            };
                            let child = format!("{p}/{}", escape_segment(&key));
                            self.wanted.contains(&child).then(|| {
                                self.positions.insert(child.clone(), here);
                                child
                            })
                        }
                        None => None,
                    };
                    self.space();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.at += 1;
                    self.space();
                    self.value(child, depth + 1)?;
                    if self.separator(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                self.at += 1;
                self.space();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(());
                }
                let mut index = 0;
                loop {
                    let child = pointer
                        .as_ref()
                        .map(|p| format!("{p}/{index}"))
                        .filter(|child| self.wanted.contains(child));
                    index += 1;
                    self.value(child, depth + 1)?;
                    if self.separator(b']')? {
                        return Some(());
                    }
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }

    /// The string at the cursor, quotes included, as written.
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        if self.peek()? != b'"' {
            return None;
        }
        self.at += 1;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => self.at += 2,
                b'\n' | b'\r' => return None,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        self.text.get(start..self.at)
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
        let json = "{\n  \"openapi\": \"3.0.3\",\r\n  \"paths\" : {\"/p\\u00e9ts\": {\"get\": [1, -2.5e3, true, null, {\"x~\": \"\\\"é\"}, []],\n \"put\":{}}}, \"a/b\": [[{}], \"ü\", {\"c\": {\"d\": 1}}]\n}\n";
        let whole = SourceMap::build(json);
        assert!(whole.positions.len() > 10, "{whole:?}");
        let every: HashSet<String> = whole.positions.keys().cloned().collect();
        assert_eq!(Json::positions(json, &every), Some(whole.positions.clone()));
        for pointer in whole.positions.keys() {
            let located = SourceMap::locate(json, [pointer.as_str()]);
            assert_eq!(
                located.position(pointer),
                whole.position(pointer),
                "{pointer}"
            );
        }
        let one = SourceMap::locate(text, ["/paths/~1other/get"]);
        assert_eq!(one.position("/paths/~1pets/get"), one.position("/paths"));
    }
}
