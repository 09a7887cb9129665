//! JSON pointers (RFC 6901): how a diagnostic, the source map and the model
//! name a place in the spec.

/// Escapes one JSON pointer segment.
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from segments.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    segments
        .into_iter()
        .map(|s| format!("/{}", escape_segment(s.as_ref())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_tilde_before_slash() {
        assert_eq!(escape_segment("~/a"), "~0~1a");
        assert_eq!(
            pointer(["paths", "/pets/{id}", "get"]),
            "/paths/~1pets~1{id}/get"
        );
        assert_eq!(pointer(Vec::<&str>::new()), "");
    }
}
