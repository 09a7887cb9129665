//! `src/generated/operations.rs` (typed requests and responses),
//! `src/generated/api.rs` (the `Handlers` trait) and
//! `src/generated/routes.rs` (the axum router).

use std::fmt::Write;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rust::{doc, lit, runtime, type_of};
use super::schemas::{Patterns, SchemaNames};
use crate::model::names::const_name;
use crate::model::{Api, Media, Method, Operation, ParamIn, Response, Shape, Status, Ty, TypeKind};

fn location(p: ParamIn) -> &'static str {
    match p {
        ParamIn::Path => "Location::Path",
        ParamIn::Query => "Location::Query",
        ParamIn::Header => "Location::Header",
        ParamIn::Cookie => "Location::Cookie",
    }
}

pub fn spec_name(op: &Operation) -> String {
    const_name(&format!("{}Request", op.type_name))
}

/// The Rust type of a request body, using the read-only-free twin.
pub fn body_type(api: &Api, shape: &Shape) -> String {
    match shape.ty {
        Ty::Ref(id) => match api.types.get(id).input {
            Some(twin) => {
                let name = api.types.get(twin).name.clone();
                if shape.nullable {
                    format!("Option<{name}>")
                } else {
                    name
                }
            }
            None => type_of(&api.types, shape),
        },
        _ => type_of(&api.types, shape),
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

fn request_name(op: &Operation) -> String {
    format!("{}Request", op.type_name)
}

pub fn response_name(op: &Operation) -> String {
    format!("{}Response", op.type_name)
}

/// Types of response headers: text-like ones as themselves, anything else as text.
fn header_type(api: &Api, shape: &Shape) -> String {
    let resolved = api.types.resolve(shape);
    match &resolved.ty {
        Ty::String(_) | Ty::Integer(_) | Ty::Number(_) | Ty::Bool => type_of(
            &api.types,
            &Shape {
                nullable: false,
                ..shape.clone()
            },
        ),
        Ty::Ref(id)
            if matches!(api.types.get(*id).kind, TypeKind::Enum(_))
                && !is_integer_enum(api, *id) =>
        {
            type_of(
                &api.types,
                &Shape {
                    nullable: false,
                    ..shape.clone()
                },
            )
        }
        _ => "String".into(),
    }
}

fn is_integer_enum(api: &Api, id: crate::model::TypeId) -> bool {
    matches!(&api.types.get(id).kind, TypeKind::Enum(e) if e.is_integer())
}

fn response_body_type(api: &Api, r: &Response) -> Option<String> {
    match &r.media {
        Some(Media::Json(shape)) => Some(type_of(&api.types, shape)),
        Some(Media::Text) => Some("String".into()),
        // Responses never hold forms (`read_responses` serves them as bytes).
        Some(Media::Binary | Media::Form(_)) => Some("bytes::Bytes".into()),
        None => None,
    }
}

/// Whether a response variant has named fields (`{ body, etag }`).
pub fn variant_has_fields(r: &Response) -> bool {
    !r.headers.is_empty() || matches!(r.status, Status::Default | Status::Range(_))
}

pub fn emit_operations(api: &Api) -> String {
    let mut out = String::from("//! Typed requests and responses, one pair per operation.\n\n");
    // A spec of webhooks only has no operations, and these imports would go unused.
    if !api.operations.is_empty() {
        out.push_str(
            "use super::http;\n#[allow(unused_imports)]\nuse super::models::*;\nuse super::schemas;\n\n",
        );
    }
    for op in &api.operations {
        emit_request(api, op, &mut out);
        emit_response(api, op, &mut out);
    }
    out
}

fn emit_request(api: &Api, op: &Operation, out: &mut String) {
    let name = request_name(op);
    let _ = writeln!(
        out,
        "/// The request of `{} {}` ([`super::api::Handlers::{}`]).",
        op.method.upper(),
        op.path,
        op.ident
    );
    out.push_str("#[derive(Debug, Clone)]\n");
    let _ = writeln!(out, "pub struct {name} {{");
    let mut fields = Vec::new();
    for p in &op.params {
        out.push_str(&doc(p.doc.as_deref()));
        let mut ty = type_of(&api.types, &p.shape);
        if !p.required {
            ty = format!("Option<{ty}>");
        }
        let _ = writeln!(out, "pub {}: {ty},", p.ident);
        fields.push(format!(
            "{}: input.param(http::{}, {})?",
            p.ident,
            location(p.location),
            lit(&p.name)
        ));
    }
    if let Some(b) = &op.body {
        let (ty, read) = match &b.media {
            Media::Json(shape) | Media::Form(shape) => (body_type(api, shape), "input.json()?"),
            Media::Text => ("String".to_string(), "input.text()?"),
            Media::Binary => ("bytes::Bytes".to_string(), "input.bytes()?"),
        };
        let ty = if b.required || b.media.typed().is_none() {
            ty
        } else {
            format!("Option<{ty}>")
        };
        out.push_str(&doc(b.doc.as_deref().or(Some("The request body."))));
        let _ = writeln!(out, "pub body: {ty},");
        fields.push(format!("body: {read}"));
    }
    out.push_str("}\n\n");
    let input = if fields.is_empty() {
        "_input"
    } else {
        "mut input"
    };
    let _ = writeln!(
        out,
        "impl<S: Send + Sync> axum::extract::FromRequest<S> for {name} {{\ntype Rejection = http::ApiError;\n\n\
         async fn from_request(request: axum::extract::Request, _state: &S) -> Result<Self, http::ApiError> {{\n\
         let {input} = http::extract(request, &schemas::{}).await?;\nOk(Self {{ {} }})\n}}\n}}\n",
        spec_name(op),
        fields.join(", ")
    );
}

fn emit_response(api: &Api, op: &Operation, out: &mut String) {
    let name = response_name(op);
    let variants: Vec<&Response> = op.responses.iter().filter(|r| !r.problem).collect();
    let _ = writeln!(
        out,
        "/// The responses of `{} {}`; errors are [`http::ApiError`]s.",
        op.method.upper(),
        op.path
    );
    out.push_str("#[derive(Debug, Clone)]\n#[allow(clippy::large_enum_variant)]\n");
    let _ = writeln!(out, "pub enum {name} {{");
    for r in &variants {
        let status = match r.status {
            Status::Code(c) => c.to_string(),
            Status::Range(x) => format!("{x}XX"),
            Status::Default => "Any other status".into(),
        };
        let text = format!("{status}: {}", r.doc.as_deref().unwrap_or("").trim());
        out.push_str(&doc(Some(text.trim_end_matches(": "))));
        let body = response_body_type(api, r);
        if variant_has_fields(r) {
            let _ = write!(out, "{} {{ ", r.variant);
            if matches!(r.status, Status::Default | Status::Range(_)) {
                out.push_str("status: axum::http::StatusCode, ");
            }
            if let Some(b) = &body {
                let _ = write!(out, "body: {b}, ");
            }
            for h in &r.headers {
                let ty = header_type(api, &h.shape);
                let ty = if h.required {
                    ty
                } else {
                    format!("Option<{ty}>")
                };
                let _ = write!(out, "{}: {ty}, ", h.ident);
            }
            out.push_str("},\n");
        } else if let Some(b) = body {
            let _ = writeln!(out, "{}({b}),", r.variant);
        } else {
            let _ = writeln!(out, "{},", r.variant);
        }
    }
    out.push_str("}\n\n");
    let _ = writeln!(
        out,
        "impl axum::response::IntoResponse for {name} {{\nfn into_response(self) -> axum::response::Response {{\nmatch self {{"
    );
    for r in &variants {
        let status = match r.status.code() {
            Some(c) if r.status != Status::Range(c / 100) => {
                format!(
                    "axum::http::StatusCode::from_u16({c}).unwrap_or(axum::http::StatusCode::OK)"
                )
            }
            _ => "status".into(),
        };
        let status = match r.status {
            Status::Code(c) => status_const(c).map(str::to_string).unwrap_or(status),
            _ => status,
        };
        let make = |binding: &str| -> String {
            match &r.media {
                Some(Media::Json(_)) => format!(
                    "http::json({status}, {}, &{binding})",
                    lit(r.content_type.as_deref().unwrap_or("application/json"))
                ),
                Some(_) => format!(
                    "http::raw({status}, {}, {binding})",
                    lit(r
                        .content_type
                        .as_deref()
                        .unwrap_or("application/octet-stream"))
                ),
                None => format!("http::empty({status})"),
            }
        };
        if variant_has_fields(r) {
            let mut bind = Vec::new();
            if matches!(r.status, Status::Default | Status::Range(_)) {
                bind.push("status".to_string());
            }
            if r.media.is_some() {
                bind.push("body".into());
            }
            bind.extend(r.headers.iter().map(|h| h.ident.clone()));
            let _ = writeln!(out, "Self::{} {{ {} }} => {{", r.variant, bind.join(", "));
            // Each header wraps the response so far; the last one is the
            // block's value.
            let mut current = make("body");
            for h in &r.headers {
                let _ = writeln!(out, "let response = {current};");
                current = if h.required {
                    format!("http::with_header(response, {}, {})", lit(&h.name), h.ident)
                } else {
                    format!(
                        "match {} {{ Some(value) => http::with_header(response, {}, value), None => response }}",
                        h.ident,
                        lit(&h.name)
                    )
                };
            }
            let _ = writeln!(out, "{current}\n}}");
        } else if r.media.is_some() {
            let _ = writeln!(out, "Self::{}(body) => {},", r.variant, make("body"));
        } else {
            let _ = writeln!(out, "Self::{} => {},", r.variant, make(""));
        }
    }
    out.push_str("}\n}\n}\n\n");
}

fn status_const(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "axum::http::StatusCode::OK",
        201 => "axum::http::StatusCode::CREATED",
        202 => "axum::http::StatusCode::ACCEPTED",
        204 => "axum::http::StatusCode::NO_CONTENT",
        301 => "axum::http::StatusCode::MOVED_PERMANENTLY",
        302 => "axum::http::StatusCode::FOUND",
        303 => "axum::http::StatusCode::SEE_OTHER",
        304 => "axum::http::StatusCode::NOT_MODIFIED",
        400 => "axum::http::StatusCode::BAD_REQUEST",
        401 => "axum::http::StatusCode::UNAUTHORIZED",
        403 => "axum::http::StatusCode::FORBIDDEN",
        404 => "axum::http::StatusCode::NOT_FOUND",
        409 => "axum::http::StatusCode::CONFLICT",
        412 => "axum::http::StatusCode::PRECONDITION_FAILED",
        422 => "axum::http::StatusCode::UNPROCESSABLE_ENTITY",
        500 => "axum::http::StatusCode::INTERNAL_SERVER_ERROR",
        _ => return None,
    })
}

