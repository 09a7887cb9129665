//! Matching a request path against its operation's, segment by segment.

use axum::extract::RawPathParams;

use super::spec::OperationSpec;

/// Whether the request's path matches `spec`'s, not only the route it shares with others.
pub fn path_matches(captures: &RawPathParams, spec: &OperationSpec) -> bool {
    path_variables(captures, spec).is_some()
}

/// The spec's path variables, read from the router's whole-segment captures; `None` when the
/// fixed text around them does not match.
pub(super) fn path_variables(
    captures: &RawPathParams,
    spec: &OperationSpec,
) -> Option<Vec<(&'static str, String)>> {
    let mut variables = Vec::new();
    for (pattern, capture) in spec.path.split('/').zip(spec.route.split('/')) {
        let Some(name) = capture.strip_prefix('{').and_then(|c| c.strip_suffix('}')) else {
            continue;
        };
        let (_, value) = captures.iter().find(|(key, _)| *key == name)?;
        if !split_segment(pattern, value, &mut variables) {
            return None;
        }
    }
    Some(variables)
}

/// Matches one segment against its pattern (`{base}...{head}`, `{name}.json`), each variable
/// taking the shortest non-empty text that lets the rest match.
fn split_segment(
    pattern: &'static str,
    value: &str,
    variables: &mut Vec<(&'static str, String)>,
) -> bool {
    split_counting(pattern, value, variables, &mut 0)
}

/// [`split_segment`], adding the positions it examines to `steps`. Trying every way to split a
/// segment took time quadratic in its length; instead, one pass per variable from the end
/// finds where that variable may end, and the variables are then taken left to right.
fn split_counting(
    pattern: &'static str,
    value: &str,
    variables: &mut Vec<(&'static str, String)>,
    steps: &mut usize,
) -> bool {
    // The pattern as `texts[0] {names[0]} texts[1] {names[1]} ...`; an unclosed brace is text.
    let (mut names, mut texts) = (Vec::new(), Vec::new());
    let mut rest = pattern;
    while let Some((open, close)) = rest
        .find('{')
        .and_then(|open| Some((open, open + rest[open..].find('}')?)))
    {
        texts.push(&rest[..open]);
        names.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    texts.push(rest);
    let Some(value) = value.strip_prefix(texts[0]) else {
        return false;
    };
    let length = value.len();
    // fits[i][end]: variable i may end at byte `end`, because the rest of the pattern then
    // matches `value[end..]`. Worked out from the last variable back.
    let mut fits: Vec<Vec<bool>> = Vec::with_capacity(names.len());
    for i in (0..names.len()).rev() {
        let text = texts[i + 1];
        // later[at]: the next variable may end at `at` or beyond.
        let later = fits.last().map(|next: &Vec<bool>| {
            let mut later = next.clone();
            for at in (0..length).rev() {
                *steps += 1;
                later[at] |= later[at + 1];
            }
            later
        });
        let row = (0..=length)
            .map(|end| {
                *steps += 1 + text.len();
                value.is_char_boundary(end)
                    && match &later {
                        None => &value[end..] == text,
                        // The next variable starts after `text` and is not empty.
                        Some(later) => {
                            value[end..].starts_with(text)
                                && later.get(end + text.len() + 1) == Some(&true)
                        }
                    }
            })
            .collect();
        fits.push(row);
    }
    fits.reverse();
    let mark = variables.len();
    let mut start = 0;
    for (i, name) in names.iter().enumerate() {
        let end = (start + 1..=length).find(|&end| {
            *steps += 1;
            fits[i][end]
        });
        let Some(end) = end else {
            variables.truncate(mark);
            return false;
        };
        variables.push((name, value[start..end].to_owned()));
        start = end + texts[i + 1].len();
    }
    !names.is_empty() || value.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_at_the_first_place_the_rest_matches() {
        let split = |pattern: &'static str, value: &str| {
            let mut variables = Vec::new();
            split_segment(pattern, value, &mut variables).then_some(variables)
        };
        let pairs = |pairs: &[(&'static str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (*k, (*v).to_owned()))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(split("{id}", "42"), pairs(&[("id", "42")]));
        assert_eq!(split("{id}", ""), None);
        assert_eq!(
            split("{name}.json", "a.json.json"),
            pairs(&[("name", "a.json")])
        );
        assert_eq!(split("{name}.json", "a.xml"), None);
        assert_eq!(
            split("v{major}.{minor}", "v1.2.3"),
            pairs(&[("major", "1"), ("minor", "2.3")])
        );
        assert_eq!(
            split("{a}...{b}", "x...y...z"),
            pairs(&[("a", "x"), ("b", "y...z")])
        );
        assert_eq!(split("{a}...{b}", "...y"), None);
        assert_eq!(
            split("{a}..{b}..{c}", "x....y..z"),
            pairs(&[("a", "x"), ("b", "..y"), ("c", "z")])
        );
        assert_eq!(split("{a}{b}", "xy"), pairs(&[("a", "x"), ("b", "y")]));
        assert_eq!(split("{a}{b}", "x"), None);
        assert_eq!(split("é{a}é", "éüé"), pairs(&[("a", "ü")]));
        assert_eq!(split("plain", "plain"), pairs(&[]));
        assert_eq!(split("plain", "plainer"), None);
        assert_eq!(split("{open", "{open"), pairs(&[]));
    }

    #[test]
    fn splitting_a_segment_takes_steps_linear_in_its_length() {
        for length in [64 * 1024, 1024 * 1024] {
            let matching = "a".repeat(length) + "...b";
            // Near misses everywhere: what made the old backtracking quadratic.
            let near_misses = "a..".repeat(length / 3);
            let cases = [
                ("{id}", &matching),
                ("{a}...{b}", &matching),
                ("{a}...{b}", &near_misses),
                ("v{major}.{minor}", &near_misses),
                ("{name}.json", &near_misses),
                ("{a}..{b}..{c}", &near_misses),
            ];
            for (pattern, value) in cases {
                let mut steps = 0;
                split_counting(pattern, value, &mut Vec::new(), &mut steps);
                assert!(
                    steps <= 16 * value.len(),
                    "{pattern}: {steps} steps for {} bytes",
                    value.len()
                );
            }
        }
    }
}
