//! `sam build` of a project deployed as several functions: SAM runs cargo-lambda (with zig,
//! both from the checkout's venv) once per function, and each function gets its own arm64
//! `bootstrap`. The spec has no storage, so that the release build stays short.

mod common;

use std::process::Command;

#[test]
fn sam_build_makes_one_bootstrap_per_function() {
    let spec = common::repo().join("tests/specs/edge/split.yaml");
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path().join("split");
    let options = common::with_shared_runtime(apigen::Options::default(), &dir);
    let generated = apigen::plan(&spec, &options).expect("valid");
    common::write_project(&generated, &options, &dir);
    let venv = common::venv_tool("sam");
    let bin = venv.parent().expect("the venv's bin folder");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // samconfig.toml switches on the beta feature SAM builds Rust with.
    common::run(
        Command::new(&venv)
            .arg("build")
            .current_dir(&dir)
            .env("PATH", path)
            .env("SAM_CLI_TELEMETRY", "0")
            // Shared between runs, so that a second run builds only what changed.
            .env("CARGO_TARGET_DIR", common::projects_target().join("lambda")),
    );
    let functions: Vec<&str> = generated
        .api
        .functions
        .iter()
        .map(|f| f.resource.as_str())
        .collect();
    assert_eq!(functions.len(), 2);
    for function in functions {
        let bootstrap = dir.join(".aws-sam/build").join(function).join("bootstrap");
        let bytes =
            std::fs::read(&bootstrap).unwrap_or_else(|e| panic!("{}: {e}", bootstrap.display()));
        // An ELF executable for aarch64 (e_machine 183), as `Architectures: [arm64]` needs.
        assert_eq!(&bytes[..4], b"\x7fELF", "{function}");
        assert_eq!(
            u16::from_le_bytes([bytes[18], bytes[19]]),
            183,
            "{function}"
        );
    }
}
