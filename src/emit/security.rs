//! `security.rs` of a generated project: the spec's security schemes and
//! each secured operation's requirement, as the runtime's `auth` module
//! checks them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rust::{docs, ident, inner_docs, use_runtime};
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
    for op in &api.operations {
        let OpSecurity::Secured(alternatives) = &op.security else {
            continue;
        };
        let marker = marker(op);
        let any_of = alternatives.iter().map(|alternative| {
            let needs = alternative.iter().map(|need| requirement(api, need));
            quote! { &[#(#needs),*] }
        });
        let access = op.action.as_ref().map(|a| a.access.clone()).unwrap_or_default();
        let (owner, authenticated) = match &op.action {
            Some(_) => (access.owner, access.authenticated),
            // A hand-written operation admits every verified caller.
            None => (false, true),
        };
        let groups = &access.groups;
        let doc = format!(
            " What `{} {}` requires: {}.",
            op.method.upper(),
            op.path,
            op.security.describe(&api.auth)
        );
        out.extend(quote! {
            #[doc = #doc]
            pub struct #marker;

            impl auth::Required for #marker {
                const SECURITY: &'static auth::Security = &auth::Security {
                    any_of: &[#(#any_of),*],
                    access: auth::Access { owner: #owner, authenticated: #authenticated, groups: &[#(#groups),*] },
                };
            }
        });
    }
    out
}

fn requirement(api: &Api, need: &Need) -> TokenStream {
    let scheme = format_ident!("{}", api.auth.schemes[need.scheme].ident);
    let scopes = &need.scopes;
    quote! { auth::Requirement { scheme: &#scheme, scopes: &[#(#scopes),*] } }
}
