//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every spec in specs/, sorted.
pub fn specs() -> Vec<PathBuf> {
    let mut specs = specs_in("specs");
    // `APIGEN_SPECS=chat,shop` proves only those, while one is being worked on.
    if let Ok(only) = std::env::var("APIGEN_SPECS") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        specs.retain(|spec| only.contains(&stem(spec).as_str()));
    }
    specs
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

/// Writes the planned project `generated` of `options` into `dir`, as `apigen new` does.
pub fn write_project(generated: &apigen::Generated, options: &apigen::Options, dir: &Path) {
    apigen::write::create(&generated.plan, dir, &apigen::record(options, dir), false)
        .expect("written");
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

/// cfn-lint, then `sam validate --lint` (SAM's transform refuses what it cannot deploy), on
/// `dir/template.yaml`: either failing fails the test with its report.
pub fn lint_template(dir: &Path) {
    run(Command::new(venv_tool("cfn-lint"))
        .arg("template.yaml")
        .current_dir(dir));
    run(Command::new(venv_tool("sam"))
        .args([
            "validate",
            "--lint",
            "--region",
            "us-east-1",
            "--template-file",
            "template.yaml",
        ])
        .env("SAM_CLI_TELEMETRY", "0")
        .current_dir(dir));
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

/// Cargo in the generated project `dir`, building into [`projects_target`] with the settings
/// every project build shares (scripts/test-all exports the same ones, so that no build
/// invalidates another's dependencies).
///
/// The settings keep the disk bounded: each project is built once per run, so incremental
/// state is never reused, and full debug information links the AWS SDK's into every test
/// binary (about 230 MB each; line tables keep backtraces' files and lines).
pub fn project_cargo(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", projects_target())
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .env_remove("RUSTFLAGS");
    command
}

pub fn cargo(dir: &Path, args: &[&str]) -> String {
    run(project_cargo(dir).args(args))
}

/// Removes the artifacts of the project `package` in `dir` from [`projects_target`], keeping
/// the dependencies the next project shares: a project is built once per run, and a run builds
/// dozens.
pub fn forget_artifacts(dir: &Path, package: &str) {
    // Best effort: a failure here costs disk, not correctness.
    let _ = project_cargo(dir)
        .args(["clean", "--quiet", "-p", package])
        .output();
}

/// A corpus spec as its user would have it after following apigen's help lines on security
/// schemes API Gateway cannot check as written: JWT schemes get the issuer and audience
/// OpenAPI cannot say, schemes no authorizer reads (basic auth, API keys on an HTTP API) go
/// to a Lambda authorizer, and operations that accept either of two schemes keep the first.
/// Specs apigen takes as they are come back unchanged; the others are written, as JSON, into
/// `dir`.
pub fn secured_as_a_user_would(spec: &Path, dir: &Path) -> PathBuf {
    use serde_json::{json, Value};
    let text = std::fs::read_to_string(spec).expect("a readable spec");
    let loaded = apigen::load::parse(spec, text).expect("a valid document");
    let mut value = loaded.value.clone();
    let http = !matches!(value.pointer("/x-apigen/api"), Some(Value::String(s)) if s == "rest");
    let Some(schemes) = value
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    else {
        return spec.to_path_buf();
    };
    for scheme in schemes.values_mut() {
        let Some(scheme) = scheme.as_object_mut() else {
            continue;
        };
        let kind = scheme
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = kind.as_str();
        let http_scheme = scheme
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let location = scheme
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let location = location.as_str();
        let lambda = match kind {
            "http" => http_scheme != "bearer",
            "apiKey" => location == "query" || (location == "header" && http),
            _ => false,
        };
        if lambda {
            scheme.insert("x-apigen-authorizer".into(), json!("lambda"));
            continue;
        }
        if matches!(kind, "oauth2" | "http") && !scheme.contains_key("x-apigen-issuer") {
            scheme.insert(
                "x-apigen-issuer".into(),
                json!("https://issuer.example.com"),
            );
        }
        if matches!(kind, "oauth2" | "http" | "openIdConnect") {
            scheme
                .entry("x-apigen-audience")
                .or_insert_with(|| json!(["corpus"]));
        }
    }
    let first_only = |security: &mut Value| {
        if let Some(list) = security.as_array_mut() {
            let names = |v: &Value| {
                let mut n: Vec<String> = v
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                n.sort();
                n
            };
            if list.iter().any(|r| names(r) != names(&list[0])) {
                list.truncate(1);
            }
        }
    };
    if let Some(root) = value.get_mut("security") {
        first_only(root);
    }
    if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                if let Some(security) = op.get_mut("security") {
                    first_only(security);
                }
            }
        }
    }
    if value == loaded.value {
        return spec.to_path_buf();
    }
    std::fs::create_dir_all(dir).expect("a writable folder");
    let out = dir.join(format!("{}.json", stem(spec)));
    std::fs::write(&out, serde_json::to_string_pretty(&value).expect("JSON")).expect("written");
    out
}
