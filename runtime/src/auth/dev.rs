//! Local development keys and tokens (never used under Lambda: the gateway mode ignores JWKS).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};

use super::def::{AuthDef, SchemeKind};
use super::error::AuthError;

const FOLDER: &str = ".apigen";
const KEY_FILE: &str = "dev-key.pem";
const JWKS_FILE: &str = "dev-jwks.json";
const MAX_KEY_BYTES: usize = 16 * 1024;

/// Creates `.apigen/dev-key.pem` (ES256, PKCS#8) and `.apigen/dev-jwks.json` under `dir` when
/// missing, and returns the JWKS path.
pub fn ensure_keys(dir: &Path) -> Result<PathBuf, AuthError> {
    let folder = dir.join(FOLDER);
    let key_path = folder.join(KEY_FILE);
    let jwks_path = folder.join(JWKS_FILE);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AuthError::Io { path, source }
    };
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    let key = if key_path.exists() {
        DevKey::from_pkcs8(read_key(&key_path)?)?
    } else {
        let key = DevKey::generate()?;
        write_private(&key_path, &pem(&key.pkcs8)).map_err(io(&key_path))?;
        key
    };
    if !jwks_path.exists() {
        std::fs::write(&jwks_path, key.jwks_json()).map_err(io(&jwks_path))?;
    }
    Ok(jwks_path)
}

/// An ES256 development key held in memory: what `ensure_keys` keeps on disk, and what tests
/// sign their tokens with.
pub struct DevKey {
    pkcs8: Vec<u8>,
    kid: String,
    jwk: Value,
}

impl std::fmt::Debug for DevKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("DevKey").field("kid", &self.kid).finish()
    }
}

impl DevKey {
    /// A new random P-256 key.
    pub fn generate() -> Result<Self, AuthError> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| AuthError::Key("cannot generate a P-256 key".to_owned()))?;
        Self::from_pkcs8(document.as_ref().to_vec())
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> Result<Self, AuthError> {
        let kid = key_id(&pkcs8)?;
        let jwk = public_jwk(&pkcs8)?;
        Ok(Self { pkcs8, kid, jwk })
    }

    /// The public key as a JWKS document, as `APIGEN_JWKS` names one.
    pub fn jwks_json(&self) -> String {
        serde_json::to_string_pretty(&json!({"keys": [self.jwk]})).unwrap_or_default()
    }

    /// The public key as the keys an `Authenticator` trusts.
    pub fn jwks(&self) -> Result<super::Jwks, AuthError> {
        super::Jwks::from_json(&self.jwks_json())
    }

    /// `claims` (a JSON object) signed with ES256 under this key's id.
    pub fn sign(&self, claims: &Value) -> Result<String, AuthError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_ec_der(&self.pkcs8);
        jsonwebtoken::encode(&header, claims, &key).map_err(|e| AuthError::Token(e.to_string()))
    }

    /// A token for `def`'s JWT scheme, as `options` say.
    pub fn mint(&self, def: &AuthDef, options: &TokenOptions) -> Result<String, AuthError> {
        self.sign(&Value::Object(claims(def, options)?))
    }
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenOptions {
    /// `sub` (default `dev-user`).
    pub subject: String,
    /// Written to `scope`, space-separated.
    pub scopes: Vec<String>,
    /// Written to the definition's groups claim.
    pub groups: Vec<String>,
    /// The JWT scheme whose issuer and audience to use (default: the first).
    pub scheme: Option<String>,
    /// `iss`, replacing the scheme's.
    pub issuer: Option<String>,
    /// `aud`, replacing the scheme's first audience.
    pub audience: Option<String>,
    /// Seconds until `exp` (default 3600; negative: already expired).
    pub ttl_seconds: i64,
    /// Seconds until `nbf`, when set (positive: not valid yet).
    pub not_before_seconds: Option<i64>,
    /// More claims, replacing the ones above on a clash.
    pub claims: Map<String, Value>,
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self {
            subject: "dev-user".to_owned(),
            scopes: Vec::new(),
            groups: Vec::new(),
            scheme: None,
            issuer: None,
            audience: None,
            ttl_seconds: 3600,
            not_before_seconds: None,
            claims: Map::new(),
        }
    }
}

/// A token signed with the dev key under `dir` (created when missing), for `def`'s JWT scheme.
pub fn mint(dir: &Path, def: &AuthDef, options: &TokenOptions) -> Result<String, AuthError> {
    ensure_keys(dir)?;
    let key = DevKey::from_pkcs8(read_key(&dir.join(FOLDER).join(KEY_FILE))?)?;
    key.mint(def, options)
}

