//! How a project gets the runtime crate: a vendored copy that builds from a
//! fresh clone, the version the manifest records, and `generate` saying when
//! the generated code needs another.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn apigen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apigen"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("apigen runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A new project from a spec in specs/, with the runtime vendored (the default).
fn new_project(work: &Path, spec: &str) -> PathBuf {
    let spec = common::repo().join("specs").join(spec);
    let out = apigen(work, &["new", spec.to_str().expect("UTF-8"), "-o", "api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    work.join("api")
}

/// Every file under `dir`, relative to it, `/`-separated.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

fn git(dir: &Path, args: &[&str]) {
    common::run(
        Command::new("git")
            .args([
                "-c",
                "user.name=apigen",
                "-c",
                "user.email=apigen@localhost",
            ])
            .args(args)
            .current_dir(dir),
    );
}

#[test]
fn a_fresh_clone_builds_with_the_vendored_runtime_and_tests_only_its_spec() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = new_project(work.path(), "petstore.yaml");

    // The copy is the runtime crate itself, byte for byte.
    let vendored = dir.join(apigen::emit::VENDOR);
    let runtime = common::runtime_dir();
    let sources = files(&runtime.join("src"));
    assert_eq!(files(&vendored.join("src")), sources);
    for file in sources
        .iter()
        .map(|f| format!("src/{f}"))
        .chain(["Cargo.toml".into()])
    {
        assert_eq!(
            std::fs::read(vendored.join(&file)).expect("vendored"),
            std::fs::read(runtime.join(&file)).expect("in runtime/"),
            "{file} differs from runtime/{file}"
        );
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("readable");
    assert!(
        manifest.contains(&format!(
            "apigen-runtime = {{ version = \"{}\", path = \"{}\"",
            apigen::emit::runtime_requirement(),
            apigen::emit::VENDOR
        )),
        "{manifest}"
    );

    // What a teammate gets: the committed files, nothing else.
    git(&dir, &["init", "--quiet"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "--quiet", "-m", "new"]);
    let clone = work.path().join("clone");
    git(
        work.path(),
        &["clone", "--quiet", dir.to_str().expect("UTF-8"), "clone"],
    );
    common::cargo(&clone, &["build", "--quiet", "--all-targets"]);
    // The runtime's tests are the runtime's: the project's library and binary hold none, and a
    // dependency's tests never run in its dependents.
    let listed = common::cargo(
        &clone,
        &["test", "--quiet", "--lib", "--bins", "--", "--list"],
    );
    assert!(
        !listed.lines().any(|l| l.ends_with(": test")),
        "src/ holds tests:\n{listed}"
    );
    let tests = common::cargo(&clone, &["test", "--quiet"]);
    assert!(tests.contains("test result: ok"), "{tests}");
    common::forget_artifacts(&clone, "petstore-api");
}

#[test]
fn the_manifest_records_the_runtime_and_generate_says_when_it_changes() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = new_project(work.path(), "petstore.yaml");
    let path = dir.join(apigen::write::manifest::PATH);
    let text = std::fs::read_to_string(&path).expect("readable");
    let mut manifest = apigen::write::Manifest::parse(&text).expect("a manifest");
    assert_eq!(
        manifest.runtime.as_deref(),
        Some(apigen::emit::RUNTIME_VERSION)
    );

    // As if an older apigen had written the project for runtime 0.0.1.
    manifest.runtime = Some("0.0.1".into());
    std::fs::write(&path, manifest.to_text()).expect("writable");
    let out = apigen(&dir, &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "the generated code now needs apigen-runtime {}; the project had apigen-runtime 0.0.1",
            apigen::emit::RUNTIME_VERSION
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("## {}", apigen::emit::RUNTIME_VERSION)),
        "{said}"
    );
    let text = std::fs::read_to_string(&path).expect("readable");
    let manifest = apigen::write::Manifest::parse(&text).expect("a manifest");
    assert_eq!(
        manifest.runtime.as_deref(),
        Some(apigen::emit::RUNTIME_VERSION)
    );

    // Once recorded, nothing more is said.
    let out = apigen(&dir, &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("apigen-runtime"), "{}", stderr(&out));
}

/// Projects from before the runtime crate had a generated src/main.rs: one
/// nobody edited is replaced once by the user's new entry point; an edited one
/// is the user's and kept.
#[test]
fn an_untouched_generated_main_is_replaced_once_and_an_edited_one_kept() {
    let old_main = "// @generated by apigen from openapi.yaml: do not edit.\nfn main() {}\n";
    for edited in [false, true] {
        let work = tempfile::tempdir().expect("a temporary folder");
        let dir = new_project(work.path(), "petstore.yaml");
        let main = dir.join("src/main.rs");
        let new_main = std::fs::read_to_string(&main).expect("readable");
        std::fs::write(&main, old_main).expect("writable");
        let path = dir.join(apigen::write::manifest::PATH);
        let text = std::fs::read_to_string(&path).expect("readable");
        let mut manifest = apigen::write::Manifest::parse(&text).expect("a manifest");
        manifest.runtime = None;
        manifest.files.insert(
            "src/main.rs".into(),
            apigen::write::manifest::hash(if edited { "fn main() {}\n" } else { old_main }),
        );
        std::fs::write(&path, manifest.to_text()).expect("writable");

        let out = apigen(&dir, &["generate"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("the project had a runtime inside src/generated/"),
            "{}",
            stderr(&out)
        );
        let now = std::fs::read_to_string(&main).expect("readable");
        if edited {
            assert_eq!(now, old_main, "an edited main.rs is the user's");
        } else {
            assert_eq!(now, new_main, "an untouched generated main.rs is replaced");
        }
    }
}

/// `--runtime` names an apigen-runtime crate, or a folder apigen fills with
/// one; anything else is refused before a project names it in Cargo.toml.
#[test]
fn runtime_fills_a_missing_folder_and_refuses_another_crate() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let spec = common::repo().join("specs/petstore.yaml");
    let spec = spec.to_str().expect("UTF-8");

    let out = apigen(
        work.path(),
        &["new", spec, "-o", "a", "--runtime", "shared/apigen-runtime"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shared = work.path().join("shared/apigen-runtime");
    assert_eq!(
        std::fs::read(shared.join("Cargo.toml")).expect("written"),
        std::fs::read(common::runtime_dir().join("Cargo.toml")).expect("in runtime/")
    );
    assert!(!work.path().join("a").join(apigen::emit::VENDOR).exists());
    let manifest = std::fs::read_to_string(work.path().join("a/Cargo.toml")).expect("readable");
    assert!(
        manifest.contains("path = \"../shared/apigen-runtime\""),
        "{manifest}"
    );

    // A second service uses the copy as it is.
    let out = apigen(
        work.path(),
        &["new", spec, "-o", "b", "--runtime", "shared/apigen-runtime"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("wrote apigen-runtime"),
        "{}",
        stderr(&out)
    );

    let other = work.path().join("other");
    std::fs::create_dir_all(&other).expect("creatable");
    std::fs::write(other.join("Cargo.toml"), "[package]\nname = \"other\"\n").expect("writable");
    let out = apigen(work.path(), &["new", spec, "-o", "c", "--runtime", "other"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not the apigen-runtime crate"),
        "{}",
        stderr(&out)
    );
    assert!(!work.path().join("c").exists(), "nothing is written");
}
