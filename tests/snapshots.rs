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
