//! Schemas, requests and checks shared by the tests of several modules.

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use regex::Regex;
use serde_json::Value;

use super::*;

pub(super) fn violations(schema: &Schema, value: Value) -> Vec<(String, String)> {
    let mut out = Violations::new();
    validate(schema, &value, Location::Body, &Pointer::Root, &mut out);
    out.listed
        .into_iter()
        .map(|v| (v.pointer, v.detail))
        .collect()
}

pub(super) fn details(schema: &Schema, value: Value) -> Vec<String> {
    violations(schema, value)
        .into_iter()
        .map(|(_, detail)| detail)
        .collect()
}

pub(super) fn pair(pointer: &str, detail: &str) -> (String, String) {
    (pointer.to_owned(), detail.to_owned())
}

pub(super) fn assert_valid(schema: &Schema, value: Value) {
    assert_eq!(
        details(schema, value.clone()),
        Vec::<String>::new(),
        "{value}"
    );
}

pub(super) fn assert_invalid(schema: &Schema, value: Value, detail: &str) {
    assert_eq!(
        details(schema, value.clone()),
        vec![detail.to_owned()],
        "{value}"
    );
}

pub(super) static INTEGER: Schema = Schema::Integer(Numeric::ANY);

pub(super) static NUMBER: Schema = Schema::Number(Numeric::ANY);

pub(super) static STRING: Schema = Schema::String(Text::PLAIN);

pub(super) static BOOLEAN: Schema = Schema::Boolean;

pub(super) static DIGIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d").expect("valid pattern"));

pub(super) static UPPER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[A-Z]+$").expect("valid pattern"));

pub(super) static ORDER_LINE: Schema = Schema::Object(Record {
    properties: &[
        Property {
            name: "id",
            schema: &Schema::String(Text {
                format: Format::Uuid,
                ..Text::PLAIN
            }),
            required: true,
            read_only: true,
            write_only: false,
        },
        Property {
            name: "sku",
            schema: &Schema::String(Text {
                min_length: Some(1),
                max_length: None,
                pattern: Some(&UPPER),
                format: Format::None,
                allowed: &[],
            }),
            required: true,
            read_only: false,
            write_only: false,
        },
        Property {
            name: "quantity",
            schema: &Schema::Integer(Numeric {
                minimum: Some(1.0),
                ..Numeric::ANY
            }),
            required: true,
            read_only: false,
            write_only: false,
        },
        Property {
            name: "note",
            schema: &Schema::Nullable(&STRING),
            required: false,
            read_only: false,
            write_only: false,
        },
    ],
    additional: Additional::Deny,
});

pub(super) static ANY_LINES: Schema = Schema::Array(List {
    items: &ORDER_LINE,
    ..List::ANY
});

pub(super) fn get_request(uri: &str) -> Request {
    axum::http::Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("valid request")
}

pub(super) fn post(uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request {
    let mut builder = axum::http::Request::builder().method("POST").uri(uri);
    if let Some(content_type) = content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).expect("valid request")
}

pub(super) fn rejection(result: Result<Extracted, ApiError>) -> ApiError {
    match result {
        Ok(extracted) => panic!("expected an error, got {extracted:?}"),
        Err(error) => error,
    }
}

pub(super) fn located(error: &ApiError) -> Vec<(Location, &str, &str)> {
    let violations = error.violations.iter();
    violations
        .map(|v| (v.location, v.pointer.as_str(), v.detail.as_str()))
        .collect()
}

pub(super) async fn body_json(response: Response) -> Value {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    serde_json::from_slice(&bytes.expect("readable body")).expect("JSON body")
}

/// Counts this thread's heap, so a test can see the most it held at once.
pub(super) mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: every call is passed on to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            track(layout.size() as isize);
            // SAFETY: the caller's guarantees are those `System.alloc` needs.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            track(-(layout.size() as isize));
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    fn track(change: isize) {
        // `try_with`: the allocator also runs while a thread's locals are torn down.
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + change);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
    }

    /// The most this thread's heap grew above its size at the start, while `work` ran.
    pub async fn peak_growth<T>(work: impl std::future::Future<Output = T>) -> (T, usize) {
        let start = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(start));
        let result = work.await;
        let peak = PEAK.with(Cell::get);
        (result, usize::try_from(peak - start).unwrap_or(0))
    }
}

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;
