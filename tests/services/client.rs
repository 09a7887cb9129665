//! An HTTP client for a running service that keeps what a failure report
//! needs (the request, the response, the logs) and a transcript of what the
//! service answered, so that two stores can be compared step by step.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use crate::process::{delta, Moto, Running};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(String, String)>,
    /// Sent without the client's own credentials.
    pub anonymous: bool,
}

impl Request {
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Request {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            anonymous: false,
        }
    }

    /// Without the client's credentials: only the headers given.
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    pub fn json(mut self, content_type: &str, body: &Value) -> Self {
        self.body = Some((content_type.to_string(), body.to_string()));
        self
    }

    pub fn raw(mut self, content_type: &str, body: &str) -> Self {
        self.body = Some((content_type.to_string(), body.to_string()));
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// Sends requests to one service; cheap to share between threads.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    /// Headers every request carries unless it is anonymous or sets them: the credentials of
    /// the caller the journeys play.
    credentials: Vec<(String, String)>,
}

impl Client {
    pub fn new(port: u16) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Client {
            base: format!("http://127.0.0.1:{port}"),
            agent,
            credentials: Vec::new(),
        }
    }

    /// A client whose requests carry `credentials`.
    pub fn with_credentials(port: u16, credentials: Vec<(String, String)>) -> Self {
        Client {
            credentials,
            ..Self::new(port)
        }
    }

    pub fn send(&self, request: &Request) -> Result<Reply, String> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(format!("{}{}", self.base, request.path));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if !request.anonymous {
            for (name, value) in &self.credentials {
                let set = request
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name));
                if !set {
                    builder = builder.header(name, value);
                }
            }
        }
        let (content_type, body) = match &request.body {
            Some((ct, body)) => (Some(ct.as_str()), body.as_bytes().to_vec()),
            None => (None, Vec::new()),
        };
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        let http = builder.body(body).map_err(|e| e.to_string())?;
        let mut response = self.agent.run(http).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            headers,
            text,
        })
    }
}

/// One store's run of the journeys: the client, the logs to show on failure,
/// the transcript, and the DynamoDB requests each action made.
pub struct Session<'a> {
    pub client: Client,
    pub store: &'static str,
    service: &'a Running,
    pub moto: Option<&'a Moto>,
    last: String,
    /// One line per step: what was asked (in words) and what came back,
    /// with generated values replaced by stable names.
    pub transcript: Vec<String>,
    tokens: BTreeMap<String, String>,
    /// Fields whose values the server makes up (generated ids, cursors).
    pub volatile: Vec<String>,
    /// DynamoDB requests per action, as first measured; later measurements
    /// of the same action must agree.
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
}

impl<'a> Session<'a> {
    pub fn new(
        store: &'static str,
        service: &'a Running,
        moto: Option<&'a Moto>,
        credentials: Vec<(String, String)>,
    ) -> Self {
        Session {
            client: Client::with_credentials(service.port, credentials),
            store,
            service,
            moto,
            last: String::new(),
            transcript: Vec::new(),
            tokens: BTreeMap::new(),
            volatile: Vec::new(),
            requests: BTreeMap::new(),
        }
    }

    /// Sends a request and records it in the transcript under `step`.
    pub fn call(&mut self, step: &str, request: Request) -> Reply {
        let reply = self.call_unrecorded(step, request);
        let json = reply.json();
        self.collect_tokens(&json);
        let body = self.normalise(json);
        self.transcript
            .push(format!("{step} -> {} {body}", reply.status));
        reply
    }

    /// Sends a request; the caller records what matters of the answer.
    pub fn call_unrecorded(&mut self, step: &str, request: Request) -> Reply {
        let reply = match self.client.send(&request) {
            Ok(reply) => reply,
            Err(e) => {
                self.last = describe(&request, None);
                self.fail(&format!("{step}: the request failed: {e}"))
            }
        };
        self.last = describe(&request, Some(&reply));
        reply
    }

