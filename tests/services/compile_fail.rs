//! A project's compile-fail example: every line marked `//~ CODE` must fail
//! to compile with that error, and nothing else may fail.

use std::path::Path;

use crate::common;

/// Writes `text` into the project as `examples/compile_fail.rs`, checks it,
/// and removes it again. Answers how many refusals it saw.
pub fn check(project: &Path, text: &str) -> usize {
    let expected: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let code = line.split("//~ ").nth(1)?;
            Some((i + 1, code.trim().to_string()))
        })
        .collect();
    assert!(!expected.is_empty(), "the example marks no line");
    let example = project.join("examples/compile_fail.rs");
    std::fs::create_dir_all(example.parent().expect("a folder")).expect("examples/");
    std::fs::write(&example, text).expect("the example written");
    let output = common::project_cargo(project)
        .args(["check", "--quiet", "--example", "compile_fail"])
        .args(["--message-format", "short"])
        .output()
        .expect("cargo runs");
    std::fs::remove_file(&example).expect("the example removed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the example compiled:\n{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("examples/compile_fail.rs:") && l.contains(": error"))
        .collect();
    for (line, code) in &expected {
        let at = format!("examples/compile_fail.rs:{line}:");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&at) && e.contains(&format!("error[{code}]"))),
            "line {line} must fail with {code}:\n{stderr}"
        );
    }
    assert_eq!(
        errors.len(),
        expected.len(),
        "only the marked lines may fail:\n{stderr}"
    );
    expected.len()
}
