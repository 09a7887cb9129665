//! Every spec in specs/ gives a project that is clippy-clean, passes its own
//! tests, has a template that cfn-lint and `sam validate` accept, and serves
//! its API on 127.0.0.1 against both the in-memory store and a real
//! DynamoDB-compatible server (moto).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apigen::model::actions::Verb;
use apigen::model::Media;

/// Kills a child process on drop, so a failing test leaves nothing running.
struct Running {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Running {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {} (pid {})", self.name, self.child.id());
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

fn start(name: &str, command: &mut Command, port: u16, log: PathBuf) -> Running {
    let file = std::fs::File::create(&log).expect("a log file");
    let child = command
        .stdout(Stdio::from(file.try_clone().expect("a second handle")))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let running = Running {
        name: name.to_string(),
        child,
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{name} did not listen on {port}:\n{}",
            running.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    running
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request, with `Connection: close` so the reply ends the stream.
fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the service listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(b) = body {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or(""));
    stream.write_all(text.as_bytes()).expect("sent");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("a reply");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_string(),
        body: body.to_string(),
    }
}

/// Creates one item of every entity that has a create operation, then reads it
/// back from its Location; returns how many round trips were made.
fn exercise(port: u16, api: &apigen::model::Api, service: &Running, store: &str) -> usize {
    let mut round_trips = 0;
    for op in &api.operations {
        let Some(action) = &op.action else { continue };
        if action.verb != Verb::Create {
            continue;
        }
        let Some(Media::Json(shape)) = op.body.as_ref().map(|b| &b.media) else {
            continue;
        };
        let mut path = op.path.clone();
        for p in op
            .params
            .iter()
            .filter(|p| p.location == apigen::model::ParamIn::Path)
        {
            let value = apigen::emit::example_body(api, &p.shape);
            path = path.replace(&format!("{{{}}}", p.name), value.trim_matches('"'));
        }
        let body = apigen::emit::example_body(api, shape);
        let created = request(port, "POST", &path, Some(&body));
        assert!(
            created.status == 201 || created.status == 200,
            "[{store}] POST {path} {body}\n-> {} {}\nservice log:\n{}",
            created.status,
            created.body,
            service.log()
        );
        let invalid = request(port, "POST", &path, Some("{\"unexpected\": "));
        assert_eq!(
            invalid.status, 400,
            "[{store}] malformed JSON must be a 400: {}",
            invalid.body
        );
        if let Some(location) = created.headers.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(name, _)| name.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v)
        }) {
            let read = request(port, "GET", location.trim(), None);
            assert_eq!(
                read.status,
                200,
                "[{store}] GET {location} -> {}\n{}",
                read.body,
                service.log()
            );
            let a: serde_json::Value = serde_json::from_str(&read.body).expect("JSON");
            let b: serde_json::Value = serde_json::from_str(&created.body).expect("JSON");
            assert_eq!(
                a, b,
                "[{store}] what was read differs from what was created"
            );
        }
        round_trips += 1;
    }
    let missing = request(port, "GET", "/no/such/route/anywhere", None);
    assert_eq!(missing.status, 404, "[{store}] unknown routes are 404");
    round_trips
}

fn check_project(spec: &Path) {
    let stem = common::stem(spec);
    let name = format!("check-{stem}");
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path().join(&name);
    let generated = apigen::plan(
        spec,
        &apigen::Options {
            name: Some(name.clone()),
            ..Default::default()
        },
    )
    .expect("valid");
    apigen::write::create(&generated.plan, &dir, false).expect("written");

    common::cargo(
        &dir,
        &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"],
    );
    let tests = common::cargo(&dir, &["test", "--quiet"]);
    assert!(tests.contains("test result: ok"), "{tests}");

    common::run(
        Command::new(common::venv_tool("cfn-lint"))
            .arg("template.yaml")
            .current_dir(&dir),
    );
    common::run(
        Command::new(common::venv_tool("sam"))
            .args([
                "validate",
                "--lint",
                "--region",
                "us-east-1",
                "--template-file",
                "template.yaml",
            ])
            .env("SAM_CLI_TELEMETRY", "0")
            .current_dir(&dir),
    );

    common::cargo(&dir, &["build", "--quiet"]);
    let binary = common::projects_target().join("debug").join(&name);

    // The in-memory store.
    let port = free_port();
    let service = start(
        &name,
        Command::new(&binary)
            .env("PORT", port.to_string())
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB"),
        port,
        work.path().join("memory.log"),
    );
    let trips = exercise(port, &generated.api, &service, "memory");
    drop(service);

    // A real DynamoDB-compatible server: the project's own tests (the store's
    // included) run again on it, then the service creates its tables there.
    if generated.api.has_storage() {
        let moto_port = free_port();
        let moto = start(
            "moto (DynamoDB-compatible server)",
            Command::new(common::venv_tool("python"))
                .arg(common::repo().join(".ci/dynamodb-server.py"))
                .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()]),
            moto_port,
            work.path().join("moto.log"),
        );
        let endpoint = format!("http://127.0.0.1:{moto_port}");
        let on_dynamo = common::run(
            Command::new(env!("CARGO"))
                .args(["test", "--quiet", "--", "--include-ignored"])
                .current_dir(&dir)
                .env("CARGO_TARGET_DIR", common::projects_target())
                .env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint)
                .env("APIGEN_TEST_DYNAMODB_URL", &endpoint),
        );
        let results: Vec<&str> = on_dynamo
            .lines()
            .filter(|l| l.starts_with("test result"))
            .collect();
        assert!(
            !results.is_empty()
                && results
                    .iter()
                    .all(|l| l.contains(" 0 failed") && l.contains(" 0 ignored")),
            "every test must run, and pass, on DynamoDB too:\n{on_dynamo}"
        );
        let port = free_port();
        let service = start(
            &name,
            Command::new(&binary)
                .env("PORT", port.to_string())
                .env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_REGION", "us-east-1"),
            port,
            work.path().join("dynamo.log"),
        );
        let dynamo_trips = exercise(port, &generated.api, &service, "dynamodb");
        assert_eq!(trips, dynamo_trips);
        drop(service);
        drop(moto);
    }
}

#[test]
fn every_spec_gives_a_working_project() {
    // One at a time: the projects share a target directory, and the
    // machines have two cores.
    for spec in common::specs().into_iter().chain(common::unseen_specs()) {
        eprintln!("checking {}", spec.display());
        check_project(&spec);
    }
}
