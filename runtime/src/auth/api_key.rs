//! API keys compared in constant time.

use aws_lc_rs::digest::{digest, SHA256};

/// A configured key: its name (the caller's subject) and the SHA-256 of its text. Comparing
/// digests makes the comparison's time independent of the key's length and content.
pub(super) struct ApiKey {
    name: String,
    digest: [u8; 32],
}

impl ApiKey {
    pub(super) fn new(name: String, key: &str) -> Self {
        Self {
            name,
            digest: sha256(key),
        }
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

/// The name of the key `presented` is, looking at every key so the time taken does not say
/// which one matched.
pub(super) fn find<'k>(keys: &'k [ApiKey], presented: &str) -> Option<&'k str> {
    let presented = sha256(presented);
    let mut found = None;
    for key in keys {
        let difference = key
            .digest
            .iter()
            .zip(presented.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if difference == 0 && found.is_none() {
            found = Some(key.name());
        }
    }
    found
}

/// `APIGEN_API_KEYS`: comma-separated, each `key` or `name=key`; unnamed keys are `key-<n>`
/// (counting from 1).
pub(super) fn parse_list(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .enumerate()
        .map(|(index, entry)| match entry.split_once('=') {
            Some((name, key)) if !name.trim().is_empty() => {
                (name.trim().to_owned(), key.trim().to_owned())
            }
            _ => (format!("key-{}", index + 1), entry.to_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_their_text() {
        let keys: Vec<_> = parse_list("partner=s3cret, plain ,")
            .into_iter()
            .map(|(name, key)| ApiKey::new(name, &key))
            .collect();
        assert_eq!(find(&keys, "s3cret"), Some("partner"));
        assert_eq!(find(&keys, "plain"), Some("key-2"));
        assert_eq!(find(&keys, "s3cre"), None);
        assert_eq!(find(&keys, ""), None);
    }
}
