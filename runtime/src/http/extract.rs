//! Reading and validating a request as its operation's spec describes it.

use std::borrow::Cow;

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::body::{read_body, Payload};
use super::coerce::{coerce, property_schema, without_null};
use super::path::path_variables;
use super::problem::{ApiError, Location};
use super::schema::Schema;
use super::spec::{OperationSpec, ParamSpec};
use super::validate::validate;
use super::violations::{Pointer, Violations};

/// A request that passed validation, ready to be turned into typed values.
#[derive(Debug)]
pub struct Extracted {
    params: Vec<(Location, &'static str, Value)>,
    body: Payload,
}

impl Extracted {
    /// Deserializes a parameter; an absent optional parameter is `null` (so `Option<T>` gives
    /// `None`).
    pub fn param<T: DeserializeOwned>(
        &mut self,
        location: Location,
        name: &str,
    ) -> Result<T, ApiError> {
        let Some((_, _, value)) = self
            .params
            .iter_mut()
            .find(|(at, known, _)| *at == location && *known == name)
        else {
            return Err(ApiError::internal(format!(
                "parameter `{name}` ({location:?}) is not in the operation's spec"
            )));
        };
        serde_json::from_value(value.take())
            .map_err(|error| ApiError::bad_request(format!("parameter `{name}`: {error}")))
    }

    /// Deserializes the JSON body; an absent optional body is `null`.
    pub fn json<T: DeserializeOwned>(&mut self) -> Result<T, ApiError> {
        // Generated code only asks for the kind of body its operation declares, so a mismatch
        // here is a bug on our side rather than a bad request.
        let value = match std::mem::replace(&mut self.body, Payload::Absent) {
            Payload::Absent => Value::Null,
            Payload::Json(value) => value,
            Payload::Text(_) | Payload::Binary(_) => {
                return Err(ApiError::internal("the operation's body is not JSON"))
            }
        };
        serde_json::from_value(value)
            .map_err(|error| ApiError::bad_request(format!("the body: {error}")))
    }

    /// The body of a `text/*` operation (empty string when absent).
    pub fn text(&mut self) -> Result<String, ApiError> {
        match std::mem::replace(&mut self.body, Payload::Absent) {
            Payload::Absent => Ok(String::new()),
            Payload::Text(text) => Ok(text),
            Payload::Json(_) | Payload::Binary(_) => {
                Err(ApiError::internal("the operation's body is not text"))
            }
        }
    }

    /// The raw bytes of a binary body (empty when absent).
    pub fn bytes(&mut self) -> Result<bytes::Bytes, ApiError> {
        match std::mem::replace(&mut self.body, Payload::Absent) {
            Payload::Absent => Ok(bytes::Bytes::new()),
            Payload::Binary(bytes) => Ok(bytes),
            Payload::Json(_) | Payload::Text(_) => {
                Err(ApiError::internal("the operation's body is not binary"))
            }
        }
    }
}

/// Reads path, query, header and cookie parameters and the body of `req` as `spec` describes
/// them, and validates all of them, answering one 400 with every violation.
pub async fn extract(req: Request, spec: &'static OperationSpec) -> Result<Extracted, ApiError> {
    let (mut parts, body) = req.into_parts();
    let path = read_path_params(&mut parts, spec).await?;
    let query: Vec<(Cow<str>, Cow<str>)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).collect();
    let cookies = read_cookies(&parts.headers);

    let mut violations = Violations::new();
    let mut params = Vec::with_capacity(spec.params.len());
    for param in spec.params {
        let raw: Vec<Cow<str>> = match param.location {
            Location::Path => matching(path.iter().map(|(k, v)| (*k, v.as_str())), param.name),
            Location::Query => matching(query.iter().map(|(k, v)| (&**k, &**v)), param.name),
            Location::Cookie => matching(cookies.iter().copied(), param.name),
            Location::Header => header_values(&parts.headers, param.name),
            // Parameters never live in the body; apigen does not emit such a spec.
            Location::Body => Vec::new(),
        };
        let value = if param.deep_object && raw.is_empty() {
            read_deep_object(param, &query, &mut violations)
        } else {
            read_param(param, &raw, &mut violations)
        };
        params.push((param.location, param.name, value));
    }

