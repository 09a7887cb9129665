//! The violations found in a request, kept within fixed bounds of work and answer size.

use std::fmt;

use super::problem::{Location, Violation};

/// A 400 lists at most this many violations, and at most [`MAX_LISTED_TEXT`] bytes of their
/// pointers and details; the rest are only counted. Without a cap a 6 MiB array of bad items
/// answered with millions of violations: hundreds of MB of JSON and a crashed Lambda.
const MAX_LISTED: usize = 100;
const MAX_LISTED_TEXT: usize = 3 * 1024;
/// Input echoed back in a pointer or a detail (a long key, a header value) is cut to this.
const MAX_ECHOED: usize = 200;

pub(super) const TOO_COSTLY: &str =
    "is too costly to check against the schema: send a simpler value";

/// A JSON pointer kept on the stack while validation descends, so that it is only written out
/// for the few violations that are listed: building one per array item or key would cost
/// memory in proportion to the input even when it is valid.
#[derive(Debug, Clone, Copy)]
pub enum Pointer<'a> {
    /// The whole body (`""`).
    Root,
    /// A property of the object at the parent pointer.
    Key(&'a Pointer<'a>, &'a str),
    /// An item of the array at the parent pointer.
    Index(&'a Pointer<'a>, usize),
}

impl Pointer<'_> {
    /// The pointer of a parameter: `/<name>`.
    pub fn param(name: &str) -> Pointer<'_> {
        Pointer::Key(&Pointer::Root, name)
    }
}

