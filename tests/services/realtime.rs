//! The WebSocket API of a service, read from the model and called with a real WebSocket
//! client: `$connect` refuses callers without a valid token; a caller subscribes to the topics
//! its access rule opens (and no other: an owner's topic is bound from the token, a group's
//! needs the group); a REST write reaches every subscriber of its item's topic, typed; invalid
//! and unknown messages get typed errors and the connection survives.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use apigen::model::websocket::{RouteKind, Source, Topic};
use apigen::model::{Api, Shape, Ty};
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::{Message, WebSocket};

use crate::auth::{Credentials, JOURNEYS, PLAIN};
use crate::client::{Client, Request};
use crate::entities::{views, View};
use crate::process::Running;

type Socket = WebSocket<TcpStream>;

/// How long a push may take: on DynamoDB it comes from the table's stream, read four times a
/// second, behind the changes the journeys made before (each of which the service pushes).
const PATIENCE: Duration = Duration::from_secs(30);
/// How long to wait for a push that must not come.
const QUIET: Duration = Duration::from_millis(1500);

/// Connects to the service's WebSocket API with `token`; the HTTP status of a refusal.
fn connect(port: u16, token: Option<&str>) -> Result<Socket, u16> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("the service accepts");
    let mut request = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .expect("a request");
    if let Some(token) = token {
        let protocols = format!("bearer, {token}").parse().expect("a header value");
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols);
    }
    match tungstenite::client(request, stream) {
        Ok((socket, response)) => {
            let chosen = response.headers().get("sec-websocket-protocol");
            assert_eq!(
                chosen.map(|v| v.to_str().unwrap_or_default()),
                token.map(|_| "bearer"),
                "the server answers with the protocol that carried the token"
            );
            Ok(socket)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("the WebSocket handshake failed: {error}"),
    }
}

fn send(socket: &mut Socket, message: &Value) {
    socket
        .send(Message::text(message.to_string()))
        .expect("the message is sent");
}

/// The next message within `wait`, if one comes.
fn next_within(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        socket
            .get_mut()
            .set_read_timeout(Some(left))
            .expect("a timeout");
        match socket.read() {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).expect("JSON")),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(other) => panic!("expected a text message, got {other:?}"),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(error) => panic!("the connection failed: {error}"),
        }
    }
}

/// The next answer to a message the client sent (an error or an acknowledgement): pushes (of
/// changes, or from handlers) may arrive between a message and its answer, and are passed over.
fn next(socket: &mut Socket, what: &str) -> Value {
    loop {
        let message =
            next_within(socket, PATIENCE).unwrap_or_else(|| panic!("{what}: nothing arrived"));
        if !matches!(
            message["type"].as_str(),
            Some("created" | "updated" | "deleted" | "typing")
        ) {
            return message;
        }
    }
}

/// A valid message of the route's schema, with `fields` and the route's action set.
fn message(
    api: &Api,
    route: &apigen::model::websocket::Route,
    fields: &[(String, Value)],
) -> Value {
    let mut message = match route.message {
        Some(id) => apigen::emit::example(api, &Shape::new(Ty::Ref(id)), true),
        None => json!({}),
    };
    let object = message.as_object_mut().expect("messages are objects");
    for (field, value) in fields {
        object.insert(field.clone(), value.clone());
    }
    object.insert("action".into(), json!(route.action));
    message
}

