//! WebSocket APIs end to end: routes and their errors, the connections table on both stores,
//! and two real WebSocket clients chatting through a real local server with real tokens.

use std::time::Duration;

use axum::http::StatusCode;
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message as Frame;

use super::*;
use crate::auth::dev::{DevKey, TokenOptions};
use crate::auth::{
    Access, AuthDef, Authenticator, LocalConfig, Requirement, SchemeDef, SchemeKind, Security,
};
use crate::http::{ApiError, Property, Record, Schema, Text};
use crate::store::Store;

static ROOM: Schema = Schema::String(Text {
    min_length: Some(1),
    ..Text::PLAIN
});
static SAID: Schema = Schema::String(Text {
    max_length: Some(200),
    ..Text::PLAIN
});
static JOIN: Schema = Schema::Object(Record {
    properties: &[Property::required("room", &ROOM)],
    additional: crate::http::Additional::Deny,
});
static SAY: Schema = Schema::Object(Record {
    properties: &[
        Property::required("room", &ROOM),
        Property::required("text", &SAID),
    ],
    additional: crate::http::Additional::Deny,
});

#[derive(Deserialize)]
struct Join {
    room: String,
}

#[derive(Deserialize)]
struct Say {
    room: String,
    text: String,
}

/// A room's topic, for callers who may read it: rooms named `private-*` belong to `alice`.
async fn room_topic(context: &Context, room: &str) -> Result<String, ApiError> {
    let subject = context.caller.as_ref().map(|c| c.subject.as_str());
    if room.starts_with("private-") && subject != Some("alice") {
        return Err(ApiError::forbidden(format!(
            "you may not read the room `{room}`"
        )));
    }
    Ok(format!("ROOM#{room}"))
}

fn chat() -> Routes<()> {
    Routes::new(RouteSelection::action())
        .subscribe("join", &JOIN, |(), context, join: Join| async move {
            room_topic(&context, &join.room).await
        })
        .unsubscribe("leave", &JOIN, |(), context, join: Join| async move {
            room_topic(&context, &join.room).await
        })
        .on("say", &SAY, |(), context: Context, say: Say| async move {
            let topic = room_topic(&context, &say.room).await?;
            let from = context.caller.map(|c| c.subject);
            let pushed = json!({"type": "said", "room": say.room, "text": say.text, "from": from});
            context
                .connections
                .publish(&topic, &pushed)
                .await
                .map_err(ApiError::internal)?;
            Ok(None::<Value>)
        })
}

fn context(connections: &Connections, id: &str) -> Context {
    Context {
        connection_id: id.to_owned(),
        caller: None,
        request_id: "r-1".to_owned(),
        connections: connections.clone(),
    }
}

async fn answer(routes: &Routes<()>, connections: &Connections, text: &str) -> Value {
    let reply = routes
        .dispatch(&(), context(connections, "c-1"), text)
        .await;
    serde_json::from_str(&reply.expect("an answer")).expect("JSON")
}

#[test]
fn selection_reads_a_path_of_the_body() {
    let nested = RouteSelection::parse("$request.body.meta.kind").expect("a body path");
    assert_eq!(
        nested.select(&json!({"meta": {"kind": "say"}})),
        Some("say")
    );
    assert_eq!(nested.select(&json!({"meta": {"kind": 3}})), None);
    assert_eq!(nested.expression(), "$request.body.meta.kind");
    assert_eq!(RouteSelection::parse("$request.header.x"), None);
    assert_eq!(RouteSelection::parse("$request.body."), None);
    let mut message = json!({"action": "say", "room": "a"});
    RouteSelection::action().remove(&mut message);
    assert_eq!(message, json!({"room": "a"}));
}