    let body = match &spec.body {
        Some(body_spec) => read_body(body_spec, &parts.headers, body, &mut violations).await?,
        None => Payload::Absent,
    };

    if violations.is_empty() {
        Ok(Extracted { params, body })
    } else {
        Err(ApiError::invalid(violations))
    }
}

async fn read_path_params(
    parts: &mut Parts,
    spec: &OperationSpec,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    // Outside a route with captures axum has none to give; that only matters if we need them.
    if !spec.params.iter().any(|p| p.location == Location::Path) {
        return Ok(Vec::new());
    }
    let captures = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(captures) => captures,
        Err(rejection) if rejection.status().is_server_error() => {
            return Err(ApiError::internal(rejection.body_text()))
        }
        Err(rejection) => return Err(ApiError::new(rejection.status(), rejection.body_text())),
    };
    path_variables(&captures, spec).ok_or_else(|| ApiError::not_found("no route for this path"))
}

fn read_cookies(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| {
            let value = value.trim();
            // RFC 6265 allows a cookie value to be wrapped in double quotes.
            let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            (name.trim(), unquoted.unwrap_or(value))
        })
        .collect()
}

/// Header values may carry bytes that are not UTF-8; the replacement characters then fail the
/// schema's checks instead of the parameter silently vanishing.
fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<Cow<'a, str>> {
    headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
        .collect()
}

fn matching<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, name: &str) -> Vec<Cow<'a, str>> {
    pairs
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| Cow::Borrowed(value))
        .collect()
}

fn read_param(param: &ParamSpec, raw: &[Cow<str>], violations: &mut Violations) -> Value {
    let pointer = Pointer::param(param.name);
    let Some(first) = raw.first() else {
        if param.required {
            violations.add(param.location, &pointer, "is required");
        }
        return Value::Null;
    };
    let value = match without_null(param.schema) {
        Schema::Array(list) => {
            let items: Vec<&str> = if param.explode {
                raw.iter().map(|item| &**item).collect()
            } else if first.is_empty() {
                // `?ids=` is how the comma-separated style spells an empty list.
                Vec::new()
            } else {
                first.split(',').collect()
            };
            Value::Array(
                items
                    .into_iter()
                    .map(|item| coerce(list.items, item))
                    .collect(),
            )
        }
        schema => coerce(schema, first),
    };
    validate(param.schema, &value, param.location, &pointer, violations);
    value
}