pub fn emit_api(api: &Api) -> String {
    let mut out = String::from(
        "//! The `Handlers` trait: one method per operation. Operations with a storage action have a \
         default body that calls the store; implement the others (and override any) in `src/handlers.rs`.\n\n",
    );
    if !api.operations.is_empty() {
        out.push_str("use super::http;\nuse super::operations::*;\n");
    }
    if api.has_storage() {
        out.push_str("use super::{actions, store};\n");
    }
    out.push_str("\n/// The API's operations. Implemented by `handlers::Service`.\npub trait Handlers: Send + Sync + 'static {\n");
    if api.has_storage() {
        out.push_str(
            "/// The store that the built-in storage actions use.\nfn store(&self) -> &store::Store;\n\n",
        );
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
        out.push_str(&doc(Some(text.trim())));
        let sig_ret = format!(
            "impl std::future::Future<Output = Result<{}, http::ApiError>> + Send",
            response_name(op)
        );
        if op.action.is_some() {
            let _ = writeln!(
                out,
                "fn {}(&self, _context: http::RequestContext, request: {}) -> {sig_ret} {{\nactions::{}(self.store(), request)\n}}\n",
                op.ident,
                request_name(op),
                op.ident
            );
        } else {
            let _ = writeln!(
                out,
                "fn {}(&self, context: http::RequestContext, request: {}) -> {sig_ret};\n",
                op.ident,
                request_name(op)
            );
        }
    }
    out.push_str("}\n");
    out
}

