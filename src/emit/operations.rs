//! `src/generated/operations.rs` (typed requests and responses),
//! `src/generated/api.rs` (the `Handlers` trait) and
//! `src/generated/routes.rs` (the axum router).

use std::fmt::Write;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::rust::{docs, ident, inner_docs, runtime, ty, use_generated, use_runtime};
use super::schemas::{Patterns, SchemaNames};
use crate::model::names::const_name;
use crate::model::{Api, Media, Method, Operation, ParamIn, Response, Shape, Status, Ty, TypeKind};

pub fn spec_name(op: &Operation) -> String {
    const_name(&format!("{}Request", op.type_name))
}

/// The Rust type of a request body as tokens, using the read-only-free twin; named types
/// under the `models` path.
pub fn body_ty(api: &Api, shape: &Shape, models: &TokenStream) -> TokenStream {
    match shape.ty {
        Ty::Ref(id) => match api.types.get(id).input {
            Some(twin) => {
                let name = ident(&api.types.get(twin).name);
                if shape.nullable {
                    quote! { Option<#models::#name> }
                } else {
                    quote! { #models::#name }
                }
            }
            None => ty(&api.types, shape, Some(models)),
        },
        _ => ty(&api.types, shape, Some(models)),
    }
}

/// The variant of `http::Location` for a parameter's place.
fn location_variant(p: ParamIn) -> proc_macro2::Ident {
    let variant = match p {
        ParamIn::Path => "Path",
        ParamIn::Query => "Query",
        ParamIn::Header => "Header",
        ParamIn::Cookie => "Cookie",
    };
    format_ident!("{variant}")
}

/// `OperationSpec` statics, placed in the schemas module.
pub fn specs(api: &Api, names: &SchemaNames, patterns: &mut Patterns) -> TokenStream {
    let mut out = TokenStream::new();
    for op in &api.operations {
        let params: Vec<TokenStream> = op
            .params
            .iter()
            .map(|p| {
                let make = format_ident!("{}", if p.required { "required" } else { "optional" });
                let location = location_variant(p.location);
                let name = &p.name;
                let schema = names.reference(api, &p.shape, patterns);
                let explode = p.explode.then(|| quote! { .exploded() });
                let deep = p.deep_object.then(|| quote! { .deep_object() });
                quote! { ParamSpec::#make(Location::#location, #name, #schema) #explode #deep }
            })
            .collect();
        let body = match &op.body {
            None => quote! { None },
            Some(b) => {
                let kind = match &b.media {
                    Media::Json(shape) => {
                        let schema = names.reference(api, shape, patterns);
                        quote! { BodyKind::Json(#schema) }
                    }
                    Media::Form(shape) => {
                        let schema = names.reference(api, shape, patterns);
                        quote! { BodyKind::Form(#schema) }
                    }
                    Media::Text => quote! { BodyKind::Text },
                    Media::Binary => quote! { BodyKind::Binary },
                };
                let required = b.required;
                let content_type = &b.content_type;
                quote! { Some(BodySpec { required: #required, content_type: #content_type, kind: #kind }) }
            }
        };
        let doc = format!(" What `{}` accepts.", op.id);
        let name = format_ident!("{}", spec_name(op));
        let (id, path, route) = (&op.id, &op.path, &op.route);
        out.extend(quote! {
            #[doc = #doc]
            pub static #name: OperationSpec = OperationSpec {
                id: #id,
                path: #path,
                route: #route,
                params: &[#(#params),*],
                body: #body
            };
        });
    }
    if out.is_empty() {
        return out;
    }
    let http = runtime("http");
    let mut uses = quote! {
        #[allow(unused_imports)]
        use #http::{BodyKind, BodySpec, Location, OperationSpec, ParamSpec};
    };
    uses.extend(out);
    uses
}

pub fn request_name(op: &Operation) -> Ident {
    format_ident!("{}Request", op.type_name)
}

pub fn response_name(op: &Operation) -> Ident {
    format_ident!("{}Response", op.type_name)
}

/// Types of response headers: text-like ones as themselves, anything else as text.
fn header_type(api: &Api, shape: &Shape, models: &TokenStream) -> TokenStream {
    let resolved = api.types.resolve(shape);
    let bare = Shape {
        nullable: false,
        ..shape.clone()
    };
    match &resolved.ty {
        Ty::String(_) | Ty::Integer(_) | Ty::Number(_) | Ty::Bool => {
            ty(&api.types, &bare, Some(models))
        }
        Ty::Ref(id)
            if matches!(api.types.get(*id).kind, TypeKind::Enum(_))
                && !is_integer_enum(api, *id) =>
        {
            ty(&api.types, &bare, Some(models))
        }
        _ => quote! { String },
    }
}

fn is_integer_enum(api: &Api, id: crate::model::TypeId) -> bool {
    matches!(&api.types.get(id).kind, TypeKind::Enum(e) if e.is_integer())
}

fn response_body_type(api: &Api, r: &Response, models: &TokenStream) -> Option<TokenStream> {
    match &r.media {
        Some(Media::Json(shape)) => Some(ty(&api.types, shape, Some(models))),
        Some(Media::Text) => Some(quote! { String }),
        // Responses never hold forms (`read_responses` serves them as bytes).
        Some(Media::Binary | Media::Form(_)) => Some(quote! { axum::body::Bytes }),
        None => None,
    }
}

/// Whether a response variant has named fields (`{ body, etag }`).
pub fn variant_has_fields(r: &Response) -> bool {
    !r.headers.is_empty() || matches!(r.status, Status::Default | Status::Range(_))
}

pub fn emit_operations(api: &Api) -> TokenStream {
    let mut out = inner_docs("Typed requests and responses, one pair per operation.");
    // A spec of webhooks only has no operations, and these imports would go unused.
    if !api.operations.is_empty() {
        let http = use_runtime("http");
        let models = use_generated("models");
        let schemas = use_generated("schemas");
        out.extend(quote! {
            #http
            #[allow(unused_imports)]
            #models
            #schemas
        });
    }
    let models = quote! { models };
    for op in &api.operations {
        out.extend(emit_request(api, op, &models));
        out.extend(emit_response(api, op, &models));
    }
    out
}

fn emit_request(api: &Api, op: &Operation, models: &TokenStream) -> TokenStream {
    let name = request_name(op);
    let doc = format!(
        " The request of `{} {}` ([`super::api::Handlers::{}`]).",
        op.method.upper(),
        op.path,
        op.ident
    );
    let mut fields = TokenStream::new();
    let mut reads = Vec::new();
    for p in &op.params {
        let field_doc = docs(p.doc.as_deref());
        let mut field_ty = ty(&api.types, &p.shape, Some(models));
        if !p.required {
            field_ty = quote! { Option<#field_ty> };
        }
        let field = ident(&p.ident);
        fields.extend(quote! {
            #field_doc
            pub #field: #field_ty,
        });
        let location = location_variant(p.location);
        let wire = &p.name;
        reads.push(quote! { #field: input.param(http::Location::#location, #wire)? });
    }
    if let Some(b) = &op.body {
        let (body_ty, read) = match &b.media {
            Media::Json(shape) | Media::Form(shape) => {
                (body_ty(api, shape, models), quote! { input.json()? })
            }
            Media::Text => (quote! { String }, quote! { input.text()? }),
            Media::Binary => (quote! { axum::body::Bytes }, quote! { input.bytes()? }),
        };
        let body_ty = if b.required || b.media.typed().is_none() {
            body_ty
        } else {
            quote! { Option<#body_ty> }
        };
        let body_doc = docs(b.doc.as_deref().or(Some("The request body.")));
        fields.extend(quote! {
            #body_doc
            pub body: #body_ty,
        });
        reads.push(quote! { body: #read });
    }
    let input = if reads.is_empty() {
        quote! { _input }
    } else {
        quote! { mut input }
    };
    let spec = format_ident!("{}", spec_name(op));
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #name {
            #fields
        }

        impl<S: Send + Sync> axum::extract::FromRequest<S> for #name {
            type Rejection = http::ApiError;

            async fn from_request(request: axum::extract::Request, _state: &S) -> Result<Self, http::ApiError> {
                let #input = http::extract(request, &schemas::#spec).await?;
                Ok(Self { #(#reads),* })
            }
        }
    }
}

fn emit_response(api: &Api, op: &Operation, models: &TokenStream) -> TokenStream {
    let name = response_name(op);
    let variants: Vec<&Response> = op.responses.iter().filter(|r| !r.problem).collect();
    let doc = format!(
        " The responses of `{} {}`; errors are [`http::ApiError`]s.",
        op.method.upper(),
        op.path
    );
    let mut cases = TokenStream::new();
    for r in &variants {
        let status = match r.status {
            Status::Code(c) => c.to_string(),
            Status::Range(x) => format!("{x}XX"),
            Status::Default => "Any other status".into(),
        };
        let text = format!("{status}: {}", r.doc.as_deref().unwrap_or("").trim());
        let variant_doc = docs(Some(text.trim_end_matches(": ")));
        let variant = ident(&r.variant);
        let body = response_body_type(api, r, models);
        cases.extend(if variant_has_fields(r) {
            let status = matches!(r.status, Status::Default | Status::Range(_))
                .then(|| quote! { status: axum::http::StatusCode, });
            let body = body.map(|b| quote! { body: #b, });
            let headers = r.headers.iter().map(|h| {
                let header_ty = header_type(api, &h.shape, models);
                let header_ty = if h.required {
                    header_ty
                } else {
                    quote! { Option<#header_ty> }
                };
                let field = ident(&h.ident);
                quote! { #field: #header_ty, }
            });
            quote! { #variant_doc #variant { #status #body #(#headers)* }, }
        } else if let Some(b) = body {
            quote! { #variant_doc #variant(#b), }
        } else {
            quote! { #variant_doc #variant, }
        });
    }
    let mut arms = TokenStream::new();
    for r in &variants {
        let status = match r.status.code() {
            Some(c) if r.status != Status::Range(c / 100) => match status_const(c) {
                Some(name) if matches!(r.status, Status::Code(_)) => {
                    let name = format_ident!("{name}");
                    quote! { axum::http::StatusCode::#name }
                }
                _ => {
                    let c = proc_macro2::Literal::u16_unsuffixed(c);
                    quote! { axum::http::StatusCode::from_u16(#c).unwrap_or(axum::http::StatusCode::OK) }
                }
            },
            _ => quote! { status },
        };
        let make = |binding: TokenStream| -> TokenStream {
            match &r.media {
                Some(Media::Json(_)) => {
                    let content_type = r.content_type.as_deref().unwrap_or("application/json");
                    quote! { http::json(#status, #content_type, &#binding) }
                }
                Some(_) => {
                    let content_type = r
                        .content_type
                        .as_deref()
                        .unwrap_or("application/octet-stream");
                    quote! { http::raw(#status, #content_type, #binding) }
                }
                None => quote! { http::empty(#status) },
            }
        };
        let variant = ident(&r.variant);
        arms.extend(if variant_has_fields(r) {
            let mut bind = Vec::new();
            if matches!(r.status, Status::Default | Status::Range(_)) {
                bind.push(format_ident!("status"));
            }
            if r.media.is_some() {
                bind.push(format_ident!("body"));
            }
            bind.extend(r.headers.iter().map(|h| ident(&h.ident)));
            // Each header wraps the response so far; the last one is the
            // block's value.
            let mut lets = TokenStream::new();
            let mut current = make(quote! { body });
            for h in &r.headers {
                lets.extend(quote! { let response = #current; });
                let field = ident(&h.ident);
                let wire = &h.name;
                current = if h.required {
                    quote! { http::with_header(response, #wire, #field) }
                } else {
                    quote! {
                        match #field {
                            Some(value) => http::with_header(response, #wire, value),
                            None => response,
                        }
                    }
                };
            }
            quote! {
                Self::#variant { #(#bind),* } => {
                    #lets
                    #current
                }
            }
        } else if r.media.is_some() {
            let response = make(quote! { body });
            quote! { Self::#variant(body) => #response, }
        } else {
            let response = make(TokenStream::new());
            quote! { Self::#variant => #response, }
        });
    }
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #cases
        }

        impl axum::response::IntoResponse for #name {
            fn into_response(self) -> axum::response::Response {
                match self {
                    #arms
                }
            }
        }
    }
}

/// The name of `axum::http::StatusCode`'s constant for a code, for the common ones.
fn status_const(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "OK",
        201 => "CREATED",
        202 => "ACCEPTED",
        204 => "NO_CONTENT",
        301 => "MOVED_PERMANENTLY",
        302 => "FOUND",
        303 => "SEE_OTHER",
        304 => "NOT_MODIFIED",
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        409 => "CONFLICT",
        412 => "PRECONDITION_FAILED",
        422 => "UNPROCESSABLE_ENTITY",
        500 => "INTERNAL_SERVER_ERROR",
        _ => return None,
    })
}

pub fn emit_api(api: &Api) -> TokenStream {
    let mut out = inner_docs(
        "The `Handlers` trait: one method per operation. Operations with a storage action have a \
         default body that calls the store; implement the others (and override any) in `src/handlers.rs`.",
    );
    if !api.operations.is_empty() {
        out.extend(use_runtime("http"));
        out.extend(use_generated("operations"));
    }
    if api.has_security() {
        out.extend(use_runtime("auth"));
    }
    let mut methods = TokenStream::new();
    if api.has_storage() {
        out.extend(use_generated("actions"));
        out.extend(use_runtime("store"));
        methods.extend(quote! {
            /// The store that the built-in storage actions use.
            fn store(&self) -> &store::Store;
        });
    }
    for op in &api.operations {
        let mut text = op.doc().unwrap_or_default();
        let _ = write!(text, "\n\n`{} {}`", op.method.upper(), op.path);
        if let Some(a) = &op.action {
            let _ = write!(
                text,
                ": `{}` on `{}` by default.",
                a.verb.as_str(),
                api.entities[a.entity].schema
            );
        }
        let doc = docs(Some(text.trim()));
        let method = ident(&op.ident);
        let request = request_name(op);
        let response = response_name(op);
        let returns = quote! {
            impl std::future::Future<Output = Result<operations::#response, http::ApiError>> + Send
        };
        let secured = op.security.is_secured();
        methods.extend(match (op.action.is_some(), secured) {
            (true, true) => quote! {
                #doc
                fn #method(&self, _context: http::RequestContext, caller: auth::Caller, request: operations::#request) -> #returns {
                    actions::#method(self.store(), caller, request)
                }
            },
            (true, false) => quote! {
                #doc
                fn #method(&self, _context: http::RequestContext, request: operations::#request) -> #returns {
                    actions::#method(self.store(), request)
                }
            },
            (false, true) => quote! {
                #doc
                fn #method(&self, context: http::RequestContext, caller: auth::Caller, request: operations::#request) -> #returns;
            },
            (false, false) => quote! {
                #doc
                fn #method(&self, context: http::RequestContext, request: operations::#request) -> #returns;
            },
        });
    }
    out.extend(quote! {
        /// The API's operations. Implemented by `handlers::Service`.
        pub trait Handlers: Send + Sync + 'static {
            #methods
        }
    });
    out
}

/// The operations one method of a route serves: one, or several sharing it.
type MethodOps<'a> = (Method, Vec<&'a Operation>);

pub fn emit_routes(api: &Api) -> TokenStream {
    // Routes in the order their first operation appears; methods in spec order within each.
    let mut routes: Vec<(&str, Vec<MethodOps>)> = Vec::new();
    for op in &api.operations {
        let at = match routes.iter().position(|(r, _)| *r == op.route) {
            Some(at) => at,
            None => {
                routes.push((&op.route, Vec::new()));
                routes.len() - 1
            }
        };
        let methods = &mut routes[at].1;
        match methods.iter_mut().find(|(m, _)| *m == op.method) {
            Some((_, ops)) => ops.push(op),
            None => methods.push((op.method, vec![op])),
        }
    }
    let any_shared = routes
        .iter()
        .any(|(_, methods)| methods.iter().any(|(_, ops)| ops.len() > 1));

    let mut out = inner_docs(
        "The router: every path and method of the spec, each calling its `Handlers` method.",
    );
    if !api.operations.is_empty() {
        out.extend(quote! {
            use axum::extract;
            use axum::response::IntoResponse as _;
        });
    }
    out.extend(use_generated("api"));
    out.extend(use_runtime("http"));
    out.extend(use_runtime("observe"));
    if !api.operations.is_empty() {
        out.extend(use_generated("operations"));
    }
    let secured = api.has_security();
    if secured {
        out.extend(use_runtime("auth"));
        out.extend(use_generated("security"));
    }
    let mut dispatchers = TokenStream::new();
    let mut chains = Vec::new();
    for (route, methods) in &routes {
        let mut chain = TokenStream::new();
        for (method, ops) in methods {
            let handler = ident(&ops[0].ident);
            let target = if ops.len() == 1 {
                quote! { #handler::<H> }
            } else {
                dispatchers.extend(dispatcher(*method, ops));
                quote! { shared::#handler::<H> }
            };
            let method = format_ident!("{}", method.lower());
            if chain.is_empty() {
                chain = quote! { axum::routing::#method(#target) };
            } else {
                chain.extend(quote! { .#method(#target) });
            }
        }
        chains.push(quote! { .route(#route, #chain) });
    }
    // A route several operations share is listed with its first; its dispatcher names the one
    // that serves the request.
    let named = routes.iter().flat_map(|(route, methods)| {
        methods.iter().map(move |(method, ops)| {
            let method = method.upper();
            let id = &ops[0].id;
            quote! { (#method, #route, #id) }
        })
    });
    out.extend(quote! {
        /// The operation each route and method serves, as logs and metrics name it.
        pub const OPERATIONS: observe::Operations = observe::Operations(&[#(#named),*]);
    });
    let cors = crate::model::edge::cors_rules(api).map(|rules| {
        let strings = |items: &[String]| quote! { &[#(#items),*] };
        let origins = strings(&rules.origins);
        let methods = strings(&rules.methods);
        let headers = strings(&rules.headers);
        let expose = strings(&rules.expose);
        let credentials = rules.credentials;
        let max_age = u32::try_from(rules.max_age).unwrap_or(u32::MAX);
        out.extend(quote! {
            /// Which browser origins may call the API, as template.yaml deploys it: answered the
            /// same here, so that a front end behaves alike locally and deployed.
            pub static CORS: http::Cors = http::Cors {
                origins: #origins,
                methods: #methods,
                headers: #headers,
                expose: #expose,
                credentials: #credentials,
                max_age: #max_age,
            };
        });
        quote! { .layer(axum::middleware::from_fn_with_state(&CORS, http::Cors::answer)) }
    });
    // Secured routes find the authenticator in the request's extensions: it is built once, from
    // the environment, when the router is.
    let (authenticator, layer, doc) = if secured {
        (
            quote! { , authenticator: std::sync::Arc<auth::Authenticator> },
            quote! { .layer(axum::Extension(authenticator)) },
            quote! {
                ///
                /// `authenticator` checks each caller before anything else is read.
            },
        )
    } else {
        Default::default()
    };
    out.extend(quote! {
        /// Builds the router over `handlers`; the same router serves Lambda and local runs.
        ///
        /// Each segment holding path variables is one capture, since axum allows no more; the
        /// operation's request type takes it apart against the spec's path.
        #doc
        pub fn router<H: api::Handlers>(handlers: std::sync::Arc<H> #authenticator) -> axum::Router {
            let routes = axum::Router::new() #(#chains)*;
            http::router(routes, handlers, OPERATIONS) #layer #cors
        }
    });
    for op in &api.operations {
        let handler = ident(&op.ident);
        let request = request_name(op);
        out.extend(if op.security.is_secured() {
            let marker = super::security::marker(op);
            quote! {
                async fn #handler<H: api::Handlers>(
                    extract::State(handlers): extract::State<std::sync::Arc<H>>,
                    context: http::RequestContext,
                    auth::Authorized(caller, _): auth::Authorized<security::#marker>,
                    request: operations::#request,
                ) -> axum::response::Response {
                    handlers.#handler(context, caller, request).await.into_response()
                }
            }
        } else {
            quote! {
                async fn #handler<H: api::Handlers>(
                    extract::State(handlers): extract::State<std::sync::Arc<H>>,
                    context: http::RequestContext,
                    request: operations::#request,
                ) -> axum::response::Response {
                    handlers.#handler(context, request).await.into_response()
                }
            }
        });
    }
    if any_shared {
        let api_mod = use_generated("api");
        let schemas = use_generated("schemas");
        let http = use_runtime("http");
        let observe = use_runtime("observe");
        out.extend(quote! {
            /// Routes that several operations fall on, once their segments are whole captures.
            mod shared {
                use axum::extract;
                use axum::handler::Handler as _;

                #api_mod
                #http
                #observe
                #schemas

                #dispatchers
            }
        });
    }
    out
}

/// Serves a route several operations share: the first (most fixed text) whose spec path
/// matches the request.
fn dispatcher(method: Method, ops: &[&Operation]) -> TokenStream {
    let ordered = crate::model::routes::by_specificity(ops.to_vec());
    let listed: Vec<String> = ordered.iter().map(|o| format!("`{}`", o.path)).collect();
    let doc = format!(
        " `{}` {}: the first whose path matches serves the request; the last answers 404 itself if \
         its path does not match either.",
        method.upper(),
        listed.join(", then "),
    );
    let name = ident(&ops[0].ident);
    let (last, rest) = ordered.split_last().expect("a shared route has operations");
    let tries = rest.iter().map(|op| {
        let spec = format_ident!("{}", spec_name(op));
        let handler = ident(&op.ident);
        let id = &op.id;
        quote! {
            if http::path_matches(&captures, &schemas::#spec) {
                observe::name_operation(#id);
                return super::#handler::<H>.call(request, handlers).await;
            }
        }
    });
    let last_id = &last.id;
    let last = ident(&last.ident);
    quote! {
        #[doc = #doc]
        pub async fn #name<H: api::Handlers>(
            extract::State(handlers): extract::State<std::sync::Arc<H>>,
            captures: extract::RawPathParams,
            request: extract::Request,
        ) -> axum::response::Response {
            #(#tries)*
            observe::name_operation(#last_id);
            super::#last::<H>.call(request, handlers).await
        }
    }
}
