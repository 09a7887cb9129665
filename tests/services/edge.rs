//! The edge and operations of a running service: the 413 for oversized bodies, the metric
//! line (CloudWatch Embedded Metric Format) each request prints, and CORS as a real browser
//! (headless Chromium from the system's packages) sees it.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use apigen::model::{Api, Media, Method, Operation};
use serde_json::Value;

use crate::client::{Request, Session};
use crate::process::Running;

/// The first operation that takes a JSON body with a POST to a path without variables.
pub fn post_operation(api: &Api) -> Option<&Operation> {
    api.operations.iter().find(|o| {
        o.method == Method::Post
            && !o.route.contains('{')
            && o.body
                .as_ref()
                .is_some_and(|b| matches!(b.media, Media::Json(_)))
    })
}

/// A body over API Gateway's limit is refused with a 413 problem naming the request, before
/// the server reads it: only the head is sent.
pub fn oversized_body(api: &Api, service: &Running) -> Option<String> {
    let op = post_operation(api)?;
    let mut stream = TcpStream::connect(("127.0.0.1", service.port)).expect("the service accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        op.route,
        7 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).expect("sent");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // The answer is complete once its body (a JSON object) is.
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if answer.ends_with(b"}") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    assert!(head.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    let problem: Value = serde_json::from_str(body).expect("a problem document");
    assert_eq!(problem["status"], 413, "{problem}");
    assert!(problem["requestId"].is_string(), "{problem}");
    Some(format!(
        "a 7 MiB body to {} {} is refused (413) unread",
        "POST", op.route
    ))
}

/// The metric lines a service printed, with their sums.
pub struct Metrics {
    pub lines: Vec<Value>,
}

impl Metrics {
    /// Every line of `log` that is an EMF document, each checked against the format.
    pub fn read(log: &str, api: &Api) -> Metrics {
        let lines: Vec<Value> = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("_aws").is_some())
            .collect();
        let operations: Vec<&str> = api.operations.iter().map(|o| o.id.as_str()).collect();
        for line in &lines {
            let directive = &line["_aws"]["CloudWatchMetrics"][0];
            assert!(line["_aws"]["Timestamp"].is_i64(), "{line}");
            assert_eq!(
                directive["Dimensions"],
                serde_json::json!([["Operation"]]),
                "{line}"
            );
            for metric in directive["Metrics"].as_array().expect("metrics") {
                let name = metric["Name"].as_str().expect("a metric name");
                assert!(line[name].is_number(), "{name} is not a number in {line}");
            }
            let operation = line["Operation"].as_str().expect("an operation");
            assert!(
                operation == "unrouted" || operations.contains(&operation),
                "{operation} is no operation of the spec: {line}"
            );
            let status = line["Status"].as_u64().expect("a status");
            assert_eq!(line["StatusClass"], format!("{}xx", status / 100), "{line}");
            assert_eq!(line["Fault"], u64::from(status >= 500), "{line}");
            assert!(
                line["requestId"].as_str().is_some_and(|id| !id.is_empty()),
                "{line}"
            );
        }
        Metrics { lines }
    }

    pub fn sum(&self, metric: &str) -> f64 {
        self.lines.iter().filter_map(|l| l[metric].as_f64()).sum()
    }

    /// How many lines each operation printed.
    pub fn by_operation(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for line in &self.lines {
            *out.entry(line["Operation"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
        out
    }
}

/// The page a browser loads from another origin: it creates a customer through the API
/// (a JSON POST, so the browser asks first with a preflight), reads the answer's `ETag`
/// (readable only if exposed), and writes what happened into the page.
fn page(api_base: &str, path: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html><body><pre id="result">pending</pre>
<script>
fetch("{api_base}{path}", {{
  method: "POST",
  headers: {{"content-type": "application/json"}},
  body: JSON.stringify({body}),
}}).then(
  r => {{ document.getElementById("result").textContent = "status=" + r.status + " etag=" + (r.headers.get("etag") ? "readable" : "hidden"); }},
  e => {{ document.getElementById("result").textContent = "refused=" + e.name; }},
);
</script></body></html>"#
    )
}

/// Serves `html` to every GET on `listener` until the test ends.
fn serve_page(listener: TcpListener, html: String) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let n = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]);
            let (status, body) = if request.starts_with("GET /page.html") {
                ("200 OK", html.as_str())
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

/// What the page loaded from `origin_port` on localhost wrote, as headless Chromium ran it.
fn browse(origin: TcpListener, html: String, work: &Path) -> String {
    let port = origin.local_addr().expect("an address").port();
    serve_page(origin, html);
    let profile = tempfile::tempdir_in(work).expect("a profile folder");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("http://localhost:{port}/page.html"))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_default()
        .to_string();
    assert!(
        !result.is_empty(),
        "chromium printed no page:\n{dom}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    result
}

/// Debian's Chromium, which `.ci` installs.
fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        Path::new(path).exists(),
        "{path} is missing: install Debian's chromium package (scripts/test-all does)"
    );
    path
}

