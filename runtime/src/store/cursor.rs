//! Pagination cursors: a LastEvaluatedKey as base64url JSON with a checksum, checked before it
//! is ever used.
//!
//! The checksum makes a changed cursor a 400 rather than a page from somewhere else. It is not a
//! secret: what keeps a forged cursor harmless is that the query checks the key it names lies in
//! the query's own partition and range, so a cursor can only restart the same query.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::item::Item;
use super::{IndexDef, KeyAttr, KeyKind, StoreError, TableDef};

/// Far above any real key (DynamoDB keys are at most 3 KiB); refuses huge input early.
const MAX_LEN: usize = 16 * 1024;

/// Bytes of SHA-256 kept as the checksum.
const TAG_LEN: usize = 8;

fn tag(json: &[u8]) -> [u8; TAG_LEN] {
    let digest = Sha256::new()
        .chain_update(b"apigen cursor v1\0")
        .chain_update(json)
        .finalize();
    let mut tag = [0; TAG_LEN];
    tag.copy_from_slice(&digest[..TAG_LEN]);
    tag
}

/// The JSON followed by its checksum, as base64url.
fn seal(json: &[u8]) -> String {
    let mut bytes = json.to_vec();
    bytes.extend_from_slice(&tag(json));
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The attributes of a page's last key: the table's keys, plus the index's keys on an index.
pub(super) fn key_attrs(table: &TableDef, index: Option<&IndexDef>) -> Vec<KeyAttr> {
    let index_keys = index.into_iter().flat_map(|i| [Some(i.pk), i.sk]);
    let mut attrs: Vec<KeyAttr> = Vec::new();
    for attr in [Some(table.pk), table.sk]
        .into_iter()
        .chain(index_keys)
        .flatten()
    {
        // An index may reuse a table key (an inverted index); list each attribute once.
        if !attrs.iter().any(|a| a.name == attr.name) {
            attrs.push(attr);
        }
    }
    attrs
}

/// `item` reduced to the attributes named in `attrs` (the key DynamoDB would return for it).
pub(super) fn key_of(item: &Item, attrs: &[KeyAttr]) -> Item {
    attrs
        .iter()
        .filter_map(|attr| Some((attr.name.to_string(), item.get(attr.name)?.clone())))
        .collect()
}

/// A key's values in DynamoDB's order, comparable whatever form a number is written in.
pub(super) fn canonical(table: &TableDef, key: &Item) -> Vec<Option<super::order::KeyValue>> {
    key_attrs(table, None)
        .iter()
        .map(|attr| key.get(attr.name).and_then(super::order::KeyValue::of))
        .collect()
}

/// Encodes a LastEvaluatedKey as base64url (no padding) of `{"attr": string or number}` and its
/// checksum.
pub(super) fn encode(key: &Item) -> Result<String, StoreError> {
    let mut object = Map::new();
    for (name, value) in key {
        let json = match value {
            AttributeValue::S(s) => Value::String(s.clone()),
            AttributeValue::N(n) => Value::Number(n.parse().map_err(|_| unexpected(name))?),
            // Binary keys travel as standard base64 text; the key kind says how to read them.
            AttributeValue::B(b) => Value::String(STANDARD.encode(b.as_ref())),
            _ => return Err(unexpected(name)),
        };
        object.insert(name.clone(), json);
    }
    let json = serde_json::to_vec(&object).map_err(|e| StoreError::backend(e.to_string()))?;
    Ok(seal(&json))
}

fn unexpected(name: &str) -> StoreError {
    StoreError::backend(format!(
        "the last key holds an unexpected value in `{name}`"
    ))
}

/// Decodes a cursor into a start key holding exactly `attrs`, each of its declared kind.
pub(super) fn decode(cursor: &str, attrs: &[KeyAttr]) -> Result<Item, StoreError> {
    if cursor.len() > MAX_LEN {
        return Err(StoreError::BadCursor);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::BadCursor)?;
    let Some(split) = bytes.len().checked_sub(TAG_LEN) else {
        return Err(StoreError::BadCursor);
    };
    let (json, checksum) = bytes.split_at(split);
    if checksum != tag(json) {
        return Err(StoreError::BadCursor);
    }
    let object: Map<String, Value> =
        serde_json::from_slice(json).map_err(|_| StoreError::BadCursor)?;
    if object.len() != attrs.len() {
        return Err(StoreError::BadCursor);
    }
    attrs
        .iter()
        .map(|attr| {
            let value = match (attr.kind, object.get(attr.name)) {
                // DynamoDB refuses empty key values, so no real cursor holds one.
                (KeyKind::S, Some(Value::String(s))) if !s.is_empty() => {
                    AttributeValue::S(s.clone())
                }
                (KeyKind::N, Some(Value::Number(n))) => AttributeValue::N(n.to_string()),
                (KeyKind::B, Some(Value::String(s))) => match STANDARD.decode(s) {
                    Ok(bytes) if !bytes.is_empty() => AttributeValue::B(Blob::new(bytes)),
                    _ => return Err(StoreError::BadCursor),
                },
                _ => return Err(StoreError::BadCursor),
            };
            Ok((attr.name.to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: [KeyAttr; 2] = [
        KeyAttr {
            name: "PK",
            kind: KeyKind::S,
        },
        KeyAttr {
            name: "N",
            kind: KeyKind::N,
        },
    ];

    #[test]
    fn round_trips_strings_and_numbers() {
        let key = Item::from([
            ("PK".to_string(), AttributeValue::S("A#1".into())),
            ("N".to_string(), AttributeValue::N("-42".into())),
        ]);
        let cursor = encode(&key).unwrap();
        assert!(!cursor.contains('=') && !cursor.contains('+') && !cursor.contains('/'));
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        let json = &bytes[..bytes.len() - TAG_LEN];
        assert_eq!(
            std::str::from_utf8(json).unwrap(),
            r#"{"N":-42,"PK":"A#1"}"#
        );
        assert_eq!(decode(&cursor, &ATTRS).unwrap(), key);
    }

    #[test]
    fn refuses_a_changed_cursor() {
        let cursor = seal(br#"{"N":1,"PK":"A#1"}"#);
        assert!(decode(&cursor, &ATTRS).is_ok());
        // The same key with another value, without a matching checksum.
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        let mut changed = br#"{"N":2,"PK":"A#1"}"#.to_vec();
        changed.extend_from_slice(&bytes[bytes.len() - TAG_LEN..]);
        let changed = URL_SAFE_NO_PAD.encode(changed);
        assert!(matches!(
            decode(&changed, &ATTRS),
            Err(StoreError::BadCursor)
        ));
        // Every single-character edit is caught.
        for i in 0..cursor.len() {
            let mut chars: Vec<char> = cursor.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let edited: String = chars.into_iter().collect();
            assert!(decode(&edited, &ATTRS).is_err(), "{edited}");
        }
    }

    #[test]
    fn refuses_anything_but_exactly_the_key_attributes() {
        let enc = |json: &str| seal(json.as_bytes());
        for bad in [
            "not base64!".to_string(),
            URL_SAFE_NO_PAD.encode(r#"{"PK":"A","N":1}"#),
            enc("not json"),
            enc("[1, 2]"),
            enc(r#"{"PK":"A"}"#),
            enc(r#"{"PK":"A","N":1,"X":2}"#),
            enc(r#"{"PK":"A","M":1}"#),
            enc(r#"{"PK":1,"N":1}"#),
            enc(r#"{"PK":"A","N":"1"}"#),
            enc(r#"{"PK":"","N":1}"#),
            "A".repeat(MAX_LEN + 1),
        ] {
            assert!(
                matches!(decode(&bad, &ATTRS), Err(StoreError::BadCursor)),
                "{bad}"
            );
        }
    }
}
