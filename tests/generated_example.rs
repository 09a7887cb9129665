//! generated-example/ is the committed output for specs/shop.yaml: it must
//! be exactly what the generator produces now, and a working project.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "target" || rel == "Cargo.lock" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel);
            }
        }
    }
    out
}

#[test]
fn generated_example_is_fresh() {
    let root = common::repo().join("generated-example");
    // As `apigen new specs/shop.yaml -o generated-example --runtime runtime` made it: the
    // example builds against the checkout's runtime rather than a copy of it.
    let options = common::with_shared_runtime(apigen::Options::default(), &root);
    let generated = apigen::plan(&common::repo().join("specs/shop.yaml"), &options).expect("valid");
    // What `apigen generate --check` does, hand edits included.
    let recorded = apigen::record(&options, &root);
    let changes =
        apigen::write::changes(&generated.plan, &root, &recorded, true).expect("readable");
    let stale: Vec<&str> = changes.changes.iter().map(|c| c.path()).collect();
    let mut known: BTreeSet<String> = generated
        .plan
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    known.insert(apigen::write::manifest::PATH.to_string());
    let extra: Vec<String> = files_under(&root).difference(&known).cloned().collect();
    assert!(
        stale.is_empty() && extra.is_empty() && changes.kept.iter().all(|k| k.why == apigen::write::KeptReason::Yours),
        "generated-example/ is out of date (differs: {stale:?}, not generated: {extra:?}, kept: {:?}); refresh it with\n  rm -rf generated-example && cargo run -- new specs/shop.yaml -o generated-example --runtime runtime",
        changes.kept
    );
}

#[test]
fn generated_example_is_clippy_clean_and_passes_its_tests() {
    let root = common::repo().join("generated-example");
    common::cargo(
        &root,
        &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"],
    );
    let out = common::cargo(&root, &["test", "--quiet"]);
    assert!(out.contains("test result: ok"), "{out}");
}
