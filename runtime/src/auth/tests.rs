//! The authenticator against real keys and real signatures: an ES256 dev key made by `dev`, an
//! RSA key generated here, and tokens signed by both.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::KeyPair;
use axum::http::request::Parts;
use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::authenticator::access_refused;
use super::dev::{self, TokenOptions};
use super::*;
use crate::http::ApiError;

const ISSUER: &str = "https://issuer.example/pool";

static USERS: SchemeDef = SchemeDef {
    name: "users",
    kind: SchemeKind::Jwt {
        issuer: ISSUER,
        audience: &["client-a", "client-b"],
    },
};
static PARTNERS: SchemeDef = SchemeDef {
    name: "partners",
    kind: SchemeKind::ApiKey {
        header: "x-api-key",
    },
};
static TICKETS: SchemeDef = SchemeDef {
    name: "tickets",
    kind: SchemeKind::Custom {
        credential: Credential::Header("x-ticket"),
    },
};
static LINKS: SchemeDef = SchemeDef {
    name: "links",
    kind: SchemeKind::Custom {
        credential: Credential::Query("ticket"),
    },
};
static SIGV4: SchemeDef = SchemeDef {
    name: "sigv4",
    kind: SchemeKind::Iam,
};
static DEF: AuthDef = AuthDef {
    schemes: &[&USERS, &PARTNERS, &TICKETS, &LINKS, &SIGV4],
    groups_claim: "cognito:groups",
};

const ANYONE: Access = Access {
    owner: false,
    authenticated: true,
    groups: &[],
};

const fn security(any_of: &'static [&'static [Requirement]], access: Access) -> Security {
    Security { any_of, access }
}

static SIGNED_IN: Security = security(
    &[&[Requirement {
        scheme: &USERS,
        scopes: &[],
    }]],
    ANYONE,
);
static WRITERS: Security = security(
    &[&[Requirement {
        scheme: &USERS,
        scopes: &["notes/read", "notes/write"],
    }]],
    ANYONE,
);
static ADMINS: Security = security(
    &[&[Requirement {
        scheme: &USERS,
        scopes: &[],
    }]],
    Access {
        owner: false,
        authenticated: false,
        groups: &["admin", "auditors"],
    },
);
static OWNER_OR_ADMIN: Security = security(
    &[&[Requirement {
        scheme: &USERS,
        scopes: &[],
    }]],
    Access {
        owner: true,
        authenticated: false,
        groups: &["admin"],
    },
);
static TOKEN_AND_KEY: Security = security(
    &[&[
        Requirement {
            scheme: &USERS,
            scopes: &[],
        },
        Requirement {
            scheme: &PARTNERS,
            scopes: &[],
        },
    ]],
    ANYONE,
);
static TOKEN_OR_KEY: Security = security(
    &[
        &[Requirement {
            scheme: &USERS,
            scopes: &[],
        }],
        &[Requirement {
            scheme: &PARTNERS,
            scopes: &[],
        }],
    ],
    ANYONE,
);
static OPTIONAL: Security = security(&[&[]], ANYONE);
static TICKET: Security = security(
    &[&[Requirement {
        scheme: &TICKETS,
        scopes: &[],
    }]],
    ANYONE,
);
static LINK: Security = security(
    &[&[Requirement {
        scheme: &LINKS,
        scopes: &[],
    }]],
    ANYONE,
);
static SIGNED_REQUEST: Security = security(
    &[&[Requirement {
        scheme: &SIGV4,
        scopes: &[],
    }]],
    ANYONE,
);

/// A dev key pair under a temporary folder, and the authenticator trusting it.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        dev::ensure_keys(dir.path()).expect("dev keys");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn jwks(&self) -> Jwks {
        Jwks::from_file(self.path().join(".apigen/dev-jwks.json")).expect("dev JWKS")
    }

    fn token(&self, options: TokenOptions) -> String {
        dev::mint(self.path(), &DEF, &options).expect("token")
    }

    fn authenticator(&self) -> Authenticator {
        Authenticator::local(
            &DEF,
            LocalConfig {
                jwks: Some(self.jwks()),
                api_keys: vec![("acme".to_owned(), "acme-secret".to_owned())],
                ..LocalConfig::default()
            },
        )
    }

    /// The dev key's id, as the JWKS names it.
    fn kid(&self) -> String {
        let text =
            std::fs::read_to_string(self.path().join(".apigen/dev-jwks.json")).expect("jwks");
        let jwks: Value = serde_json::from_str(&text).expect("json");
        jwks["keys"][0]["kid"].as_str().expect("kid").to_owned()
    }
}

fn options(subject: &str) -> TokenOptions {
    TokenOptions {
        subject: subject.to_owned(),
        ..TokenOptions::default()
    }
}

