//! Authentication and access control over HTTP, read from the model: every secured operation
//! refuses missing, forged and misdirected credentials (401) and callers without the scope or
//! group it needs (403), without a single DynamoDB request; callers never see, change or delete
//! each other's items through any action, pages and cursors included; a group member reads what
//! the group opens. Tokens are real JWTs signed by real keys; API keys are real keys.

use std::path::Path;

use apigen::model::actions::Verb;
use apigen::model::security::{OpSecurity, SchemeKind};
use apigen::model::websocket::RouteKind;
use apigen::model::{Api, Operation};
use apigen_runtime::auth::dev::DevKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::client::{Request, Session};
use crate::entities::{action, encode, text, vary, views, View};

/// The keys a service is started with, and the credentials of the callers the tests play.
pub struct Credentials {
    key: DevKey,
    /// A key the service does not know.
    other: DevKey,
    issuer: Option<String>,
    audience: Option<String>,
    /// Scopes and groups the spec names: the journeys' caller has them all.
    scopes: Vec<String>,
    groups: Vec<String>,
    api_key_header: Option<String>,
    /// The first JWT scheme's challenge (`Bearer`), or the API key's.
    jwt: bool,
}

/// The callers: the journeys run as `alice`, who has every scope and group; `bob` and `dave`
/// have every scope and no group; `carol` has every scope and group.
pub const JOURNEYS: &str = "alice";
pub const PLAIN: [&str; 2] = ["bob", "dave"];
const MEMBER: &str = "carol";

impl Credentials {
    /// What the service must be started with for `api`: `None` when nothing is secured.
    pub fn for_api(api: &Api) -> Option<Self> {
        if !api.has_security() {
            return None;
        }
        let mut scopes = Vec::new();
        let mut groups = Vec::new();
        for op in &api.operations {
            if let OpSecurity::Secured(alternatives) = &op.security {
                scopes.extend(alternatives.iter().flatten().flat_map(|n| n.scopes.clone()));
            }
            if let Some(a) = &op.action {
                groups.extend(a.access.groups.clone());
            }
        }
        for route in api.websocket.iter().flat_map(|w| &w.routes) {
            if let RouteKind::Subscribe(topic) | RouteKind::Unsubscribe(topic) = &route.kind {
                groups.extend(topic.access.groups.clone());
            }
        }
        scopes.sort();
        scopes.dedup();
        groups.sort();
        groups.dedup();
        let jwt = api.auth.schemes.iter().find_map(|s| match &s.kind {
            SchemeKind::Jwt(jwt) => Some(jwt.clone()),
            _ => None,
        });
        let api_key_header = api.auth.schemes.iter().find_map(|s| match &s.kind {
            SchemeKind::ApiKey { header, .. } => Some(header.clone()),
            _ => None,
        });
        Some(Credentials {
            key: DevKey::generate().expect("a key"),
            other: DevKey::generate().expect("another key"),
            issuer: jwt.as_ref().map(|j| j.issuer.clone()),
            audience: jwt.as_ref().map(|j| j.audience[0].clone()),
            jwt: jwt.is_some(),
            scopes,
            groups,
            api_key_header,
        })
    }

    /// The environment that makes the service trust these keys.
    pub fn env(&self, work: &Path) -> Vec<(String, String)> {
        let jwks = work.join("jwks.json");
        std::fs::write(&jwks, self.key.jwks_json()).expect("the JWKS is written");
        let keys: Vec<String> = [JOURNEYS, PLAIN[0], PLAIN[1], MEMBER]
            .iter()
            .map(|who| format!("{who}={}", api_key(who)))
            .collect();
        vec![
            ("APIGEN_JWKS".into(), jwks.display().to_string()),
            ("APIGEN_API_KEYS".into(), keys.join(",")),
        ]
    }

