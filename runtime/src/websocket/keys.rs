//! An issuer's signing keys, fetched where its OpenID configuration says (`jwks_uri`), else
//! from `/.well-known/jwks.json` as Cognito serves them: what a `$connect` authorizer checks
//! tokens with, since API Gateway verifies no JWT on a WebSocket API itself.

use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::auth::Jwks;
use crate::BoxError;

/// A key set or configuration larger than this is refused rather than read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The keys of `issuer`.
pub async fn fetch_jwks(issuer: &str) -> Result<Jwks, BoxError> {
    let issuer = issuer.trim_end_matches('/');
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    let jwks_uri = match get(&discovery).await {
        Ok(text) => {
            let configuration: serde_json::Value = serde_json::from_str(&text)?;
            configuration["jwks_uri"].as_str().map(str::to_owned)
        }
        Err(error) => {
            tracing::info!(%error, "no OpenID configuration; trying /.well-known/jwks.json");
            None
        }
    };
    let uri = jwks_uri.unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
    Ok(Jwks::from_json(&get(&uri).await?)?)
}

/// The body of a GET to `url`: HTTPS, or HTTP to this machine (tests, local issuers).
async fn get(url: &str) -> Result<String, BoxError> {
    let uri: hyper::Uri = url.parse()?;
    let local = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if uri.scheme_str() != Some("https") && !local {
        return Err(format!("{url}: keys are fetched over HTTPS only").into());
    }
    // The AWS SDK's TLS stack and the system's roots.
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, http_body_util::Empty<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector);
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), client.get(uri))
        .await
        .map_err(|_| format!("{url}: no answer within 5 s"))??;
    if !response.status().is_success() {
        return Err(format!("{url}: {}", response.status()).into());
    }
    let body = http_body_util::Limited::new(response.into_body(), MAX_DOCUMENT_BYTES);
    let bytes = body
        .collect()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .to_bytes();
    Ok(String::from_utf8(bytes.to_vec())?)
}
