//! Twenty clients at once: optimistic locking and unique values must hold
//! when requests race, as DynamoDB's conditional writes make them hold.

use std::sync::Barrier;

use apigen::model::actions::Verb;
use apigen::model::{Api, Ty};
use serde_json::{json, Value};

use crate::client::{Client, Reply, Request, Session};
use crate::entities::{action, body_shape, views, View};

const CLIENTS: usize = 20;

/// Runs `request(i)` from `CLIENTS` threads released together.
fn race(client: &Client, request: impl Fn(usize) -> Request + Sync) -> Vec<Result<Reply, String>> {
    let barrier = Barrier::new(CLIENTS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (barrier, request, client) = (&barrier, &request, client.clone());
                scope.spawn(move || {
                    let request = request(i);
                    barrier.wait();
                    client.send(&request)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a client thread"))
            .collect()
    })
}

fn statuses(s: &Session, what: &str, replies: &[Result<Reply, String>]) -> Vec<u16> {
    replies
        .iter()
        .map(|r| match r {
            Ok(reply) => reply.status,
            Err(e) => s.fail(&format!("{what}: a request failed: {e}")),
        })
        .collect()
}

fn tally(statuses: &[u16]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for s in statuses {
        *counts.entry(*s).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n}×{s}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A string field of the patch that any short text satisfies, for clients
/// to write their own name into.
fn free_text_field(api: &Api, v: &View, update: &apigen::model::Operation) -> Option<String> {
    let (_, st) = api.types.struct_of(body_shape(update)?)?;
    st.fields
        .iter()
        .filter(|f| !v.entity.unique.contains(&f.name))
        .find(|f| {
            let r = api.types.resolve(&f.shape);
            matches!(r.ty, Ty::String(apigen::model::StrFormat::Plain))
                && r.rules.pattern.is_none()
                && r.rules.max_length.is_none_or(|m| m >= 12)
        })
        .map(|f| f.name.clone())
}

/// Runs every race that applies; returns the names of those run.
pub fn run(s: &mut Session, api: &Api) -> Vec<String> {
    let mut passed = Vec::new();
    for v in views(api) {
        let Some(seed_op) = v.seed_op() else { continue };
        let seed = |s: &mut Session, n: usize| -> Value {
            let body = v.body(seed_op, n, false);
            let ct = seed_op
                .body
                .as_ref()
                .map(|b| b.content_type.clone())
                .unwrap_or_default();
            let reply = s.call_unrecorded(
                "seed",
                Request::new(seed_op.method.upper(), v.path(seed_op, None, n)).json(&ct, &body),
            );
            s.check(reply.status == 201, || {
                format!("seeding for a race: {}", reply.text)
            });
            reply.json()
        };
        let update = v.op(Verb::Update).filter(|u| action(u).if_match.is_some());
        if let (Some(version), Some(update), Some(get)) =
            (v.entity.version.clone(), update, v.op(Verb::Get))
        {
            if let Some(field) = free_text_field(api, &v, update) {
                let header = update.params[action(update).if_match.expect("guarded")]
                    .name
                    .clone();
                let ct = update
                    .body
                    .as_ref()
                    .map(|b| b.content_type.clone())
                    .unwrap_or_default();
                let item = seed(s, 60);
                let path = v.path(update, Some(&item), 0);
                // Same If-Match from everyone: one wins.
                let replies = race(&s.client, |i| {
                    Request::new(update.method.upper(), &path)
                        .json(&ct, &json!({ field.clone(): format!("client {i}") }))
                        .header(&header, "\"1\"")
                });
                let codes = statuses(s, "same If-Match", &replies);
                let wins: Vec<usize> = codes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c == 200)
                    .map(|(i, _)| i)
                    .collect();
                s.check(
                    wins.len() == 1 && codes.iter().filter(|c| **c == 412).count() == CLIENTS - 1,
                    || {
                        format!(
                            "{}: 20 updates with the same If-Match: expected 1×200 19×412, got {}",
                            update.id,
                            tally(&codes)
                        )
                    },
                );
                // Who wins differs run to run, so this read stays out of the transcript.
                let step = format!("{} (after the race)", get.id);
                let reply = s.call_unrecorded(&step, Request::get(v.path(get, Some(&item), 0)));
                s.check_status(&step, &reply, 200);
                let read = reply.json();
                s.check(
                    read[version.as_str()] == 2
                        && read[field.as_str()] == format!("client {}", wins[0]),
                    || format!("the winner's update is the one stored: {read}"),
                );
                s.transcript.push(format!(
                    "{} race, same If-Match -> {}",
                    update.id,
                    tally(&codes)
                ));
                passed.push(format!(
                    "{}: 20 clients, same If-Match: 1 wins, 19 get 412",
                    v.name()
                ));

                // Everyone retries on 412 until their update lands: none is lost.
                let client = s.client.clone();
                let get_path = v.path(get, Some(&item), 0);
                let barrier = Barrier::new(CLIENTS);
                let outcomes: Vec<Result<(i64, usize), String>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..CLIENTS)
                        .map(|i| {
                            let (client, barrier, path, get_path, field, header, ct, version) = (
                                client.clone(),
                                &barrier,
                                &path,
                                &get_path,
                                &field,
                                &header,
                                &ct,
                                &version,
                            );
                            scope.spawn(move || {
                                barrier.wait();
                                for attempt in 1..=200 {
                                    let current = client.send(&Request::get(get_path.as_str()))?;
                                    let etag = current.header("etag").unwrap_or("").to_string();
                                    let reply = client.send(
                                        &Request::new(update.method.upper(), path.as_str())
                                            .json(
                                                ct,
                                                &json!({ field.clone(): format!("retry {i}") }),
                                            )
                                            .header(header, etag),
                                    )?;
                                    match reply.status {
                                        200 => {
                                            return Ok((
                                                reply.json()[version.as_str()]
                                                    .as_i64()
                                                    .unwrap_or(0),
                                                attempt,
                                            ))
                                        }
                                        412 => continue,
                                        other => {
                                            return Err(format!(
                                                "unexpected {other}: {}",
                                                reply.text
                                            ))
                                        }
                                    }
                                }
                                Err("no update landed in 200 attempts".into())
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("a client thread"))
                        .collect()
                });
                let mut versions = Vec::new();
                for outcome in outcomes {
                    match outcome {
                        Ok((version, _)) => versions.push(version),
                        Err(e) => s.fail(&format!("read-modify-write with retries: {e}")),
                    }
                }
                versions.sort();
                let want: Vec<i64> = (3..3 + CLIENTS as i64).collect();
                s.check(versions == want, || {
                    format!("each update landed once, at its own version: {versions:?}")
                });
                let step = format!("{} (after the retries)", get.id);
                let reply = s.call_unrecorded(&step, Request::get(get_path.clone()));
                s.check_status(&step, &reply, 200);
                let read = reply.json();
                s.check(read[version.as_str()] == 2 + CLIENTS as i64, || {
                    format!("no update was lost: {read}")
                });
                s.transcript.push(format!(
                    "{} race, retry on 412 -> versions 3..={}",
                    update.id,
                    2 + CLIENTS
                ));
                passed.push(format!(
                    "{}: 20 clients retrying on 412: no update lost",
                    v.name()
                ));
            }
        }
        if let Some(put) = v.op(Verb::Put).filter(|p| body_shape(p).is_some()) {
            unconditional_puts(s, &v, put, &seed, &mut passed);
        }
        let Some(create) = v.op(Verb::Create) else {
            continue;
        };
        let ct = create
            .body
            .as_ref()
            .map(|b| b.content_type.clone())
            .unwrap_or_default();
        if !v.entity.unique.is_empty() {
            // An odd item: even ones leave optional fields out, an optional unique one too.
            let shared = v.body(create, 69, false);
            let replies = race(&s.client, |i| {
                let mut body = v.body(create, 71 + i, false);
                for field in &v.entity.unique {
                    body[field.as_str()] = shared[field.as_str()].clone();
                }
                Request::new(create.method.upper(), v.path(create, None, 71 + i)).json(&ct, &body)
            });
            let codes = statuses(s, "same unique value", &replies);
            s.check(
                codes.iter().filter(|c| **c == 201).count() == 1
                    && codes.iter().filter(|c| **c == 409).count() == CLIENTS - 1,
                || {
                    format!(
                        "{}: 20 creates with the same unique value: expected 1×201 19×409, got {}",
                        create.id,
                        tally(&codes)
                    )
                },
            );
            s.transcript.push(format!(
                "{} race, same unique value -> {}",
                create.id,
                tally(&codes)
            ));
            passed.push(format!(
                "{}: 20 clients, same unique value: 1 wins, 19 get 409",
                v.name()
            ));
        }
        if !v.client_keys(create).is_empty() {
            let replies = race(&s.client, |_| {
                Request::new(create.method.upper(), v.path(create, None, 90))
                    .json(&ct, &v.body(create, 90, false))
            });
            let codes = statuses(s, "same key", &replies);
            s.check(
                codes.iter().filter(|c| **c == 201).count() == 1
                    && codes.iter().filter(|c| **c == 409).count() == CLIENTS - 1,
                || {
                    format!(
                        "{}: 20 creates of the same key: expected 1×201 19×409, got {}",
                        create.id,
                        tally(&codes)
                    )
                },
            );
            s.transcript
                .push(format!("{} race, same key -> {}", create.id, tally(&codes)));
            passed.push(format!(
                "{}: 20 clients create the same key: 1 wins, 19 get 409",
                v.name()
            ));
        }
    }
    passed
}

/// Twenty replaces of one item without If-Match: each reads the item and writes on condition
/// that it did not change, so most lose a race, but none of them asked for a precondition, so
/// none may answer 412. The store tries again; what still loses is a 409 that says so.
fn unconditional_puts(
    s: &mut Session,
    v: &View,
    put: &apigen::model::Operation,
    seed: &dyn Fn(&mut Session, usize) -> Value,
    passed: &mut Vec<String>,
) {
    let item = seed(s, 80);
    let path = v.path(put, Some(&item), 80);
    let body = v.body(put, 80, false);
    let ct = put
        .body
        .as_ref()
        .map(|b| b.content_type.clone())
        .unwrap_or_default();
    let replies = race(&s.client, |_| {
        Request::new(put.method.upper(), &path).json(&ct, &body)
    });
    let codes = statuses(s, "puts without If-Match", &replies);
    let replaced = codes.iter().filter(|c| **c == 200).count();
    s.check(
        replaced >= 1 && codes.iter().all(|c| *c == 200 || *c == 409),
        || {
            format!(
                "{}: 20 replaces without If-Match: expected only 200 and 409, got {}",
                put.id,
                tally(&codes)
            )
        },
    );
    for reply in replies.iter().flatten().filter(|r| r.status == 409) {
        s.check(
            reply.json()["detail"]
                .as_str()
                .is_some_and(|d| d.contains("retry")),
            || {
                format!(
                    "{}: a 409 for a lost race says to retry: {}",
                    put.id, reply.text
                )
            },
        );
    }
    // moto, unlike DynamoDB, does not isolate a conditional write from concurrent ones, so
    // the count of versions is checked on the memory store only.
    let isolated = s.moto.is_none();
    if let (Some(version), Some(get), true) = (&v.entity.version, v.op(Verb::Get), isolated) {
        let step = format!("{} (after the unconditional race)", get.id);
        let reply = s.call_unrecorded(&step, Request::get(v.path(get, Some(&item), 0)));
        s.check_status(&step, &reply, 200);
        let read = reply.json();
        s.check(read[version.as_str()] == 1 + replaced as i64, || {
            format!("each of the {replaced} replaces counted once: {read}")
        });
    }
    // How many lose all their tries varies with timing: only the verdict is recorded.
    s.transcript
        .push(format!("{} race, no If-Match -> no 412", put.id));
    passed.push(format!(
        "{}: 20 clients replace without If-Match: no 412",
        v.name()
    ));
}
