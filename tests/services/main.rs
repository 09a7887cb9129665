//! The proof that generated services work: for every spec in specs/, the
//! project is generated and built, its template passes cfn-lint and
//! `sam validate`, its own tests pass on both stores, and the service runs
//! on 127.0.0.1 against moto's DynamoDB-compatible server and against the
//! in-memory store, where scripted journeys, races of twenty clients and
//! schemathesis probe it over HTTP. The two stores must answer the same,
//! and each action must make the fewest DynamoDB requests it can.
//!
//! Specs in tests/specs/ (written without apigen in mind) get the project
//! checks, their own tests on both stores, and a started service on both.

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod client;
mod compile_fail;
mod concurrency;
mod edge;
mod entities;
mod journeys;
mod process;
mod readme;
mod realtime;
mod report;
mod schemathesis;

use std::path::{Path, PathBuf};
use std::process::Command;

use client::Session;
use process::{free_port, Moto, Running};

struct Project {
    name: String,
    dir: PathBuf,
    api: apigen::model::Api,
    /// The keys the service trusts and the callers' credentials, for a secured API.
    credentials: Option<auth::Credentials>,
}

impl Drop for Project {
    fn drop(&mut self) {
        common::forget_artifacts(&self.dir, &self.name);
    }
}

/// Generates, lints, tests and builds the project of `spec` under `work`.
fn project(spec: &Path, work: &Path) -> Project {
    let name = format!("check-{}", common::stem(spec));
    let dir = work.join(&name);
    let options = common::with_shared_runtime(
        apigen::Options {
            name: Some(name.clone()),
            ..Default::default()
        },
        &dir,
    );
    let generated = apigen::plan(spec, &options).expect("valid");
    common::write_project(&generated, &options, &dir);
    // The hand-written half of an example spec, as its user would write it.
    let handlers = spec.with_extension("handlers.rs");
    if handlers.exists() {
        std::fs::copy(&handlers, dir.join("src/handlers.rs")).expect("handlers copied");
    }
    let hooks = spec.with_extension("hooks.rs");
    if hooks.exists() {
        std::fs::copy(&hooks, dir.join("src/hooks.rs")).expect("hooks copied");
    }
    // Tests of the typed repository, as its user would write them. They name the crate as
    // `apigen new` does (`shop_api`); this project is named `check-shop`.
    let as_built = |source: &Path| {
        let text = std::fs::read_to_string(source).expect("a readable file");
        let own = generated.api.settings.crate_ident();
        let spec_name = apigen::plan(spec, &apigen::Options::default())
            .expect("valid")
            .api
            .settings
            .crate_ident();
        text.replace(&format!("{spec_name}::"), &format!("{own}::"))
    };
    let repository = spec.with_extension("repository.rs");
    if repository.exists() {
        std::fs::write(dir.join("tests/repository.rs"), as_built(&repository))
            .expect("tests written");
    }
    let refused = spec.with_extension("compile_fail.rs");
    if refused.exists() {
        let n = compile_fail::check(&dir, &as_built(&refused));
        eprintln!("{n} misuses of the typed repository refused, as they should be");
    }
    common::cargo(
        &dir,
        &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"],
    );
    let tests = common::cargo(&dir, &["test", "--quiet"]);
    assert!(tests.contains("test result: ok"), "{tests}");
    common::lint_template(&dir);
    common::cargo(&dir, &["build", "--quiet"]);
    Project {
        name,
        dir,
        credentials: auth::Credentials::for_api(&generated.api),
        api: generated.api,
    }
}

/// Runs the project's own tests again with DynamoDB as the store.
fn own_tests_on(project: &Project, moto: &Moto) {
    let output = common::run(
        common::project_cargo(&project.dir)
            .args(["test", "--quiet", "--", "--include-ignored"])
            .env("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint())
            .env("APIGEN_TEST_DYNAMODB_URL", moto.endpoint()),
    );
    assert_all_ran_on_dynamodb(&output);
}

/// Every test of a `cargo test` run ran (none ignored) and passed.
fn assert_all_ran_on_dynamodb(output: &str) {
    let results: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("test result"))
        .collect();
    assert!(
        !results.is_empty()
            && results
                .iter()
                .all(|l| l.contains(" 0 failed") && l.contains(" 0 ignored")),
        "every test must run, and pass, on DynamoDB too:\n{output}"
    );
}

