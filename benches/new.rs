//! How long `apigen new` takes as a whole process (what a user waits for), on the corpus of
//! public APIs, beside a baseline measured in the same run: a process that only reads and
//! parses the spec as `new` does first (`apigen parse`, hidden from the help). The table gives
//! the median wall time of each, their ratio, and each one's peak memory (the child's maximum
//! resident set, from the kernel).
//!
//! `cargo bench --bench new` runs each command 5 times on an optimized build;
//! `cargo test --benches` runs each once on whatever build it has, prints the table and checks
//! only that the commands succeeded. Nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;

/// One run of a command: its wall time and peak resident memory in bytes.
struct Run {
    wall: Duration,
    peak: u64,
}

/// Runs `command` to its end, its messages going to the file `log`, and fails when it does.
// The child is waited for with wait4, which gives its resource usage, not with `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run(mut command: Command, log: &Path) -> Run {
    let stderr = std::fs::File::create(log).expect("a writable log");
    let start = Instant::now();
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("apigen starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; the pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "waiting for apigen failed");
    let exited = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !exited {
        let stderr = std::fs::read_to_string(log).unwrap_or_default();
        panic!("{command:?} failed ({status}):\n{stderr}");
    }
    Run {
        wall,
        // ru_maxrss is in kilobytes on Linux.
        peak: usage.ru_maxrss as u64 * 1024,
    }
}

/// The median wall time and the largest peak of `runs` runs of `command()`.
fn measure(runs: usize, log: &Path, command: impl Fn() -> Command) -> (Duration, u64) {
    let mut results: Vec<Run> = (0..runs).map(|_| run(command(), log)).collect();
    results.sort_by_key(|r| r.wall);
    let peak = results.iter().map(|r| r.peak).max().unwrap_or(0);
    (results[results.len() / 2].wall, peak)
}

/// Operations and schemas of a spec, as the document declares them.
fn size(spec: &Path) -> (usize, usize) {
    let document = apigen::load::load(spec).expect("a valid spec").document;
    let operations = document
        .paths
        .iter()
        .filter_map(|(_, item)| item.as_item())
        .map(|item| item.iter().count())
        .sum();
    let schemas = document.components.map_or(0, |c| c.schemas.len());
    (operations, schemas)
}

fn corpus() -> Vec<PathBuf> {
    if !common::corpus_dir().is_dir() {
        return Vec::new();
    }
    // Their security schemes are completed as the help lines say (apigen refuses them as
    // written), as the benchmark of planning does.
    let secured = std::env::temp_dir().join("apigen-bench-secured-specs");
    common::specs_in_dir(&common::corpus_dir())
        .iter()
        .map(|spec| common::secured_as_a_user_would(spec, &secured))
        .collect()
}

fn mb(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / (1024.0 * 1024.0))
}

/// The variable that makes this program the helper that prepares the specs.
const PREPARE: &str = "APIGEN_BENCH_PREPARE";

/// The corpus's specs as measured, with their operations and schemas, prepared by a process of
/// their own: on Linux a child's peak memory counts that of the process it was started from, so
/// this one must never hold a large spec itself.
fn prepared() -> Vec<(PathBuf, usize, usize)> {
    let output = Command::new(std::env::current_exe().expect("this program"))
        .env(PREPARE, "1")
        .output()
        .expect("the helper runs");
    assert!(
        output.status.success(),
        "preparing the specs failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("paths in UTF-8")
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let mut next = || fields.next().expect("three fields");
            let spec = PathBuf::from(next());
            let operations = next().parse().expect("a count");
            let schemas = next().parse().expect("a count");
            (spec, operations, schemas)
        })
        .collect()
}

fn main() {
    if std::env::var_os(PREPARE).is_some() {
        for spec in corpus() {
            let (operations, schemas) = size(&spec);
            println!("{}\t{operations}\t{schemas}", spec.display());
        }
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let runs = if full { 5 } else { 1 };
    let apigen = env!("CARGO_BIN_EXE_apigen");
    let work = tempfile::tempdir().expect("a temporary folder");
    let specs = prepared();
    if specs.is_empty() {
        println!(
            "no corpus at `{}`: nothing to measure",
            common::corpus_dir().display()
        );
        return;
    }
    println!(
        "`apigen new` as a process, median of {runs} run{} ({} build)\n",
        if runs == 1 { "" } else { "s" },
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("| spec | operations | schemas | parse ms | new ms | new / parse | parse peak MB | new peak MB |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (spec, operations, schemas) in &specs {
        let log = work.path().join("log");
        let (parse, parse_peak) = measure(runs, &log, || {
            let mut c = Command::new(apigen);
            c.arg("parse").arg(spec);
            c
        });
        let out = work.path().join("api");
        let (new, new_peak) = measure(runs, &log, || {
            // Each run creates the project afresh, as a user's first `new` does.
            let _ = std::fs::remove_dir_all(&out);
            let mut c = Command::new(apigen);
            c.args(["--color", "never", "new"])
                .arg(spec)
                .arg("-o")
                .arg(&out);
            c
        });
        let name = spec.file_name().expect("a file name").to_string_lossy();
        println!(
            "| {name} | {operations} | {schemas} | {:.0} | {:.0} | {:.1} | {} | {} |",
            parse.as_secs_f64() * 1000.0,
            new.as_secs_f64() * 1000.0,
            new.as_secs_f64() / parse.as_secs_f64(),
            mb(parse_peak),
            mb(new_peak),
        );
    }
}
