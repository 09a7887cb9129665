//! `security.rs` of a generated project: the spec's security schemes and
//! each secured operation's requirement, as the runtime's `auth` module
//! checks them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rust::{docs, ident, inner_docs, use_runtime};
use crate::model::actions::Access;
use crate::model::names::Scope;
use crate::model::security::{Credential, Need, OpSecurity, SchemeKind};
use crate::model::{Api, Operation};

/// The marker type of an operation's requirement (`security::GetNote`).
pub fn marker(op: &Operation) -> proc_macro2::Ident {
    ident(&op.type_name)
}

pub fn emit(api: &Api) -> TokenStream {
    let mut out = inner_docs(
        "Who may call each operation: the spec's security schemes, and one type per secured \
         operation naming what it requires. The routes check them before anything else is read.",
    );
    out.extend(use_runtime("auth"));
    let mut schemes = Vec::new();
    for scheme in &api.auth.schemes {
        let name = &scheme.name;
        let konst = format_ident!("{}", scheme.ident);
        let kind = match &scheme.kind {
            SchemeKind::Jwt(jwt) => {
                let issuer = &jwt.issuer;
                let audience = &jwt.audience;
                quote! { auth::SchemeKind::Jwt { issuer: #issuer, audience: &[#(#audience),*] } }
            }
            SchemeKind::ApiKey { header, .. } => {
                quote! { auth::SchemeKind::ApiKey { header: #header } }
            }
            SchemeKind::Custom(custom) => {
                let credential = match &custom.credential {
                    Credential::Header(h) => quote! { auth::Credential::Header(#h) },
                    Credential::Query(q) => quote! { auth::Credential::Query(#q) },
                };
                quote! { auth::SchemeKind::Custom { credential: #credential } }
            }
            SchemeKind::Iam => quote! { auth::SchemeKind::Iam },
            SchemeKind::MutualTls => quote! { auth::SchemeKind::MutualTls },
        };
        let doc = docs(Some(&format!(
            "`{name}`: {}.",
            match &scheme.kind {
                SchemeKind::Jwt(jwt) => format!("JWTs issued by `{}`", jwt.issuer),
                SchemeKind::ApiKey { header, .. } => format!("API keys in `{header}`"),
                SchemeKind::Custom(_) => "decided by `crate::authorizer::authorize`".into(),
                SchemeKind::Iam => "AWS SigV4, checked by API Gateway".into(),
                SchemeKind::MutualTls => "client certificates, checked by API Gateway".into(),
            }
        )));
        out.extend(quote! {
            #doc
            pub const #konst: auth::SchemeDef = auth::SchemeDef { name: #name, kind: #kind };
        });
        schemes.push(konst);
    }
    let groups_claim = &api.auth.groups_claim;
    out.extend(quote! {
        /// Every scheme of the spec, and the claim that holds the caller's groups.
        pub static AUTH: auth::AuthDef = auth::AuthDef {
            schemes: &[#(&#schemes),*],
            groups_claim: #groups_claim,
        };
    });
    let custom = api.auth.custom().next().is_some();
    let build = if custom {
        quote! {
            auth::Authenticator::from_env(&AUTH).with_authorizer(|request| Box::pin(crate::authorizer::authorize(request)))
        }
    } else {
        quote! { auth::Authenticator::from_env(&AUTH) }
    };
    out.extend(quote! {
        /// What the service checks credentials with: under Lambda, the claims API Gateway's
        /// authorizers passed; elsewhere, the keys and tokens `APIGEN_*` variables name.
        pub fn authenticator() -> auth::Authenticator {
            #build
        }
    });
    // Operations share their requirements and access rules, named once each.
    let taken: Vec<&str> = api.auth.schemes.iter().map(|s| s.ident.as_str()).collect();
    let mut names = Scope::with_reserved(&taken);
    let mut requirements: Vec<(&Vec<Vec<Need>>, proc_macro2::Ident)> = Vec::new();
    let mut accesses: Vec<(Access, proc_macro2::Ident)> = Vec::new();
    let mut markers = TokenStream::new();
    for op in &api.operations {
        let OpSecurity::Secured(alternatives) = &op.security else {
            continue;
        };
        let needs = match requirements.iter().find(|(a, _)| *a == alternatives) {
            Some((_, name)) => name.clone(),
            None => {
                let name = format_ident!("{}", names.claim(requirement_name(api, alternatives)));
                let any_of = alternatives.iter().map(|alternative| {
                    let needs = alternative.iter().map(|need| requirement(api, need));
                    quote! { &[#(#needs),*] }
                });
                let doc = format!(" {}.", op.security.describe(&api.auth));
                out.extend(quote! {
                    #[doc = #doc]
                    const #name: &[&[auth::Requirement]] = &[#(#any_of),*];
                });
                requirements.push((alternatives, name.clone()));
                name
            }
        };
        let rule = match &op.action {
            Some(a) => a.access.clone(),
            // A hand-written operation admits every verified caller.
            None => Access {
                authenticated: true,
                ..Access::default()
            },
        };
        let access = match accesses.iter().find(|(a, _)| *a == rule) {
            Some((_, name)) => name.clone(),
            None => {
                let Access {
                    owner,
                    authenticated,
                    groups,
                } = &rule;
                let mut words = Vec::new();
                if *owner {
                    words.push("owner".to_string());
                }
                if *authenticated {
                    words.push("any caller".to_string());
                }
                words.extend(groups.iter().cloned());
                let name = format!("open to {}", words.join(" or "));
                let name = format_ident!("{}", names.claim(crate::model::names::const_name(&name)));
                let doc = format!(" Open to {}.", words.join(", or "));
                out.extend(quote! {
                    #[doc = #doc]
                    const #name: auth::Access = auth::Access { owner: #owner, authenticated: #authenticated, groups: &[#(#groups),*] };
                });
                accesses.push((rule, name.clone()));
                name
            }
        };
        let marker = marker(op);
        let doc = format!(" `{} {}`.", op.method.upper(), op.path);
        markers.extend(quote! {
            #[doc = #doc]
            pub struct #marker;

            impl auth::Required for #marker {
                const SECURITY: &'static auth::Security = &auth::Security { any_of: #needs, access: #access };
            }
        });
    }
    out.extend(markers);
    if let Some(OpSecurity::Secured(alternatives)) = api.websocket.as_ref().map(|w| &w.security) {
        let any_of = alternatives.iter().map(|alternative| {
            let needs = alternative.iter().map(|need| requirement(api, need));
            quote! { &[#(#needs),*] }
        });
        let doc = format!(
            " What the WebSocket API's `$connect` requires: {}.",
            api.websocket
                .as_ref()
                .map(|w| w.security.describe(&api.auth))
                .unwrap_or_default()
        );
        out.extend(quote! {
            #[doc = #doc]
            pub static CONNECT: auth::Security = auth::Security {
                any_of: &[#(#any_of),*],
                access: auth::Access { owner: false, authenticated: true, groups: &[] },
            };
        });
    }
    out
}

/// `USERS_NOTES_READ`: the schemes and scopes of the first alternative.
fn requirement_name(api: &Api, alternatives: &[Vec<Need>]) -> String {
    let mut words = vec!["needs".to_string()];
    for need in alternatives.first().into_iter().flatten() {
        words.push(api.auth.schemes[need.scheme].name.clone());
        words.extend(need.scopes.iter().cloned());
    }
    if alternatives.len() > 1 {
        words.push("or".into());
    }
    crate::model::names::const_name(&words.join(" "))
}

fn requirement(api: &Api, need: &Need) -> TokenStream {
    let scheme = format_ident!("{}", api.auth.schemes[need.scheme].ident);
    let scopes = &need.scopes;
    quote! { auth::Requirement { scheme: &#scheme, scopes: &[#(#scopes),*] } }
}
