//! examples/build-script: a crate whose build.rs generates its API code with
//! `apigen::build`. It must build clippy-clean and pass its tests, and a
//! spec change must reach the build: the build script reruns, a new
//! operation without an action is a compile error naming its method, and a
//! spec error fails the build with the diagnostic.

mod common;

use std::path::Path;

fn example() -> std::path::PathBuf {
    common::repo().join("examples/build-script")
}

#[test]
fn the_example_crate_is_clippy_clean_and_passes_its_tests() {
    common::cargo(
        &example(),
        &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"],
    );
    let out = common::cargo(&example(), &["test", "--quiet"]);
    assert!(out.contains("test result: ok"), "{out}");
}

/// `cargo check` in `dir`: success, and stderr.
fn check(dir: &Path) -> (bool, String) {
    let out = common::project_cargo(dir)
        .args(["check", "--quiet", "--message-format", "short"])
        .output()
        .expect("cargo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_spec_change_reaches_the_build() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path();
    for file in [
        "build.rs",
        "openapi.yaml",
        "src/lib.rs",
        "src/main.rs",
        "src/handlers.rs",
    ] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("creatable");
        std::fs::copy(example().join(file), to).expect("copied");
    }
    let manifest = std::fs::read_to_string(example().join("Cargo.toml")).expect("readable");
    let manifest = manifest
        .replace(
            "path = \"../..\"",
            &format!("path = {:?}", common::repo().display().to_string()),
        )
        .replace(
            "path = \"../../runtime\"",
            &format!("path = {:?}", common::runtime_dir().display().to_string()),
        );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("writable");
    let (ok, stderr) = check(dir);
    assert!(ok, "{stderr}");

    let spec = std::fs::read_to_string(dir.join("openapi.yaml")).expect("readable");
    let with_version = spec.replacen(
        "paths:\n",
        "paths:\n  /version:\n    get:\n      operationId: getVersion\n      responses:\n        '204': {description: The version.}\n",
        1,
    );
    std::fs::write(dir.join("openapi.yaml"), &with_version).expect("writable");
    let (ok, stderr) = check(dir);
    assert!(!ok, "a new operation without a handler must not build");
    assert!(
        stderr.contains("not all trait items implemented, missing: `get_version`"),
        "{stderr}"
    );

    let broken = with_version.replace("{get: Note}", "{get: Nope}");
    std::fs::write(dir.join("openapi.yaml"), &broken).expect("writable");
    let (ok, stderr) = check(dir);
    assert!(!ok);
    let (line, column) = broken
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("get: Nope").map(|c| (i + 1, c + 1)))
        .expect("the broken line");
    assert!(
        stderr.contains(&format!(
            "openapi.yaml:{line}:{column}: error: action names entity `Nope`"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("= help:"), "{stderr}");
}

/// The dependency lines of a Cargo.toml.
fn dependency_lines(manifest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]" || line == "[dev-dependencies]";
        } else if in_dependencies && !line.starts_with('#') && !line.trim().is_empty() {
            lines.push(line.to_string());
        }
    }
    lines.sort();
    lines
}

#[test]
fn the_example_depends_on_what_apigen_new_gives() {
    // A change to what projects depend on must reach the example too, or its
    // build breaks only in CI.
    let options = common::with_shared_runtime(apigen::Options::default(), &example());
    let generated = apigen::plan(&example().join("openapi.yaml"), &options).expect("valid");
    let planned = &generated
        .plan
        .get("Cargo.toml")
        .expect("a Cargo.toml")
        .contents;
    let example = std::fs::read_to_string(example().join("Cargo.toml")).expect("readable");
    assert_eq!(dependency_lines(&example), dependency_lines(planned));
}
