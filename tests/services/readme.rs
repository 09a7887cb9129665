//! The generated README's local walk-through, run as its reader would: the lines that mint
//! tokens, the service started with the environment the README names, and every curl line,
//! none of which may be turned away or fail.

use std::path::Path;
use std::process::Command;

use crate::common;
use crate::process::{free_port, Running};
use crate::Project;

/// Runs the README's credentials and curl lines against the in-memory service; answers what
/// was shown, for the report.
pub fn walk_through(project: &Project, work: &Path) -> String {
    let readme =
        std::fs::read_to_string(project.dir.join("README.md")).expect("the README is written");
    let lines: Vec<&str> = readme.lines().map(str::trim).collect();

    // `TOKEN=$(cargo run --quiet --example token -- …)`: run as written, in the project.
    let setup: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("TOKEN=$(") || l.starts_with("GROUP_TOKEN=$("))
        .collect();
    let mut tokens = Vec::new();
    if !setup.is_empty() {
        let script = format!(
            "set -eu\n{}\nprintf '%s\\n' \"${{TOKEN:-}}\" \"${{GROUP_TOKEN:-}}\"\n",
            setup.join("\n")
        );
        // Cargo's settings as the tests build the project, so that nothing is rebuilt.
        let settings = common::project_cargo(&project.dir);
        let out = common::run(
            Command::new("bash")
                .args(["-c", &script])
                .current_dir(&project.dir)
                .envs(settings.get_envs().filter_map(|(k, v)| Some((k, v?))))
                .env_remove("RUSTFLAGS"),
        );
        let mut values = out.lines();
        for name in ["TOKEN", "GROUP_TOKEN"] {
            let value = values.next().unwrap_or_default().to_string();
            assert!(
                value.is_empty() || value.split('.').count() == 3,
                "{}: `{name}` is not a JWT: {value:?}",
                project.name
            );
            tokens.push((name, value));
        }
    }

    // The environment the README starts the service with.
    let mut env: Vec<(String, String)> = Vec::new();
    for line in &lines {
        if let Some(path) = line.strip_prefix("export APIGEN_JWKS=") {
            env.push(("APIGEN_JWKS".into(), path.trim().to_string()));
        }
        if let Some(rest) = line.strip_prefix("APIGEN_API_KEYS=") {
            if let Some((keys, _)) = rest.split_once(" cargo run") {
                env.push(("APIGEN_API_KEYS".into(), keys.to_string()));
            }
        }
    }
    let port = free_port();
    let binary = common::projects_target().join("debug").join(&project.name);
    let mut command = Command::new(binary);
    command
        .current_dir(&project.dir)
        .env("PORT", port.to_string())
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let service = Running::start(&project.name, &mut command, port, work.join("readme.log"));

    let curls: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("curl -i "))
        .map(|l| {
            l.replacen("curl -i ", "curl -s -o /dev/null -w '%{http_code}\\n' ", 1)
                .replace("127.0.0.1:3000", &format!("127.0.0.1:{port}"))
        })
        .collect();
    assert!(
        !curls.is_empty(),
        "{}: the README has curl lines",
        project.name
    );
    let out = common::run(
        Command::new("bash")
            .args(["-c", &format!("set -eu\n{}", curls.join("\n"))])
            .envs(tokens.iter().map(|(k, v)| (*k, v.as_str()))),
    );
    let statuses: Vec<u16> = out.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert_eq!(
        statuses.len(),
        curls.len(),
        "{}: one status per curl line:\n{out}",
        project.name
    );
    for (curl, status) in curls.iter().zip(&statuses) {
        // The README's examples may name an item that is not there (404), never one the
        // credentials shown cannot reach, and never a failure.
        assert!(
            (200..300).contains(status) || *status == 404,
            "{}: the README's line answered {status}:\n{curl}\n{}",
            project.name,
            service.log_tail(30)
        );
    }
    assert!(
        (200..300).contains(&statuses[0]),
        "{}: the README's first line (a write) succeeds: {}\n{}",
        project.name,
        statuses[0],
        service.log_tail(30)
    );
    let credentials = match (
        tokens.is_empty(),
        env.iter().any(|(k, _)| k == "APIGEN_API_KEYS"),
    ) {
        (false, _) => " with the tokens it mints",
        (true, true) => " with its API key",
        (true, false) => "",
    };
    format!(
        "README: {} curl lines{credentials}, none refused ({} 2xx)",
        curls.len(),
        statuses.iter().filter(|s| (200..300).contains(*s)).count()
    )
}