fn expect_error(socket: &mut Socket, status: u64, what: &str) -> Value {
    let answer = next(socket, what);
    assert_eq!(answer["type"], "error", "{what}: {answer}");
    assert_eq!(answer["status"], status, "{what}: {answer}");
    assert!(
        answer["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{what}: {answer}"
    );
    answer
}

fn expect_ack(socket: &mut Socket, action: &str, what: &str) -> String {
    let ack = next(socket, what);
    assert_eq!(ack["type"], "subscribed", "{what}: {ack}");
    assert_eq!(ack["action"], action, "{what}: {ack}");
    ack["topic"].as_str().expect("a topic").to_owned()
}

/// The REST write that makes an item of `view`, the `n`-th, with `fields` set, as the journeys'
/// caller.
fn create(
    rest: &Client,
    view: &View,
    n: usize,
    like: Option<&Value>,
    fields: &[(String, Value)],
) -> Value {
    let op = view
        .seed_op()
        .expect("a published entity can be created over REST");
    let mut body = view.body(op, n, false);
    for (field, value) in fields {
        body[field] = value.clone();
    }
    let path = view.path(op, like, n);
    let request = Request::new(op.method.upper(), path).json("application/json", &body);
    let reply = rest.send(&request).expect("the REST write is answered");
    assert!(
        matches!(reply.status, 200 | 201),
        "{}: {}",
        reply.status,
        reply.text
    );
    reply.json()
}

/// The push of `item`'s creation to `topic` arrived, with the fields REST answered. Pushes of
/// the topic's earlier changes may come first (a stream is read behind the writes), never a
/// push of another topic.
fn expect_created(socket: &mut Socket, entity: &str, topic: &str, item: &Value, who: &str) {
    let what = format!("the push of a new {entity} to {who}");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let pushed = next_within(socket, left).unwrap_or_else(|| panic!("{what}: nothing arrived"));
        assert_eq!(pushed["entity"], entity, "{what}: {pushed}");
        assert_eq!(pushed["topic"], topic, "{what}: {pushed}");
        let kind = pushed["type"].as_str().unwrap_or_default();
        assert!(
            ["created", "updated", "deleted"].contains(&kind),
            "{what}: {pushed}"
        );
        let fields = item.as_object().expect("an item");
        if kind == "created" && fields.iter().all(|(f, v)| same(&pushed["item"][f], v)) {
            return;
        }
    }
}

/// Whether a pushed field holds what REST answered. A date-time the store stamped is kept with
/// exactly milliseconds (so that it sorts as text), and the typed model answers it as chrono
/// prints it, without `.000` in the one case in a thousand where the milliseconds are zero:
/// the same instant.
fn same(pushed: &Value, answered: &Value) -> bool {
    let instant = |v: &Value| {
        v.as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    pushed == answered
        || matches!((instant(pushed), instant(answered)), (Some(p), Some(a)) if p == a)
}

fn token(credentials: Option<&Credentials>, who: &str) -> Option<String> {
    credentials.and_then(|c| c.token(who))
}

/// Runs the WebSocket journeys against `service`; what they proved. A failure shows the end of
/// the service's log.
pub fn run(api: &Api, service: &Running, credentials: Option<&Credentials>) -> Vec<String> {
    let journeys = std::panic::AssertUnwindSafe(|| journeys(api, service.port, credentials));
    match std::panic::catch_unwind(journeys) {
        Ok(passed) => passed,
        Err(failure) => {
            let log = service.log();
            let trouble: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("panicked"))
                .collect();
            eprintln!("the service's warnings and errors:\n{}", trouble.join("\n"));
            eprintln!("the service's log ends:\n{}", service.log_tail(60));
            std::panic::resume_unwind(failure)
        }
    }
}