#[tokio::test]
async fn bad_messages_are_answered_with_typed_errors() {
    let connections = Connections::local(Store::memory());
    let routes = chat();
    let invalid = answer(
        &routes,
        &connections,
        r#"{"action":"say","room":"","extra":1}"#,
    )
    .await;
    assert_eq!(invalid["type"], "error");
    assert_eq!(invalid["action"], "say");
    assert_eq!(invalid["status"], 400);
    assert_eq!(invalid["requestId"], "r-1");
    let pointers: Vec<&str> = invalid["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert!(pointers.contains(&"/room"), "{invalid}");
    assert!(pointers.contains(&"/text"), "{invalid}");
    assert!(pointers.contains(&"/extra"), "{invalid}");

    let unknown = answer(&routes, &connections, r#"{"action":"shout"}"#).await;
    assert_eq!(unknown["status"], 404);
    let detail = unknown["detail"].as_str().expect("a detail");
    assert!(
        detail.contains("`join`") && detail.contains("`say`"),
        "{detail}"
    );

    let prose = answer(&routes, &connections, "hello").await;
    assert_eq!(prose["status"], 400);
    assert!(prose.get("action").is_none(), "{prose}");

    let huge = format!(
        r#"{{"action":"say","room":"a","text":"{}"}}"#,
        "x".repeat(MAX_MESSAGE_BYTES)
    );
    assert_eq!(answer(&routes, &connections, &huge).await["status"], 413);
}

#[tokio::test]
async fn the_default_route_takes_what_no_route_does() {
    let connections = Connections::local(Store::memory());
    let routes =
        chat().fallback(|(), _, value: Value| async move { Ok(Some(json!({"echo": value}))) });
    assert_eq!(
        answer(&routes, &connections, "hello").await,
        json!({"echo": "hello"})
    );
    let unrouted = answer(&routes, &connections, r#"{"action":"shout"}"#).await;
    assert_eq!(unrouted, json!({"echo": {"action": "shout"}}));
}

// Each scenario runs on the memory store, and on the DynamoDB-compatible server at
// `APIGEN_TEST_DYNAMODB_URL` when ignored tests are asked for.
crate::store::tests::scenarios!(
    subscriptions_live_and_die_with_their_connection,
    two_clients_chat_over_a_real_socket,
);

async fn dynamodb() -> Option<Store> {
    let (shared, prefix) = crate::store::tests::test_server().await?;
    let store = Store::dynamo(
        aws_sdk_dynamodb::Client::new(&shared),
        &[&CONNECTIONS],
        &prefix,
    );
    store
        .ensure_tables(&[&CONNECTIONS])
        .await
        .expect("the table");
    Some(store)
}

async fn subscriptions_live_and_die_with_their_connection(store: Store) {
    let connections = Connections::local(store);
    let registry = connections.registry();
    registry
        .connect("a", Some("alice"))
        .await
        .expect("connected");
    registry.connect("b", Some("bob")).await.expect("connected");
    registry
        .connect("c", Some("alice"))
        .await
        .expect("connected");
    let _a = connections.attach("a");
    let mut b = connections.attach("b");

    for topic in ["ROOM#1", "ROOM#2", "ROOM#1"] {
        connections.subscribe("a", topic).await.expect("subscribed");
    }
    connections
        .subscribe("b", "ROOM#1")
        .await
        .expect("subscribed");
    let not_open = connections.subscribe("z", "ROOM#1").await;
    assert!(
        matches!(not_open, Err(SubscribeError::NotConnected)),
        "{not_open:?}"
    );
    assert_eq!(connections.topics("a").await.unwrap(), ["ROOM#1", "ROOM#2"]);
    let mut listening = connections.subscribers("ROOM#1").await.unwrap();
    listening.sort();
    assert_eq!(listening, ["a", "b"]);
    let mut alices = registry.of_subject("alice").await.unwrap();
    alices.sort();
    assert_eq!(alices, ["a", "c"]);

    // `c` is served by no process here: another process on the same tables would push to it,
    // so this one leaves it alone.
    let to_alice = connections
        .send_to_subject("alice", &json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(to_alice, Published { sent: 1, gone: 0 });
    assert!(connections.is_connected("c").await.unwrap());
    // Served here, but its socket is closed: it is gone, and a push forgets it.
    drop(connections.attach("c"));
    let to_alice = connections
        .send_to_subject("alice", &json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(to_alice, Published { sent: 1, gone: 1 });
    assert!(!connections.is_connected("c").await.unwrap());
    assert!(matches!(
        connections.send("c", &json!({})).await,
        Err(SendError::Gone)
    ));

    let pushed = connections
        .publish("ROOM#1", &json!({"n": 2}))
        .await
        .unwrap();
    assert_eq!(pushed, Published { sent: 2, gone: 0 });
    assert_eq!(b.recv().await.as_deref(), Some(r#"{"n":2}"#));

    connections.unsubscribe("a", "ROOM#2").await.unwrap();
    assert_eq!(connections.topics("a").await.unwrap(), ["ROOM#1"]);
    assert!(connections.subscribers("ROOM#2").await.unwrap().is_empty());

    // The limit: a connection may not listen to everything.
    for n in 0..MAX_TOPICS_PER_CONNECTION - 1 {
        connections
            .subscribe("b", &format!("T#{n}"))
            .await
            .expect("under the limit");
    }
    let over = connections.subscribe("b", "T#last").await;
    assert!(
        matches!(over, Err(SubscribeError::TooManyTopics)),
        "{over:?}"
    );

    connections.close("b").await.expect("closed");
    assert!(b.recv().await.is_none(), "the socket's queue is closed");
    assert!(!connections.is_connected("b").await.unwrap());
    assert_eq!(connections.subscribers("ROOM#1").await.unwrap(), ["a"]);
    assert!(connections.subscribers("T#0").await.unwrap().is_empty());

    let too_big = connections.send("a", &"x".repeat(MAX_MESSAGE_BYTES)).await;
    assert!(
        matches!(too_big, Err(SendError::TooLarge { .. })),
        "{too_big:?}"
    );
}

const ISSUER: &str = "https://issuer.example/chat";
static USERS: SchemeDef = SchemeDef {
    name: "users",
    kind: SchemeKind::Jwt {
        issuer: ISSUER,
        audience: &["chat"],
    },
};
static AUTH: AuthDef = AuthDef {
    schemes: &[&USERS],
    groups_claim: "groups",
};
static SIGNED_IN: Security = Security {
    any_of: &[&[Requirement {
        scheme: &USERS,
        scopes: &[],
    }]],
    access: Access {
        owner: false,
        authenticated: true,
        groups: &[],
    },
};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(address: &str, token: Option<&str>) -> Result<Socket, StatusCode> {
    let mut request = format!("ws://{address}/ws").into_client_request().unwrap();
    if let Some(token) = token {
        let protocols = format!("bearer, {token}").parse().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            let chosen = response.headers().get("sec-websocket-protocol");
            assert_eq!(chosen.and_then(|v| v.to_str().ok()), Some("bearer"));
            Ok(socket)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(StatusCode::from_u16(response.status().as_u16()).unwrap())
        }
        Err(error) => panic!("could not connect: {error}"),
    }
}

async fn next(socket: &mut Socket) -> Value {
    let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a message in time")
        .expect("an open socket")
        .expect("a frame");
    match frame {
        Frame::Text(text) => serde_json::from_str(&text).expect("JSON"),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn say(socket: &mut Socket, message: Value) {
    socket
        .send(Frame::text(message.to_string()))
        .await
        .expect("sent");
}

async fn two_clients_chat_over_a_real_socket(store: Store) {
    let key = DevKey::generate().unwrap();
    let config = LocalConfig {
        jwks: Some(key.jwks().unwrap()),
        issuer: None,
        audience: None,
        api_keys: Vec::new(),
        unverified_caller: None,
    };
    let authenticator = std::sync::Arc::new(Authenticator::local(&AUTH, config));
    let admit = local::admit(authenticator, &SIGNED_IN);
    let connections = Connections::local(store);
    let router = local::router("/ws", chat(), (), connections.clone(), admit);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let timeouts = crate::server::Timeouts::from_env().unwrap();
    tokio::spawn(crate::server::serve_local(listener, router, timeouts));
    let token = |subject: &str| {
        let options = TokenOptions {
            subject: subject.to_owned(),
            ..TokenOptions::default()
        };
        key.mint(&AUTH, &options).unwrap()
    };

    assert_eq!(
        connect(&address, None).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        connect(&address, Some("not-a-token")).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let mut alice = connect(&address, Some(&token("alice"))).await.unwrap();
    let mut bob = connect(&address, Some(&token("bob"))).await.unwrap();

    for socket in [&mut alice, &mut bob] {
        say(socket, json!({"action": "join", "room": "lobby"})).await;
        let ack = next(socket).await;
        assert_eq!(
            ack,
            json!({"type": "subscribed", "action": "join", "topic": "ROOM#lobby"})
        );
    }
    say(&mut bob, json!({"action": "join", "room": "private-alice"})).await;
    let refused = next(&mut bob).await;
    assert_eq!(
        (refused["type"].as_str(), refused["status"].as_u64()),
        (Some("error"), Some(403))
    );

    say(
        &mut alice,
        json!({"action": "say", "room": "lobby", "text": 7}),
    )
    .await;
    let invalid = next(&mut alice).await;
    assert_eq!(invalid["status"], 400, "{invalid}");
    assert_eq!(invalid["errors"][0]["pointer"], "/text", "{invalid}");
    // The connection survived its error.
    say(
        &mut alice,
        json!({"action": "say", "room": "lobby", "text": "hi"}),
    )
    .await;
    let expected = json!({"type": "said", "room": "lobby", "text": "hi", "from": "alice"});
    assert_eq!(next(&mut alice).await, expected);
    assert_eq!(next(&mut bob).await, expected);

    // A push from another process, through the management API as a deployed writer pushes.
    let remote = Connections::with_client(connections.store().clone(), management(&address));
    let ids = connections.subscribers("ROOM#lobby").await.unwrap();
    let published = remote
        .publish("ROOM#lobby", &json!({"type": "note"}))
        .await
        .unwrap();
    assert_eq!(published, Published { sent: 2, gone: 0 });
    assert_eq!(next(&mut bob).await, json!({"type": "note"}));
    assert_eq!(next(&mut alice).await, json!({"type": "note"}));

    alice.close(None).await.unwrap();
    let mut left = Vec::new();
    for _ in 0..100 {
        left = connections.subscribers("ROOM#lobby").await.unwrap();
        if left.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        left.len(),
        1,
        "the closed connection is forgotten: {left:?}"
    );
    let published = remote
        .publish("ROOM#lobby", &json!({"type": "bye"}))
        .await
        .unwrap();
    assert_eq!(published, Published { sent: 1, gone: 0 });
    assert_eq!(next(&mut bob).await, json!({"type": "bye"}));
    let gone: Vec<&String> = ids.iter().filter(|id| !left.contains(id)).collect();
    assert_eq!(gone.len(), 1);
    let sent = remote.send(gone[0], &json!({"type": "late"})).await;
    assert!(matches!(sent, Err(SendError::Gone)), "{sent:?}");
    remote
        .close(&left[0])
        .await
        .expect("closed through the management API");
    assert!(bob
        .next()
        .await
        .is_none_or(|frame| matches!(frame, Ok(Frame::Close(_)))));
    assert!(!connections.is_connected(&left[0]).await.unwrap());
}

/// A management API client of the local server, signed with credentials nobody checks.
fn management(address: &str) -> aws_sdk_apigatewaymanagement::Client {
    let credentials =
        aws_sdk_apigatewaymanagement::config::Credentials::new("test", "test", None, None, "test");
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version_latest()
        .endpoint_url(format!("http://{address}"))
        .region(aws_sdk_apigatewaymanagement::config::Region::new(
            "us-east-1",
        ))
        .credentials_provider(credentials)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

mod pushes {
    //! Pushes from the data: stream events, and the memory store's own changes.

    use serde::Serialize;

    use super::*;
    use crate::store::{Entity, EntityDef, KeyAttr, KeyDef, KeyKind, Part, TableDef, Template};

    static CHAT: TableDef = TableDef {
        name: "Main",
        env: "APIGEN_TEST_CHAT_TABLE",
        pk: KeyAttr {
            name: "PK",
            kind: KeyKind::S,
        },
        sk: Some(KeyAttr {
            name: "SK",
            kind: KeyKind::S,
        }),
        indexes: &[],
        type_attribute: "_type",
        ttl_attribute: "ttl",
    };

    const MESSAGE_KEY: &[Part] = &[Part::Lit("MSG#"), Part::Str("messageId")];
    static MESSAGE: EntityDef = EntityDef {
        name: "Message",
        type_value: "MESSAGE",
        table: &CHAT,
        key: KeyDef {
            pk: Template(MESSAGE_KEY),
            sk: Some(Template(MESSAGE_KEY)),
        },
        indexes: &[],
        id: None,
        created: None,
        updated: None,
        version: None,
        expires: None,
        unique: &[],
        read_only: &[],
        defaults: &[],
        transforms: &[],
    };

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Message {
        message_id: String,
        room_id: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    }

    impl Entity for Message {
        const DEF: &'static EntityDef = &MESSAGE;
    }

    static PUBLISHED: [PublishDef; 1] = [PublishDef {
        entity: &MESSAGE,
        topic: Template(&[Part::Lit("ROOM#"), Part::Str("roomId")]),
        hidden: &["secret"],
    }];

    /// A subscriber of `topic`, served by this process.
    async fn listener(
        connections: &Connections,
        id: &str,
        topic: &str,
    ) -> tokio::sync::mpsc::Receiver<String> {
        connections.registry().connect(id, None).await.unwrap();
        connections.subscribe(id, topic).await.unwrap();
        connections.attach(id)
    }

    fn received(queue: &mut tokio::sync::mpsc::Receiver<String>) -> Vec<Value> {
        let mut all = Vec::new();
        while let Ok(text) = queue.try_recv() {
            all.push(serde_json::from_str(&text).unwrap());
        }
        all
    }

    #[tokio::test]
    async fn stream_records_reach_their_topics_until_one_fails() {
        let connections = Connections::local(Store::memory());
        let mut lobby = listener(&connections, "l", "ROOM#lobby").await;
        let mut kitchen = listener(&connections, "k", "ROOM#kitchen").await;
        let publisher = Publisher::new(connections.clone(), &PUBLISHED);
        let event: Value =
            serde_json::from_str(include_str!("fixtures/stream-event.json")).unwrap();

        let answer = publisher.consume(&event).await;
        // The fifth record has no old image: retried from there, the sixth is not pushed yet.
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": "100000000000000000005"}]})
        );
        let created = json!({"type": "created", "entity": "Message", "topic": "ROOM#lobby", "item": {
            "roomId": "lobby", "messageId": "01", "text": "hello", "likes": 0, "tags": ["a"],
            "meta": {"edited": false, "by": null}}});
        let moved_away = json!({"type": "deleted", "entity": "Message", "topic": "ROOM#lobby",
            "item": {"roomId": "lobby", "messageId": "02", "text": "moving"}});
        let deleted = json!({"type": "deleted", "entity": "Message", "topic": "ROOM#lobby",
            "item": {"roomId": "lobby", "messageId": "01", "text": "hello"}});
        assert_eq!(received(&mut lobby), [created, moved_away, deleted]);
        let moved_in = json!({"type": "updated", "entity": "Message", "topic": "ROOM#kitchen",
            "item": {"roomId": "kitchen", "messageId": "02", "text": "moved"}});
        assert_eq!(received(&mut kitchen), [moved_in]);

        let records = event["Records"].as_array().unwrap();
        let rest = json!({"Records": records[5..]});
        assert_eq!(
            publisher.consume(&rest).await,
            json!({"batchItemFailures": []})
        );
        assert_eq!(received(&mut lobby).len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_writes_are_pushed_as_the_stream_would_push_them_on_memory() {
        let store = Store::memory();
        let connections = Connections::local(store.clone());
        let publisher = Publisher::new(connections.clone(), &PUBLISHED);
        publisher.follow(&store).await.unwrap();
        writes_are_pushed(store, connections).await;
    }

    /// On DynamoDB the table's stream is enabled and read, as it would be by `cargo run`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs APIGEN_TEST_DYNAMODB_URL"]
    async fn local_writes_are_pushed_as_the_stream_would_push_them_on_dynamodb() {
        let Some((shared, prefix)) = crate::store::tests::test_server().await else {
            return;
        };
        let tables: &[&'static TableDef] = &[&CHAT, &CONNECTIONS];
        let store = Store::dynamo(aws_sdk_dynamodb::Client::new(&shared), tables, &prefix);
        store.ensure_tables(tables).await.unwrap();
        let connections = Connections::local(store.clone());
        let publisher = Publisher::new(connections.clone(), &PUBLISHED);
        let Store::Dynamo(dynamo) = &store else {
            unreachable!("a DynamoDB store")
        };
        // Two processes started together both enable the table's stream, and both follow it.
        let streams = aws_sdk_dynamodbstreams::Client::new(&shared);
        let other = Publisher::new(Connections::local(store.clone()), &PUBLISHED);
        let (one, two) = tokio::join!(
            publisher.follow_streams(dynamo, streams.clone()),
            other.follow_streams(dynamo, streams),
        );
        one.unwrap();
        two.unwrap();
        writes_are_pushed(store, connections).await;
    }

    async fn writes_are_pushed(store: Store, connections: Connections) {
        let mut lobby = listener(&connections, "l", "ROOM#lobby").await;
        let fields = |text: &str| {
            let message =
                json!({"messageId": "m1", "roomId": "lobby", "text": text, "secret": "s"});
            message.as_object().unwrap().clone()
        };
        store.create::<Message>(fields("hi"), &[]).await.unwrap();
        let key = json!({"messageId": "m1"}).as_object().unwrap().clone();
        store
            .put::<Message>(key.clone(), fields("hi again"), &[], None)
            .await
            .unwrap();
        // Writing what is stored already changes nothing, and pushes nothing.
        store
            .put::<Message>(key.clone(), fields("hi again"), &[], None)
            .await
            .unwrap();
        store.delete::<Message>(key, None).await.unwrap();

        let mut pushed = Vec::new();
        for _ in 0..3 {
            let text = tokio::time::timeout(Duration::from_secs(5), lobby.recv()).await;
            pushed.push(serde_json::from_str::<Value>(&text.unwrap().unwrap()).unwrap());
        }
        let kinds: Vec<&str> = pushed.iter().map(|m| m["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "updated", "deleted"]);
        assert_eq!(pushed[1]["item"]["text"], "hi again");
        assert!(
            pushed.iter().all(|m| m["item"].get("secret").is_none()),
            "{pushed:?}"
        );
        // Past the next read of a stream.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(lobby.try_recv().is_err(), "nothing more");
    }
}

#[cfg(feature = "lambda")]
mod under_lambda {
    //! API Gateway's WebSocket events, in the shape AWS documents, handled by the same routes;
    //! answers travel through the management API of a local server standing in for API Gateway.

    use super::*;

    #[tokio::test]
    async fn websocket_events_are_handled_as_local_connections_are() {
        let store = Store::memory();
        let stand_in = Connections::local(store.clone());
        let router = local::router("/ws", chat(), (), stand_in.clone(), local::admit_all());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let timeouts = crate::server::Timeouts::from_env().unwrap();
        tokio::spawn(crate::server::serve_local(listener, router, timeouts));
        let connections = Connections::with_client(store, management(&address));
        let events: Value =
            serde_json::from_str(include_str!("fixtures/websocket-events.json")).unwrap();
        let routes = chat();
        let handle = |name: &str| {
            let event = events[name].clone();
            let (routes, connections) = (&routes, &connections);
            async move { lambda::handle(routes, &(), connections, Some("users"), &event).await }
        };

        let connected = handle("connect").await;
        assert_eq!(
            connected,
            json!({"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "bearer"}})
        );
        let id = "L0SM9cOFvHcCIhw=";
        assert_eq!(
            connections.registry().of_subject("alice").await.unwrap(),
            [id]
        );
        assert_eq!(handle("unauthorized").await, json!({"statusCode": 403}));
        assert!(!connections.is_connected("M1TN0dPGwIdDJix=").await.unwrap());

        // What API Gateway would send down the socket.
        let mut socket = stand_in.attach(id);
        let mut next = || {
            let text = socket.try_recv().expect("an answer was posted");
            serde_json::from_str::<Value>(&text).unwrap()
        };
        assert_eq!(handle("join").await, json!({"statusCode": 200}));
        assert_eq!(
            next(),
            json!({"type": "subscribed", "action": "join", "topic": "ROOM#lobby"})
        );
        handle("invalid").await;
        let invalid = next();
        assert_eq!(
            (invalid["status"].as_u64(), invalid["requestId"].as_str()),
            (Some(400), Some("Rq3-say="))
        );
        assert_eq!(invalid["errors"][0]["pointer"], "/text");
        handle("binary").await;
        assert_eq!(next()["status"], 415);

        assert_eq!(handle("disconnect").await, json!({"statusCode": 200}));
        assert!(!connections.is_connected(id).await.unwrap());
        assert!(connections
            .subscribers("ROOM#lobby")
            .await
            .unwrap()
            .is_empty());
    }
}

#[test]
fn topics_bind_owners_from_the_token_not_the_message() {
    use crate::auth::Caller;
    use crate::store::{Part, Template};
    static INBOX: TopicDef = TopicDef {
        template: Template(&[
            Part::Lit("INBOX#"),
            Part::Str("ownerId"),
            Part::Lit("#"),
            Part::Str("box"),
        ]),
        claims: &[("ownerId", "sub")],
        access: Some(Access {
            owner: true,
            authenticated: false,
            groups: &["support"],
        }),
    };
    let message = json!({"ownerId": "mallory", "box": "work"});
    let alice = Caller::new("users", "alice");
    assert_eq!(
        INBOX.topic(Some(&alice), &message).unwrap(),
        "INBOX#alice#work"
    );
    // Support staff may name any owner.
    let support = Caller::new("users", "sam").with_groups(["support"]);
    assert_eq!(
        INBOX.topic(Some(&support), &message).unwrap(),
        "INBOX#mallory#work"
    );
    assert_eq!(
        INBOX.topic(None, &message).unwrap_err().status,
        StatusCode::UNAUTHORIZED
    );
    let missing = INBOX
        .topic(Some(&alice), &json!({"ownerId": "alice"}))
        .unwrap_err();
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);

    static STAFF: TopicDef = TopicDef {
        template: Template(&[Part::Lit("STAFF")]),
        claims: &[],
        access: Some(Access {
            owner: false,
            authenticated: false,
            groups: &["support"],
        }),
    };
    assert_eq!(
        STAFF.topic(Some(&alice), &json!({})).unwrap_err().status,
        StatusCode::FORBIDDEN
    );
    static OPEN: TopicDef = TopicDef {
        template: Template(&[Part::Lit("ROOM#"), Part::Str("room")]),
        claims: &[],
        access: None,
    };
    assert_eq!(OPEN.topic(None, &json!({"room": "a"})).unwrap(), "ROOM#a");
}

#[cfg(feature = "lambda")]
mod connect_authorizer {
    //! The `$connect` authorizer of a JWT-secured WebSocket API: keys fetched from the issuer
    //! as published (discovery, then the key set), real tokens, and the caller it passes on
    //! reaching the WebSocket function's handling of `$connect`.

    use super::*;

    /// An issuer publishing its OpenID configuration and keys on 127.0.0.1.
    async fn issuer(jwks: String) -> String {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let base = format!("http://{}/pool", listener.local_addr().unwrap());
        let configuration = json!({"issuer": base, "jwks_uri": format!("{base}/keys")});
        let router = axum::Router::new()
            .route(
                "/pool/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(configuration) }),
            )
            .route(
                "/pool/keys",
                axum::routing::get(move || async move { jwks }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    #[tokio::test]
    async fn tokens_are_verified_against_the_issuers_published_keys() {
        let key = DevKey::generate().unwrap();
        let base = issuer(key.jwks_json()).await;
        let jwks = fetch_jwks(&base).await.expect("the issuer's keys");
        assert_eq!(jwks.len(), 1);
        assert!(
            fetch_jwks("http://example.com/pool").await.is_err(),
            "HTTP only on this machine"
        );
        let config = LocalConfig {
            jwks: Some(jwks),
            issuer: Some(vec![ISSUER.to_owned()]),
            audience: None,
            api_keys: Vec::new(),
            unverified_caller: None,
        };
        let authenticator = Authenticator::local(&AUTH, config);
        let token = |subject: &str| {
            let options = TokenOptions {
                subject: subject.to_owned(),
                ..TokenOptions::default()
            };
            key.mint(&AUTH, &options).unwrap()
        };
        let events: Value =
            serde_json::from_str(include_str!("fixtures/websocket-events.json")).unwrap();
        let mut request = events["connect"].clone();
        request["type"] = json!("REQUEST");
        request["methodArn"] =
            json!("arn:aws:execute-api:us-east-1:123456789012:abc123/live/$connect");
        request["requestContext"]["authorizer"] = Value::Null;
        request["headers"]["Sec-WebSocket-Protocol"] = json!(format!("bearer, {}", token("alice")));

        let allowed = lambda::decide(&authenticator, &SIGNED_IN, &request)
            .await
            .unwrap();
        assert_eq!(allowed["principalId"], "alice");
        assert_eq!(
            allowed["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:us-east-1:123456789012:abc123/live/*"
        );
        // What API Gateway then passes to the WebSocket function with `$connect`.
        let store = Store::memory();
        let connections = Connections::local(store);
        let mut connect = events["connect"].clone();
        connect["requestContext"]["authorizer"] = allowed["context"].clone();
        connect["requestContext"]["authorizer"]["principalId"] = json!("alice");
        lambda::handle(&chat(), &(), &connections, Some("users"), &connect).await;
        assert_eq!(
            connections.registry().of_subject("alice").await.unwrap(),
            ["L0SM9cOFvHcCIhw="]
        );

        // From the query string, as a client that cannot set headers sends it.
        let mut query = request.clone();
        query["headers"]
            .as_object_mut()
            .unwrap()
            .remove("Sec-WebSocket-Protocol");
        query["queryStringParameters"] = json!({"access_token": token("bob")});
        let allowed = lambda::decide(&authenticator, &SIGNED_IN, &query)
            .await
            .unwrap();
        assert_eq!(allowed["principalId"], "bob");

        let other = DevKey::generate().unwrap();
        let forged = other.mint(&AUTH, &TokenOptions::default()).unwrap();
        for credential in [json!(format!("bearer, {forged}")), Value::Null] {
            let mut refused = request.clone();
            refused["headers"]["Sec-WebSocket-Protocol"] = credential;
            let answer = lambda::decide(&authenticator, &SIGNED_IN, &refused).await;
            assert_eq!(answer.unwrap_err().to_string(), "Unauthorized");
        }
    }
}