/// A page on an origin `cors` lists calls the API and reads its answer; the same page on
/// another origin is refused by the browser. `origin` is the listed `http://localhost:<port>`.
pub fn browser_cors(api: &Api, service: &Running, origin: &str, work: &Path) -> Option<String> {
    let op = post_operation(api)?;
    let Some(Media::Json(shape)) = op.body.as_ref().map(|b| &b.media) else {
        return None;
    };
    let body = apigen::emit::example_body(api, shape);
    let success = op
        .success()
        .next()
        .and_then(|r| r.status.code())
        .unwrap_or(200);
    let etag = op.success().any(|r| {
        r.headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("etag"))
    });
    let port: u16 = origin
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a listed origin with a port");
    let api_base = format!("http://127.0.0.1:{}", service.port);
    let html = page(&api_base, &op.route, &body);
    let listed = TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("the browser test serves its page from {origin}: {e}"));
    let allowed = browse(listed, html.clone(), work);
    let expected = format!(
        "status={success} etag={}",
        if etag { "readable" } else { "hidden" }
    );
    assert_eq!(allowed, expected, "a page on {origin} calls the API");
    let other = TcpListener::bind(("127.0.0.1", 0)).expect("a free port");
    let refused = browse(other, html, work);
    assert_eq!(
        refused, "refused=TypeError",
        "a page on an origin cors does not list must not read the API's answers"
    );
    Some(format!(
        "CORS in Chromium: a page on {origin} calls {} {} and reads the answer; another origin is refused",
        "POST", op.route
    ))
}

/// A sampled request (its `X-Amzn-Trace-Id` as Lambda passes it) sends each DynamoDB call it
/// makes to the X-Ray daemon as a subsegment of the request's segment.
pub fn xray(api: &Api, session: &Session, daemon: &UdpSocket) -> Option<String> {
    let op = api
        .operations
        .iter()
        .find(|o| o.action.is_some() && o.method == Method::Get && !o.route.contains('{'))?;
    if op.params.iter().any(|p| p.required) {
        return None;
    }
    let root = "1-67891233-abcdef012345678912345678";
    let parent = "53995c3f42cd8ad8";
    let header = format!("Root={root};Parent={parent};Sampled=1");
    let reply = session
        .client
        .send(&Request::get(op.route.clone()).header("x-amzn-trace-id", header))
        .expect("the service answers");
    assert_eq!(reply.status, 200, "{} {}: {}", "GET", op.route, reply.text);
    daemon
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let mut buffer = [0u8; 65_536];
    let n = daemon
        .recv(&mut buffer)
        .expect("a subsegment reaches the daemon");
    let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
    let (head, body) = text.split_once('\n').expect("a header line");
    assert_eq!(head, r#"{"format": "json", "version": 1}"#, "{text}");
    let segment: Value = serde_json::from_str(body).expect("a JSON segment");
    assert_eq!(segment["trace_id"], root, "{segment}");
    assert_eq!(segment["parent_id"], parent, "{segment}");
    assert_eq!(segment["type"], "subsegment", "{segment}");
    let action = segment["aws"]["operation"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(["Query", "Scan"].contains(&action.as_str()), "{segment}");
    assert!(
        segment["aws"]["table_name"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{segment}"
    );
    Some(format!(
        "X-Ray: a sampled GET {} sends its {action} to the daemon as a subsegment of its trace",
        op.route
    ))
}
