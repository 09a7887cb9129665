//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every spec in specs/, sorted.
pub fn specs() -> Vec<PathBuf> {
    specs_in("specs")
}

/// Specs written by someone trying apigen as a new user (not designed with
/// it), kept to check that unseen specs keep working.
pub fn unseen_specs() -> Vec<PathBuf> {
    specs_in("tests/specs")
}

/// The public API descriptions of the corpus, none written for apigen:
/// `APIGEN_CORPUS`, or `../shared/corpus` beside the checkout.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("APIGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/corpus"))
}

fn specs_in(folder: &str) -> Vec<PathBuf> {
    specs_in_dir(&repo().join(folder))
}

/// Every YAML or JSON file in `dir`, sorted.
pub fn specs_in_dir(dir: &Path) -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("`{}` is not readable: {e}", dir.display()))
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .collect();
    specs.sort();
    specs
}

pub fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .expect("a UTF-8 file name")
        .to_string()
}

/// The cargo target directory shared by every generated project, outside
/// the checkout, so that the AWS SDK is built once.
pub fn projects_target() -> PathBuf {
    std::env::var_os("APIGEN_PROJECTS_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir);
            home.join(".cache/apigen-target/projects")
        })
}

/// The runtime crate of this checkout: the projects the tests generate use it instead of a
/// vendored copy each, so that it compiles once for all of them (a test of its own builds a
/// project with the vendored copy).
pub fn runtime_dir() -> PathBuf {
    repo().join("runtime")
}

/// `options` for a project in `dir` that uses [`runtime_dir`].
pub fn with_shared_runtime(options: apigen::Options, dir: &Path) -> apigen::Options {
    options.runtime_at(&runtime_dir(), dir)
}

/// A tool from the checkout's Python venv (made by .ci/python-tools.sh).
pub fn venv_tool(name: &str) -> PathBuf {
    let path = repo().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `bash .ci/python-tools.sh` first",
        path.display()
    );
    path
}

/// Runs a command, failing the test with its output when it fails.
pub fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

pub fn cargo(dir: &Path, args: &[&str]) -> String {
    run(Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", projects_target())
        .env_remove("RUSTFLAGS"))
}
