//! The string formats that are checked, and how.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// The OpenAPI `format`s worth checking; `None` stands for no format or one that is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No format is checked.
    None,
    /// `date-time`: an RFC 3339 date-time, e.g. `2024-01-05T10:00:00Z`.
    DateTime,
    /// `date`: an RFC 3339 full-date, exactly `YYYY-MM-DD`.
    Date,
    /// `uuid`: a UUID.
    Uuid,
    /// `email`: something that looks like an email address (checked loosely).
    Email,
    /// `uri`: an absolute URI, i.e. one starting with a scheme.
    Uri,
    /// Base64 with the standard alphabet and padding.
    Byte,
    /// `ipv4`: an IPv4 address in dotted decimal.
    Ipv4,
    /// `ipv6`: an IPv6 address.
    Ipv6,
}

impl Format {
    /// The violation detail when `text` is not written in this format.
    pub(super) fn problem(self, text: &str) -> Option<&'static str> {
        let (valid, expectation) = match self {
            Format::None => return None,
            Format::DateTime => (
                chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                "must be a valid date-time (RFC 3339)",
            ),
            Format::Date => (is_full_date(text), "must be a valid date (YYYY-MM-DD)"),
            Format::Uuid => (uuid::Uuid::parse_str(text).is_ok(), "must be a valid UUID"),
            Format::Email => (is_email(text), "must be a valid email address"),
            Format::Uri => (has_uri_scheme(text), "must be a valid URI"),
            Format::Byte => (BASE64.decode(text).is_ok(), "must be valid base64"),
            Format::Ipv4 => (
                text.parse::<Ipv4Addr>().is_ok(),
                "must be a valid IPv4 address",
            ),
            Format::Ipv6 => (
                text.parse::<Ipv6Addr>().is_ok(),
                "must be a valid IPv6 address",
            ),
        };
        (!valid || text.chars().any(is_hidden_control)).then_some(expectation)
    }
}

/// No checked format has room for control characters (a NUL cuts a value short in C code
/// downstream) or for bidirectional overrides, which make a value display as something else.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// chrono's `%Y-%m-%d` also takes `2024-1-5`, `24-01-05` and `+2024-01-05`; RFC 3339's full-date
/// (what OpenAPI's `date` means) is exactly `YYYY-MM-DD`.
fn is_full_date(text: &str) -> bool {
    let shaped = match text.as_bytes() {
        [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] => [y0, y1, y2, y3, m0, m1, d0, d1]
            .iter()
            .all(|b| b.is_ascii_digit()),
        _ => false,
    };
    shaped && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// Deliberately loose: the only reliable test of an address is sending mail to it, so this
/// only catches input that is clearly something else.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !text.chars().any(char::is_whitespace)
}

/// An absolute URI starts with `scheme:` (RFC 3986); the rest is too varied to check usefully.
fn has_uri_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::*;
    use crate::http::{Schema, Text};
    use serde_json::json;

    #[test]
    fn string_formats() {
        let cases: &[(Format, &[&str], &[&str], &str)] = &[
            (
                Format::DateTime,
                &["2024-05-01T12:30:00Z", "2024-05-01T12:30:00.5+02:00"],
                &["2024-05-01 12:30", "2024-05-01"],
                "must be a valid date-time (RFC 3339)",
            ),
            (
                Format::Date,
                &["2024-02-29"],
                &[
                    "2023-02-29",
                    "2024-1-5",
                    "+2024-01-05",
                    " 2024-01-05",
                    "01/05/2024",
                ],
                "must be a valid date (YYYY-MM-DD)",
            ),
            (
                Format::Uuid,
                &["67e55044-10b1-426f-9247-bb680e5fe0c8"],
                &["67e55044-10b1-426f-9247", "not-a-uuid"],
                "must be a valid UUID",
            ),
            (
                Format::Email,
                &["ada@example.com", "a.b+c@mail.example.org"],
                &[
                    "ada",
                    "@example.com",
                    "ada@localhost",
                    "a b@example.com",
                    "a@b@c.com",
                ],
                "must be a valid email address",
            ),
            (
                Format::Uri,
                &[
                    "https://example.com/x",
                    "urn:isbn:0451450523",
                    "mailto:ada@example.com",
                ],
                &["example.com/x", "1http://x", ":nothing"],
                "must be a valid URI",
            ),
            (
                Format::Byte,
                &["aGVsbG8=", ""],
                &["aGVsbG8", "***", "aGVsbG8_"],
                "must be valid base64",
            ),
            (
                Format::Ipv4,
                &["10.0.0.1"],
                &["256.0.0.1", "::1"],
                "must be a valid IPv4 address",
            ),
            (
                Format::Ipv6,
                &["::1", "2001:db8::8a2e:370:7334"],
                &["10.0.0.1", "2001:db8::g"],
                "must be a valid IPv6 address",
            ),
        ];
        for &(format, good, bad, detail) in cases {
            let schema = Schema::String(Text {
                format,
                ..Text::PLAIN
            });
            for text in good {
                assert_valid(&schema, json!(text));
            }
            for text in bad {
                assert_invalid(&schema, json!(text), detail);
            }
        }
        assert_valid(&STRING, json!("anything"));
    }

    #[test]
    fn formats_refuse_control_and_bidirectional_characters() {
        let valid = [
            (Format::DateTime, "2024-05-01T12:30:00Z"),
            (Format::Date, "2024-02-29"),
            (Format::Uuid, "67e55044-10b1-426f-9247-bb680e5fe0c8"),
            (Format::Email, "ada@example.com"),
            (Format::Uri, "https://example.com/x"),
            (Format::Byte, "aGVsbG8="),
            (Format::Ipv4, "10.0.0.1"),
            (Format::Ipv6, "::1"),
        ];
        let hidden = [
            '\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{61c}', '\u{200e}', '\u{200f}',
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ];
        for (format, text) in valid {
            let schema = Schema::String(Text {
                format,
                ..Text::PLAIN
            });
            assert_valid(&schema, json!(text));
            for c in hidden {
                for at in [1, text.len()] {
                    let mut text = text.to_owned();
                    text.insert(at, c);
                    assert_eq!(
                        details(&schema, json!(text)).len(),
                        1,
                        "{format:?} {text:?}"
                    );
                }
            }
        }
        // Unformatted strings may hold anything.
        assert_valid(&STRING, json!("a\u{0}\u{202e}b"));
    }
}
