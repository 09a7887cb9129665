//! How long generation takes, per stage a user waits for: planning a
//! project from a spec (load, model, emit: everything `apigen check` and
//! `apigen new` do before writing), and comparing a plan with an up-to-date
//! project (what `apigen generate --check` adds).
//!
//! Every spec in `specs/`, `tests/specs/` and the corpus of public APIs.
//! `cargo bench --bench generate`; `cargo test --benches` runs each once as
//! a check.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "../tests/common/mod.rs"]
mod common;

fn specs() -> Vec<PathBuf> {
    let mut specs = common::specs();
    specs.extend(common::unseen_specs());
    // The corpus of public APIs (GitHub's and Stripe's are the largest
    // specs a user is likely to bring), when it is there.
    // Their security schemes are completed as the help lines say (apigen refuses them as
    // written), in a folder that outlives the benchmark's specs.
    if common::corpus_dir().is_dir() {
        let secured = std::env::temp_dir().join("apigen-bench-secured-specs");
        specs.extend(
            common::specs_in_dir(&common::corpus_dir())
                .iter()
                .map(|spec| common::secured_as_a_user_would(spec, &secured)),
        );
    }
    specs
}

fn name(spec: &Path) -> String {
    spec.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    for spec in specs() {
        group.bench_function(name(&spec), |b| {
            b.iter(|| apigen::plan(&spec, &apigen::Options::default()).expect("a valid spec"))
        });
    }
    group.finish();
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for spec in specs() {
        let generated = apigen::plan(&spec, &apigen::Options::default()).expect("a valid spec");
        let work = tempfile::tempdir().expect("a temporary folder");
        let dir = work.path().join("api");
        apigen::write::create(&generated.plan, &dir, &Default::default(), false).expect("written");
        group.bench_function(name(&spec), |b| {
            b.iter(|| {
                let changes =
                    apigen::write::changes(&generated.plan, &dir, &Default::default(), false)
                        .expect("readable");
                assert!(changes.is_empty());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, plan, check);
criterion_main!(benches);