/// Starts the built service the way a user runs it: `PORT`, and
/// `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB (the in-memory store without it).
fn serve(project: &Project, moto: Option<&Moto>, log: PathBuf) -> Running {
    serve_with(project, moto, log, &[])
}

/// [`serve`], with more environment variables.
fn serve_with(
    project: &Project,
    moto: Option<&Moto>,
    log: PathBuf,
    env: &[(&str, String)],
) -> Running {
    let binary = common::projects_target().join("debug").join(&project.name);
    let port = free_port();
    let mut command = Command::new(binary);
    command
        .env("PORT", port.to_string())
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    if let Some(credentials) = &project.credentials {
        let folder = log.parent().expect("the log is in a folder");
        command.envs(credentials.env(folder));
    }
    match moto {
        Some(moto) => command
            .env("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1"),
        None => command.env_remove("AWS_ENDPOINT_URL_DYNAMODB"),
    };
    Running::start(&project.name, &mut command, port, log)
}

/// Journeys and races on one store; answers the session for comparison.
fn probe<'a>(
    project: &Project,
    store: &'static str,
    service: &'a Running,
    moto: Option<&'a Moto>,
) -> (Session<'a>, Vec<String>) {
    let credentials = project
        .credentials
        .as_ref()
        .map(|c| c.of(auth::JOURNEYS))
        .unwrap_or_default();
    let mut session = Session::new(store, service, moto, credentials);
    let mut passed = journeys::run(&mut session, &project.api);
    passed.extend(concurrency::run(&mut session, &project.api));
    if let Some(credentials) = &project.credentials {
        passed.extend(auth::run(&mut session, &project.api, credentials));
    }
    let unknown = session.call_unrecorded(
        "unknown route",
        client::Request::get("/no/such/route/anywhere"),
    );
    session.check_status("an unknown route", &unknown, 404);
    (session, passed)
}

/// On a service of its own (memory store): the 413, and CORS in a browser when the spec lets
/// a local origin call.
fn edge_checks(project: &Project, work: &Path) -> Vec<String> {
    let service = serve(project, None, work.join("edge.log"));
    let mut passed: Vec<String> = edge::oversized_body(&project.api, &service)
        .into_iter()
        .collect();
    let local = project.api.edge.cors.as_ref().and_then(|c| {
        c.origins
            .iter()
            .find(|o| o.starts_with("http://localhost:"))
    });
    if let Some(origin) = local {
        passed.extend(edge::browser_cors(&project.api, &service, origin, work));
    }
    passed
}

/// Every request printed its metric line, and the DynamoDB requests the lines count are those
/// the DynamoDB-compatible server served.
fn metrics_agree(
    project: &Project,
    service: &Running,
    moto: &Moto,
    before: &std::collections::BTreeMap<String, u64>,
) -> String {
    let served: u64 = process::delta(before, &moto.requests()).values().sum();
    let metrics = edge::Metrics::read(&service.log(), &project.api);
    let counted = metrics.sum("DynamoDBRequests");
    assert_eq!(
        counted, served as f64,
        "the metric lines count {counted} DynamoDB requests; the server served {served}"
    );
    assert_eq!(metrics.sum("Fault"), 0.0, "no request failed on our side");
    let guarded = project
        .api
        .entities
        .iter()
        .any(|e| e.version.is_some() || !e.unique.is_empty());
    if guarded {
        assert!(
            metrics.sum("ConditionFailures") > 0.0,
            "the races lose conditions, and the metric lines count them"
        );
    }
    format!(
        "metrics: {} EMF lines over {} operations count the {served} DynamoDB requests served",
        metrics.lines.len(),
        metrics.by_operation().len()
    )
}

/// The two stores must have answered every step alike.
fn agree(memory: &Session, dynamo: &Session) {
    for (i, (m, d)) in memory.transcript.iter().zip(&dynamo.transcript).enumerate() {
        assert_eq!(
            m, d,
            "step {i}: the in-memory store and DynamoDB answered differently"
        );
    }
    assert_eq!(
        memory.transcript.len(),
        dynamo.transcript.len(),
        "the stores ran different numbers of steps"
    );
}

