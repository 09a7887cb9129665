//! The public API descriptions in the corpus (`../shared/corpus`, or
//! `APIGEN_CORPUS`), none written for apigen, from petstore to GitHub and
//! Stripe: each must give a project whose template passes cfn-lint, that
//! passes clippy with `-D warnings` and its own tests, and whose generated
//! example test round-trips every example that fits its type. Writes the figures to
//! `$APIGEN_PROJECTS_TARGET/corpus-report.md`, which test-all prints.

mod common;

use std::fmt::Write as _;
use std::time::Instant;

/// Runs cargo in `dir`; `Err` holds the first panics and the end of its
/// output.
fn cargo(dir: &std::path::Path, args: &[&str]) -> Result<String, String> {
    let out = common::project_cargo(dir)
        .args(args)
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        // The first panics with their messages (a test's reason), then the
        // end of the output (cargo's summary).
        let lines: Vec<&str> = text.lines().collect();
        let mut kept: Vec<&str> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.contains("panicked at") && kept.len() < 10 {
                kept.extend(lines.get(i..i + 2).unwrap_or_default());
            }
        }
        kept.push("...");
        kept.extend(lines.iter().skip(lines.len().saturating_sub(30)));
        Err(kept.join("\n"))
    }
}

struct Row {
    spec: String,
    operations: usize,
    schemas: usize,
    types: usize,
    warnings: usize,
    plan_ms: u128,
    cfn_lint: bool,
    clippy: bool,
    /// How long `cargo clippy` and `cargo test` (build and run) took, in seconds.
    clippy_s: f64,
    test_s: f64,
    tests: String,
    /// Examples in the spec, and how many fit their types (the rest are warnings).
    examples: usize,
    fitting: usize,
    /// How many the project's example test round-tripped.
    round_tripped: Option<usize>,
}