    fn claims(&self, who: &str, scopes: &[String], groups: &[String]) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "sub": who,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + 3600,
            "scope": scopes.join(" "),
            "cognito:groups": groups,
        })
    }

    fn bearer(&self, claims: &Value) -> Vec<(String, String)> {
        let token = self.key.sign(claims).expect("a signed token");
        vec![("authorization".into(), format!("Bearer {token}"))]
    }

    /// The bearer token `who` calls with, for a JWT-secured API.
    pub fn token(&self, who: &str) -> Option<String> {
        self.of(who)
            .into_iter()
            .find(|(name, _)| name == "authorization")
            .and_then(|(_, value)| value.strip_prefix("Bearer ").map(str::to_owned))
    }

    /// The headers `who` calls with: a token with every scope (and every group, for the
    /// journeys' caller and the group member), and their API key.
    pub fn of(&self, who: &str) -> Vec<(String, String)> {
        let groups = if who == JOURNEYS || who == MEMBER {
            self.groups.clone()
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        if self.jwt {
            out.extend(self.bearer(&self.claims(who, &self.scopes, &groups)));
        }
        if let Some(header) = &self.api_key_header {
            out.push((header.clone(), api_key(who)));
        }
        out
    }

    /// Credentials that must not get in, each with its name.
    fn refused(&self) -> Vec<(&'static str, Vec<(String, String)>)> {
        let mut out: Vec<(&'static str, Vec<(String, String)>)> =
            vec![("no credential", Vec::new())];
        if let Some(header) = &self.api_key_header {
            let mut wrong = self.of(JOURNEYS);
            wrong.retain(|(n, _)| n != header);
            out.push(("no API key", wrong.clone()));
            wrong.push((header.clone(), "not-a-key".into()));
            out.push(("an unknown API key", wrong));
        }
        if !self.jwt {
            return out;
        }
        let with_key = |mut headers: Vec<(String, String)>| {
            if let Some(header) = &self.api_key_header {
                headers.push((header.clone(), api_key(JOURNEYS)));
            }
            headers
        };
        let good = self.claims(JOURNEYS, &self.scopes, &self.groups);
        let changed = |field: &str, value: Value| {
            let mut claims = good.clone();
            claims[field] = value;
            with_key(self.bearer(&claims))
        };
        let now = chrono::Utc::now().timestamp();
        out.push((
            "a garbage token",
            with_key(vec![("authorization".into(), "Bearer not-a-token".into())]),
        ));
        out.push(("an expired token", changed("exp", json!(now - 3600))));
        out.push(("a token not valid yet", changed("nbf", json!(now + 3600))));
        out.push((
            "a token of another issuer",
            changed("iss", json!("https://attacker.example.com")),
        ));
        out.push((
            "a token for another audience",
            changed("aud", json!("someone-else")),
        ));
        let other = self.other.sign(&good).expect("a signed token");
        out.push((
            "a token signed by another key",
            with_key(vec![("authorization".into(), format!("Bearer {other}"))]),
        ));
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        out.push((
            "an unsigned token (alg: none)",
            with_key(vec![("authorization".into(), format!("Bearer {none}"))]),
        ));
        out
    }
}

fn api_key(who: &str) -> String {
    format!("key-of-{who}-0123456789")
}

/// A request as `who`.
fn as_caller(request: Request, headers: &[(String, String)]) -> Request {
    headers
        .iter()
        .fold(request.anonymous(), |r, (n, v)| r.header(n, v.clone()))
}

/// A request to `op` with example values, enough to reach the authenticator.
fn example_request(api: &Api, op: &Operation) -> Request {
    let mut path = op.path.clone();
    for p in op
        .params
        .iter()
        .filter(|p| p.location == apigen::model::ParamIn::Path)
    {
        let value = text(&apigen::emit::example(api, &p.shape, true));
        path = path.replace(&format!("{{{}}}", p.name), &encode(&value));
    }
    let request = Request::new(op.method.upper(), path);
    match &op.body {
        Some(body) => match &body.media {
            apigen::model::Media::Json(shape) => {
                request.json(&body.content_type, &apigen::emit::example(api, shape, true))
            }
            _ => request,
        },
        None => request,
    }
}

/// Runs the access journeys; returns the names of those run.
pub fn run(s: &mut Session, api: &Api, credentials: &Credentials) -> Vec<String> {
    let mut passed = Vec::new();
    refusals(s, api, credentials, &mut passed);
    for v in views(api) {
        if v.entity.owner.is_some() && v.seed_op().is_some() {
            isolation(s, &v, credentials, &mut passed);
        }
    }
    passed
}

/// 401 for every refused credential on every secured operation, 403 for a missing scope or
/// group; none of them reads or writes anything.
fn refusals(s: &mut Session, api: &Api, c: &Credentials, passed: &mut Vec<String>) {
    let secured: Vec<&Operation> = api
        .operations
        .iter()
        .filter(|o| o.security.is_secured())
        .collect();
    let refused = c.refused();
    for op in &secured {
        for (what, headers) in &refused {
            let step = format!("{} with {what}", op.id);
            let request = as_caller(example_request(api, op), headers);
            let reply = s.counted("refused", Some(&[]), |s| s.expect(&step, request, 401));
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            s.check(!challenge.is_empty(), || {
                format!("{step}: a 401 names its challenge")
            });
        }
    }
    let names: Vec<&str> = refused.iter().map(|(w, _)| *w).collect();
    passed.push(format!(
        "401 on every secured operation for {}; nothing read or written",
        names.join(", ")
    ));
    // A verified caller without a scope the operation needs.
    let mut scoped = 0;
    for op in &secured {
        let OpSecurity::Secured(alternatives) = &op.security else {
            continue;
        };
        if alternatives
            .iter()
            .any(|a| a.iter().all(|n| n.scopes.is_empty()))
            || !c.jwt
        {
            continue;
        }
        let mut headers = c.bearer(&c.claims(JOURNEYS, &[], &c.groups));
        if let Some(header) = &c.api_key_header {
            headers.push((header.clone(), api_key(JOURNEYS)));
        }
        let step = format!("{} without its scope", op.id);
        let request = as_caller(example_request(api, op), &headers);
        s.counted("refused", Some(&[]), |s| s.expect(&step, request, 403));
        scoped += 1;
    }
    if scoped > 0 {
        passed.push(format!(
            "403 for a token without the scope, on {}",
            operations(scoped)
        ));
    }
    // A verified caller outside the groups an operation is open to.
    let mut grouped = 0;
    for op in &secured {
        let Some(a) = &op.action else { continue };
        if a.access.groups.is_empty() || a.access.owner || a.access.authenticated {
            continue;
        }
        let step = format!("{} outside its groups", op.id);
        let request = as_caller(example_request(api, op), &c.of(PLAIN[0]));
        s.counted("refused", Some(&[]), |s| s.expect(&step, request, 403));
        grouped += 1;
    }
    if grouped > 0 {
        passed.push(format!("403 outside the group, on {}", operations(grouped)));
    }
}

/// Two callers who cannot see, change or delete each other's items; a group member who can read
/// what the group opens.
fn isolation(s: &mut Session, v: &View, c: &Credentials, passed: &mut Vec<String>) {
    let name = v.name().to_string();
    let owner = v.entity.owner.as_ref().expect("an owned entity");
    let [bob, dave] = PLAIN;
    let seed = v.seed_op().expect("a seeding operation");
    // Each body names another caller as the owner: the server must ignore it.
    let claimed = |mut body: Value, who: &str| -> Value {
        if let Some(fields) = body.as_object_mut() {
            let other = if who == bob { dave } else { bob };
            fields.insert(owner.field.clone(), json!(other));
        }
        body
    };
    let create = |s: &mut Session, who: &str, n: usize| -> Value {
        let body = claimed(v.body(seed, 100 + n, false), who);
        let request = as_caller(
            Request::new(seed.method.upper(), v.path(seed, None, 100 + n))
                .json(&seed.body.as_ref().expect("a body").content_type, &body),
            &c.of(who),
        );
        let reply = s.call(&format!("{} as {who} #{n}", seed.id), request);
        s.check(reply.status / 100 == 2, || {
            format!("{}: {who} creates an item ({})", seed.id, reply.status)
        });
        let item = reply.json();
        s.check(item[owner.field.as_str()] == who, || {
            format!(
                "{}: the owner of {who}'s item is {who}, whatever the body says",
                seed.id
            )
        });
        item
    };
    let bobs: Vec<Value> = (1..=3).map(|n| create(s, bob, n)).collect();
    // Items of their own: unique values are unique across owners.
    let _daves: Vec<Value> = (4..=5).map(|n| create(s, dave, n)).collect();
    // A unique value Bob holds is taken for Dave too; the 409 names the field, not Bob.
    if !v.entity.unique.is_empty() {
        let mut body = claimed(v.body(seed, 107, false), dave);
        for field in &v.entity.unique {
            body[field.as_str()] = bobs[0][field.as_str()].clone();
        }
        let request = as_caller(
            Request::new(seed.method.upper(), v.path(seed, None, 107))
                .json(&seed.body.as_ref().expect("a body").content_type, &body),
            &c.of(dave),
        );
        let step = format!("{} with {bob}'s unique value as {dave}", seed.id);
        let reply = s.expect(&step, request, 409);
        s.check(!reply.text.contains(bob), || {
            format!("{step}: the refusal does not name the holder")
        });
        passed.push(format!(
            "{name}: a unique value is unique across owners (409), the holder unnamed"
        ));
    }

    // Dave cannot reach Bob's items by their keys.
    for verb in [Verb::Get, Verb::Update, Verb::Delete] {
        let Some(op) = v.op(verb) else { continue };
        let path = v.path(op, Some(&bobs[0]), 0);
        let mut request = Request::new(op.method.upper(), path);
        if verb == Verb::Update {
            // A patch that would change Bob's item, were it applied.
            let mut patch = crate::journeys::safe_patch(v, op);
            if let Some(fields) = patch.as_object_mut() {
                fields.values_mut().for_each(|value| vary(value, 7));
            }
            let patch = claimed(patch, dave);
            request = request.json(&op.body.as_ref().expect("a body").content_type, &patch);
        }
        let step = format!("{} of {bob}'s item as {dave}", op.id);
        s.expect(&step, as_caller(request, &c.of(dave)), 404);
    }
    // A put by Dave under Bob's key writes Dave's own item, never Bob's.
    if let Some(put) = v.op(Verb::Put) {
        let path = v.path(put, Some(&bobs[0]), 0);
        let body = claimed(v.body(put, 0, false), dave);
        let request = Request::new(put.method.upper(), path)
            .json(&put.body.as_ref().expect("a body").content_type, &body);
        let reply = s.call(
            &format!("{} of {bob}'s key as {dave}", put.id),
            as_caller(request, &c.of(dave)),
        );
        s.check(reply.json()[owner.field.as_str()] == dave, || {
            format!("{}: a put by {dave} writes {dave}'s item", put.id)
        });
    }
    if let Some(get) = v.op(Verb::Get) {
        let path = v.path(get, Some(&bobs[0]), 0);
        let reply = s.expect(
            &format!("{} of {bob}'s item as {bob}, after {dave} tried", get.id),
            as_caller(Request::get(path), &c.of(bob)),
            200,
        );
        s.check(reply.json() == bobs[0], || {
            format!("{}: {bob}'s item is as {bob} wrote it", get.id)
        });
    }
    let verbs = v.words(&[
        (Verb::Get, "get"),
        (Verb::Update, "update"),
        (Verb::Delete, "delete"),
    ]);
    let put = if v.op(Verb::Put).is_some() {
        ", and a put under its key writes the caller's own"
    } else {
        ""
    };
    passed.push(format!(
        "{name}: another caller's item is a 404 on {}{put}",
        verbs.join(", ")
    ));

    // Reads: each caller's pages hold only their own items; a cursor is only good for its caller.
    for op in v.reads() {
        let a = action(op);
        let confined = a.owner.as_ref().is_some_and(|o| o.confined);
        let open_to_member = !a.access.groups.is_empty();
        let uri = |who: &str, cursor: Option<&str>| {
            let mut path = op.path.clone();
            for p in op
                .params
                .iter()
                .filter(|p| p.location == apigen::model::ParamIn::Path)
            {
                let value = match a.owner.as_ref().and_then(|o| o.param) {
                    Some(i) if op.params[i].name == p.name => who.to_string(),
                    _ => match a
                        .bindings
                        .iter()
                        .find(|(_, b)| op.params[*b].name == p.name)
                    {
                        Some((field, _)) => text(&bobs[0][field.as_str()]),
                        None => text(&apigen::emit::example(v.api, &p.shape, true)),
                    },
                };
                path = path.replace(&format!("{{{}}}", p.name), &encode(&value));
            }
            let mut query = Vec::new();
            if let Some(i) = a.limit {
                query.push(format!("{}=1", op.params[i].name));
            }
            if let (Some(i), Some(cursor)) = (a.cursor, cursor) {
                query.push(format!("{}={}", op.params[i].name, encode(cursor)));
            }
            if query.is_empty() {
                path
            } else {
                format!("{path}?{}", query.join("&"))
            }
        };
        let page = a.page.as_ref().expect("a read has a page");
        let owners = |reply: &crate::client::Reply| -> Vec<String> {
            reply.json()[page.items.as_str()]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| text(&i[owner.field.as_str()]))
                .collect()
        };
        if confined {
            for who in [bob, dave] {
                let step = format!("{} as {who}", op.id);
                let reply = s.expect(
                    &step,
                    as_caller(Request::get(uri(who, None)), &c.of(who)),
                    200,
                );
                let seen = owners(&reply);
                // Bob's page is read with his own item's values, so it cannot be empty.
                s.check(
                    seen.iter().all(|o| o == who) && (who != bob || !seen.is_empty()),
                    || format!("{step}: a page holds only the caller's items ({seen:?})"),
                );
            }
            // Bob's cursor, replayed by Dave, is refused: it names a key outside Dave's partition.
            if a.cursor.is_some() && a.limit.is_some() && page.cursor.is_some() {
                let step = format!("{} first page as {bob}", op.id);
                let reply = s.expect(
                    &step,
                    as_caller(Request::get(uri(bob, None)), &c.of(bob)),
                    200,
                );
                let next = reply.json()[page.cursor.as_deref().unwrap_or_default()]
                    .as_str()
                    .map(str::to_string);
                // The page is read with the bound values of Bob's first item.
                let matching = bobs
                    .iter()
                    .filter(|b| {
                        a.bindings
                            .iter()
                            .all(|(f, _)| b[f.as_str()] == bobs[0][f.as_str()])
                    })
                    .count();
                s.check(matching < 2 || next.is_some(), || {
                    format!(
                        "{step}: {matching} of {bob}'s items match, so a page of one has a cursor"
                    )
                });
                if let Some(next) = next {
                    let step = format!("{} with {bob}'s cursor as {dave}", op.id);
                    let request = as_caller(Request::get(uri(dave, Some(&next))), &c.of(dave));
                    s.counted("refused", Some(&[]), |s| s.expect(&step, request, 400));
                    passed.push(format!(
                        "{name}: {}: a cursor is refused to another caller",
                        op.id
                    ));
                }
            }
            // Naming another owner: the group member reads them; anyone else finds nothing.
            if a.owner.as_ref().and_then(|o| o.param).is_some() {
                let step = format!("{} of {bob} as {dave}", op.id);
                s.expect(
                    &step,
                    as_caller(Request::get(uri(bob, None)), &c.of(dave)),
                    404,
                );
                if open_to_member {
                    let step = format!("{} of {bob} as {MEMBER}, a group member", op.id);
                    let reply = s.expect(
                        &step,
                        as_caller(Request::get(uri(bob, None)), &c.of(MEMBER)),
                        200,
                    );
                    s.check(
                        !owners(&reply).is_empty() && owners(&reply).iter().all(|o| o == bob),
                        || format!("{step}: the member reads {bob}'s items"),
                    );
                    passed.push(format!(
                        "{name}: {}: a group member reads another caller's items",
                        op.id
                    ));
                }
            }
            passed.push(format!(
                "{name}: {}: each caller's pages hold only their items",
                op.id
            ));
        } else if open_to_member {
            // A group's view of every owner's items.
            let step = format!("{} as {MEMBER}, a group member", op.id);
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..200 {
                let reply = s.call_unrecorded(
                    &step,
                    as_caller(Request::get(uri(MEMBER, cursor.as_deref())), &c.of(MEMBER)),
                );
                s.check_status(&step, &reply, 200);
                seen.extend(owners(&reply));
                cursor = reply.json()[page.cursor.as_deref().unwrap_or("nextCursor")]
                    .as_str()
                    .map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            s.check(
                seen.iter().any(|o| o == bob) && seen.iter().any(|o| o == dave),
                || format!("{step}: the group sees every owner's items"),
            );
            passed.push(format!(
                "{name}: {}: a group member reads every owner's items",
                op.id
            ));
        }
    }

    // Dave cannot delete Bob's items, and Bob can.
    if let Some(delete) = v.op(Verb::Delete) {
        let status = delete.responses[action(delete).success]
            .status
            .code()
            .unwrap_or(204);
        for item in &bobs {
            let path = v.path(delete, Some(item), 0);
            s.expect(
                &format!("{} of {bob}'s item as {bob}", delete.id),
                as_caller(Request::new(delete.method.upper(), path), &c.of(bob)),
                status,
            );
        }
    }
}

fn operations(n: usize) -> String {
    if n == 1 {
        "1 operation".into()
    } else {
        format!("{n} operations")
    }
}
