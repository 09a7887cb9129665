//! The static tables the generator writes from the spec's `securitySchemes`, `security` and
//! `access` rules.

use super::caller::Caller;

/// Every security scheme of the API, and where the caller's groups are found.
#[derive(Debug, Clone, Copy)]
pub struct AuthDef {
    /// The spec's security schemes.
    pub schemes: &'static [&'static SchemeDef],
    /// The claim holding the caller's groups (`x-apigen.auth.groupsClaim`, default
    /// `cognito:groups`).
    pub groups_claim: &'static str,
}

/// One security scheme of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeDef {
    /// Its name under `components.securitySchemes`.
    pub name: &'static str,
    /// What kind of credential it takes.
    pub kind: SchemeKind,
}

/// What kind of credential a scheme takes, and who checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    /// A JWT bearer token in `Authorization: Bearer` (openIdConnect, oauth2, http bearer).
    Jwt {
        /// The issuer (`iss`) tokens must name.
        issuer: &'static str,
        /// The audiences, one of which `aud` (or `client_id`) must name.
        audience: &'static [&'static str],
    },
    /// An API key in a header (REST API keys, usage plans).
    ApiKey {
        /// The header carrying the key.
        header: &'static str,
    },
    /// The user's own authorizer decides (`x-apigen-authorizer: lambda`).
    Custom {
        /// Where the credential handed to the authorizer is.
        credential: Credential,
    },
    /// AWS SigV4, checked by API Gateway only.
    Iam,
    /// Client certificates on a custom domain, checked by API Gateway only.
    MutualTls,
}

/// Where a custom authorizer's credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A request header, by name.
    Header(&'static str),
    /// A query parameter, by name.
    Query(&'static str),
}

/// One scheme of a requirement, with the scopes it needs (all of them).
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// The scheme.
    pub scheme: &'static SchemeDef,
    /// The scopes the caller must have, every one.
    pub scopes: &'static [&'static str],
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
pub struct Security {
    /// Alternatives, any one suffices; each needs all of its requirements (OpenAPI semantics).
    pub any_of: &'static [&'static [Requirement]],
    /// The `access` rule of the operation's storage action.
    pub access: Access,
}

/// Any one of these suffices. `owner` and `authenticated` admit every verified caller (the owner
/// is enforced by the action binding the key from the token); `groups` admit members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The item's owner may (the action binds the owner from the token).
    pub owner: bool,
    /// Any verified caller may.
    pub authenticated: bool,
    /// Members of any of these groups may.
    pub groups: &'static [&'static str],
}

impl Access {
    /// Whether the caller passes (403 otherwise). A rule admitting nobody (all fields empty)
    /// refuses everyone rather than opening the operation.
    pub fn allows(&self, caller: &Caller) -> bool {
        self.owner || self.authenticated || self.through_group(caller)
    }

    /// Whether the caller passes through a group (then the action binds the owner from the
    /// request's parameter instead of the token).
    pub fn through_group(&self, caller: &Caller) -> bool {
        self.groups.iter().any(|group| caller.in_group(group))
    }
}

/// Implemented by one marker type per secured operation in generated code.
pub trait Required {
    /// Who may call the operation.
    const SECURITY: &'static Security;
}