    fn collect_tokens(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        Value::String(s) if self.volatile.contains(k) => {
                            let s = s.clone();
                            self.token(&s, k);
                        }
                        _ => self.collect_tokens(v),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.collect_tokens(v)),
            _ => {}
        }
    }

    /// Sends a request that must answer `status`; problems must be problem+json.
    pub fn expect(&mut self, step: &str, request: Request, status: u16) -> Reply {
        let reply = self.call(step, request);
        self.check_status(step, &reply, status);
        reply
    }

    /// Fails unless `reply` has `status` (and is problem+json when an error).
    pub fn check_status(&self, step: &str, reply: &Reply, status: u16) {
        if reply.status != status {
            self.fail(&format!("{step}: expected {status}, got {}", reply.status));
        }
        if status >= 400 {
            let content_type = reply.header("content-type").unwrap_or("");
            let body = reply.json();
            if content_type != "application/problem+json" || body["status"] != status {
                self.fail(&format!(
                    "{step}: a {status} must be application/problem+json with its status"
                ));
            }
            let named = body["requestId"].as_str().is_some_and(|id| !id.is_empty());
            if !named {
                self.fail(&format!(
                    "{step}: a problem must name its request (requestId)"
                ));
            }
        }
    }

    /// Runs `f` and records the DynamoDB requests it made (on the DynamoDB
    /// store); they must be what `expected` says, when it says.
    pub fn counted<T>(
        &mut self,
        action: &str,
        expected: Option<&[(&str, u64)]>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let before = self.moto.map(Moto::requests);
        let out = f(self);
        if let (Some(moto), Some(before)) = (self.moto, before) {
            let made = delta(&before, &moto.requests());
            let want: Option<BTreeMap<String, u64>> =
                expected.map(|e| e.iter().map(|(a, n)| (a.to_string(), *n)).collect());
            if want.as_ref().is_some_and(|want| made != *want) {
                self.fail(&format!(
                    "{action}: expected DynamoDB requests {want:?}, the service made {made:?}"
                ));
            }
            self.requests.entry(action.to_string()).or_insert(made);
        }
        out
    }

    /// Names a value the server made up (an id, a cursor), so that
    /// transcripts of two runs compare equal.
    pub fn token(&mut self, value: &str, kind: &str) {
        if value.is_empty() || self.tokens.contains_key(value) {
            return;
        }
        let n = self
            .tokens
            .values()
            .filter(|t| t.starts_with(&format!("<{kind}")))
            .count()
            + 1;
        self.tokens
            .insert(value.to_string(), format!("<{kind}{n}>"));
    }

    fn normalise(&self, value: Value) -> Value {
        match value {
            Value::String(s) => {
                if let Some(token) = self.tokens.get(&s) {
                    return Value::String(token.clone());
                }
                let mut out = s;
                for (value, token) in &self.tokens {
                    if value.len() > 3 && out.contains(value.as_str()) {
                        out = out.replace(value.as_str(), token);
                    }
                }
                if chrono::DateTime::parse_from_rfc3339(&out).is_ok() {
                    return Value::String("<time>".into());
                }
                Value::String(out)
            }
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.normalise(v)).collect())
            }
            // Each request has its own id: that it has one is checked with its status.
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| match k.as_str() {
                        "requestId" if v.is_string() => (k, Value::String("<request>".into())),
                        _ => (k, self.normalise(v)),
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// Fails the test with what a developer needs to reproduce it.
    pub fn fail(&self, message: &str) -> ! {
        let mut out = format!("[{} store] {message}\n\n{}\n", self.store, self.last);
        let _ = writeln!(out, "{}", self.service.log_tail(40));
        if let Some(moto) = self.moto {
            let _ = writeln!(out, "{}", moto.process.log_tail(20));
        }
        panic!("{out}");
    }

    /// Fails unless `condition` holds.
    pub fn check(&self, condition: bool, message: impl FnOnce() -> String) {
        if !condition {
            self.fail(&message());
        }
    }
}

/// A request and its reply as text, ready to paste into curl.
pub fn describe(request: &Request, reply: Option<&Reply>) -> String {
    let mut out = format!("> {} {}\n", request.method, request.path);
    for (n, v) in &request.headers {
        let _ = writeln!(out, "> {n}: {v}");
    }
    if let Some((ct, body)) = &request.body {
        let _ = writeln!(out, "> content-type: {ct}\n>\n> {body}");
    }
    if let Some(reply) = reply {
        let _ = writeln!(out, "< {}", reply.status);
        for (n, v) in &reply.headers {
            let _ = writeln!(out, "< {n}: {v}");
        }
        let _ = writeln!(out, "<\n< {}", reply.text);
    }
    out
}
