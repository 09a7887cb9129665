//! Errors of configuration and loading: keys, key sets, dev tokens.

use std::path::PathBuf;

/// Why keys or a key set could not be loaded or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is larger than any sensible key set or key.
    #[error("{} is larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The most accepted.
        limit: usize,
    },
    /// The text is not a JWKS (`{"keys": [...]}`).
    #[error("not a JWKS: {0}")]
    InvalidJwks(String),
    /// The JWKS holds no key that can verify tokens (RSA, or EC on P-256, for signatures).
    #[error("the JWKS has no usable key (RSA or EC P-256 signing keys){0}")]
    NoUsableKeys(String),
    /// A key could not be created, read or used.
    #[error("key: {0}")]
    Key(String),
    /// A token could not be made.
    #[error("token: {0}")]
    Token(String),
}