impl fmt::Display for Pointer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pointer::Root => Ok(()),
            Pointer::Index(parent, index) => write!(f, "{parent}/{index}"),
            // RFC 6901: `~` and `/` inside a key must be escaped or the pointer is ambiguous.
            Pointer::Key(parent, key) => {
                write!(f, "{parent}/")?;
                for c in key.chars() {
                    match c {
                        '~' => f.write_str("~0")?,
                        '/' => f.write_str("~1")?,
                        c => fmt::Write::write_char(f, c)?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The violations found in a request: the first ones in full, the rest only counted, so that
/// the answer and the work behind it stay small whatever the input holds.
#[derive(Debug)]
pub struct Violations {
    pub(super) listed: Vec<Violation>,
    pub(super) unlisted: usize,
    /// How many more may be listed, and how many bytes of text they may still take.
    pub(super) room: usize,
    pub(super) text_room: usize,
    /// Only whether there is any violation matters (a member of a union being tried), so
    /// validation stops at the first.
    pub(super) probe: bool,
    /// How many more schemas may be checked. A recursive union checks a value once per member
    /// at every level, which grows exponentially with nesting; this keeps the work in
    /// proportion to the input (see [`Self::afford`]).
    pub(super) budget: usize,
    /// The budget ran out; validation stops and says so.
    pub(super) exhausted: bool,
}

/// Schema checks a request may make, at least, and per byte of its body: ordinary validation
/// makes a few per value, so only pathological union nesting runs out.
const MIN_CHECKS: usize = 1 << 20;
const CHECKS_PER_BYTE: usize = 64;

impl Violations {
    /// No violation yet; bodies add their share of the check budget with [`Self::afford`].
    pub fn new() -> Self {
        Self {
            listed: Vec::new(),
            unlisted: 0,
            room: MAX_LISTED,
            text_room: MAX_LISTED_TEXT,
            probe: false,
            budget: MIN_CHECKS,
            exhausted: false,
        }
    }

    /// Allows the checks that a body of `length` bytes may need.
    pub fn afford(&mut self, length: usize) {
        let checks = length.saturating_mul(CHECKS_PER_BYTE);
        self.budget = self.budget.saturating_add(checks);
    }

    /// An empty collection with this one's remaining room, whose findings [`Self::merge`]
    /// brings back.
    pub(super) fn fork(&self) -> Self {
        Self {
            listed: Vec::new(),
            unlisted: 0,
            ..*self
        }
    }

    /// Whether no violation was found.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty() && self.unlisted == 0
    }

    /// Every violation found, listed or not.
    pub fn len(&self) -> usize {
        self.listed.len() + self.unlisted
    }

    /// Records a violation; its pointer and detail are only written if it is listed.
    pub fn add(&mut self, location: Location, pointer: &Pointer<'_>, detail: impl fmt::Display) {
        if self.room == 0 {
            self.unlisted += 1;
            return;
        }
        self.list(Violation {
            location,
            pointer: bounded(pointer, MAX_ECHOED),
            detail: bounded(&detail, MAX_ECHOED),
        });
    }

    /// Lists `violation` if there is room for it; once one does not fit, none after it is
    /// listed either, so the list is always a prefix of what was found.
    pub fn push(&mut self, violation: Violation) {
        if self.room == 0 {
            self.unlisted += 1;
        } else {
            self.list(violation);
        }
    }

    fn list(&mut self, violation: Violation) {
        // Control characters are escaped as six bytes each in the JSON answer.
        let text = json_length(&violation.pointer) + json_length(&violation.detail);
        if text > self.text_room {
            self.room = 0;
            self.unlisted += 1;
        } else {
            self.room -= 1;
            self.text_room -= text;
            self.listed.push(violation);
        }
    }

    /// Brings back what a [`Self::fork`] found, leaving out violations already listed since
    /// `start`.
    pub(super) fn merge(&mut self, found: Violations, start: usize) {
        for violation in found.listed {
            if !self.listed[start..].contains(&violation) {
                self.push(violation);
            }
        }
        self.unlisted += found.unlisted;
        self.budget = found.budget;
        self.exhausted |= found.exhausted;
    }

    /// Whether validation can stop: a probe needs only one violation, and nothing more may be
    /// checked once the budget has run out.
    pub(super) fn settled(&self) -> bool {
        self.exhausted || (self.probe && self.unlisted > 0)
    }

    /// Takes one check from the budget; when none is left, records that (once) instead.
    pub(super) fn spend(&mut self, location: Location, pointer: &Pointer<'_>) -> bool {
        if self.budget > 0 {
            self.budget -= 1;
            return true;
        }
        if !self.exhausted {
            self.exhausted = true;
            self.add(location, pointer, TOO_COSTLY);
        }
        false
    }
}

impl Default for Violations {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(found: Vec<Violation>) -> Self {
        let mut violations = Violations::new();
        for violation in found {
            violations.push(violation);
        }
        violations
    }
}

/// `value` written out, cut to at most `max` bytes (and a `…`): formatting stops there, so a
/// long key costs no more than a short one.
fn bounded(value: &(impl fmt::Display + ?Sized), max: usize) -> String {
    struct Capped {
        text: String,
        max: usize,
    }
    impl fmt::Write for Capped {
        fn write_str(&mut self, part: &str) -> fmt::Result {
            if self.text.len() + part.len() <= self.max {
                self.text.push_str(part);
                return Ok(());
            }
            let mut end = self.max - self.text.len();
            while !part.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&part[..end]);
            self.text.push('…');
            Err(fmt::Error)
        }
    }
    let mut capped = Capped {
        text: String::new(),
        max,
    };
    // The only error is the one `Capped` raises to stop once it is full.
    let _ = fmt::write(&mut capped, format_args!("{value}"));
    capped.text
}

/// The length of `text` as a JSON string's contents (at most; `\n` takes 2 bytes, not 6).
fn json_length(text: &str) -> usize {
    let escaped = |c: char| match c {
        '"' | '\\' => 2,
        c if c.is_control() => 6,
        c => c.len_utf8(),
    };
    text.chars().map(escaped).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::*;
    use crate::http::problem::MAX_DETAIL;
    use crate::http::{validate, ApiError};
    use serde_json::{json, Value};

    #[test]
    fn violations_past_the_cap_are_counted_not_listed() {
        let items = vec![json!({"quantity": "x"}); 1000];
        let mut out = Violations::new();
        validate(
            &ANY_LINES,
            &Value::Array(items),
            Location::Body,
            &Pointer::Root,
            &mut out,
        );
        assert_eq!(out.len(), 2000);
        assert!(
            (50..=MAX_LISTED).contains(&out.listed.len()),
            "{}",
            out.listed.len()
        );
        assert_eq!(out.listed[0].pointer, "/0/sku");
        let listed = out.listed.len();
        let error = ApiError::invalid(out);
        assert_eq!(error.unlisted, 2000 - listed);
        assert_eq!(
            error.detail,
            format!("the request is invalid (2000 problems; the first {listed} are listed)")
        );
    }

    #[test]
    fn echoed_input_is_cut_short() {
        let key = "k/".repeat(50_000) + "\u{1}";
        let mut line = json!({"sku": "A", "quantity": 1});
        line[key] = json!(1);
        let found = violations(&ORDER_LINE, line);
        let [(pointer, detail)] = &found[..] else {
            panic!("one violation: {found:?}");
        };
        assert!(pointer.starts_with("/k~1k~1"), "{pointer}");
        assert!(
            pointer.len() <= MAX_ECHOED + '…'.len_utf8(),
            "{}",
            pointer.len()
        );
        assert_eq!(detail, "is not allowed");

        let error = ApiError::bad_request("x".repeat(1_000_000));
        assert!(error.detail.len() <= MAX_DETAIL + '…'.len_utf8());
    }
}