/// The service is up and routing: an unknown path is a 404.
fn answers_unknown_routes(service: &Running) {
    let unknown =
        client::Client::new(service.port).send(&client::Request::get("/no/such/route/anywhere"));
    assert_eq!(unknown.map(|r| r.status), Ok(404), "unknown routes are 404");
}

fn prove(spec: &Path, fuzz: bool) -> Option<report::Row> {
    eprintln!("proving {}", spec.display());
    let work = tempfile::tempdir().expect("a temporary folder");
    let project = project(spec, work.path());
    if !project.api.has_storage() {
        let service = serve(&project, None, work.path().join("memory.log"));
        answers_unknown_routes(&service);
        return None;
    }
    let moto = Moto::start(work.path());
    own_tests_on(&project, &moto);
    if !fuzz {
        // Specs not written for apigen: the service must start and route on
        // both stores; the journeys are for the specs in specs/ (see the README).
        for store in [None, Some(&moto)] {
            let service = serve(&project, store, work.path().join("service.log"));
            answers_unknown_routes(&service);
        }
        return None;
    }

    let walk_through = readme::walk_through(&project, work.path());
    let edge = edge_checks(&project, work.path());
    let memory_service = serve(&project, None, work.path().join("memory.log"));
    let (memory, _) = probe(&project, "memory", &memory_service, None);
    let credentials = project.credentials.as_ref();
    realtime::run(&project.api, &memory_service, credentials);
    // An X-Ray daemon's socket, which the service sends its DynamoDB subsegments to.
    let daemon = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
    let daemon_address = daemon.local_addr().expect("an address").to_string();
    let dynamo_service = serve_with(
        &project,
        Some(&moto),
        work.path().join("dynamodb.log"),
        &[("AWS_XRAY_DAEMON_ADDRESS", daemon_address)],
    );
    let before = moto.requests();
    let (dynamo, mut passed) = probe(&project, "DynamoDB", &dynamo_service, Some(&moto));
    passed.push(metrics_agree(&project, &dynamo_service, &moto, &before));
    passed.extend(realtime::run(&project.api, &dynamo_service, credentials));
    passed.extend(edge::xray(&project.api, &dynamo, &daemon));
    passed.extend(edge);
    agree(&memory, &dynamo);

    let mut row = report::Row {
        spec: common::stem(spec),
        journeys: [vec![walk_through], passed].concat(),
        steps: dynamo.transcript.len(),
        requests: dynamo.requests.clone(),
        schemathesis: None,
    };
    if fuzz {
        let credentials = project
            .credentials
            .as_ref()
            .map(|c| c.of(auth::JOURNEYS))
            .unwrap_or_default();
        let outcome = schemathesis::run(
            &project.dir.join("openapi.yaml"),
            &credentials,
            dynamo_service.port,
            work.path(),
            || {
                format!(
                    "{}\n{}",
                    dynamo_service.log_tail(60),
                    moto.process.log_tail(20)
                )
            },
        );
        row.schemathesis = Some(outcome);
    }
    drop(memory);
    drop(dynamo);
    drop(dynamo_service);
    drop(memory_service);
    drop(moto);
    Some(row)
}

#[test]
fn every_spec_in_specs_gives_a_proven_service() {
    // One at a time: the projects share a target directory, and the
    // machines have two cores.
    let rows: Vec<report::Row> = common::specs()
        .iter()
        .filter_map(|spec| prove(spec, true))
        .collect();
    report::write(&rows);
}

/// The runtime's own tests (the store engine's among them) on DynamoDB, as every project's
/// store runs there.
#[test]
fn the_runtime_passes_its_tests_on_dynamodb() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let moto = Moto::start(work.path());
    let output = common::run(
        // Not the target this test runs from: its cargo still holds that one's lock.
        common::project_cargo(&common::repo())
            .args(["test", "--quiet", "-p", "apigen-runtime", "--all-features"])
            .args(["--", "--include-ignored"])
            .env("APIGEN_TEST_DYNAMODB_URL", moto.endpoint()),
    );
    assert_all_ran_on_dynamodb(&output);
}

#[test]
fn unseen_specs_give_working_services() {
    for spec in common::unseen_specs() {
        prove(&spec, false);
    }
}
