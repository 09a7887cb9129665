//! Snapshots of every file generated for every spec in specs/ but the shop's
//! (generated-example/ is its snapshot, compiled and tested), so that any
//! change to the output is seen and reviewed.

mod common;

use apigen::emit::Owner;

/// Files copied verbatim from templates/ or runtime/ are the same for every
/// spec; their own tests cover them.
fn is_static(path: &str) -> bool {
    path.starts_with(apigen::emit::VENDOR)
        || path == ".cargo/config.toml"
        || path == ".gitignore"
        || path == "openapi.yaml"
}

#[test]
fn generated_files_match_their_snapshots() {
    for spec in common::specs() {
        let stem = common::stem(&spec);
        if stem == "shop" {
            continue;
        }
        let generated =
            apigen::plan(&spec, &apigen::Options::default()).expect("the example specs are valid");
        for file in generated.plan.files.iter().filter(|f| !is_static(&f.path)) {
            let name = format!("{stem}__{}", file.path.replace(['/', '.'], "_"));
            insta::with_settings!({ snapshot_suffix => "", omit_expression => true, description => format!("{} ({:?})", file.path, file.owner) }, {
                insta::assert_snapshot!(name, file.contents);
            });
        }
    }
}

#[test]
fn generation_is_deterministic() {
    for spec in common::specs() {
        let a = apigen::plan(&spec, &apigen::Options::default()).expect("valid");
        let b = apigen::plan(&spec, &apigen::Options::default()).expect("valid");
        assert_eq!(a.plan.files, b.plan.files, "{}", spec.display());
    }
}

#[test]
fn generated_files_carry_the_marker_and_user_files_do_not() {
    for spec in common::specs() {
        let generated = apigen::plan(&spec, &apigen::Options::default()).expect("valid");
        for file in &generated.plan.files {
            let marked = apigen::emit::is_generated(&file.contents);
            match file.owner {
                Owner::Generator => assert!(
                    marked && file.contents.contains("do not edit"),
                    "{} lacks the marker",
                    file.path
                ),
                Owner::User | Owner::Spec | Owner::Vendored => {
                    assert!(!marked, "{} is the user's but is marked", file.path)
                }
            }
        }
    }
}

/// The lines of `a`'s src/ that lie in a run of six or more consecutive lines
/// that `b`'s src/ also has: code copied into every project, not what two
/// specs happen to have in common line by line.
fn lines_shared(a: &apigen::emit::FilePlan, b: &apigen::emit::FilePlan) -> usize {
    const RUN: usize = 6;
    let src = |plan: &apigen::emit::FilePlan| -> Vec<Vec<String>> {
        plan.files
            .iter()
            .filter(|f| f.path.starts_with("src/"))
            .map(|f| f.contents.lines().map(str::to_owned).collect())
            .collect()
    };
    let other = src(b);
    let theirs: std::collections::HashSet<&[String]> =
        other.iter().flat_map(|lines| lines.windows(RUN)).collect();
    src(a)
        .iter()
        .map(|lines| {
            let mut shared = vec![false; lines.len()];
            for (i, window) in lines.windows(RUN).enumerate() {
                if theirs.contains(window) {
                    shared[i..i + RUN].iter_mut().for_each(|s| *s = true);
                }
            }
            shared.iter().filter(|s| **s).count()
        })
        .sum()
}

/// Everything spec-independent is in the runtime crate: two unrelated
/// projects (public specs from the corpus, by different authors) share little
/// of their source beyond what the same emitter writes for similar operations.
#[test]
fn unrelated_projects_share_little_source() {
    let corpus = common::corpus_dir();
    let work = tempfile::tempdir().expect("a temporary folder");
    let plan = |name: &str| {
        let spec = common::secured_as_a_user_would(&corpus.join(name), work.path());
        apigen::plan(&spec, &apigen::Options::default())
            .expect("a corpus spec")
            .plan
    };
    let (museum, travel) = (plan("redocly-museum-31.yaml"), plan("train-travel-31.yaml"));
    let lines = |p: &apigen::emit::FilePlan| -> usize {
        p.files
            .iter()
            .filter(|f| f.path.starts_with("src/"))
            .map(|f| f.contents.lines().count())
            .sum()
    };
    let shared = lines_shared(&museum, &travel);
    assert!(
        shared < 300,
        "{shared} of the museum project's {} lines of src/ are also in the travel project's",
        lines(&museum)
    );
    // The measure finds copied code when there is some: a project shares all of its own.
    assert_eq!(
        lines_shared(&museum, &museum),
        lines(&museum) - lines_of_short_files(&museum)
    );
}

/// Lines of files too short to hold a run, which the measure cannot count.
fn lines_of_short_files(plan: &apigen::emit::FilePlan) -> usize {
    plan.files
        .iter()
        .filter(|f| f.path.starts_with("src/"))
        .map(|f| f.contents.lines().count())
        .filter(|&n| n < 6)
        .sum()
}
