//! Child processes the tests start: each is stopped by PID when its handle
//! drops, so a failing test leaves nothing running.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

pub struct Running {
    name: String,
    child: Child,
    log: PathBuf,
    pub port: u16,
}

impl Running {
    /// Starts `command` with its output in `log`, and waits until it listens on `port`.
    pub fn start(name: &str, command: &mut Command, port: u16, log: PathBuf) -> Running {
        let file = std::fs::File::create(&log).expect("a log file");
        let child = command
            .stdout(Stdio::from(file.try_clone().expect("a second handle")))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut running = Running {
            name: name.to_string(),
            child,
            log,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before listening:\n{}",
                    running.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not listen on {port}:\n{}",
                running.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        running
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `lines` lines of the log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        let from = all.len().saturating_sub(lines);
        format!(
            "--- {} log (last {} lines) ---\n{}",
            self.name,
            all.len() - from,
            all[from..].join("\n")
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {} (pid {})", self.name, self.child.id());
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

/// moto's DynamoDB-compatible server (through .ci/dynamodb-server.py, which
/// serialises requests as DynamoDB's conditional writes need, and counts them).
pub struct Moto {
    pub process: Running,
    agent: ureq::Agent,
}

impl Moto {
    pub fn start(work: &Path) -> Moto {
        let port = free_port();
        let process = Running::start(
            "moto (DynamoDB-compatible server)",
            Command::new(common::venv_tool("python"))
                .arg(common::repo().join(".ci/dynamodb-server.py"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()]),
            port,
            work.join("moto.log"),
        );
        Moto {
            process,
            agent: ureq::Agent::new_with_defaults(),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.process.port)
    }

    /// Every DynamoDB request served so far, by action.
    pub fn requests(&self) -> BTreeMap<String, u64> {
        let mut reply = self
            .agent
            .get(format!("{}/_apigen/requests", self.endpoint()))
            .call()
            .expect("the request counter answers");
        let text = reply.body_mut().read_to_string().expect("a body");
        serde_json::from_str(&text).expect("counts as JSON")
    }
}

/// What changed between two readings of the counter.
pub fn delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(action, n)| {
            let d = n - before.get(action).copied().unwrap_or(0);
            (d > 0).then(|| (action.clone(), d))
        })
        .collect()
}
