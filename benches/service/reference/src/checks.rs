//! The spec's rules, checked by hand, and the problem+json a violation is answered with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// At most this many violations are listed, so that a hostile body costs a bounded answer.
const MAX_LISTED: usize = 20;

#[derive(Debug, Serialize)]
pub struct Violation {
    pointer: String,
    detail: String,
}

/// An error answered as problem+json.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(skip)]
    status: StatusCode,
    title: &'static str,
    #[serde(rename = "status")]
    code: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Violation>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: String) -> Self {
        Self {
            status,
            title: status.canonical_reason().unwrap_or("Error"),
            code: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(&self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// The violations found so far in one request.
#[derive(Debug, Default)]
pub struct Found(Vec<Violation>);

impl Found {
    pub fn add(&mut self, pointer: &str, detail: &str) {
        if self.0.len() < MAX_LISTED {
            self.0.push(Violation {
                pointer: pointer.to_owned(),
                detail: detail.to_owned(),
            });
        }
    }

    pub fn into_result(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "the request is not valid".to_owned(),
        );
        problem.errors = self.0;
        Err(problem)
    }
}

/// The body as `T`; a body that is not one is a 400 with what came before it.
pub fn body<T: DeserializeOwned>(bytes: &[u8], found: &mut Found) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|e| {
        let mut problem = std::mem::take(found);
        problem.add("/body", &e.to_string());
        problem.into_result().expect_err("one violation at least")
    })
}

fn length(text: &str) -> usize {
    text.chars().count()
}

pub fn category(category: &str, pointer: &str, found: &mut Found) {
    let valid = (1..=40).contains(&category.len())
        && category
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        found.add(pointer, "must match ^[a-z0-9-]{1,40}$");
    }
}

pub fn name(name: &str, found: &mut Found) {
    if !(1..=200).contains(&length(name)) {
        found.add("/body/name", "must be 1 to 200 characters");
    }
}

pub fn description(description: &str, found: &mut Found) {
    if length(description) > 2000 {
        found.add("/body/description", "must be at most 2000 characters");
    }
}

pub fn price(price: f64, found: &mut Found) {
    if !(0.0..=1_000_000.0).contains(&price) {
        found.add("/body/price", "must be from 0 to 1000000");
    }
}

pub fn stock(stock: i64, found: &mut Found) {
    if stock < 0 {
        found.add("/body/stock", "must be at least 0");
    }
}

pub fn tags(tags: &[String], found: &mut Found) {
    if tags.len() > 10 {
        found.add("/body/tags", "must have at most 10 items");
        return;
    }
    for (i, tag) in tags.iter().enumerate() {
        if !(1..=30).contains(&length(tag)) {
            found.add(&format!("/body/tags/{i}"), "must be 1 to 30 characters");
        }
    }
}
