//! `info.description` where each file can hold it: one sentence in
//! Cargo.toml and the SAM template, all of it in the README and crate docs.

/// The longest one-line summary, in characters: crates.io shows a line,
/// and CloudFormation takes at most 1024 bytes (4 per character at most).
const SUMMARY_CHARS: usize = 250;

/// The first sentence of the first paragraph that is prose (not a heading,
/// list, quote or code), on one line; cut at a word with `…` only when that
/// sentence alone is longer than the limit.
pub fn summary(description: &str) -> Option<String> {
    let text = normalize(description);
    let paragraph = text
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with(['#', '`', '~', '>', '-', '*', '|', '<']))?;
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = first_sentence(&line);
    Some(if sentence.chars().count() <= SUMMARY_CHARS {
        sentence.to_string()
    } else {
        let cut: String = sentence.chars().take(SUMMARY_CHARS - 1).collect();
        let cut = match cut.rfind(' ') {
            Some(i) if i > SUMMARY_CHARS / 2 => &cut[..i],
            _ => cut.as_str(),
        };
        format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
    })
}

/// Up to the first `.`, `!` or `?` that ends a sentence: followed by a
/// space, and not after a single letter (`e.g. `, `A. Lovelace`).
fn first_sentence(line: &str) -> &str {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        let ends = matches!(c, '.' | '!' | '?' | '。')
            && chars
                .get(n + 1)
                .is_none_or(|(_, next)| next.is_whitespace());
        let initial = c == '.'
            && n >= 1
            && chars[n - 1].1.is_alphabetic()
            && (n < 2 || !chars[n - 2].1.is_alphanumeric());
        if ends && !initial {
            return &line[..i + c.len_utf8()];
        }
    }
    line
}

/// The whole description as the inner doc comment of a crate: as it is
/// when it is plain prose, else as a text block, so that rustdoc runs none of
/// its code and clippy lints none of its markdown, fenced with more backticks
/// than any run inside it.
pub fn crate_doc(description: &str) -> String {
    let text = normalize(description).replace('\t', "    ");
    let text = text.trim_matches('\n');
    if is_prose(text) {
        return text
            .lines()
            .map(|l| format!("{}\n", format!("//! {l}").trim_end()))
            .collect();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let mut out = format!("//! {fence}text\n");
    for line in text.lines() {
        out.push_str(format!("//! {line}").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("//! {fence}\n"));
    out
}

/// Text whose every line reads the same as markdown and as plain text.
fn is_prose(text: &str) -> bool {
    text.lines().all(|line| {
        let first = line.chars().next();
        !line.contains(['`', '[', ']', '<', '*', '_', '\\', '|', '~'])
            && first.is_none_or(|c| c.is_alphabetic())
    })
}

/// Unix line ends, no trailing spaces, no control characters but newlines.
fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "# Orders API\n\nThe *orders* service of \"Shop\", e.g. for the\nstorefront. It keeps carts too.\n\n- one\n- two\n\n```\nfn main() {}\n```\n\n    indented code */ \\ `tick`\n";

    #[test]
    fn the_summary_is_the_first_sentence_of_the_first_prose_paragraph() {
        assert_eq!(
            summary(LONG).as_deref(),
            Some("The *orders* service of \"Shop\", e.g. for the storefront.")
        );
        assert_eq!(summary("One line").as_deref(), Some("One line"));
        assert_eq!(
            summary("Version 1.2 is out! More soon.").as_deref(),
            Some("Version 1.2 is out!")
        );
        assert_eq!(
            summary("By A. Lovelace. Then more.").as_deref(),
            Some("By A. Lovelace.")
        );
        assert_eq!(summary("# Only a heading"), None);
        assert_eq!(summary("  \n\n"), None);
    }

    #[test]
    fn a_long_sentence_is_cut_at_a_word_within_the_limits() {
        let long = "word ".repeat(400) + "end.";
        let s = summary(&long).expect("a summary");
        assert!(s.chars().count() <= SUMMARY_CHARS, "{}", s.len());
        assert!(s.len() <= 1024);
        assert!(s.ends_with("word…"), "{s}");
        let wide = "é".repeat(2000);
        assert!(summary(&wide).expect("a summary").len() <= 1024);
    }

    #[test]
    fn crate_docs_keep_everything_in_a_fence_longer_than_any_inside() {
        let doc = crate_doc(LONG);
        assert!(doc.starts_with("//! ````text\n"), "{doc}");
        assert!(doc.ends_with("//! ````\n"), "{doc}");
        assert!(
            doc.contains("//!     indented code */ \\ `tick`\n"),
            "{doc}"
        );
        assert!(doc.contains("//! ```\n//! fn main() {}\n"), "{doc}");
        assert!(doc.lines().all(|l| l.starts_with("//!")), "{doc}");
        assert!(!crate_doc("a\r\nb\tc\u{7}").contains(['\r', '\t', '\u{7}']));
        assert_eq!(
            crate_doc("A pet registry. Generated\nby apigen.\n\nMore prose, café.\n"),
            "//! A pet registry. Generated\n//! by apigen.\n//!\n//! More prose, café.\n"
        );
    }
}