fn request(headers: &[(&str, &str)]) -> Parts {
    request_to("/notes", headers)
}

fn request_to(uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = axum::http::Request::builder().uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("request").into_parts().0
}

fn bearer(token: &str) -> Parts {
    request(&[("authorization", &format!("Bearer {token}"))])
}

async fn refusal(authenticator: &Authenticator, parts: &Parts, security: &Security) -> ApiError {
    match authenticator.authenticate(parts, security).await {
        Ok(caller) => panic!("admitted {caller:?}"),
        Err(error) => error,
    }
}

async fn admitted(authenticator: &Authenticator, parts: &Parts, security: &Security) -> Caller {
    match authenticator.authenticate(parts, security).await {
        Ok(caller) => caller,
        Err(error) => panic!("refused: {error} ({:?})", error.challenge),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A token signed by any key, with any header: for the tokens our own minting would not make.
fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).expect("signed")
}

fn claims(subject: &str) -> Value {
    json!({"sub": subject, "iss": ISSUER, "aud": "client-a", "exp": now() + 600})
}

fn dev_key(keys: &Keys) -> EncodingKey {
    let text = std::fs::read(keys.path().join(".apigen/dev-key.pem")).expect("pem");
    EncodingKey::from_ec_pem(&text).expect("EC key")
}

#[tokio::test]
async fn minted_tokens_name_the_caller() {
    let keys = Keys::new();
    let token = keys.token(TokenOptions {
        scopes: vec!["notes/read".into(), "notes/write".into()],
        groups: vec!["admin".into()],
        ..options("alice")
    });
    let authenticator = keys.authenticator();
    let caller = admitted(&authenticator, &bearer(&token), &WRITERS).await;
    assert_eq!(caller.scheme, "users");
    assert_eq!(caller.subject, "alice");
    assert_eq!(caller.scopes, ["notes/read", "notes/write"]);
    assert_eq!(caller.groups, ["admin"]);
    assert_eq!(caller.claim("iss").as_deref(), Some(ISSUER));
    assert_eq!(caller.api_key, None);
    // The scheme's name is case-insensitive.
    let parts = request(&[("authorization", &format!("bEaReR {token}"))]);
    assert_eq!(
        admitted(&authenticator, &parts, &SIGNED_IN).await.subject,
        "alice"
    );
    // The keys are made once: a second call keeps them, so earlier tokens stay valid.
    dev::ensure_keys(keys.path()).expect("keys kept");
    assert_eq!(
        admitted(&authenticator, &bearer(&token), &SIGNED_IN)
            .await
            .subject,
        "alice"
    );
}

