use std::path::Path;

use super::*;

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: T, version: '1'}
x-apigen:
  name: t
  tables:
    Main: {pk: PK, sk: SK}
paths:
  /things:
    post:
      operationId: createThing
      x-apigen-action: {create: Thing}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
      responses:
        '201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
components:
  schemas:
    Thing:
      type: object
      required: [id]
      x-apigen-entity: {id: {field: id, generate: ulid}}
      properties:
        id: {type: string, readOnly: true}
"#;

fn generated() -> String {
    let loaded = crate::load::parse(Path::new("t.yaml"), SPEC.to_string()).expect("parses");
    let api = crate::model::build(&loaded, None).expect("valid");
    let plan = crate::emit::emit(
        &api,
        &crate::emit::EmitOptions {
            spec_text: SPEC.to_string(),
            hooks: true,
            ..Default::default()
        },
    )
    .expect("emitted");
    plan.get("template.yaml")
        .expect("a template")
        .contents
        .clone()
}

fn source(text: &str) -> Source {
    Source {
        path: PathBuf::from(FILE),
        text: text.to_string(),
    }
}

/// The errors of merging `text`: (pointer, message, help, line).
fn errors(text: &str) -> Vec<(String, String, String, usize)> {
    let report = merge(&generated(), &source(text)).expect_err("refused");
    report
        .errors()
        .map(|d| {
            (
                d.pointer.clone(),
                d.message.clone(),
                d.help.clone().unwrap_or_default(),
                report.position(&d.pointer).map_or(0, |p| p.0),
            )
        })
        .collect()
}

#[test]
fn the_starter_changes_nothing() {
    let template = generated();
    assert_eq!(
        merge(&template, &source(starter())).expect("merges"),
        template
    );
}

#[test]
fn entries_are_added_changed_and_removed_in_place() {
    let template = generated();
    let merged = merge(
        &template,
        &source(
            r#"
Parameters:
  Team: {Type: String, Default: shop}
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: team, Value: !Ref Team}]
  ApiFunction:
    Properties:
      MemorySize: 512
      Environment:
        Variables:
          UPLOADS_BUCKET: !Ref Uploads
          RUST_LOG: null
Outputs:
  DashboardUrl: null
  UploadsArn:
    Value: !GetAtt Uploads.Arn
"#,
        ),
    )
    .expect("merges");
    let value: Value = serde_norway::from_str(&merged).expect("YAML");
    let function = &value["Resources"]["ApiFunction"]["Properties"];
    assert_eq!(function["MemorySize"].as_u64(), Some(512));
    // What the overrides did not name is kept.
    assert_eq!(function["Runtime"].as_str(), Some("provided.al2023"));
    let variables = &function["Environment"]["Variables"];
    assert!(variables.get("UPLOADS_BUCKET").is_some());
    assert!(variables.get("MAIN_TABLE").is_some());
    assert!(variables.get("RUST_LOG").is_none(), "null removes");
    assert_eq!(
        value["Resources"]["Uploads"]["Type"].as_str(),
        Some("AWS::S3::Bucket")
    );
    assert!(value["Outputs"].get("DashboardUrl").is_none());
    assert!(value["Outputs"].get("UploadsArn").is_some());
    assert!(value["Parameters"].get("Team").is_some());
    // The rest of the text is the generated text: its comments are still there.
    assert!(merged.contains("# One JSON object per request"), "{merged}");
    assert!(merged.contains("# Changed by template.overrides.yaml."));
    assert!(merged.contains("# Added by template.overrides.yaml."));
    assert!(merged.lines().nth(1).is_some_and(|l| l.contains(FILE)));
    // YAML 1.1 readers (SAM, cfn-lint) see the policy version as text, not a date.
    assert!(
        merged.contains("Version: '2012-10-17'") || !merged.contains("2012-10-17"),
        "{merged}"
    );
    assert!(!merged.contains("Version: 2012-10-17"), "{merged}");
    // An empty file changes nothing.
    assert_eq!(merge(&template, &source("")).expect("merges"), template);
}

#[test]
fn sections_and_types_are_checked() {
    let found = errors("Resource:\n  Queue: {Type: AWS::SQS::Queue}\n");
    assert_eq!(found[0].0, "/Resource");
    assert!(
        found[0].2.contains("did you mean `Resources`?"),
        "{found:?}"
    );
    assert_eq!(found[0].3, 1);

    let found = errors("Resources:\n  Queue:\n    Properties: {}\n");
    assert_eq!(found[0].0, "/Resources/Queue");
    assert!(found[0].1.contains("has no `Type`"), "{found:?}");
    assert_eq!(found[0].3, 2);

    let found = errors("Resources:\n  MainTable:\n    Type: AWS::DynamoDB::GlobalTable\n");
    assert_eq!(found[0].0, "/Resources/MainTable/Type");
    assert!(found[0].1.contains("cannot change"), "{found:?}");
    assert_eq!(found[0].3, 3);

    let found = errors("Outputs:\n  Nothing: null\n");
    assert!(found[0].1.contains("nothing to remove"), "{found:?}");
    assert!(found[0].2.contains("`ApiUrl`"), "{found:?}");

    let found = errors("Resources: [a]\n");
    assert!(found[0].1.contains("must be a mapping"), "{found:?}");
}

#[test]
fn references_must_resolve_after_the_merge() {
    let found = errors(
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${Team}-queue'\n      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn}\n",
    );
    let messages: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
    assert!(
        messages.contains(&"no parameter or resource is named `Team`"),
        "{found:?}"
    );
    assert!(
        messages.contains(&"no resource is named `Dead`"),
        "{found:?}"
    );
    assert!(found.iter().all(|f| f.3 >= 5), "{found:?}");

    // Removing what the generated part names is refused where it is removed.
    let found = errors("Resources:\n  AccessLogs: null\n");
    assert_eq!(found[0].0, "/Resources/AccessLogs");
    assert!(found[0].1.contains("still names it"), "{found:?}");

    // SAM's own resources (the function's role) and pseudo parameters resolve.
    merge(
        &generated(),
        &source("Resources:\n  Extra:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: !Sub '${AWS::StackName}-extra'\n      Roles: [!Ref ApiFunctionRole]\n      PolicyDocument: {}\n"),
    )
    .expect("merges");
}

#[test]
fn yaml_errors_have_a_line() {
    let report = merge(&generated(), &source("Resources:\n  A: [\n")).expect_err("refused");
    let d = report.errors().next().expect("an error");
    assert!(d.message.starts_with("not YAML"), "{}", d.message);
    assert!(report.position(&d.pointer).is_some());
}

#[test]
fn adopted_templates_are_compared_by_route() {
    let template = generated();
    assert!(routes::missing(&template, &template).is_empty());
    let without = template.replace("Method: POST", "Method: GET");
    assert_eq!(
        routes::missing(&without, &template),
        [("POST".to_string(), "/things".to_string())]
    );
}