/// The claims of a token for `def`'s JWT scheme.
fn claims(def: &AuthDef, options: &TokenOptions) -> Result<Map<String, Value>, AuthError> {
    let scheme = def
        .schemes
        .iter()
        .filter(|s| options.scheme.as_deref().is_none_or(|name| s.name == name))
        .find_map(|s| match s.kind {
            SchemeKind::Jwt { issuer, audience } => Some((issuer, audience)),
            _ => None,
        });
    let (issuer, audience) = match (scheme, &options.scheme) {
        (Some(found), _) => found,
        (None, Some(name)) => {
            return Err(AuthError::Token(format!("no JWT scheme named `{name}`")))
        }
        (None, None) => ("", &[][..]),
    };
    let issuer = options.issuer.clone().unwrap_or_else(|| issuer.to_owned());
    let audience = options
        .audience
        .clone()
        .or_else(|| audience.first().map(|a| (*a).to_owned()))
        .ok_or_else(|| AuthError::Token("no audience: name one".to_owned()))?;
    let now = chrono::Utc::now().timestamp();
    let mut claims = Map::new();
    claims.insert("sub".into(), options.subject.clone().into());
    claims.insert("iss".into(), issuer.into());
    claims.insert("aud".into(), audience.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), now.saturating_add(options.ttl_seconds).into());
    if let Some(nbf) = options.not_before_seconds {
        claims.insert("nbf".into(), now.saturating_add(nbf).into());
    }
    if !options.scopes.is_empty() {
        claims.insert("scope".into(), options.scopes.join(" ").into());
    }
    if !options.groups.is_empty() {
        claims.insert(def.groups_claim.into(), options.groups.clone().into());
    }
    claims.extend(options.claims.clone());
    Ok(claims)
}

const USAGE: &str = "usage: cargo run --example token -- [--sub SUBJECT] [--scope SCOPE]... \
[--group GROUP]... [--ttl SECONDS] [--scheme NAME]

Mints a token signed by the local dev key (.apigen/dev-key.pem, created when missing) and prints
it on stdout; stderr gets the line that makes the local server accept it. Issuer and audience are
the scheme's, or APIGEN_JWT_ISSUER / APIGEN_JWT_AUDIENCE. --ttl defaults to an hour; the server
allows 30 s of clock skew, so a token is refused 30 s after it expires. Such tokens never work
under Lambda: there API Gateway verifies tokens against the real issuer.";

/// The `cargo run --example token -- [--sub alice] [--scope s]... [--group g]... [--ttl 3600]
/// [--scheme users]` command: ensures keys, prints the token on stdout and, on stderr, the
/// line `export APIGEN_JWKS=...`. `--help` prints usage. Errors: a message and exit code 2.
pub fn token_command(def: &'static AuthDef) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let run = || -> Result<(String, PathBuf), String> {
        let mut options = parse_args(&args)?;
        let first = |name: &str| {
            std::env::var(name).ok().and_then(|text| {
                text.split(',')
                    .map(str::trim)
                    .find(|part| !part.is_empty())
                    .map(str::to_owned)
            })
        };
        options.issuer = options.issuer.or_else(|| first("APIGEN_JWT_ISSUER"));
        options.audience = options.audience.or_else(|| first("APIGEN_JWT_AUDIENCE"));
        // `cargo run` sets the package's folder; elsewhere the current one.
        let dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let jwks = ensure_keys(&dir).map_err(|e| e.to_string())?;
        let token = mint(&dir, def, &options).map_err(|e| e.to_string())?;
        Ok((token, jwks))
    };
    match run() {
        Ok((token, jwks)) => {
            println!("{token}");
            eprintln!("export APIGEN_JWKS={}", jwks.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

pub(super) fn parse_args(args: &[String]) -> Result<TokenOptions, String> {
    let mut options = TokenOptions::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--sub" => options.subject = value()?,
            "--scope" => options.scopes.push(value()?),
            "--group" => options.groups.push(value()?),
            "--scheme" => options.scheme = Some(value()?),
            "--ttl" => {
                let text = value()?;
                options.ttl_seconds = text
                    .parse()
                    .map_err(|_| format!("--ttl must be a number of seconds, not {text:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn read_key(path: &Path) -> Result<Vec<u8>, AuthError> {
    let text = super::read_bounded(path, MAX_KEY_BYTES)?;
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD
        .decode(body.trim())
        .map_err(|_| AuthError::Key(format!("{} is not a PEM key", path.display())))
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

fn key_pair(pkcs8: &[u8]) -> Result<EcdsaKeyPair, AuthError> {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
        .map_err(|e| AuthError::Key(format!("the dev key is not a P-256 key: {e}")))
}

/// The key's id: derived from its public key, so the JWKS and tokens agree without state.
fn key_id(pkcs8: &[u8]) -> Result<String, AuthError> {
    let pair = key_pair(pkcs8)?;
    let hash = digest(&SHA256, pair.public_key().as_ref());
    Ok(format!(
        "apigen-dev-{}",
        URL_SAFE_NO_PAD.encode(&hash.as_ref()[..9])
    ))
}

fn public_jwk(pkcs8: &[u8]) -> Result<Value, AuthError> {
    let pair = key_pair(pkcs8)?;
    // The uncompressed point: 0x04 || x || y.
    let point = pair.public_key().as_ref();
    if point.len() != 65 || point[0] != 4 {
        return Err(AuthError::Key("unexpected public key encoding".to_owned()));
    }
    Ok(json!({
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "alg": "ES256",
        "kid": key_id(pkcs8)?,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    }))
}

/// The private key is the user's only: readable by nobody else.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
