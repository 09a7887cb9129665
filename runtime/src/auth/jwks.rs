//! Verifying JWTs against a JWKS: the algorithm is pinned to each key, never taken from the
//! token.

use std::fmt::{self, Debug};
use std::path::Path;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::error::AuthError;

/// A JWKS file is at most this large: key sets hold a handful of keys.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Keys beyond this many are ignored (and said so).
const MAX_KEYS: usize = 64;
/// Clock skew tolerated on `exp` and `nbf`.
pub(super) const LEEWAY_SECONDS: u64 = 30;

/// A set of public keys that verify tokens (a JWKS), each pinned to one algorithm.
pub struct Jwks {
    keys: Vec<Key>,
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|key| (key.kid.as_deref().unwrap_or("-"), key.algorithm))
            .collect();
        f.debug_struct("Jwks").field("keys", &keys).finish()
    }
}

impl Jwks {
    /// Reads a JWKS document. RSA keys verify RS256 only and EC P-256 keys ES256 only; other keys
    /// (encryption keys, other curves, a key whose `alg` names another algorithm) are skipped. At
    /// least one key must remain.
    pub fn from_json(text: &str) -> Result<Self, AuthError> {
        if text.len() > MAX_JWKS_BYTES {
            return Err(AuthError::InvalidJwks(format!(
                "larger than {MAX_JWKS_BYTES} bytes"
            )));
        }
        let document: Value =
            serde_json::from_str(text).map_err(|e| AuthError::InvalidJwks(e.to_string()))?;
        let Some(Value::Array(entries)) = document.get("keys") else {
            return Err(AuthError::InvalidJwks("no `keys` array".to_owned()));
        };
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, entry) in entries.iter().take(MAX_KEYS).enumerate() {
            match key_of(entry) {
                Ok(key) => keys.push(key),
                Err(why) => skipped.push(format!("key {index}: {why}")),
            }
        }
        if entries.len() > MAX_KEYS {
            skipped.push(format!("keys beyond the first {MAX_KEYS} are ignored"));
        }
        if keys.is_empty() {
            let why = if skipped.is_empty() {
                String::new()
            } else {
                format!(" ({})", skipped.join("; "))
            };
            return Err(AuthError::NoUsableKeys(why));
        }
        for why in &skipped {
            tracing::warn!(reason = %why, "JWKS key skipped");
        }
        Ok(Self { keys })
    }

    /// Reads a JWKS file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, AuthError> {
        let path = path.as_ref();
        let text = super::read_bounded(path, MAX_JWKS_BYTES)?;
        Self::from_json(&text)
    }

    /// How many keys verify tokens.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key verifies tokens (never, for a loaded set).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a token's signature and time claims, and its issuer against `issuers`; returns
    /// its claims. The audience is the caller's to check (it may be `client_id`).
    pub(super) fn verify(
        &self,
        token: &str,
        issuers: &[String],
    ) -> Result<Map<String, Value>, &'static str> {
        super::crypto_provider();
        // The header names the algorithm, but selects nothing: it must be the key's.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| "the token is malformed or uses an algorithm that is not accepted")?;
        let key = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|key| key.kid.as_deref() == Some(kid.as_str()))
                .ok_or("the token was signed by an unknown key")?,
            None => match self.keys.as_slice() {
                [only] => only,
                _ => return Err("the token names no key (kid)"),
            },
        };
        if header.alg != key.algorithm {
            return Err("the token's algorithm is not the one of its key");
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_issuer(issuers);
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks exp or iss",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                _ => "the token is malformed",
            })?;
        Ok(data.claims)
    }
}

/// The key and its pinned algorithm, or why it cannot verify tokens.
fn key_of(entry: &Value) -> Result<Key, String> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| e.to_string())?;
    if let Some(PublicKeyUse::Encryption) = jwk.common.public_key_use {
        return Err("an encryption key".to_owned());
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::EllipticCurve(_) => return Err("an EC key not on P-256".to_owned()),
        _ => return Err("neither an RSA nor an EC key".to_owned()),
    };
    let named = jwk.common.key_algorithm;
    let expected = match algorithm {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        _ => KeyAlgorithm::ES256,
    };
    if named.is_some_and(|named| named != expected) {
        return Err(format!("its alg is not {algorithm:?}"));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    Ok(Key {
        kid: jwk.common.key_id,
        algorithm,
        key,
    })
}
