//! `If-Match` (RFC 9110, 13.1.1) and the version it requires of an item.

use serde_json::Value;

use super::item;
use super::keys;
use super::ops::check_versioned;
use super::{Entity, Store, StoreError};
use crate::http::ApiError;

/// What an `If-Match` header asks of the current item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current item.
    Any,
    /// The versions of the strong entity tags listed. If-Match compares strongly, so a weak tag
    /// (`W/"3"`) never matches, nor does a tag that is no version of ours (`"abc"`): both are
    /// left out, and an empty list matches nothing.
    Versions(Vec<i64>),
}

/// Reads an `If-Match` value: `*`, or a comma-separated list of entity tags (`"3"`, `W/"3"`;
/// a bare `3` is accepted too). Anything else is a 400.
pub fn parse_if_match(value: &str) -> Result<IfMatch, ApiError> {
    let bad = || ApiError::bad_request("If-Match must be `*` or entity tags such as \"3\"");
    let value = value.trim();
    if value == "*" {
        return Ok(IfMatch::Any);
    }
    let mut versions = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start();
        let (weak, tagged) = match rest.strip_prefix("W/") {
            Some(tagged) => (true, tagged),
            None => (false, rest),
        };
        let (tag, after) = match tagged.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').ok_or_else(bad)?,
            // Unquoted: only a version, as clients that drop the quotes send it.
            None if !weak => {
                let end = tagged.find([',', ' ', '\t']).unwrap_or(tagged.len());
                let (tag, after) = tagged.split_at(end);
                if !is_digits(tag) {
                    return Err(bad());
                }
                (tag, after)
            }
            None => return Err(bad()),
        };
        if !weak && is_digits(tag) {
            versions.push(tag.parse().map_err(|_| bad())?);
        }
        rest = after.trim_start();
        if rest.is_empty() {
            return Ok(IfMatch::Versions(versions));
        }
        rest = rest.strip_prefix(',').ok_or_else(bad)?;
        if rest.trim().is_empty() {
            return Err(bad());
        }
    }
}

/// Only plain digits: `i64::from_str` would also accept a sign.
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

impl Store {
    /// The version a write must find, from the `If-Match` header sent (if any). `creates`: the
    /// write creates a missing item (put), so a precondition on a missing item fails (412);
    /// otherwise a missing item is a 404, as it would be without the header (RFC 9110, 13.2.2).
    ///
    /// One strong tag is its version, without a read. `*` on an update or delete asks for an
    /// existing item, which they require anyway. Otherwise one GetItem: `*` on a put fixes the
    /// current version, a list must hold the current version, and the write then requires it.
    pub async fn if_match<E: Entity, K: serde::Serialize>(
        &self,
        key: &K,
        header: Option<&str>,
        creates: bool,
    ) -> Result<Option<i64>, ApiError> {
        let Some(header) = header else {
            return Ok(None);
        };
        let if_match = parse_if_match(header)?;
        let def = E::DEF;
        match &if_match {
            IfMatch::Versions(versions) if versions.len() == 1 => {
                return Ok(versions.first().copied())
            }
            IfMatch::Any if !creates => return Ok(None),
            _ => {}
        }
        check_versioned(def, Some(0))?;
        let key = match serde_json::to_value(key) {
            Ok(Value::Object(fields)) => fields,
            _ => return Err(ApiError::bad_request("the key is not valid")),
        };
        let key = keys::primary_key(def, &key)?;
        let found = self
            .get_item(def.table, key)
            .await?
            .filter(|found| item::is_entity(def, found));
        let Some(found) = found else {
            let missing = match creates {
                true => StoreError::VersionMismatch,
                false => StoreError::NotFound,
            };
            return Err(missing.into());
        };
        let current = def
            .version
            .and_then(|field| item::version_of(field, &found));
        let matched = match if_match {
            IfMatch::Any => current,
            IfMatch::Versions(versions) => current.filter(|v| versions.contains(v)),
        };
        matched
            .map(Some)
            .ok_or_else(|| StoreError::VersionMismatch.into())
    }
}