/// The operations one method of a route serves: one, or several sharing it.
type MethodOps<'a> = (Method, Vec<&'a Operation>);

pub fn emit_routes(api: &Api) -> String {
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

    let mut out = String::from(if api.operations.is_empty() {
        "//! The router: every path and method of the spec, each calling its `Handlers` method.\n\n\
         use super::{api, http};\n\n"
    } else {
        "//! The router: every path and method of the spec, each calling its `Handlers` method.\n\n\
         use axum::extract;\nuse axum::response::IntoResponse as _;\n\n\
         use super::{api, http};\n#[allow(unused_imports)]\nuse super::operations::*;\n\n"
    });
    out.push_str("/// Builds the router over `handlers`; the same router serves Lambda and local runs.\n///\n/// Each segment holding path variables is one capture, since axum allows no more; the\n/// operation's request type takes it apart against the spec's path.\npub fn router<H: api::Handlers>(handlers: std::sync::Arc<H>) -> axum::Router {\naxum::Router::new()\n");
    let mut dispatchers = String::new();
    for (route, methods) in &routes {
        let mut chain = String::new();
        for (method, ops) in methods {
            let target = if ops.len() == 1 {
                format!("{}::<H>", ops[0].ident)
            } else {
                dispatchers.push_str(&dispatcher(*method, ops));
                format!("shared::{}::<H>", ops[0].ident)
            };
            if chain.is_empty() {
                let _ = write!(chain, "axum::routing::{}({target})", method.lower());
            } else {
                let _ = write!(chain, ".{}({target})", method.lower());
            }
        }
        let _ = writeln!(out, ".route({}, {chain})", lit(route));
    }
    out.push_str(".fallback(http::not_found)\n.method_not_allowed_fallback(http::method_not_allowed)\n.with_state(handlers)\n}\n\n");
    for op in &api.operations {
        let _ = writeln!(
            out,
            "async fn {}<H: api::Handlers>(extract::State(handlers): extract::State<std::sync::Arc<H>>, context: http::RequestContext, request: {}) -> axum::response::Response {{\nhandlers.{}(context, request).await.into_response()\n}}\n",
            op.ident,
            request_name(op),
            op.ident
        );
    }
    if any_shared {
        let _ = write!(
            out,
            "/// Routes that several operations fall on, once their segments are whole captures.\n\
             mod shared {{\n\
             use axum::extract;\nuse axum::handler::Handler as _;\n\n\
             use super::super::{{api, http, schemas}};\n\n{dispatchers}}}\n"
        );
    }
    out
}

/// Serves a route several operations share: the first (most fixed text) whose spec path
/// matches the request.
fn dispatcher(method: Method, ops: &[&Operation]) -> String {
    let ordered = crate::model::routes::by_specificity(ops.to_vec());
    let listed: Vec<String> = ordered.iter().map(|o| format!("`{}`", o.path)).collect();
    let mut out = format!(
        "/// `{}` {}: the first whose path matches serves the request.\n\
         pub async fn {}<H: api::Handlers>(extract::State(handlers): extract::State<std::sync::Arc<H>>, captures: extract::RawPathParams, request: extract::Request) -> axum::response::Response {{\n",
        method.upper(),
        listed.join(", then "),
        ops[0].ident
    );
    let (last, rest) = ordered.split_last().expect("a shared route has operations");
    for op in rest {
        let _ = writeln!(
            out,
            "if http::path_matches(&captures, &schemas::{}) {{\nreturn super::{}::<H>.call(request, handlers).await;\n}}",
            spec_name(op),
            op.ident
        );
    }
    let _ = writeln!(
        out,
        "// The last answers 404 itself if its path does not match either.\nsuper::{}::<H>.call(request, handlers).await\n}}\n",
        last.ident
    );
    out
}