/// A `deepObject` parameter: `?filter[name]=x&filter[age]=3` gives `{"name": "x", "age": 3}`,
/// each value converted by its property's schema. Absent when no key has the `filter[` prefix.
fn read_deep_object(
    param: &ParamSpec,
    query: &[(Cow<str>, Cow<str>)],
    violations: &mut Violations,
) -> Value {
    let prefix = format!("{}[", param.name);
    let object: serde_json::Map<String, Value> = query
        .iter()
        .filter_map(|(key, value)| {
            let property = key.strip_prefix(&prefix)?.strip_suffix(']')?;
            let schema = property_schema(param.schema, property).unwrap_or(&Schema::Any);
            Some((property.to_owned(), coerce(schema, value)))
        })
        .collect();
    if object.is_empty() {
        return read_param(param, &[], violations);
    }
    let value = Value::Object(object);
    let pointer = Pointer::param(param.name);
    validate(param.schema, &value, param.location, &pointer, violations);
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fixtures::*;
    use crate::http::form::place;
    use crate::http::problem::MAX_DETAIL;
    use crate::http::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use serde_json::json;
    use tower::ServiceExt as _;

    static LIMIT: Schema = Schema::Integer(Numeric {
        minimum: Some(1.0),
        maximum: Some(100.0),
        ..Numeric::ANY
    });

    static IDS: Schema = Schema::Array(List {
        items: &INTEGER,
        min_items: None,
        max_items: None,
        unique_items: false,
    });

    static TAGS: Schema = Schema::Array(List {
        items: &STRING,
        min_items: None,
        max_items: None,
        unique_items: false,
    });

    static SEARCH: OperationSpec = OperationSpec {
        id: "search",
        path: "/search",
        route: "/search",
        params: &[
            ParamSpec {
                name: "limit",
                location: Location::Query,
                required: true,
                schema: &LIMIT,
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "active",
                location: Location::Query,
                required: false,
                schema: &Schema::Nullable(&BOOLEAN),
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "id",
                location: Location::Query,
                required: false,
                schema: &IDS,
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "tags",
                location: Location::Query,
                required: false,
                schema: &TAGS,
                explode: false,
                deep_object: false,
            },
            ParamSpec {
                name: "ratio",
                location: Location::Query,
                required: false,
                schema: &NUMBER,
                explode: true,
                deep_object: false,
            },
            ParamSpec {
                name: "X-Trace",
                location: Location::Header,
                required: false,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
            ParamSpec {
                name: "session",
                location: Location::Cookie,
                required: false,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
        ],
        body: None,
    };

    static CREATE: OperationSpec = OperationSpec {
        id: "createLine",
        path: "/lines",
        route: "/lines",
        params: &[ParamSpec {
            name: "dry_run",
            location: Location::Query,
            required: false,
            schema: &BOOLEAN,
            explode: true,
            deep_object: false,
        }],
        body: Some(BodySpec {
            required: true,
            content_type: "application/json",
            kind: BodyKind::Json(&ORDER_LINE),
        }),
    };

    static UPLOAD_TEXT: OperationSpec = OperationSpec {
        id: "uploadText",
        path: "/text",
        route: "/text",
        params: &[],
        body: Some(BodySpec {
            required: false,
            content_type: "text/plain",
            kind: BodyKind::Text,
        }),
    };

    static UPLOAD_BYTES: OperationSpec = OperationSpec {
        id: "uploadBytes",
        path: "/bytes",
        route: "/bytes",
        params: &[],
        body: Some(BodySpec {
            required: false,
            content_type: "application/octet-stream",
            kind: BodyKind::Binary,
        }),
    };

    #[tokio::test]
    async fn query_parameters_are_coerced_to_their_schema() -> Result<(), ApiError> {
        let uri = "/search?limit=10&limit=99&active=true&id=1&id=2&tags=a,b&ratio=0.5";
        let mut extracted = extract(get_request(uri), &SEARCH).await?;
        // A repeated parameter that is not an array: the first one wins.
        assert_eq!(extracted.param::<i64>(Location::Query, "limit")?, 10);
        assert_eq!(
            extracted.param::<Option<bool>>(Location::Query, "active")?,
            Some(true)
        );
        assert_eq!(extracted.param::<Vec<i64>>(Location::Query, "id")?, [1, 2]);
        assert_eq!(
            extracted.param::<Vec<String>>(Location::Query, "tags")?,
            ["a", "b"]
        );
        assert_eq!(extracted.param::<f64>(Location::Query, "ratio")?, 0.5);
        Ok(())
    }

    #[tokio::test]
    async fn absent_optional_parameters_are_none() -> Result<(), ApiError> {
        let mut extracted = extract(get_request("/search?limit=1&tags="), &SEARCH).await?;
        assert_eq!(
            extracted.param::<Option<bool>>(Location::Query, "active")?,
            None
        );
        assert_eq!(
            extracted.param::<Option<Vec<i64>>>(Location::Query, "id")?,
            None
        );
        assert_eq!(
            extracted.param::<Vec<String>>(Location::Query, "tags")?,
            Vec::<String>::new()
        );
        assert_eq!(
            extracted.param::<Option<String>>(Location::Header, "X-Trace")?,
            None
        );
        Ok(())
    }

    #[tokio::test]
    async fn parameter_violations_are_reported_together() {
        let uri = "/search?active=yes&id=1&id=x&tags=a&ratio=NaN";
        let error = rejection(extract(get_request(uri), &SEARCH).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.detail, "the request is invalid (4 problems)");
        assert_eq!(
            located(&error),
            [
                (Location::Query, "/limit", "is required"),
                (Location::Query, "/active", "expected a boolean"),
                (Location::Query, "/id/1", "expected an integer"),
                (Location::Query, "/ratio", "expected a number"),
            ]
        );

        let error = rejection(extract(get_request("/search?limit=0"), &SEARCH).await);
        assert_eq!(
            located(&error),
            [(Location::Query, "/limit", "must be >= 1")]
        );
    }

    #[tokio::test]
    async fn headers_are_case_insensitive_and_cookies_are_split() -> Result<(), ApiError> {
        let request = axum::http::Request::builder()
            .uri("/search?limit=5")
            .header("x-trace", "abc")
            .header("Cookie", "theme=dark; session=\"s3cr3t\"")
            .body(Body::empty())
            .expect("valid request");
        let mut extracted = extract(request, &SEARCH).await?;
        assert_eq!(
            extracted.param::<String>(Location::Header, "X-Trace")?,
            "abc"
        );
        assert_eq!(
            extracted.param::<String>(Location::Cookie, "session")?,
            "s3cr3t"
        );
        Ok(())
    }

    #[tokio::test]
    async fn unknown_parameter_is_an_internal_error() -> Result<(), ApiError> {
        let mut extracted = extract(get_request("/search?limit=5"), &SEARCH).await?;
        let error = extracted.param::<String>(Location::Path, "limit").err();
        assert_eq!(
            error.map(|e| e.status),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        Ok(())
    }

    static GET_ITEM: OperationSpec = OperationSpec {
        id: "getItem",
        path: "/items/{item_id}",
        route: "/items/{item_id}",
        params: &[ParamSpec {
            name: "item_id",
            location: Location::Path,
            required: true,
            schema: &INTEGER,
            explode: false,
            deep_object: false,
        }],
        body: None,
    };

    async fn get_item(request: Request) -> Result<Response, ApiError> {
        let mut extracted = extract(request, &GET_ITEM).await?;
        let id: i64 = extracted.param(Location::Path, "item_id")?;
        Ok(json(
            StatusCode::OK,
            "application/json",
            &json!({ "id": id }),
        ))
    }

    fn router() -> Router {
        let item = get(get_item).fallback(method_not_allowed);
        Router::new()
            .route("/items/{item_id}", item)
            .fallback(not_found)
    }

    #[tokio::test]
    async fn fallbacks_answer_problems() {
        let response = router().oneshot(get_request("/nowhere")).await;
        assert_eq!(
            response.expect("infallible").status(),
            StatusCode::NOT_FOUND
        );
        let response = router()
            .oneshot(post("/items/1", None, Body::empty()))
            .await;
        assert_eq!(
            response.expect("infallible").status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[tokio::test]
    async fn path_parameters_come_from_the_router() {
        let app = router();

        let response = app.clone().oneshot(get_request("/items/%34%32")).await;
        let response = response.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_json(response).await, json!({"id": 42}));

        let response = app
            .oneshot(get_request("/items/abc"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(response).await;
        assert_eq!(
            body["errors"],
            json!([{"in": "path", "pointer": "/item_id", "detail": "expected an integer"}])
        );
    }

    static COMPARE: OperationSpec = OperationSpec {
        id: "compare",
        path: "/compare/{base}...{head}",
        route: "/compare/{base_head}",
        params: &[
            ParamSpec {
                name: "base",
                location: Location::Path,
                required: true,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
            ParamSpec {
                name: "head",
                location: Location::Path,
                required: true,
                schema: &STRING,
                explode: false,
                deep_object: false,
            },
        ],
        body: None,
    };

    async fn compare(request: Request) -> Result<Response, ApiError> {
        let mut extracted = extract(request, &COMPARE).await?;
        let base: String = extracted.param(Location::Path, "base")?;
        let head: String = extracted.param(Location::Path, "head")?;
        Ok(json(
            StatusCode::OK,
            "application/json",
            &json!([base, head]),
        ))
    }

    #[tokio::test]
    async fn a_segment_with_several_variables_is_taken_apart() {
        let app = Router::new().route("/compare/{base_head}", get(compare));

        let response = app
            .clone()
            .oneshot(get_request("/compare/main...feature%2Fa..b"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_json(response).await, json!(["main", "feature/a..b"]));

        // The route matches, the spec's path does not: as if no route did.
        let response = app
            .oneshot(get_request("/compare/main..feature"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    static RANGE: Schema = Schema::Object(Record {
        properties: &[
            Property::optional("gt", &INTEGER),
            Property::optional("lt", &INTEGER),
        ],
        additional: Additional::Deny,
    });

    static CREATED: Schema = Schema::AnyOf(&[&RANGE, &INTEGER]);

    static LIST: OperationSpec = OperationSpec {
        id: "list",
        path: "/items",
        route: "/items",
        params: &[ParamSpec {
            name: "created",
            location: Location::Query,
            required: false,
            schema: &CREATED,
            explode: true,
            deep_object: true,
        }],
        body: None,
    };

    #[tokio::test]
    async fn deep_object_parameters_gather_their_keys() -> Result<(), ApiError> {
        let mut extracted =
            extract(get_request("/items?created[gt]=3&created[lt]=9"), &LIST).await?;
        let created: Value = extracted.param(Location::Query, "created")?;
        assert_eq!(created, json!({"gt": 3, "lt": 9}));

        // The union's other member, written plainly.
        let mut extracted = extract(get_request("/items?created=5"), &LIST).await?;
        let created: Value = extracted.param(Location::Query, "created")?;
        assert_eq!(created, json!(5));

        let error = extract(get_request("/items?created[gt]=x"), &LIST)
            .await
            .expect_err("not an integer");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(!error.violations.is_empty());
        Ok(())
    }

    static SIGNUP: Schema = Schema::Object(Record {
        properties: &[
            Property::required("name", &STRING),
            Property::optional("age", &INTEGER),
            Property::optional("tags", &TAGS),
        ],
        additional: Additional::Deny,
    });

    static LINE: Schema = Schema::Object(Record {
        properties: &[Property::optional("qty", &INTEGER)],
        additional: Additional::Allow,
    });

    static LINES: Schema = Schema::Array(List {
        items: &LINE,
        ..List::ANY
    });

    static ITEMS: Schema = Schema::Object(Record {
        properties: &[Property::optional("items", &LINES)],
        additional: Additional::Allow,
    });

    static CLEARABLE: Schema = Schema::Object(Record {
        properties: &[Property::optional(
            "items",
            &Schema::AnyOf(&[&LINES, &STRING]),
        )],
        additional: Additional::Allow,
    });

    static FORM: OperationSpec = OperationSpec {
        id: "signUp",
        path: "/signups",
        route: "/signups",
        params: &[],
        body: Some(BodySpec {
            required: true,
            content_type: "application/x-www-form-urlencoded",
            kind: BodyKind::Form(&SIGNUP),
        }),
    };

    #[tokio::test]
    async fn form_bodies_are_read_as_their_schema_describes() -> Result<(), ApiError> {
        let form = "application/x-www-form-urlencoded";
        let request = post("/signups", Some(form), "name=Ada+L&age=36&tags=a&tags=b");
        let value: Value = extract(request, &FORM).await?.json()?;
        assert_eq!(
            value,
            json!({"name": "Ada L", "age": 36, "tags": ["a", "b"]})
        );

        // Nested keys: indexes into arrays, names into objects.
        let request = post("/signups", Some(form), "name=Ada&tags[0]=x&tags[1]=y");
        let value: Value = extract(request, &FORM).await?.json()?;
        assert_eq!(value["tags"], json!(["x", "y"]));
        let mut root = Value::Object(serde_json::Map::new());
        place(&mut root, &Schema::Any, &["meta", "k"], "v");
        place(&mut root, &ITEMS, &["items", "0", "qty"], "2");
        place(&mut root, &ITEMS, &["items", "99999999", "qty"], "3");
        assert_eq!(
            root,
            json!({"meta": {"k": "v"}, "items": [{"qty": 2}, {"qty": 3}]})
        );
        // A list that may also be cleared with "": the index picks the array.
        let mut root = Value::Object(serde_json::Map::new());
        place(&mut root, &CLEARABLE, &["items", "0", "qty"], "2");
        assert_eq!(root, json!({"items": [{"qty": 2}]}));

        let request = post("/signups", Some(form), "name=Ada&age=old");
        let error = extract(request, &FORM).await.expect_err("not an integer");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.violations[0].pointer, "/age");

        let request = post("/signups", Some("application/json"), r#"{"name": "Ada"}"#);
        let error = extract(request, &FORM).await.expect_err("not a form");
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        Ok(())
    }

    #[tokio::test]
    async fn json_body_is_validated_and_deserialized() -> Result<(), ApiError> {
        #[derive(serde::Deserialize)]
        struct Line {
            sku: String,
            quantity: u32,
        }
        let body = r#"{"sku": "AB", "quantity": 3}"#;
        let request = post("/lines", Some("application/json; charset=utf-8"), body);
        let line: Line = extract(request, &CREATE).await?.json()?;
        assert_eq!((line.sku.as_str(), line.quantity), ("AB", 3));

        let request = post("/lines", Some("application/vnd.api+json"), body);
        assert!(extract(request, &CREATE).await.is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn body_and_parameter_violations_share_one_answer() {
        let request = post(
            "/lines?dry_run=maybe",
            Some("application/json"),
            r#"{"sku": 1}"#,
        );
        let error = rejection(extract(request, &CREATE).await);
        assert_eq!(
            located(&error),
            [
                (Location::Query, "/dry_run", "expected a boolean"),
                (Location::Body, "/sku", "expected a string"),
                (Location::Body, "/quantity", "is required"),
            ]
        );
    }

    #[tokio::test]
    async fn missing_required_body_is_a_violation() {
        let error = rejection(extract(post("/lines", None, Body::empty()), &CREATE).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            located(&error),
            [(Location::Body, "", "a request body is required")]
        );
    }

    #[tokio::test]
    async fn json_body_needs_a_json_content_type() {
        let body = r#"{"sku": "AB", "quantity": 3}"#;
        let error = rejection(extract(post("/lines", None, body), &CREATE).await);
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            error.detail,
            "send the body with Content-Type: application/json"
        );

        let request = post("/lines", Some("text/plain"), body);
        let error = rejection(extract(request, &CREATE).await);
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[tokio::test]
    async fn malformed_json_is_a_bad_request() {
        let request = post("/lines", Some("application/json"), "{\"sku\": ");
        let error = rejection(extract(request, &CREATE).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(
            error.detail.starts_with("the body is not valid JSON: "),
            "{}",
            error.detail
        );
        assert!(error.violations.is_empty());
    }

    #[tokio::test]
    async fn too_large_body_is_refused() {
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        let error =
            rejection(extract(post("/lines", Some("application/json"), body), &CREATE).await);
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error.detail, "the request body is larger than 6 MiB");
    }

    #[tokio::test]
    async fn text_and_binary_bodies() -> Result<(), ApiError> {
        let request = post("/notes", Some("text/plain"), "héllo");
        assert_eq!(extract(request, &UPLOAD_TEXT).await?.text()?, "héllo");
        let request = post("/notes", None, Body::empty());
        assert_eq!(extract(request, &UPLOAD_TEXT).await?.text()?, "");
        let request = post("/notes", Some("text/plain"), vec![0xff, 0xfe]);
        let error = rejection(extract(request, &UPLOAD_TEXT).await);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);

        let request = post("/blobs", None, vec![0xff, 0x00]);
        let bytes = extract(request, &UPLOAD_BYTES).await?.bytes()?;
        assert_eq!(&bytes[..], [0xff, 0x00]);
        Ok(())
    }

    static BULK: OperationSpec = OperationSpec {
        id: "bulk",
        path: "/lines",
        route: "/lines",
        params: &[ParamSpec {
            name: "id",
            location: Location::Query,
            required: false,
            schema: &IDS,
            explode: true,
            deep_object: false,
        }],
        body: Some(BodySpec {
            required: true,
            content_type: "application/json",
            kind: BodyKind::Json(&ANY_LINES),
        }),
    };

    /// A dictionary of itself, to nest as deeply as serde_json allows.
    static TREE: Schema = Schema::Map(Dict {
        values: &TREE,
        ..Dict::ANY
    });

    static NESTED: OperationSpec = OperationSpec {
        body: Some(BodySpec {
            required: true,
            content_type: "application/json",
            kind: BodyKind::Json(&TREE),
        }),
        ..BULK
    };

    static LINE_FORM: OperationSpec = OperationSpec {
        body: Some(BodySpec {
            required: true,
            content_type: "application/x-www-form-urlencoded",
            kind: BodyKind::Form(&ORDER_LINE),
        }),
        ..BULK
    };

    /// `[{"quantity":"x","colour":0}, ...]`: three violations per item, as near 6 MiB as fits.
    fn bad_items() -> String {
        let item = r#"{"quantity":"x","colour":0},"#;
        let mut body = "[".to_owned() + &item.repeat((MAX_BODY_BYTES - 2) / item.len());
        body.pop();
        body + "]"
    }

    async fn answer_length(request: Request, spec: &'static OperationSpec) -> usize {
        let error = rejection(extract(request, spec).await);
        let response = error.into_response();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        body.expect("readable body").len()
    }

    #[tokio::test]
    async fn no_request_gets_an_answer_larger_than_8_kib() {
        const LIMIT: usize = 8 * 1024;
        let json = Some("application/json");
        let length = answer_length(post("/lines", json, bad_items()), &BULK).await;
        assert!(length < LIMIT, "invalid items: {length} bytes");

        // Long keys with control characters, which JSON escapes to six bytes each.
        let key = "\\u0001".repeat(10_000);
        let fields: Vec<String> = (0..MAX_BODY_BYTES / (key.len() + 8))
            .map(|n| format!(r#""{n}{key}":0"#))
            .collect();
        let body = format!("[{{{}}}]", fields.join(","));
        let length = answer_length(post("/lines", json, body), &BULK).await;
        assert!(length < LIMIT, "long unknown keys: {length} bytes");

        // As deep as serde_json reads, every level a long key, and a string at the bottom.
        let level = format!(r#"{{"{}":"#, "k".repeat(10_000));
        let body = level.repeat(120) + r#""leaf""# + &"}".repeat(120);
        let length = answer_length(post("/lines", json, body), &NESTED).await;
        assert!(length < LIMIT, "deep nesting: {length} bytes");

        // A syntax error at the very end of a long document.
        let body = "[".to_owned() + &"1,".repeat(MAX_BODY_BYTES / 2 - 1);
        let length = answer_length(post("/lines", json, body), &BULK).await;
        assert!(length < LIMIT, "syntax error: {length} bytes");

        // A content type the operation does not read, as long as a header may be.
        let content_type = "text/".to_owned() + &"x".repeat(60_000);
        let request = post("/lines", Some(content_type.as_str()), "[]");
        let length = answer_length(request, &BULK).await;
        assert!(length < LIMIT, "content type: {length} bytes");

        // Thousands of bad query parameters.
        let uri = "/lines?".to_owned() + &"id=x&".repeat(12_000);
        let length = answer_length(post(&uri, json, "[]"), &BULK).await;
        assert!(length < LIMIT, "query: {length} bytes");

        // Form keys nesting far deeper than any schema: refused, not a stack overflow.
        let form = Some("application/x-www-form-urlencoded");
        let body = "sku".to_owned() + &"[x]".repeat(1_000_000) + "=1";
        let error = rejection(extract(post("/lines", form, body), &LINE_FORM).await);
        assert_eq!(error.violations[0].detail, "nests deeper than 32 levels");
        let body = "colour=1&".repeat(MAX_BODY_BYTES / 9) + &"a[b]=1&".repeat(1000);
        let length = answer_length(post("/lines", form, body), &LINE_FORM).await;
        assert!(length < LIMIT, "form: {length} bytes");
    }

    #[tokio::test]
    async fn typed_deserialization_errors_do_not_echo_the_input() {
        #[derive(Debug, serde::Deserialize)]
        struct Numbered {
            #[allow(dead_code)]
            sku: u32,
        }
        let sku = "A".repeat(1_000_000);
        let body = json!({"sku": sku, "quantity": 1}).to_string();
        let mut extracted =
            match extract(post("/lines", Some("application/json"), body), &CREATE).await {
                Ok(extracted) => extracted,
                Err(error) => panic!("valid line: {error}"),
            };
        let error = extracted
            .json::<Numbered>()
            .expect_err("a string is no u32");
        assert!(
            error.detail.len() <= MAX_DETAIL + '…'.len_utf8(),
            "{}",
            error.detail.len()
        );
    }

    #[tokio::test]
    async fn whole_numbers_in_bodies_and_parameters_read_as_integers() -> Result<(), ApiError> {
        #[derive(serde::Deserialize)]
        struct Line {
            quantity: i64,
        }
        let body = r#"{"sku": "AB", "quantity": 3.0}"#;
        let line: Line = extract(post("/lines", Some("application/json"), body), &CREATE)
            .await?
            .json()?;
        assert_eq!(line.quantity, 3);

        let mut extracted = extract(get_request("/search?limit=1e1&id=2.0"), &SEARCH).await?;
        assert_eq!(extracted.param::<i64>(Location::Query, "limit")?, 10);
        assert_eq!(extracted.param::<Vec<i64>>(Location::Query, "id")?, [2]);
        let error = rejection(extract(get_request("/search?limit=1.5"), &SEARCH).await);
        assert_eq!(
            located(&error),
            [(Location::Query, "/limit", "expected an integer")]
        );
        Ok(())
    }

    #[tokio::test]
    async fn memory_for_a_rejected_body_is_bounded_by_its_size() {
        let body = bad_items();
        let size = body.len();
        let value: Value = serde_json::from_str(&body).expect("JSON");
        // Validation and the answer: a small fixed amount, whatever the number of violations
        // (it was over a gigabyte for this body before they were capped).
        let (length, grew) = heap::peak_growth(async {
            let mut out = Violations::new();
            validate(&ANY_LINES, &value, Location::Body, &Pointer::Root, &mut out);
            let response = ApiError::invalid(out).into_response();
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .map(|b| b.len())
        })
        .await;
        assert!(length.is_ok());
        assert!(grew < 64 * 1024, "validation took {grew} bytes");
        drop(value);

        // The whole request, reading and parsing included: serde_json's `Value` for small
        // objects is the bulk of it.
        let request = post("/lines", Some("application/json"), body);
        let (error, grew) = heap::peak_growth(extract(request, &BULK)).await;
        assert_eq!(
            error.map(|_| ()).map_err(|e| e.status),
            Err(StatusCode::BAD_REQUEST)
        );
        assert!(grew < 40 * size, "{grew} bytes for a body of {size}");
    }
}
