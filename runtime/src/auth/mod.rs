//! Authentication and access control (feature `auth`).
//!
//! The generator writes an [`AuthDef`] (the spec's security schemes) and, per secured operation,
//! a marker type implementing [`Required`]; handlers take [`Authorized`] first, which answers
//! 401 and 403 itself and hands the verified [`Caller`] over. The [`Authenticator`] decides:
//!
//! - locally it verifies credentials itself: JWT signatures against a JWKS file, issuer,
//!   audience, time claims, API keys, the user's custom authorizer;
//! - under Lambda it trusts only what API Gateway's authorizers passed on in the request context.
//!
//! Submodules: `def` (the static tables), `caller`, `jwks` (keys and token verification),
//! `api_key`, `authenticator`, `extract` (the axum extractor), `authorizer` (custom authorizers
//! and the Lambda authorizer function), `gateway` (reading API Gateway's context), [`dev`]
//! (local keys and tokens), `error`.

mod api_key;
mod authenticator;
mod authorizer;
mod caller;
mod def;
pub mod dev;
mod error;
mod extract;
#[cfg(feature = "lambda")]
mod gateway;
mod jwks;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

pub use authenticator::{Authenticator, LocalConfig};
#[cfg(all(feature = "lambda", feature = "websocket"))]
pub(crate) use authorizer::context::{decode_caller, CONTEXT_KEY};
#[cfg(all(feature = "lambda", feature = "websocket"))]
pub(crate) use authorizer::lambda::allow;
#[cfg(feature = "lambda")]
pub use authorizer::serve_authorizer;
pub use authorizer::{AuthorizerFn, AuthorizerRequest, Denied};
pub use caller::Caller;
pub use def::{
    Access, AuthDef, Credential, Required, Requirement, SchemeDef, SchemeKind, Security,
};
pub use error::AuthError;
pub use extract::Authorized;
pub use jwks::Jwks;

/// Makes sure jsonwebtoken has a crypto provider. It picks aws-lc-rs by itself unless another
/// crate in the build also enables its RustCrypto backend; then it would panic on first use, so
/// aws-lc-rs is installed explicitly (a provider already installed is kept).
fn crypto_provider() {
    use jsonwebtoken::crypto::{aws_lc, CryptoProvider};
    if CryptoProvider::try_get_default().is_none() {
        let _ = aws_lc::DEFAULT_PROVIDER.install_default();
    }
}

/// A file's text, refused when larger than `limit` (read no further than that).
fn read_bounded(path: &Path, limit: usize) -> Result<String, AuthError> {
    let io = |source| AuthError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(limit as u64 + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() > limit {
        return Err(AuthError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(text)
}