#[test]
fn every_corpus_spec_gives_a_project_that_passes_clippy_and_its_tests() {
    let root = common::projects_target().join("corpus");
    let _ = std::fs::remove_dir_all(&root);
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let mut specs = common::specs_in_dir(&common::corpus_dir());
    // Smallest first: the first project builds the dependencies every project shares, so that
    // the build times of the large ones are their own code's.
    specs.sort_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()));
    assert!(
        !specs.is_empty(),
        "no specs in {}",
        common::corpus_dir().display()
    );
    for original in specs {
        let stem = common::stem(&original);
        // Security apigen cannot deploy as written is refused, never dropped; the project is
        // then made from the spec its user would write after reading the help lines.
        let spec = common::secured_as_a_user_would(&original, &root.join("secured-specs"));
        if spec != original {
            match apigen::plan(&original, &apigen::Options::default()) {
                Ok(_) => failures.push(format!(
                    "{stem}: security API Gateway cannot check as written was accepted"
                )),
                Err(e) if !e.to_string().contains("securitySchemes") => failures.push(format!(
                    "{stem}: refused, but not for its security schemes:\n{e}"
                )),
                Err(_) => {}
            }
        }
        // Its own package name: cargo must never take one project's cached
        // result for another's.
        let dir = root.join(&stem);
        let options = common::with_shared_runtime(
            apigen::Options {
                name: Some(format!("corpus-{stem}")),
                ..Default::default()
            },
            &dir,
        );
        let started = Instant::now();
        let generated = match apigen::plan(&spec, &options) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{stem}: apigen refused it:\n{e}"));
                continue;
            }
        };
        let plan_ms = started.elapsed().as_millis();
        common::write_project(&generated, &options, &dir);
        let schemas = generated
            .api
            .types
            .defs
            .iter()
            .filter(|d| d.pointer.starts_with("/components/schemas/"))
            .count();
        let mut row = Row {
            spec: spec
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned(),
            operations: generated.api.operations.len(),
            schemas,
            types: generated.api.types.defs.len(),
            warnings: generated.report.warnings().count(),
            plan_ms,
            cfn_lint: false,
            clippy: false,
            clippy_s: 0.0,
            test_s: 0.0,
            tests: "not run".into(),
            examples: generated.api.examples.len(),
            fitting: generated
                .api
                .examples
                .iter()
                .filter(|e| e.misfit.is_none())
                .count(),
            round_tripped: None,
        };
        // A template CloudFormation would refuse (more than 500 resources, say) is no
        // deployable project, however well its code compiles.
        let lint = std::process::Command::new(common::venv_tool("cfn-lint"))
            .arg("template.yaml")
            .current_dir(&dir)
            .output()
            .expect("cfn-lint runs");
        row.cfn_lint = lint.status.success();
        if !row.cfn_lint {
            failures.push(format!(
                "{stem}: cfn-lint refused template.yaml:\n{}",
                String::from_utf8_lossy(&lint.stdout)
            ));
        }
        let started = Instant::now();
        match cargo(
            &dir,
            &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"],
        ) {
            Ok(_) => row.clippy = true,
            Err(tail) => failures.push(format!("{stem}: clippy failed:\n{tail}")),
        }
        row.clippy_s = started.elapsed().as_secs_f64();
        if row.clippy {
            let started = Instant::now();
            let tested = cargo(&dir, &["test", "--quiet"]);
            row.test_s = started.elapsed().as_secs_f64();
            match tested {
                Ok(out) => {
                    let passed: usize = out
                        .lines()
                        .filter_map(|l| l.strip_prefix("test result: ok. "))
                        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
                        .sum();
                    row.tests = format!("{passed} passed");
                    row.round_tripped = round_tripped(&dir);
                    // Every example that fits gets a test, and each passed.
                    if row.round_tripped.unwrap_or(0) != row.fitting {
                        failures.push(format!(
                            "{stem}: {} of {} fitting examples round-tripped",
                            row.round_tripped.unwrap_or(0),
                            row.fitting
                        ));
                    }
                }
                Err(tail) => {
                    row.tests = "failed".into();
                    failures.push(format!("{stem}: cargo test failed:\n{tail}"));
                }
            }
        }
        // Its artifacts are not reused; the shared dependencies stay.
        let package = format!("corpus-{stem}");
        common::forget_artifacts(&dir, &package);
        rows.push(row);
    }
    rows.sort_by(|a, b| a.spec.cmp(&b.spec));
    write_report(&rows);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// How many tests the project's `tests/examples.rs` passed; `cargo test` has built it, so
/// this only runs it.
fn round_tripped(dir: &std::path::Path) -> Option<usize> {
    if !dir.join("tests/examples.rs").exists() {
        return Some(0);
    }
    let out = cargo(dir, &["test", "--quiet", "--test", "examples"]).ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("test result: ok. "))
        .and_then(|l| l.split(' ').next()?.parse().ok())
}

fn write_report(rows: &[Row]) {
    let mut out = String::from(
        "| spec | operations | schemas | Rust types | warnings | planned in (debug build) | cfn-lint | clippy -D warnings | cargo test | examples round-tripped | clippy, then test (build and run) |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} ms | {} | {} | {} | {} | {:.0} s, {:.0} s |",
            r.spec,
            r.operations,
            r.schemas,
            r.types,
            r.warnings,
            r.plan_ms,
            if r.cfn_lint { "yes" } else { "no" },
            if r.clippy { "yes" } else { "no" },
            r.tests,
            examples(r),
            r.clippy_s,
            r.test_s,
        );
    }
    let path = common::projects_target().join("corpus-report.md");
    std::fs::create_dir_all(common::projects_target()).expect("creatable");
    std::fs::write(&path, out).expect("writable");
}

/// `2325 of 2379 (54 misfit)`, or `none in the spec`.
fn examples(r: &Row) -> String {
    if r.examples == 0 {
        return "none in the spec".into();
    }
    let done = r
        .round_tripped
        .map_or_else(|| "not run".to_string(), |n| n.to_string());
    let misfits = r.examples - r.fitting;
    if misfits == 0 {
        format!("{done} of {}", r.examples)
    } else {
        format!("{done} of {} ({misfits} misfit, warned)", r.examples)
    }
}
