//! schemathesis, generating requests from the spec against a running
//! service, with a fixed seed so that a failure can be replayed.

use std::path::Path;
use std::process::Command;

use crate::common;

pub const SEED: u64 = 20_261_124;
pub const MAX_EXAMPLES: u32 = 20;
pub const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection";

pub struct Outcome {
    /// Test cases schemathesis generated and sent.
    pub cases: u64,
    pub command: String,
}

/// Runs schemathesis on `spec` against the service on `port`; fails the
/// test with schemathesis's own report (it names each failing request as a
/// curl command) when any check fails.
///
/// A secured API is called with `credentials` (a minted token, an API key): schemathesis then
/// reaches the handlers rather than the authenticator.
pub fn run(
    spec: &Path,
    credentials: &[(String, String)],
    port: u16,
    work: &Path,
    service_log: impl Fn() -> String,
) -> Outcome {
    let report = work.join("schemathesis.json");
    let mut args: Vec<String> = vec![
        "run".into(),
        spec.display().to_string(),
        "--url".into(),
        format!("http://127.0.0.1:{port}"),
        "--seed".into(),
        SEED.to_string(),
        "--max-examples".into(),
        MAX_EXAMPLES.to_string(),
        "--checks".into(),
        CHECKS.into(),
        "--workers".into(),
        "1".into(),
        "--generation-database".into(),
        "none".into(),
        "--no-color".into(),
        "--report".into(),
        "ndjson".into(),
        "--report-ndjson-path".into(),
        report.display().to_string(),
    ];
    for (name, value) in credentials {
        args.push("--header".into());
        args.push(format!("{name}: {value}"));
    }
    let command = format!("st {}", args.join(" "));
    // The same run as a user would type it in the project's folder.
    let headers: String = credentials
        .iter()
        .map(|(name, _)| {
            let value = if name.eq_ignore_ascii_case("authorization") {
                "Bearer $TOKEN"
            } else {
                "$API_KEY"
            };
            format!(" --header '{name}: {value}'")
        })
        .collect();
    let shown = format!(
        "st run openapi.yaml --url http://127.0.0.1:$PORT --seed {SEED} --max-examples {MAX_EXAMPLES} --checks {CHECKS} --workers 1{headers}"
    );
    let output = Command::new(common::venv_tool("st"))
        .args(&args)
        .current_dir(work)
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found failures ({})\n{command}\n\n{stdout}\n{stderr}\n{}",
        output.status,
        service_log()
    );
    let cases = count_cases(&stdout).unwrap_or_else(|| {
        panic!("cannot read the number of test cases from schemathesis's summary:\n{stdout}")
    });
    assert!(cases > 0, "schemathesis ran no test case:\n{stdout}");
    Outcome {
        cases,
        command: shown,
    }
}

/// The number in schemathesis's summary line "Test cases: N generated, ...".
fn count_cases(stdout: &str) -> Option<u64> {
    let mut lines = stdout.lines().skip_while(|l| l.trim() != "Test cases:");
    let line = lines.nth(1)?.trim();
    let (count, rest) = line.split_once(' ')?;
    rest.starts_with("generated").then_some(())?;
    count.replace(',', "").parse().ok()
}