fn journeys(api: &Api, port: u16, credentials: Option<&Credentials>) -> Vec<String> {
    let Some(ws) = &api.websocket else {
        return Vec::new();
    };
    let mut passed = Vec::new();
    let secured = ws.security.is_secured();
    if secured {
        assert_eq!(
            connect(port, None).err(),
            Some(401),
            "a connection without a token"
        );
        assert_eq!(
            connect(port, Some("not.a.token")).err(),
            Some(401),
            "a forged token"
        );
        passed.push("websocket: $connect refuses a missing or forged token (401)".to_owned());
    }
    // REST writes are made as alice, whatever the journeys left their session as.
    let rest = Client::with_credentials(
        port,
        credentials.map(|c| c.of(JOURNEYS)).unwrap_or_default(),
    );
    let mut alice = connect(port, token(credentials, JOURNEYS).as_deref()).expect("alice connects");
    let mut bob = connect(port, token(credentials, PLAIN[0]).as_deref()).expect("bob connects");

    send(&mut alice, &json!({"action": "no-such-action"}));
    let unknown = expect_error(&mut alice, 404, "an unknown action");
    assert!(
        unknown["detail"]
            .as_str()
            .is_some_and(|d| d.contains("routes")),
        "{unknown}"
    );
    passed.push("websocket: an unknown action is a typed 404 error".to_owned());

    let views = views(api);
    let subscribed: Vec<(&apigen::model::websocket::Route, &Topic)> = ws
        .routes
        .iter()
        .filter_map(|r| match &r.kind {
            RouteKind::Subscribe(topic) => Some((r, topic)),
            _ => None,
        })
        .filter(|(_, topic)| {
            views
                .iter()
                .any(|v| v.index == topic.entity && v.seed_op().is_some())
        })
        .collect();
    let mut n = 1000;
    // Owners' topics first, so that nothing else is on its way to bob.
    for (route, topic) in subscribed
        .iter()
        .filter(|(_, t)| t.vars.iter().any(|(_, s)| *s != Source::Message))
    {
        let view = views
            .iter()
            .find(|v| v.index == topic.entity)
            .expect("a view");
        let asked = message(api, route, &[]);
        send(&mut bob, &asked);
        let bobs = expect_ack(&mut bob, &route.action, "bob subscribes to his own topic");
        send(&mut alice, &asked);
        let alices = expect_ack(
            &mut alice,
            &route.action,
            "alice subscribes to her own topic",
        );
        assert_ne!(
            bobs, alices,
            "each caller's topic is their own, whatever the message says"
        );
        n += 1;
        let item = create(&rest, view, n, None, &[]);
        expect_created(&mut alice, view.name(), &alices, &item, "alice");
        // Bob may still receive his own earlier items' changes, never alice's.
        while let Some(pushed) = next_within(&mut bob, QUIET) {
            assert_eq!(
                pushed["topic"],
                bobs.as_str(),
                "only bob's own items: {pushed}"
            );
            assert_ne!(pushed["item"], item, "bob receives none of alice's items");
        }
        passed.push(format!(
            "websocket: `{}` binds {}'s topic from the token: a caller receives their own items, never another's",
            route.action,
            view.name()
        ));
    }
    for (route, topic) in subscribed
        .iter()
        .filter(|(_, t)| t.vars.iter().all(|(_, s)| *s == Source::Message))
    {
        let view = views
            .iter()
            .find(|v| v.index == topic.entity)
            .expect("a view");
        n += 1;
        let first = create(&rest, view, n, None, &[]);
        // Routes before this one may have subscribed either caller to the item's topic.
        for socket in [&mut alice, &mut bob] {
            while let Some(pushed) = next_within(socket, QUIET) {
                assert_ne!(pushed["type"], "error", "{pushed}");
            }
        }
        let fields: Vec<(String, Value)> = topic
            .vars
            .iter()
            .map(|(field, _)| (field.clone(), first[field].clone()))
            .collect();
        let asked = message(api, route, &fields);
        // A message without the topic's fields is refused; the connection stays open.
        let mut incomplete = asked.clone();
        for (field, _) in &fields {
            incomplete.as_object_mut().expect("an object").remove(field);
        }
        if !fields.is_empty() {
            send(&mut alice, &incomplete);
            let refused =
                expect_error(&mut alice, 400, "a subscription without its topic's fields");
            assert!(
                refused["errors"].as_array().is_some_and(|e| !e.is_empty()),
                "{refused}"
            );
        }
        send(&mut alice, &asked);
        let topic_name = expect_ack(&mut alice, &route.action, "alice subscribes");
        let open_to_bob = topic.access.authenticated || topic.access.owner;
        send(&mut bob, &asked);
        if open_to_bob {
            let bobs = expect_ack(&mut bob, &route.action, "bob subscribes");
            assert_eq!(bobs, topic_name);
        } else {
            expect_error(&mut bob, 403, "bob, outside the route's groups, subscribes");
            passed.push(format!(
                "websocket: `{}` refuses a caller outside its groups (403)",
                route.action
            ));
        }
        n += 1;
        let second = create(&rest, view, n, Some(&first), &fields);
        expect_created(&mut alice, view.name(), &topic_name, &second, "alice");
        if open_to_bob {
            expect_created(&mut bob, view.name(), &topic_name, &second, "bob");
            // Once is enough: the same subscription twice pushes once.
            send(&mut bob, &asked);
            expect_ack(&mut bob, &route.action, "bob subscribes again");
        }
        passed.push(format!(
            "websocket: a REST create of {} reaches every subscriber of `{topic_name}` via `{}`, typed",
            view.name(),
            route.action
        ));
    }
    for route in ws
        .routes
        .iter()
        .filter(|r| matches!(r.kind, RouteKind::Handler))
    {
        if route.message.is_none() {
            continue;
        }
        send(&mut alice, &message(api, route, &[]));
        while let Some(answer) = next_within(&mut alice, QUIET) {
            assert_ne!(
                answer["type"], "error",
                "route `{}` answered an error: {answer}",
                route.action
            );
        }
        passed.push(format!(
            "websocket: your handler of `{}` answers without an error",
            route.action
        ));
    }
    bob.close(None).expect("bob leaves");
    drop(bob);
    // Alice is still served after bob left and after her own errors.
    send(&mut alice, &json!({"action": "no-such-action"}));
    expect_error(&mut alice, 404, "alice, still connected");
    alice.close(None).expect("alice leaves");
    passed
}