#[tokio::test]
async fn no_token_is_401_with_a_bare_challenge() {
    let keys = Keys::new();
    let error = refusal(&keys.authenticator(), &request(&[]), &SIGNED_IN).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error.challenge.as_deref(), Some(r#"Bearer realm="api""#));
    assert!(error.detail.contains("bearer token"), "{}", error.detail);
    // Another scheme than Bearer is no token either.
    let parts = request(&[("authorization", "Basic YWxpY2U6cHc=")]);
    let error = refusal(&keys.authenticator(), &parts, &SIGNED_IN).await;
    assert_eq!(error.challenge.as_deref(), Some(r#"Bearer realm="api""#));
}

/// Asserts a 401 whose challenge says the token is invalid, and returns its detail.
async fn invalid(authenticator: &Authenticator, token: &str) -> String {
    let error = refusal(authenticator, &bearer(token), &SIGNED_IN).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED, "{token}");
    let challenge = error.challenge.expect("challenge");
    assert!(
        challenge.starts_with(r#"Bearer realm="api", error="invalid_token", error_description=""#),
        "{challenge}"
    );
    error.detail
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let keys = Keys::new();
    let authenticator = keys.authenticator();
    let detail = invalid(&authenticator, "garbage").await;
    assert!(detail.contains("malformed"), "{detail}");

    let expired = keys.token(TokenOptions {
        ttl_seconds: -120,
        ..options("alice")
    });
    assert_eq!(
        invalid(&authenticator, &expired).await,
        "the token has expired"
    );
    // Within the 30 s leeway a token still passes.
    let just_expired = keys.token(TokenOptions {
        ttl_seconds: -10,
        ..options("alice")
    });
    admitted(&authenticator, &bearer(&just_expired), &SIGNED_IN).await;

    let early = keys.token(TokenOptions {
        not_before_seconds: Some(600),
        ..options("alice")
    });
    assert!(invalid(&authenticator, &early).await.contains("nbf"));

    let wrong_issuer = keys.token(TokenOptions {
        issuer: Some("https://evil.example".into()),
        ..options("alice")
    });
    assert!(invalid(&authenticator, &wrong_issuer)
        .await
        .contains("issuer"));

    let wrong_audience = keys.token(TokenOptions {
        audience: Some("client-z".into()),
        ..options("alice")
    });
    assert!(invalid(&authenticator, &wrong_audience)
        .await
        .contains("audience"));

    // Signed by another key: unknown by its kid, and a bad signature under the trusted kid.
    let other = Keys::new();
    let foreign = other.token(options("mallory"));
    assert!(invalid(&authenticator, &foreign)
        .await
        .contains("unknown key"));
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(keys.kid());
    let forged = sign(&header, &claims("mallory"), &dev_key(&other));
    assert!(invalid(&authenticator, &forged).await.contains("signature"));

    let no_exp = sign(
        &header,
        &json!({"sub": "alice", "iss": ISSUER, "aud": "client-a"}),
        &dev_key(&keys),
    );
    assert!(invalid(&authenticator, &no_exp).await.contains("exp"));
    let no_sub = sign(
        &header,
        &json!({"iss": ISSUER, "aud": "client-a", "exp": now() + 600}),
        &dev_key(&keys),
    );
    assert!(invalid(&authenticator, &no_sub).await.contains("sub"));
}

#[tokio::test]
async fn algorithms_are_pinned_to_the_key() {
    let keys = Keys::new();
    let authenticator = keys.authenticator();
    let kid = keys.kid();
    let payload = URL_SAFE_NO_PAD.encode(claims("mallory").to_string());

    // `alg: none`, with and without a signature.
    let none = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{kid}"}}"#));
    invalid(&authenticator, &format!("{none}.{payload}.")).await;
    invalid(&authenticator, &format!("{none}.{payload}.c2ln")).await;

    // HS256 keyed with the public key's bytes (the classic confusion attack).
    let jwks: Value = serde_json::from_str(
        &std::fs::read_to_string(keys.path().join(".apigen/dev-jwks.json")).expect("jwks"),
    )
    .expect("json");
    let public = jwks["keys"][0].to_string();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    for secret in [
        public.as_bytes(),
        jwks["keys"][0]["x"].as_str().unwrap_or("").as_bytes(),
    ] {
        let token = sign(
            &header,
            &claims("mallory"),
            &EncodingKey::from_secret(secret).expect("HMAC key"),
        );
        assert!(invalid(&authenticator, &token).await.contains("algorithm"));
    }

    // ES384 on a P-256 key's id.
    let mut header = Header::new(Algorithm::ES384);
    header.kid = Some(kid);
    let raw = format!(
        "{}.{payload}.c2ln",
        URL_SAFE_NO_PAD.encode(serde_json::to_string(&header).expect("header"))
    );
    invalid(&authenticator, &raw).await;
}

/// An RSA key pair: its PKCS#8 PEM (for signing) and its public JWK.
fn rsa_key(kid: &str, alg: Option<&str>) -> (EncodingKey, Value) {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key");
    let der = pair.as_der().expect("PKCS#8");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der.as_ref())
    );
    let public = pair.public_key();
    let mut jwk = json!({
        "kty": "RSA",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    });
    if let Some(alg) = alg {
        jwk["alg"] = alg.into();
    }
    (
        EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM"),
        jwk,
    )
}

fn with_jwks(jwks: Jwks) -> Authenticator {
    Authenticator::local(
        &DEF,
        LocalConfig {
            jwks: Some(jwks),
            ..LocalConfig::default()
        },
    )
}

#[tokio::test]
async fn rsa_keys_verify_rs256_only() {
    let (key, jwk) = rsa_key("rsa-1", Some("RS256"));
    let ec = Keys::new();
    let ec_jwks: Value = serde_json::from_str(
        &std::fs::read_to_string(ec.path().join(".apigen/dev-jwks.json")).expect("jwks"),
    )
    .expect("json");
    let text = json!({"keys": [jwk, ec_jwks["keys"][0]]}).to_string();
    let authenticator = with_jwks(Jwks::from_json(&text).expect("JWKS"));

    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    let token = sign(&header, &claims("rob"), &key);
    assert_eq!(
        admitted(&authenticator, &bearer(&token), &SIGNED_IN)
            .await
            .subject,
        "rob"
    );
    // The EC key's tokens verify too; without a kid, two keys leave the token unverifiable.
    let token = ec.token(options("eve"));
    assert_eq!(
        admitted(&authenticator, &bearer(&token), &SIGNED_IN)
            .await
            .subject,
        "eve"
    );
    let unnamed = sign(&Header::new(Algorithm::RS256), &claims("rob"), &key);
    assert!(invalid(&authenticator, &unnamed).await.contains("kid"));
    // RS512 with the RSA key is refused even though the signature is genuine.
    let mut header = Header::new(Algorithm::RS512);
    header.kid = Some("rsa-1".into());
    let token = sign(&header, &claims("rob"), &key);
    assert!(invalid(&authenticator, &token).await.contains("algorithm"));
    // PS256 likewise.
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some("rsa-1".into());
    let token = sign(&header, &claims("rob"), &key);
    invalid(&authenticator, &token).await;

    // A one-key set verifies tokens without a kid.
    let (key, jwk) = rsa_key("solo", None);
    let authenticator =
        with_jwks(Jwks::from_json(&json!({"keys": [jwk]}).to_string()).expect("JWKS"));
    let unnamed = sign(&Header::new(Algorithm::RS256), &claims("sol"), &key);
    assert_eq!(
        admitted(&authenticator, &bearer(&unnamed), &SIGNED_IN)
            .await
            .subject,
        "sol"
    );
}

#[test]
fn unusable_key_sets_are_refused() {
    let (_, rs384) = rsa_key("r", Some("RS384"));
    let cases = [
        ("[]", "not a JWKS"),
        (r#"{"keys": 1}"#, "not a JWKS"),
        (r#"{"keys": []}"#, "no usable key"),
        (
            r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
            "no usable key",
        ),
    ];
    for (text, expected) in cases {
        let error = Jwks::from_json(text).expect_err(text);
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
    let error = Jwks::from_json(&json!({"keys": [rs384]}).to_string()).expect_err("RS384");
    assert!(error.to_string().contains("RS256"), "{error}");
    let huge = format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(300 * 1024));
    assert!(Jwks::from_json(&huge).is_err());
}

#[tokio::test]
async fn audiences_match_aud_arrays_and_client_id() {
    let keys = Keys::new();
    let authenticator = keys.authenticator();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(keys.kid());
    let key = dev_key(&keys);
    let base = json!({"sub": "a", "iss": ISSUER, "exp": now() + 600});
    let with = |extra: Value| {
        let mut claims = base.clone();
        for (name, value) in extra.as_object().into_iter().flatten() {
            claims[name] = value.clone();
        }
        sign(&header, &claims, &key)
    };
    for good in [
        json!({"aud": ["other", "client-b"]}),
        json!({"client_id": "client-a"}),
    ] {
        admitted(&authenticator, &bearer(&with(good)), &SIGNED_IN).await;
    }
    for bad in [
        json!({"aud": ["other"]}),
        json!({"client_id": "other"}),
        json!({}),
        // `client_id` counts only when there is no `aud`.
        json!({"aud": "other", "client_id": "client-a"}),
    ] {
        invalid(&authenticator, &with(bad)).await;
    }
    // The overrides replace the scheme's issuer and audience.
    let override_config = Authenticator::local(
        &DEF,
        LocalConfig {
            jwks: Some(keys.jwks()),
            issuer: Some(vec!["https://local".into()]),
            audience: Some(vec!["local-app".into()]),
            ..LocalConfig::default()
        },
    );
    let token = keys.token(TokenOptions {
        issuer: Some("https://local".into()),
        audience: Some("local-app".into()),
        ..options("a")
    });
    admitted(&override_config, &bearer(&token), &SIGNED_IN).await;
    invalid(&override_config, &keys.token(options("a"))).await;
}

#[tokio::test]
async fn oversized_credentials_are_refused_unparsed() {
    let keys = Keys::new();
    let huge = format!("Bearer {}", "a".repeat(9 * 1024));
    let parts = request(&[("authorization", &huge)]);
    let error = refusal(&keys.authenticator(), &parts, &SIGNED_IN).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert!(error.detail.contains("8 KiB"), "{}", error.detail);
}

#[tokio::test]
async fn missing_scopes_and_groups_are_403() {
    let keys = Keys::new();
    let authenticator = keys.authenticator();
    let reader = keys.token(TokenOptions {
        scopes: vec!["notes/read".into()],
        ..options("alice")
    });
    let error = refusal(&authenticator, &bearer(&reader), &WRITERS).await;
    assert_eq!(error.status, StatusCode::FORBIDDEN);
    assert!(error.detail.contains("`notes/write`"), "{}", error.detail);
    assert!(error.challenge.is_none());

    let error = refusal(&authenticator, &bearer(&reader), &ADMINS).await;
    assert_eq!(error.status, StatusCode::FORBIDDEN);
    assert!(
        error.detail.contains("`admin` or `auditors`"),
        "{}",
        error.detail
    );

    let auditor = keys.token(TokenOptions {
        groups: vec!["auditors".into()],
        ..options("audrey")
    });
    let caller = admitted(&authenticator, &bearer(&auditor), &ADMINS).await;
    assert!(ADMINS.access.through_group(&caller));

    // Owner-or-admin: everyone verified passes; only admins pass through the group.
    let caller = admitted(&authenticator, &bearer(&reader), &OWNER_OR_ADMIN).await;
    assert!(!OWNER_OR_ADMIN.access.through_group(&caller));
    let admin = keys.token(TokenOptions {
        groups: vec!["admin".into()],
        ..options("root")
    });
    let caller = admitted(&authenticator, &bearer(&admin), &OWNER_OR_ADMIN).await;
    assert!(OWNER_OR_ADMIN.access.through_group(&caller));
    let nobody = Access {
        owner: false,
        authenticated: false,
        groups: &[],
    };
    assert!(!nobody.allows(&caller));
    assert_eq!(
        access_refused(&nobody).detail,
        "this operation admits no caller"
    );
}

#[tokio::test]
async fn api_keys_and_alternatives() {
    let keys = Keys::new();
    let authenticator = keys.authenticator();
    let key_only = request(&[("x-api-key", "acme-secret")]);
    let caller = admitted(&authenticator, &key_only, &TOKEN_OR_KEY).await;
    assert_eq!(
        (caller.scheme, caller.subject.as_str()),
        ("partners", "acme")
    );
    assert_eq!(caller.api_key.as_deref(), Some("acme"));

    let wrong = request(&[("x-api-key", "acme-secreT")]);
    let error = refusal(&authenticator, &wrong, &TOKEN_OR_KEY).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    // Neither alternative verified: the challenge is the first alternative's.
    assert_eq!(error.challenge.as_deref(), Some(r#"Bearer realm="api""#));

    // Both required: the caller is the token's, with the key's id.
    let token = keys.token(options("alice"));
    let both = request(&[
        ("authorization", &format!("Bearer {token}")),
        ("x-api-key", "acme-secret"),
    ]);
    let caller = admitted(&authenticator, &both, &TOKEN_AND_KEY).await;
    assert_eq!((caller.scheme, caller.subject.as_str()), ("users", "alice"));
    assert_eq!(caller.api_key.as_deref(), Some("acme"));
    // `security: [{}]` admits nobody here: public operations carry no requirement at all.
    let error = refusal(&authenticator, &both, &OPTIONAL).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error.detail, "this operation admits no caller");
    let token_only = bearer(&token);
    let error = refusal(&authenticator, &token_only, &TOKEN_AND_KEY).await;
    assert_eq!(
        error.challenge.as_deref(),
        Some(r#"ApiKey realm="api", header="x-api-key""#)
    );
}

fn ticket_office(
    request: AuthorizerRequest,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Caller, Denied>> + Send>> {
    Box::pin(async move {
        match request.credential.strip_prefix("ticket-") {
            Some(holder) => Ok(Caller::new("ignored", holder)
                .with_groups(["admin"])
                .with_claim("path", request.path)),
            None => Err(Denied::new("not a ticket")),
        }
    })
}

#[tokio::test]
async fn custom_authorizers_decide_locally() {
    let keys = Keys::new();
    let authenticator = keys.authenticator().with_authorizer(ticket_office);
    let caller = admitted(
        &authenticator,
        &request(&[("x-ticket", "ticket-tom")]),
        &TICKET,
    )
    .await;
    assert_eq!((caller.scheme, caller.subject.as_str()), ("tickets", "tom"));
    assert_eq!(caller.claim("path").as_deref(), Some("/notes"));
    let error = refusal(&authenticator, &request(&[("x-ticket", "forged")]), &TICKET).await;
    assert_eq!(
        (error.status, error.detail.as_str()),
        (StatusCode::UNAUTHORIZED, "not a ticket")
    );
    let error = refusal(&authenticator, &request(&[]), &TICKET).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error.challenge.as_deref(),
        Some(r#"ApiKey realm="api", header="x-ticket""#)
    );
    let parts = request_to("/notes?ticket=ticket-lou&x=1", &[]);
    assert_eq!(admitted(&authenticator, &parts, &LINK).await.subject, "lou");
    // No authorizer wired in: our fault, not the caller's.
    let error = refusal(
        &keys.authenticator(),
        &request(&[("x-ticket", "ticket-tom")]),
        &TICKET,
    )
    .await;
    assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn iam_cannot_be_verified_locally() {
    let keys = Keys::new();
    let error = refusal(&keys.authenticator(), &request(&[]), &SIGNED_REQUEST).await;
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert!(
        error.detail.contains("APIGEN_UNVERIFIED_CALLER"),
        "{}",
        error.detail
    );
    let authenticator = Authenticator::local(
        &DEF,
        LocalConfig {
            unverified_caller: Some("arn:aws:iam::123456789012:user/dev".into()),
            ..LocalConfig::default()
        },
    );
    let caller = admitted(&authenticator, &request(&[]), &SIGNED_REQUEST).await;
    assert_eq!(caller.subject, "arn:aws:iam::123456789012:user/dev");
}

#[tokio::test]
async fn without_keys_every_token_is_refused_visibly() {
    let keys = Keys::new();
    let authenticator = Authenticator::local(&DEF, LocalConfig::default());
    let detail = invalid(&authenticator, &keys.token(options("alice"))).await;
    assert!(detail.contains("no usable keys"), "{detail}");
}

#[tokio::test]
async fn the_environment_configures_the_local_mode() {
    let keys = Keys::new();
    let jwks = keys.path().join(".apigen/dev-jwks.json");
    let jwks = jwks.to_str().expect("UTF-8 path").to_owned();
    let broken = keys.path().join("broken.json");
    std::fs::write(&broken, "{").expect("written");
    let broken = broken.to_str().expect("UTF-8 path").to_owned();
    let environment = |vars: Vec<(&'static str, String)>| {
        Authenticator::from_variables(&DEF, move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
    };
    let token = keys.token(TokenOptions {
        issuer: Some("https://local".into()),
        audience: Some("app-2".into()),
        ..options("alice")
    });
    let authenticator = environment(vec![
        ("APIGEN_JWKS", jwks.clone()),
        ("APIGEN_JWT_ISSUER", "https://other, https://local".into()),
        ("APIGEN_JWT_AUDIENCE", "app-1,app-2".into()),
        ("APIGEN_API_KEYS", "first,partner=p-secret".into()),
        ("APIGEN_UNVERIFIED_CALLER", "ci".into()),
    ]);
    admitted(&authenticator, &bearer(&token), &SIGNED_IN).await;
    let caller = admitted(
        &authenticator,
        &request(&[("x-api-key", "first")]),
        &TOKEN_OR_KEY,
    )
    .await;
    assert_eq!(caller.subject, "key-1");
    let caller = admitted(
        &authenticator,
        &request(&[("x-api-key", "p-secret")]),
        &TOKEN_OR_KEY,
    )
    .await;
    assert_eq!(caller.subject, "partner");
    assert_eq!(
        admitted(&authenticator, &request(&[]), &SIGNED_REQUEST)
            .await
            .subject,
        "ci"
    );

    // An unusable JWKS refuses every token, and says the server has no keys.
    for vars in [
        vec![("APIGEN_JWKS", broken)],
        vec![("APIGEN_JWKS", "/nonexistent/jwks.json".into())],
        vec![],
    ] {
        let authenticator = environment(vars);
        assert!(invalid(&authenticator, &token)
            .await
            .contains("no usable keys"));
        let error = refusal(
            &authenticator,
            &request(&[("x-api-key", "first")]),
            &TOKEN_OR_KEY,
        )
        .await;
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    }
}

struct Notes;
impl Required for Notes {
    const SECURITY: &'static Security = &WRITERS;
}

#[tokio::test]
async fn the_extractor_answers_401_and_403_itself() {
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn handler(Authorized(caller, _): Authorized<Notes>) -> String {
        caller.subject
    }
    let keys = Keys::new();
    let router = axum::Router::new().route("/notes", get(handler));
    let secured = router
        .clone()
        .layer(axum::Extension(Arc::new(keys.authenticator())));
    let call = |router: axum::Router, token: Option<String>| async move {
        let mut request = axum::http::Request::builder().uri("/notes");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(axum::body::Body::empty()).expect("request");
        router
            .oneshot(request)
            .await
            .expect("infallible")
            .into_response()
    };
    let response = call(secured.clone(), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="api""#
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let reader = keys.token(TokenOptions {
        scopes: vec!["notes/read".into()],
        ..options("alice")
    });
    assert_eq!(
        call(secured.clone(), Some(reader)).await.status(),
        StatusCode::FORBIDDEN
    );
    let writer = keys.token(TokenOptions {
        scopes: vec!["notes/read".into(), "notes/write".into()],
        ..options("alice")
    });
    let response = call(secured, Some(writer.clone())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], b"alice");
    // Without an Authenticator the operation fails closed.
    let response = call(router, Some(writer)).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[cfg(feature = "lambda")]
mod gateway {
    use super::*;
    use axum::body::Body;
    use axum::extract::Request;

    fn v2_event(request_context_extra: Value) -> Parts {
        let mut context = json!({
            "accountId": "123456789012",
            "apiId": "api",
            "requestId": "gw-1",
            "stage": "$default",
            "http": {"method": "GET", "path": "/notes", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"}
        });
        for (name, value) in request_context_extra.as_object().into_iter().flatten() {
            context[name] = value.clone();
        }
        let event = json!({
            "version": "2.0",
            "routeKey": "GET /notes",
            "rawPath": "/notes",
            "rawQueryString": "",
            // A token the function must never read under API Gateway.
            "headers": {"authorization": "Bearer forged", "x-api-key": "acme-secret"},
            "requestContext": context,
            "isBase64Encoded": false
        });
        parts_of(&event)
    }

    fn v1_event(request_context_extra: Value) -> Parts {
        let mut context = json!({
            "accountId": "123456789012",
            "resourceId": "r1",
            "stage": "prod",
            "requestId": "gw-2",
            "identity": {"sourceIp": "192.0.2.1"},
            "resourcePath": "/notes",
            "httpMethod": "GET",
            "apiId": "api"
        });
        for (name, value) in request_context_extra.as_object().into_iter().flatten() {
            context[name] = value.clone();
        }
        let event = json!({
            "resource": "/notes",
            "path": "/notes",
            "httpMethod": "GET",
            "headers": {"Authorization": "Bearer forged"},
            "requestContext": context,
            "isBase64Encoded": false
        });
        parts_of(&event)
    }

    fn parts_of(event: &Value) -> Parts {
        let request =
            lambda_http::request::from_str(&event.to_string()).expect("API Gateway event");
        let (parts, _) = request.into_parts();
        Request::from_parts(parts, Body::empty()).into_parts().0
    }

    #[tokio::test]
    async fn http_api_jwt_claims_are_trusted_and_rechecked() {
        let authenticator = Authenticator::gateway(&DEF);
        let parts = v2_event(json!({"authorizer": {"jwt": {
            "claims": {"sub": "alice", "iss": ISSUER, "cognito:groups": "[admin editors]",
                       "scope": "notes/read"},
            "scopes": ["notes/write"]
        }}}));
        let caller = admitted(&authenticator, &parts, &WRITERS).await;
        assert_eq!(caller.subject, "alice");
        assert_eq!(caller.groups, ["admin", "editors"]);
        assert!(caller.has_scope("notes/read") && caller.has_scope("notes/write"));
        admitted(&authenticator, &parts, &ADMINS).await;

        let reader = v2_event(json!({"authorizer": {"jwt": {
            "claims": {"sub": "bob", "scope": "notes/read"}
        }}}));
        let error = refusal(&authenticator, &reader, &WRITERS).await;
        assert_eq!(error.status, StatusCode::FORBIDDEN);
        let error = refusal(&authenticator, &reader, &ADMINS).await;
        assert_eq!(error.status, StatusCode::FORBIDDEN);

        // No authorizer ran (a direct invoke): the forged header is not read.
        let error = refusal(&authenticator, &v2_event(json!({})), &SIGNED_IN).await;
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        let error = refusal(&authenticator, &v2_event(json!({})), &TOKEN_OR_KEY).await;
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        // Outside Lambda's conversion there is no context at all.
        let error = refusal(&authenticator, &bearer("forged"), &SIGNED_IN).await;
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn http_api_iam_and_client_certificates() {
        let authenticator = Authenticator::gateway(&DEF);
        let parts = v2_event(json!({"authorizer": {"iam": {
            "accessKey": "AKIA", "accountId": "123456789012", "callerId": "AIDA",
            "userArn": "arn:aws:iam::123456789012:user/ci", "userId": "AIDA"
        }}}));
        let caller = admitted(&authenticator, &parts, &SIGNED_REQUEST).await;
        assert_eq!(caller.subject, "arn:aws:iam::123456789012:user/ci");
    }

    #[tokio::test]
    async fn rest_api_cognito_claims_and_api_keys() {
        let authenticator = Authenticator::gateway(&DEF);
        let parts = v1_event(json!({
            "authorizer": {"claims": {"sub": "carol", "cognito:groups": "admin,auditors",
                                      "client_id": "client-b",
                                      "scope": "notes/read notes/write"}},
            "identity": {"apiKeyId": "key-id-1", "sourceIp": "192.0.2.1"}
        }));
        // A Cognito authorizer checks the pool, not the app client: the function does.
        let other_client = v1_event(json!({
            "authorizer": {"claims": {"sub": "carol", "client_id": "another-app",
                                      "scope": "notes/read notes/write"}},
            "identity": {"apiKeyId": "key-id-1"}
        }));
        let error = refusal(&authenticator, &other_client, &TOKEN_AND_KEY).await;
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        let caller = admitted(&authenticator, &parts, &TOKEN_AND_KEY).await;
        assert_eq!(caller.subject, "carol");
        assert_eq!(caller.api_key.as_deref(), Some("key-id-1"));
        assert_eq!(caller.groups, ["admin", "auditors"]);
        admitted(&authenticator, &parts, &WRITERS).await;

        let key_only = v1_event(json!({"identity": {"apiKeyId": "key-id-2"}}));
        let caller = admitted(&authenticator, &key_only, &TOKEN_OR_KEY).await;
        assert_eq!(caller.subject, "key-id-2");
        let error = refusal(&authenticator, &key_only, &TOKEN_AND_KEY).await;
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);

        let iam =
            v1_event(json!({"identity": {"userArn": "arn:aws:iam::1:user/x", "caller": "AIDA"}}));
        assert_eq!(
            admitted(&authenticator, &iam, &SIGNED_REQUEST)
                .await
                .subject,
            "arn:aws:iam::1:user/x"
        );
    }

    #[tokio::test]
    async fn lambda_authorizer_context_round_trips() {
        use super::super::authorizer::lambda::{decide, whole_api};

        // HTTP API: the authorizer's simple response carries the caller ...
        let event = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:api/$default/GET/notes",
            "identitySource": ["ticket-tom"],
            "routeKey": "GET /notes",
            "rawPath": "/notes",
            "headers": {"X-Ticket": "ticket-tom"},
            "requestContext": {"http": {"method": "GET", "path": "/notes"}}
        });
        let answer = decide(&DEF, None, ticket_office, &event)
            .await
            .expect("decision");
        assert_eq!(answer["isAuthorized"], true);
        // ... and the API function reads the same caller back.
        let parts = v2_event(json!({"authorizer": {"lambda": answer["context"]}}));
        let authenticator = Authenticator::gateway(&DEF);
        let caller = admitted(&authenticator, &parts, &TICKET).await;
        assert_eq!((caller.scheme, caller.subject.as_str()), ("tickets", "tom"));
        assert_eq!(caller.groups, ["admin"]);
        assert_eq!(caller.claim("path").as_deref(), Some("/notes"));

        let mut denied = event.clone();
        denied["headers"]["X-Ticket"] = "forged".into();
        let answer = decide(&DEF, None, ticket_office, &denied)
            .await
            .expect("decision");
        assert_eq!(answer, json!({"isAuthorized": false}));

        // REST TOKEN authorizer: a policy for the whole API, the caller in the context.
        let arn = "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/notes/n1";
        let event = json!({"type": "TOKEN", "authorizationToken": "ticket-ann", "methodArn": arn});
        let answer = decide(&DEF, None, ticket_office, &event)
            .await
            .expect("decision");
        assert_eq!(answer["principalId"], "ann");
        let statement = &answer["policyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(
            statement["Resource"],
            "arn:aws:execute-api:eu-west-1:123456789012:api/prod/*"
        );
        let mut fields = answer["context"].clone();
        fields["principalId"] = "ann".into();
        let parts = v1_event(json!({"authorizer": fields}));
        let caller = admitted(&authenticator, &parts, &TICKET).await;
        assert_eq!(caller.subject, "ann");
        assert_eq!(caller.claim("path").as_deref(), Some("/notes/n1"));

        let event = json!({"type": "TOKEN", "authorizationToken": "nope", "methodArn": arn});
        let error = decide(&DEF, None, ticket_office, &event)
            .await
            .expect_err("denied");
        assert_eq!(error.to_string(), "Unauthorized");
        assert_eq!(whole_api("not-an-arn"), "not-an-arn");
    }
}

#[test]
fn token_command_arguments() {
    let args: Vec<String> = [
        "--sub", "alice", "--scope", "a", "--scope", "b", "--group", "g", "--ttl", "-5",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let options = dev::parse_args(&args).expect("arguments");
    assert_eq!(options.subject, "alice");
    assert_eq!(options.scopes, ["a", "b"]);
    assert_eq!(options.groups, ["g"]);
    assert_eq!(options.ttl_seconds, -5);
    for bad in [&["--ttl", "soon"][..], &["--sub"], &["--what"]] {
        let args: Vec<String> = bad.iter().map(|s| (*s).to_owned()).collect();
        assert!(dev::parse_args(&args).is_err(), "{bad:?}");
    }
}

#[test]
fn dev_keys_are_private_and_tokens_name_their_scheme() {
    let keys = Keys::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = keys.path().join(".apigen/dev-key.pem");
        let mode = std::fs::metadata(key).expect("key").permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by others: {mode:o}"
        );
    }
    let error = dev::mint(
        keys.path(),
        &DEF,
        &TokenOptions {
            scheme: Some("partners".into()),
            ..TokenOptions::default()
        },
    )
    .expect_err("not a JWT scheme");
    assert!(error.to_string().contains("`partners`"), "{error}");
    let token = keys.token(TokenOptions {
        scheme: Some("users".into()),
        claims: [("tenant".to_owned(), json!("acme"))].into_iter().collect(),
        ..TokenOptions::default()
    });
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .expect("decodable")
        .claims;
    assert_eq!(claims["sub"], "dev-user");
    assert_eq!(claims["aud"], "client-a");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["tenant"], "acme");
}
