//! Global tables: the deploying region always holds a replica of an
//! eventually consistent table, a strongly consistent one deploys only where
//! it lists, and what DynamoDB cannot do on either is said before deploying.
//! Templates are planned (nothing is built), read back, and linted with
//! cfn-lint and `sam validate --lint`.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;

use apigen::diagnostic::Severity;
use yaml_rust2::{Yaml, YamlLoader};

fn template_of(spec: &Path) -> Yaml {
    let generated = apigen::plan(spec, &apigen::Options::default()).expect("a valid spec");
    let text = &generated
        .plan
        .get("template.yaml")
        .expect("a template")
        .contents;
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("template.yaml"), text).expect("written");
    common::lint_template(dir.path());
    YamlLoader::load_from_str(text)
        .expect("YAML")
        .pop()
        .expect("one document")
}

/// The diagnostics of a spec's text, as (severity, pointer, message).
fn diagnostics(text: &str) -> Vec<(Severity, String, String)> {
    let spec = apigen::load::parse(Path::new("spec.yaml"), text.to_string()).expect("parses");
    let found = match apigen::model::build(&spec, None) {
        Ok(api) => api.warnings,
        Err(all) => all,
    };
    found
        .into_iter()
        .map(|d| (d.severity, d.pointer, d.message))
        .collect()
}

fn strong_spec() -> String {
    std::fs::read_to_string(common::repo().join("tests/specs/storage/global-strong.yaml"))
        .expect("the spec")
}

#[test]
fn a_strongly_consistent_table_deploys_only_in_its_regions() {
    let t = template_of(&common::repo().join("tests/specs/storage/global-strong.yaml"));
    let table = &t["Resources"]["MainTable"];
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::GlobalTable"));
    let properties = &table["Properties"];
    assert_eq!(
        properties["MultiRegionConsistency"].as_str(),
        Some("STRONG")
    );
    assert_eq!(
        properties["GlobalTableWitnesses"][0]["Region"].as_str(),
        Some("us-west-2")
    );
    let regions: Vec<&str> = properties["Replicas"]
        .as_vec()
        .expect("replicas")
        .iter()
        .filter_map(|r| r["Region"].as_str())
        .collect();
    assert_eq!(regions, ["us-east-1", "us-east-2"]);
    let assertion = &t["Rules"]["MainTableRegions"]["Assertions"][0];
    assert!(
        assertion["AssertDescription"]
            .as_str()
            .is_some_and(|d| d.contains("us-east-1, us-east-2")),
        "{assertion:?}"
    );
    let notes = diagnostics(&strong_spec());
    assert!(
        notes
            .iter()
            .any(|(severity, _, message)| *severity == Severity::Note
                && message.contains("deploy the stack in one of us-east-1, us-east-2")),
        "{notes:?}"
    );
}

#[test]
fn an_eventually_consistent_table_always_has_the_deploying_region() {
    let t = template_of(&common::repo().join("specs/petstore.yaml"));
    let replicas = t["Resources"]["PetsTable"]["Properties"]["Replicas"]
        .as_vec()
        .expect("replicas")
        .clone();
    assert_eq!(replicas.len(), 3, "the deploying region and the two listed");
    // `!Ref AWS::Region` first, then each listed region unless it is the deploying one.
    let first = format!("{:?}", replicas[0]["Region"]);
    assert!(first.contains("AWS::Region"), "{first}");
    let listed = format!("{:?}", replicas[1]);
    assert!(
        listed.contains("InUsEast1") && listed.contains("AWS::NoValue"),
        "{listed}"
    );
    let conditions = &t["Conditions"];
    assert!(!conditions["InUsEast1"].is_badvalue());
    assert!(!conditions["InEuWest1"].is_badvalue());
}

#[test]
fn what_a_global_table_cannot_do_is_said_before_deploying() {
    let strong = strong_spec();
    let errors = |text: &str| -> Vec<(String, String)> {
        diagnostics(text)
            .into_iter()
            .filter(|(s, _, _)| *s == Severity::Error)
            .map(|(_, p, m)| (p, m))
            .collect()
    };
    let unique = strong.replace(
        "version: version\n",
        "version: version\n        unique: [owner]\n",
    );
    let found = errors(&unique);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].0,
        "/components/schemas/Account/x-apigen-entity/unique"
    );
    assert!(found[0].1.contains("transactions"), "{found:?}");

    let two = strong.replace("      witness: us-west-2\n", "");
    let found = errors(&two);
    assert!(
        found[0].1.contains("three regions, or two and a witness"),
        "{found:?}"
    );
    assert_eq!(found[0].0, "/x-apigen/tables/Main/replicas");

    let mixed = strong.replace("[us-east-1, us-east-2]", "[us-east-1, eu-west-1]");
    let found = errors(&mixed);
    assert!(found[0].1.contains("more than one region set"), "{found:?}");

    let eventual = strong
        .replace("      witness: us-west-2\n", "")
        .replace("      consistency: strong\n", "");
    assert!(errors(&eventual).is_empty());
    let warned = diagnostics(&eventual);
    assert!(
        warned.iter().any(|(s, p, m)| *s == Severity::Warning
            && p == "/components/schemas/Account/x-apigen-entity/version"
            && m.contains("checked in one region at a time")),
        "{warned:?}"
    );
    let witness_alone = eventual.replace(
        "      replicas:",
        "      witness: us-west-2\n      replicas:",
    );
    let found = errors(&witness_alone);
    assert_eq!(found[0].0, "/x-apigen/tables/Main/witness", "{found:?}");
}
