//! Reading the spec's paths into operations: parameters merged from the path
//! item and the operation, bodies and responses typed through the schema
//! converter, routes named as paths come in.

use indexmap::IndexMap;
use openapiv3::{
    Components, MediaType, OpenAPI, Parameter, ParameterSchemaOrContent, PathItem, QueryStyle,
    ReferenceOr, RequestBody, Response as OaResponse, StatusCode,
};

use super::names::{self, Scope};
use super::operations::{
    Body, Media, Method, Operation, Param, ParamIn, Response, ResponseHeader, Status,
};
use super::routes::{path_variables, Routes};
use super::schema::SchemaConverter;
use super::types::Shape;
use crate::diagnostic::Diagnostic;
use crate::json_pointer::{escape_segment, pointer};

/// Reads every operation, in path order then method order.
pub fn read_operations(
    doc: &OpenAPI,
    raw: &serde_json::Value,
    types: &mut SchemaConverter,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Operation> {
    let mut ops = Vec::new();
    let mut fn_names = Scope::with_reserved(names::RESERVED_FNS);
    let mut type_names = Scope::default();
    let components = doc.components.as_ref();
    let mut routes = Routes::default();
    for (path, item) in &doc.paths.paths {
        let item_at = pointer(["paths", path.as_str()]);
        let ReferenceOr::Item(item) = item else {
            diagnostics.push(
                Diagnostic::warning(
                    &item_at,
                    "this path item `$ref` points outside the document; the path is skipped",
                )
                .help("reference a path item under `components.pathItems`, or write the path's operations inline"),
            );
            continue;
        };
        for method in Method::ALL {
            let Some(op) = operation_of(method, item) else {
                continue;
            };
            let at = format!("{item_at}/{}", method.lower());
            if !op.callbacks.is_empty() {
                diagnostics.push(
                    Diagnostic::warning(format!("{at}/callbacks"), "callbacks are skipped")
                        .help("apigen generates the API's own handlers; a callback is a request the API makes, so write it by hand"),
                );
            }
            let wanted = op
                .operation_id
                .clone()
                .unwrap_or_else(|| format!("{} {}", method.lower(), path));
            // A keyword gets a trailing `_`, as the function name is also part of other
            // names (`routes::get_pet`) where `r#` cannot go.
            let ident = names::field_name(&wanted);
            let ident = fn_names.claim(match ident.strip_prefix("r#") {
                Some(keyword) => format!("{keyword}_"),
                None => ident,
            });
            let type_name = types.claim_operation(&type_names.claim(names::type_name(&wanted)));
            let mut params = Vec::new();
            let mut param_idents = Scope::with_reserved(&["body"]);
            let merged = merge_params(&item.parameters, &op.parameters, components);
            for (p, p_at) in merged {
                let Some(p) = p else {
                    diagnostics.push(
                        Diagnostic::error(p_at, "this parameter `$ref` points to nothing")
                            .help("reference a parameter under `components.parameters`"),
                    );
                    continue;
                };
                let p_at = if p_at.is_empty() {
                    at.clone()
                } else {
                    p_at.replace("{op}", &at).replace("{item}", &item_at)
                };
                let mut deep_object = false;
                let (data, location, explode) = match p {
                    Parameter::Query {
                        parameter_data,
                        style,
                        ..
                    } => {
                        let explode = parameter_data
                            .explode
                            .unwrap_or(matches!(style, QueryStyle::Form));
                        deep_object = matches!(style, QueryStyle::DeepObject);
                        (parameter_data, ParamIn::Query, explode)
                    }
                    Parameter::Path { parameter_data, .. } => {
                        (parameter_data, ParamIn::Path, false)
                    }
                    Parameter::Header { parameter_data, .. } => {
                        (parameter_data, ParamIn::Header, false)
                    }
                    Parameter::Cookie { parameter_data, .. } => {
                        (parameter_data, ParamIn::Cookie, false)
                    }
                };
                let hint = format!("{type_name}{}", names::type_name(&data.name));
                let shape = match &data.format {
                    ParameterSchemaOrContent::Schema(s) => {
                        types.convert(s, &format!("{p_at}/schema"), &hint)
                    }
                    ParameterSchemaOrContent::Content(c) => c
                        .values()
                        .next()
                        .and_then(|m| m.schema.as_ref())
                        .map(|s| types.convert(s, &format!("{p_at}/content"), &hint))
                        .unwrap_or_else(Shape::string),
                };
                let default = match &data.format {
                    ParameterSchemaOrContent::Schema(s) => {
                        types.resolve(s).and_then(|s| s.schema_data.default.clone())
                    }
                    ParameterSchemaOrContent::Content(_) => None,
                };
                params.push(Param {
                    ident: param_idents.claim(names::field_name(&if location == ParamIn::Header {
                        data.name.to_ascii_lowercase()
                    } else {
                        data.name.clone()
                    })),
                    name: data.name.clone(),
                    location,
                    required: data.required || location == ParamIn::Path,
                    shape,
                    doc: data.description.clone(),
                    explode,
                    deep_object,
                    default,
                    pointer: p_at.clone(),
                });
            }
            for name in path_variables(path) {
                if !params
                    .iter()
                    .any(|p| p.location == ParamIn::Path && p.name == name)
                {
                    diagnostics.push(
                        Diagnostic::error(&at, format!("path `{path}` has a variable `{{{name}}}` that no parameter describes"))
                            .help(format!("add `- {{name: {name}, in: path, required: true, schema: {{type: string}}}}` to `parameters`")),
                    );
                    params.push(Param {
                        ident: param_idents.claim(names::field_name(&name)),
                        name,
                        location: ParamIn::Path,
                        required: true,
                        shape: Shape::string(),
                        doc: None,
                        explode: false,
                        deep_object: false,
                        default: None,
                        pointer: at.clone(),
                    });
                }
            }
            let body = op.request_body.as_ref().and_then(|b| {
                let (b, b_at) = resolve_body(b, components, &at)?;
                let body = read_body(b, &b_at, &format!("{type_name}RequestBody"), types)?;
                let others: Vec<String> = b
                    .content
                    .keys()
                    .filter(|ct| **ct != body.content_type)
                    .map(|ct| format!("`{ct}`"))
                    .collect();
                if !others.is_empty() {
                    diagnostics.push(
                        Diagnostic::warning(
                            format!("{b_at}/content"),
                            format!(
                                "the service reads `{}` bodies; requests in {} are answered 415",
                                body.content_type,
                                others.join(", ")
                            ),
                        )
                        .help("to accept the others, route them to a hand-written axum handler ahead of the generated router"),
                    );
                }
                Some(body)
            });
            let mut responses = read_responses(&op.responses, components, &at, &type_name, types);
            if op.responses.responses.is_empty() && op.responses.default.is_none() {
                responses.push(undocumented_response());
                diagnostics.push(
                    Diagnostic::warning(&at, "this operation documents no responses; its handler answers with a status and no body")
                        .help("add `responses` (OpenAPI 3.1 leaves them optional) to give the handler a typed body to return"),
                );
            }
            let hint = raw
                .pointer(&at)
                .and_then(|o| o.get(super::hints::ACTION))
                .cloned();
            ops.push(Operation {
                id: op.operation_id.clone().unwrap_or_else(|| ident.clone()),
                ident,
                type_name,
                method,
                path: path.clone(),
                route: routes.route(path),
                summary: op.summary.clone(),
                description: op.description.clone(),
                tags: op.tags.clone(),
                params,
                body,
                responses,
                action: None,
                security: Default::default(),
                reason: String::new(),
                pointer: at,
                hint,
            });
        }
    }
    super::routes::warn_shared(&ops, diagnostics);
    ops
}
/// The operation `item` holds for `method`.
fn operation_of(method: Method, item: &PathItem) -> Option<&openapiv3::Operation> {
    match method {
        Method::Get => item.get.as_ref(),
        Method::Put => item.put.as_ref(),
        Method::Post => item.post.as_ref(),
        Method::Delete => item.delete.as_ref(),
        Method::Options => item.options.as_ref(),
        Method::Head => item.head.as_ref(),
        Method::Patch => item.patch.as_ref(),
        Method::Trace => item.trace.as_ref(),
    }
}

/// Path-level parameters, overridden by operation-level ones of the same
/// name and location. The pointer uses `{item}`/`{op}` placeholders.
fn merge_params<'a>(
    item: &'a [ReferenceOr<Parameter>],
    op: &'a [ReferenceOr<Parameter>],
    components: Option<&'a Components>,
) -> Vec<(Option<&'a Parameter>, String)> {
    let resolve = |p: &'a ReferenceOr<Parameter>| -> Option<&'a Parameter> {
        match p {
            ReferenceOr::Item(p) => Some(p),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/parameters/")?;
                match components?.parameters.get(name)? {
                    ReferenceOr::Item(p) => Some(p),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        }
    };
    let key = |p: &Parameter| {
        let d = p.parameter_data_ref();
        (d.name.clone(), std::mem::discriminant(p))
    };
    let mut out: Vec<(Option<&Parameter>, String)> = Vec::new();
    for (i, p) in item.iter().enumerate() {
        out.push((resolve(p), format!("{{item}}/parameters/{i}")));
    }
    for (i, p) in op.iter().enumerate() {
        let resolved = resolve(p);
        if let Some(new) = resolved {
            out.retain(|(old, _)| old.is_none_or(|old| key(old) != key(new)));
        }
        out.push((resolved, format!("{{op}}/parameters/{i}")));
    }
    out
}

fn resolve_body<'a>(
    b: &'a ReferenceOr<RequestBody>,
    components: Option<&'a Components>,
    at: &str,
) -> Option<(&'a RequestBody, String)> {
    match b {
        ReferenceOr::Item(b) => Some((b, format!("{at}/requestBody"))),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/requestBodies/")?;
            match components?.request_bodies.get(name)? {
                ReferenceOr::Item(b) => Some((b, pointer(["components", "requestBodies", name]))),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

/// Picks the media type apigen serves: JSON first, then text, then bytes.
fn pick_media(content: &IndexMap<String, MediaType>) -> Option<(&String, &MediaType)> {
    let rank = |ct: &str| {
        let ct = ct.to_ascii_lowercase();
        if ct == "application/json" {
            0
        } else if ct.ends_with("+json") || ct.ends_with("/json") {
            1
        } else if ct.starts_with("text/") {
            2
        } else {
            3
        }
    };
    content.iter().min_by_key(|(ct, _)| rank(ct))
}

fn media_of(ct: &str, m: &MediaType, at: &str, hint: &str, types: &mut SchemaConverter) -> Media {
    let lower = ct.to_ascii_lowercase();
    let mut shape = || match &m.schema {
        Some(s) => types.convert(
            s,
            &format!("{at}/content/{}/schema", escape_segment(ct)),
            hint,
        ),
        None => Shape::any(),
    };
    if lower.contains("json") || lower == "*/*" && m.schema.is_some() {
        Media::Json(shape())
    } else if lower.starts_with("application/x-www-form-urlencoded") && m.schema.is_some() {
        Media::Form(shape())
    } else if lower.starts_with("text/") {
        Media::Text
    } else {
        Media::Binary
    }
}

fn read_body(b: &RequestBody, at: &str, hint: &str, types: &mut SchemaConverter) -> Option<Body> {
    let (ct, m) = pick_media(&b.content)?;
    Some(Body {
        required: b.required,
        content_type: ct.clone(),
        media: media_of(ct, m, at, hint, types),
        doc: b.description.clone(),
    })
}

fn read_responses(
    responses: &openapiv3::Responses,
    components: Option<&Components>,
    at: &str,
    type_name: &str,
    types: &mut SchemaConverter,
) -> Vec<Response> {
    let mut entries: Vec<(Status, String, &ReferenceOr<OaResponse>)> = responses
        .responses
        .iter()
        .map(|(code, r)| match code {
            StatusCode::Code(c) => (Status::Code(*c), c.to_string(), r),
            StatusCode::Range(x) => (Status::Range(*x), format!("{x}XX"), r),
        })
        .collect();
    if let Some(d) = &responses.default {
        entries.push((Status::Default, "default".to_string(), d));
    }
    let successes = entries.iter().filter(|(s, ..)| s.is_success()).count();
    let mut variants = Scope::default();
    let mut out = Vec::new();
    for (status, key, r) in entries {
        let (r, r_at) = match r {
            ReferenceOr::Item(r) => (r, format!("{at}/responses/{key}")),
            ReferenceOr::Reference { reference } => {
                let found = reference
                    .strip_prefix("#/components/responses/")
                    .and_then(|n| components?.responses.get(n).map(|r| (n, r)));
                match found {
                    Some((n, ReferenceOr::Item(r))) => (r, pointer(["components", "responses", n])),
                    _ => continue,
                }
            }
        };
        let picked = pick_media(&r.content);
        let problem = picked
            .is_some_and(|(ct, _)| ct.eq_ignore_ascii_case("application/problem+json"))
            || (picked.is_none() && !status.is_success());
        let hint = if status.is_success() && successes == 1 {
            format!("{type_name}ResponseBody")
        } else {
            format!("{type_name}ResponseBody{}", names::type_name(&key))
        };
        // A form is something clients send; a response in one is served as bytes.
        let media = picked.map(|(ct, m)| match media_of(ct, m, &r_at, &hint, types) {
            Media::Form(_) => Media::Binary,
            media => media,
        });
        let mut header_idents = Scope::with_reserved(&["body"]);
        let headers = r
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
            .filter_map(|(name, h)| {
                let h = match h {
                    ReferenceOr::Item(h) => h,
                    ReferenceOr::Reference { reference } => {
                        match components?
                            .headers
                            .get(reference.strip_prefix("#/components/headers/")?)?
                        {
                            ReferenceOr::Item(h) => h,
                            ReferenceOr::Reference { .. } => return None,
                        }
                    }
                };
                let shape = match &h.format {
                    ParameterSchemaOrContent::Schema(s) => types.convert(
                        s,
                        &format!("{r_at}/headers/{name}/schema"),
                        &format!("{hint}{}", names::type_name(name)),
                    ),
                    ParameterSchemaOrContent::Content(_) => Shape::string(),
                };
                Some(ResponseHeader {
                    name: name.clone(),
                    // Header names are case-insensitive: `ETag` is `etag`, not `e_tag`.
                    ident: header_idents.claim(names::field_name(&name.to_ascii_lowercase())),
                    required: h.required,
                    shape,
                    doc: h.description.clone(),
                })
            })
            .collect();
        out.push(Response {
            status,
            variant: variants.claim(variant_name(status)),
            doc: Some(r.description.clone()).filter(|d| !d.trim().is_empty()),
            content_type: picked.map(|(ct, _)| ct.clone()),
            media,
            headers,
            problem,
        });
    }
    out
}

/// What an operation without `responses` answers: any status, no body
/// (OpenAPI 3.1 makes `responses` optional).
fn undocumented_response() -> Response {
    Response {
        status: Status::Default,
        variant: variant_name(Status::Default),
        doc: Some("The spec documents no response.".to_string()),
        content_type: None,
        media: None,
        headers: Vec::new(),
        problem: false,
    }
}

fn variant_name(status: Status) -> String {
    match status {
        Status::Default => "Default".into(),
        Status::Range(x) => format!("Status{x}xx"),
        Status::Code(c) => match http_reason(c) {
            Some(reason) => names::type_name(reason),
            None => format!("Status{c}"),
        },
    }
}

fn http_reason(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}
