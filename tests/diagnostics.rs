//! Every rejection the hint vocabulary lists, and the loader's own errors:
//! each is an error with a pointer, a position and a help line.

use std::path::Path;

use apigen::load::{self, LoadError};
use apigen::model;

const BASE: &str = r#"openapi: 3.0.3
info: {title: T, version: '1'}
x-apigen:
  tables:
    Main: {pk: PK, sk: SK, indexes: {GSI1: {pk: GSI1PK, sk: GSI1SK}}}
paths:
  /items:
    post:
      operationId: createItem
      x-apigen-action: {create: Item}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}
      responses:
        '201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
        '4XX': {description: refused}
  /items/{itemId}:
    get:
      operationId: getItem
      x-apigen-action: {get: Item}
      parameters: [{name: itemId, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
        '4XX': {description: refused}
components:
  schemas:
    Item:
      type: object
      required: [id, name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        tags: {type: array, items: {type: string}}
      x-apigen-entity:
        key: {pk: "ITEM#{id}", sk: ITEM}
"#;

/// The errors of a spec, as (pointer, message, help, line).
fn errors(text: &str) -> Vec<(String, String, String, usize)> {
    let report = match load::parse(Path::new("spec.yaml"), text.to_string()) {
        Ok(spec) => match model::build(&spec, None) {
            Ok(_) => return Vec::new(),
            Err(diagnostics) => spec.report(diagnostics),
        },
        Err(LoadError::Invalid(report)) => report,
        Err(e) => panic!("{e}"),
    };
    report
        .errors()
        .map(|d| {
            let line = report.position(&d.pointer).map_or(0, |p| p.0);
            (
                d.pointer.clone(),
                d.message.clone(),
                d.help.clone().unwrap_or_default(),
                line,
            )
        })
        .collect()
}

fn one_error(text: &str) -> (String, String, String, usize) {
    let mut all = errors(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

#[test]
fn the_base_spec_is_valid() {
    assert!(errors(BASE).is_empty(), "{:#?}", errors(BASE));
}

#[test]
fn unknown_hint_key() {
    let (pointer, message, help, line) = one_error(&BASE.replace("key: {pk:", "kee: {pk:"));
    assert_eq!(pointer, "/components/schemas/Item/x-apigen-entity/kee");
    assert!(message.contains("unknown key `kee`"), "{message}");
    assert!(help.contains("did you mean `key`"), "{help}");
    assert_eq!(line, 35);
}

#[test]
fn entity_naming_a_missing_table() {
    let (pointer, message, help, _) = one_error(&BASE.replace(
        "key: {pk: \"ITEM#{id}\", sk: ITEM}",
        "table: Other\n        key: {pk: \"ITEM#{id}\", sk: ITEM}",
    ));
    assert_eq!(pointer, "/components/schemas/Item/x-apigen-entity/table");
    assert!(message.contains("table `Other`"), "{message}");
    assert!(help.contains("`Main`"), "{help}");
}

#[test]
fn entity_naming_a_missing_index() {
    let (_, message, help, _) = one_error(&BASE.replace(
        "sk: ITEM}",
        "sk: ITEM}\n        indexes: {GSI9: {pk: \"X#{name}\"}}",
    ));
    assert!(message.contains("no index `GSI9`"), "{message}");
    assert!(help.contains("`GSI1`"), "{help}");
}

#[test]
fn template_variable_that_is_not_a_required_scalar() {
    let (_, message, _, _) = one_error(&BASE.replace("sk: ITEM}", "sk: \"ITEM#{tags}\"}"));
    assert!(message.contains("not a scalar property"), "{message}");
    let (_, message, help, _) = one_error(&BASE.replace("sk: ITEM}", "sk: \"ITEM#{color}\"}"));
    assert!(message.contains("not a property of `Item`"), "{message}");
    assert!(help.contains("`name`"), "{help}");
    let optional = BASE
        .replace("required: [id, name]", "required: [id]")
        .replace("sk: ITEM}", "sk: \"ITEM#{name}\"}");
    let found = errors(&optional);
    assert!(
        found
            .iter()
            .any(|e| e.1.contains("not a required property")),
        "{found:#?}"
    );
}

#[test]
fn sort_key_on_a_table_without_one() {
    let text = BASE.replace("Main: {pk: PK, sk: SK, indexes", "Main: {pk: PK, indexes");
    let (_, message, _, _) = one_error(&text);
    assert!(message.contains("has no sort key"), "{message}");
}

#[test]
fn action_naming_a_missing_entity() {
    let (pointer, message, _, _) = one_error(&BASE.replace("{get: Item}", "{get: Thing}"));
    assert_eq!(pointer, "/paths/~1items~1{itemId}/get/x-apigen-action/get");
    assert!(message.contains("entity `Thing`"), "{message}");
}

#[test]
fn unbound_key_variable() {
    let text = BASE
        .replace("/items/{itemId}:", "/items/{other}:")
        .replace("name: itemId", "name: other");
    let (_, message, help, _) = one_error(&text);
    assert!(
        message.contains("`{id}`") && message.contains("not bound"),
        "{message}"
    );
    assert!(help.contains("bind"), "{help}");
}

#[test]
fn create_whose_key_is_read_only_and_set_by_nobody() {
    // The server drops read-only fields from what clients send, so no
    // request could ever carry the key.
    let text = BASE
        .replace("required: [id, name]", "required: [id, name, sku]")
        .replace(
            "        name: {type: string}\n",
            "        name: {type: string}\n        sku: {type: string, readOnly: true}\n",
        )
        .replace("ITEM#{id}", "ITEM#{sku}")
        .replace("{get: Item}", "none");
    let (pointer, message, help, line) = one_error(&text);
    assert_eq!(pointer, "/paths/~1items/post/x-apigen-action/create");
    assert!(
        message.contains("`{sku}`") && message.contains("read-only"),
        "{message}"
    );
    assert!(help.contains("drop `readOnly`"), "{help}");
    assert_eq!(line, 10);
}

#[test]
fn put_whose_key_is_read_only_in_the_body() {
    let text = BASE
        .replace("required: [id, name]", "required: [id, name, sku]")
        .replace(
            "        name: {type: string}\n",
            "        name: {type: string}\n        sku: {type: string, readOnly: true}\n",
        )
        .replace("ITEM#{id}", "ITEM#{sku}")
        .replace("{create: Item}", "none")
        .replace(
            "    post:\n      operationId: createItem",
            "    put:\n      operationId: putItem",
        )
        .replace("{get: Item}", "none")
        .replace(
            "x-apigen-action: none\n      requestBody",
            "x-apigen-action: {put: Item}\n      requestBody",
        );
    let (pointer, message, _, _) = one_error(&text);
    assert_eq!(pointer, "/paths/~1items/put/x-apigen-action/put");
    assert!(message.contains("`{sku}`"), "{message}");
}

#[test]
fn two_entities_with_the_same_type() {
    let text = BASE.replace(
        "        key: {pk: \"ITEM#{id}\", sk: ITEM}\n",
        "        key: {pk: \"ITEM#{id}\", sk: ITEM}\n    Other:\n      type: object\n      required: [id]\n      properties: {id: {type: string}}\n      x-apigen-entity: {type: ITEM, key: {pk: \"O#{id}\", sk: O}}\n",
    );
    let (_, message, _, _) = one_error(&text);
    assert!(message.contains("both have type `ITEM`"), "{message}");
}

#[test]
fn verb_that_does_not_fit_the_method() {
    let (_, message, help, _) = one_error(&BASE.replace("{get: Item}", "{create: Item}"));
    assert!(message.contains("`create` does not fit GET"), "{message}");
    assert!(help.contains("`get`"), "{help}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = BASE
        .replace("{get: Item}", "{get: Thing}")
        .replace("key: {pk:", "kee: {pk:");
    assert_eq!(errors(&text).len(), 2, "{:#?}", errors(&text));
}

#[test]
fn loader_errors() {
    let (_, message, _, line) = one_error("openapi: 3.0.3\ninfo: [\n");
    assert!(message.contains("invalid YAML"), "{message}");
    assert!(line > 0);
    let (_, message, _, _) = one_error("{\"openapi\": \"3.0.3\",");
    assert!(message.contains("invalid JSON"), "{message}");
    let (_, message, _, _) = one_error("");
    assert!(message.contains("empty"), "{message}");
    let (pointer, message, help, _) =
        one_error("swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths: {}\n");
    assert_eq!(pointer, "/swagger");
    assert!(message.contains("Swagger 2.0"), "{message}");
    assert!(help.contains("convert"), "{help}");
    let (_, message, _, _) = one_error("name: not an api\n");
    assert!(message.contains("not an OpenAPI document"), "{message}");
}

#[test]
fn reference_to_nothing() {
    let (pointer, message, _, _) = one_error(&BASE.replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {$ref: '#/components/schemas/Nope'}",
    ));
    assert_eq!(pointer, "/components/schemas/Item/properties/tags/$ref");
    assert!(message.contains("points to nothing"), "{message}");
}

#[test]
fn reference_cycle() {
    let (pointer, message, help, line) = one_error(&format!(
        "{BASE}    A: {{$ref: '#/components/schemas/B'}}\n    B: {{$ref: '#/components/schemas/A'}}\n"
    ));
    assert_eq!(pointer, "/components/schemas/A/$ref");
    assert!(message.contains("`A` → `B` → `A`"), "{message}");
    assert!(message.contains("never say what a value is"), "{message}");
    assert!(help.contains("give `A` its own definition"), "{help}");
    assert_eq!(line, 36);
    let (pointer, message, help, _) = one_error(&format!(
        "{BASE}    A: {{$ref: '#/components/schemas/A'}}\n"
    ));
    assert_eq!(pointer, "/components/schemas/A/$ref");
    assert!(message.contains("defined only as itself"), "{message}");
    assert!(
        help.contains("inside a property, an array or a map"),
        "{help}"
    );
    // Through `allOf`, which merges members rather than referring to them.
    let (pointer, message, _, _) = one_error(&format!(
        "{BASE}    A: {{allOf: [{{$ref: '#/components/schemas/B'}}]}}\n    B: {{allOf: [{{$ref: '#/components/schemas/A'}}]}}\n"
    ));
    assert_eq!(pointer, "/components/schemas/A");
    assert!(message.contains("defined only as each other"), "{message}");
}

#[test]
fn recursive_schemas_are_accepted() {
    // A tree: an object whose property is an array of itself, used by a
    // stored entity; and a schema that merges itself into an `allOf`.
    let text = BASE
        .replace(
            "tags: {type: array, items: {type: string}}",
            "tags: {type: array, items: {type: string}}\n        tree: {$ref: '#/components/schemas/Node'}",
        )
        + "    Node:\n      type: object\n      properties:\n        children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n        parent: {$ref: '#/components/schemas/Node'}\n"
        + "    Labelled:\n      allOf:\n        - $ref: '#/components/schemas/Labelled'\n        - {type: object, properties: {label: {type: string}}}\n"
        // An inline `allOf` that merges the schema it is in: it once
        // expanded without end, overflowing the stack.
        + "    Linked:\n      type: object\n      properties:\n        next:\n          allOf:\n            - $ref: '#/components/schemas/Linked'\n            - {type: object, properties: {label: {type: string}}}\n";
    assert!(errors(&text).is_empty(), "{:#?}", errors(&text));
    let spec = load::parse(Path::new("spec.yaml"), text.clone()).expect("loads");
    let api = model::build(&spec, None).expect("builds");
    let plan = apigen::emit::emit(
        &api,
        &apigen::emit::EmitOptions {
            spec_text: text,
            templates: None,
            runtime: None,
            hooks: true,
            overrides: None,
        },
    )
    .expect("emits");
    let models = &plan
        .get("src/generated/models.rs")
        .expect("models")
        .contents;
    assert!(models.contains("pub struct Node"), "{models}");
    assert!(models.contains("pub struct Labelled"), "{models}");
    assert!(models.contains("pub struct LinkedNext"), "{models}");
}

#[test]
fn map_that_merges_itself() {
    // A map whose values merge the object that holds the map: unnamed, no
    // Rust type can hold it (this too once overflowed the stack).
    let (pointer, message, help, _) = one_error(&format!(
        "{BASE}    A: {{type: object, additionalProperties: {{allOf: [{{$ref: '#/components/schemas/A'}}, {{type: object}}]}}}}\n"
    ));
    assert_eq!(pointer, "/components/schemas/A/additionalProperties");
    assert!(
        message.contains("contains itself through `allOf`"),
        "{message}"
    );
    assert!(help.contains("under `components.schemas`"), "{help}");
}

#[test]
fn empty_composition() {
    // `allOf: []` indexed its first member.
    let (pointer, message, help, _) = one_error(&BASE.replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {allOf: []}",
    ));
    assert_eq!(pointer, "/components/schemas/Item/properties/tags/allOf");
    assert!(message.contains("`allOf` is empty"), "{message}");
    assert!(help.contains("at least one schema"), "{help}");
    let (pointer, message, _, _) = one_error(&format!("{BASE}    A: {{oneOf: []}}\n"));
    assert_eq!(pointer, "/components/schemas/A/oneOf");
    assert!(message.contains("`oneOf` is empty"), "{message}");
    // In 3.1, a union of null alone is null, not an empty union.
    let text = BASE.replace("openapi: 3.0.3", "openapi: 3.1.0").replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {oneOf: [{type: 'null'}]}",
    );
    assert!(errors(&text).is_empty(), "{:#?}", errors(&text));
}

#[test]
fn huge_size_limits_are_accepted() {
    // Examples once repeated an item `minItems` times and a letter
    // `minLength` times: a hang, and a capacity overflow.
    let text = BASE
        .replace(
            "tags: {type: array, items: {type: string}}",
            "tags: {type: array, minItems: 18446744073709551615, items: {type: array, minItems: 4294967296, items: {type: string, minLength: 18446744073709551615}}}",
        );
    let spec = load::parse(Path::new("spec.yaml"), text.clone()).expect("loads");
    let api = model::build(&spec, None).expect("builds");
    apigen::emit::emit(
        &api,
        &apigen::emit::EmitOptions {
            spec_text: text,
            templates: None,
            runtime: None,
            hooks: true,
            overrides: None,
        },
    )
    .expect("emits");
}

/// The warnings of a spec that builds, as (pointer, message, help, line).
fn warnings(text: &str, file: &str) -> Vec<(String, String, String, usize)> {
    let spec = load::parse(Path::new(file), text.to_string()).expect("loads");
    let api = model::build(&spec, None).expect("builds");
    let report = spec.report(api.warnings);
    report
        .warnings()
        .map(|d| {
            let line = report.position(&d.pointer).map_or(0, |p| p.0);
            (
                d.pointer.clone(),
                d.message.clone(),
                d.help.clone().unwrap_or_default(),
                line,
            )
        })
        .collect()
}

/// The 1-based line of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("in the text")
        + 1
}

fn base_31() -> String {
    BASE.replace("openapi: 3.0.3", "openapi: 3.1.0")
}

#[test]
fn numbers_beyond_64_bits_are_read_with_a_warning_at_their_line() {
    // As a large real spec writes an int64's lower limit; YAML and JSON alike.
    let text = BASE.replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {type: array, items: {type: string}}\n        serial: {type: integer, format: int64, minimum: -9223372036854776000}",
    );
    let found = warnings(&text, "spec.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    let (pointer, message, help, line) = &found[0];
    assert_eq!(
        pointer,
        "/components/schemas/Item/properties/serial/minimum"
    );
    assert!(
        message.contains("`-9223372036854776000` does not fit in 64 bits"),
        "{message}"
    );
    assert!(help.contains("-9223372036854775808"), "{help}");
    assert_eq!(*line, line_of(&text, "serial:"));

    let json = r#"{
  "openapi": "3.0.3",
  "info": {"title": "T", "version": "1"},
  "paths": {},
  "components": {"schemas": {"N": {"type": "object", "properties": {
    "big": {"type": "integer", "format": "uint64", "maximum": 18446744073709551616},
    "huge": {"type": "number", "maximum": 1e400, "example": 1e400}
  }}}}
}"#;
    let found = warnings(json, "spec.json");
    let pointers: Vec<(&str, usize)> = found.iter().map(|w| (w.0.as_str(), w.3)).collect();
    assert_eq!(
        pointers,
        [
            ("/components/schemas/N/properties/big/maximum", 6),
            ("/components/schemas/N/properties/huge/maximum", 7),
            ("/components/schemas/N/properties/huge/example", 7)
        ]
    );
}

#[test]
fn a_bound_no_integer_meets_is_warned_and_dropped() {
    let text = BASE.replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {type: array, items: {type: string}}\n        small: {type: integer, format: int32, minimum: 1e30, maximum: 2.5}",
    );
    let found = warnings(&text, "spec.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].0,
        "/components/schemas/Item/properties/small/minimum"
    );
    assert!(
        found[0].1.contains("no 64-bit integer meets"),
        "{}",
        found[0].1
    );
    let spec = load::parse(Path::new("spec.yaml"), text.clone()).expect("loads");
    let api = model::build(&spec, None).expect("builds");
    let item = api
        .types
        .defs
        .iter()
        .find(|d| d.name == "Item")
        .expect("Item");
    let apigen::model::TypeKind::Struct(s) = &item.kind else {
        panic!("a struct")
    };
    let small = s.fields.iter().find(|f| f.name == "small").expect("small");
    assert_eq!(small.shape.rules.minimum, None);
    assert_eq!(small.shape.rules.maximum, Some(2.0));
}

#[test]
fn openapi_31_documents_as_written() {
    // Each is valid 3.1 that was once refused.
    let text = base_31()
        .replace(
            "  /items/{itemId}:",
            "  /pings:\n    post: {operationId: ping}\n  /more:\n    $ref: '#/components/pathItems/More'\n  /items/{itemId}:",
        )
        .replace(
            "components:\n",
            "components:\n  securitySchemes:\n    mtls: {type: mutualTLS}\n  pathItems:\n    More:\n      get:\n        operationId: more\n        responses: {'204': {description: none}}\n",
        )
        .replace(
            "tags: {type: array, items: {type: string}}",
            "tags: {type: array, items: {type: string}}\n        size: {$ref: '#/components/schemas/Item/$defs/Size'}\n      $defs:\n        Size: {type: integer, minimum: 0}",
        );
    let spec = load::parse(Path::new("spec.yaml"), text.clone()).expect("loads");
    assert_eq!(
        spec.value.pointer("/components/securitySchemes/mtls/type"),
        Some(&serde_json::json!("mutualTLS"))
    );
    let api = model::build(&spec, None).expect("builds");
    let ids: Vec<&str> = api.operations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["createItem", "ping", "more", "getItem"]);
    assert!(api.types.defs.iter().any(|d| d.name == "Size"));
    let found = warnings(&text, "spec.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "/paths/~1pings/post");
    assert!(
        found[0].1.contains("documents no responses"),
        "{}",
        found[0].1
    );
    assert_eq!(found[0].3, line_of(&text, "post: {operationId: ping}"));
}

#[test]
fn a_document_of_webhooks_only_gives_an_api_without_operations() {
    let text = "openapi: 3.1.0\ninfo: {title: Hooks, version: '1'}\nwebhooks:\n  ping:\n    post:\n      responses: {'200': {description: ok}}\n";
    let found = warnings(text, "spec.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str(), found[0].3),
        ("/webhooks", "1 webhook(s) skipped", 3)
    );
    let spec = load::parse(Path::new("spec.yaml"), text.to_string()).expect("loads");
    let api = model::build(&spec, None).expect("builds");
    assert!(api.operations.is_empty());
    // With nothing to route, the per-operation imports would fail `clippy -D warnings`.
    let plan = apigen::emit::emit(
        &api,
        &apigen::emit::EmitOptions {
            spec_text: text.to_string(),
            templates: None,
            runtime: None,
            hooks: true,
            overrides: None,
        },
    )
    .expect("emits");
    for file in plan
        .files
        .iter()
        .filter(|f| f.owner != apigen::emit::Owner::Vendored)
    {
        for import in [
            "use std::future::Future;",
            "use super::operations::*;",
            "use axum::extract::State;",
            "use serde::{Deserialize, Serialize};",
        ] {
            assert!(!file.contents.contains(import), "{}: {import}", file.path);
        }
    }
}

#[test]
fn unchecked_31_keywords_warn_once_per_keyword() {
    let text = base_31().replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {type: array, items: {type: string}}\n        a: {type: object, patternProperties: {'^x': {type: string}}}\n        b: {type: object, patternProperties: {'^y': {type: string}}}\n      dependentRequired: {name: [tags]}\n      if: {required: [a]}\n      then: {required: [b]}",
    );
    let found = warnings(&text, "spec.yaml");
    let summary: Vec<(&str, &str, usize)> = found
        .iter()
        .map(|w| (w.0.as_str(), w.1.as_str(), w.3))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "/components/schemas/Item/dependentRequired",
                "`dependentRequired` is not checked",
                line_of(&text, "dependentRequired:")
            ),
            (
                "/components/schemas/Item/if",
                "`if`/`then`/`else` is not checked",
                line_of(&text, "if:")
            ),
            (
                "/components/schemas/Item/properties/a/patternProperties",
                "`patternProperties` is not checked (here and in 1 other schema)",
                line_of(&text, "a: {type: object")
            ),
        ]
    );
    assert!(found.iter().all(|w| w.2.contains("docs/openapi-3.1.md")));
}

#[test]
fn package_named_like_a_dependency() {
    let (pointer, message, help, line) =
        one_error(&BASE.replace("x-apigen:\n", "x-apigen:\n  name: serde\n"));
    assert_eq!(pointer, "/x-apigen/name");
    assert!(message.contains("`serde`"), "{message}");
    assert!(help.contains("serde-api"), "{help}");
    assert_eq!(line, 4);
    // One made from the title moves aside by itself.
    assert!(errors(&BASE.replace("title: T", "title: Serde")).is_empty());
}

// ---------------------------------------------------------------------------
// Security and access control: every refusal of the v2 vocabulary.
// ---------------------------------------------------------------------------

/// `BASE` behind a JWT scheme, with an owned entity.
fn secured(schemes: &str) -> String {
    BASE.replace(
        "components:\n  schemas:",
        &format!(
            "security: [{{users: []}}]\ncomponents:\n  securitySchemes:\n{schemes}\n  schemas:"
        ),
    )
}

const USERS: &str = "    users: {type: openIdConnect, openIdConnectUrl: 'https://login.example.com/.well-known/openid-configuration', x-apigen-audience: [app]}";

#[test]
fn a_secured_spec_with_an_owner_is_valid() {
    let text = secured(USERS)
        .replace("required: [id, name]", "required: [id, name, ownerId]")
        .replace(
            "name: {type: string}",
            "name: {type: string}\n        ownerId: {type: string, readOnly: true}",
        )
        .replace(
            "key: {pk: \"ITEM#{id}\", sk: ITEM}",
            "owner: {field: ownerId}\n        key: {pk: \"USER#{ownerId}\", sk: \"ITEM#{id}\"}",
        );
    assert!(errors(&text).is_empty(), "{:#?}", errors(&text));
}

#[test]
fn basic_auth_is_refused_with_the_ways_out() {
    let (pointer, message, help, line) =
        one_error(&secured("    users: {type: http, scheme: basic}"));
    assert_eq!(pointer, "/components/securitySchemes/users/scheme");
    assert!(message.contains("`http: basic`"), "{message}");
    assert!(
        help.contains("x-apigen-authorizer: lambda") && help.contains("bearer"),
        "{help}"
    );
    assert!(line > 0);
}

#[test]
fn api_keys_outside_a_header_are_refused() {
    let (pointer, message, help, _) = one_error(
        &secured("    users: {type: apiKey, in: query, name: key}")
            .replace("x-apigen:\n", "x-apigen:\n  api: rest\n"),
    );
    assert_eq!(pointer, "/components/securitySchemes/users/in");
    assert!(message.contains("query"), "{message}");
    assert!(help.contains("in: header"), "{help}");
    let (_, message, _, _) = one_error(&secured(
        "    users: {type: apiKey, in: cookie, name: key, x-apigen-authorizer: lambda}",
    ));
    assert!(message.contains("cookie"), "{message}");
}

#[test]
fn api_keys_on_an_http_api_are_refused() {
    let (pointer, message, help, _) = one_error(&secured(
        "    users: {type: apiKey, in: header, name: x-api-key}",
    ));
    assert_eq!(pointer, "/components/securitySchemes/users");
    assert!(message.contains("HTTP APIs have no API keys"), "{message}");
    assert!(
        help.contains("api: rest") && help.contains("x-apigen-authorizer: lambda"),
        "{help}"
    );
    // A Lambda authorizer reads the header itself.
    let custom = secured(
        "    users: {type: apiKey, in: header, name: x-api-key, x-apigen-authorizer: lambda}",
    );
    assert!(errors(&custom).is_empty(), "{:#?}", errors(&custom));
}

#[test]
fn jwt_schemes_need_an_audience_and_an_issuer() {
    let (_, message, help, _) = one_error(&secured(
        "    users: {type: openIdConnect, openIdConnectUrl: 'https://login.example.com/.well-known/openid-configuration'}",
    ));
    assert!(message.contains("no `x-apigen-audience`"), "{message}");
    assert!(help.contains("x-apigen-audience: ["), "{help}");
    let (_, message, help, _) = one_error(&secured(
        "    users: {type: http, scheme: bearer, x-apigen-audience: [app]}",
    ));
    assert!(message.contains("has no issuer"), "{message}");
    assert!(help.contains("x-apigen-issuer"), "{help}");
    let (_, message, help, _) = one_error(&secured(
        "    users: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://login.example.com/token', scopes: {}}}, x-apigen-audience: [app]}",
    ));
    assert!(message.contains("has no issuer"), "{message}");
    assert!(help.contains("x-apigen-issuer"), "{help}");
    let (_, _, help, _) = one_error(&secured(
        "    users: {type: openIdConnect, openIdConnectUrl: 'https://login.example.com/config', x-apigen-audience: [app]}",
    ));
    assert!(help.contains("/.well-known/openid-configuration"), "{help}");
}

#[test]
fn a_rest_api_checks_jwts_of_cognito_pools_only() {
    let (_, message, help, _) =
        one_error(&secured(USERS).replace("x-apigen:\n", "x-apigen:\n  api: rest\n"));
    assert!(message.contains("Cognito user pool"), "{message}");
    assert!(
        help.contains("api: http") && help.contains("x-apigen-authorizer: lambda"),
        "{help}"
    );
}

#[test]
fn a_requirement_naming_a_missing_scheme() {
    let (pointer, message, help, _) =
        one_error(&secured(USERS).replace("security: [{users: []}]", "security: [{user: []}]"));
    assert_eq!(pointer, "/security/0/user");
    assert!(
        message.contains("scheme `user`, which does not exist"),
        "{message}"
    );
    assert!(help.contains("did you mean `users`"), "{help}");
}

#[test]
fn optional_credentials_are_refused() {
    let (_, message, help, _) = one_error(
        &secured(USERS).replace("security: [{users: []}]", "security: [{}, {users: []}]"),
    );
    assert!(message.contains("with or without credentials"), "{message}");
    assert!(help.contains("security: []"), "{help}");
}

#[test]
fn alternatives_of_different_schemes_are_refused() {
    let text = secured(&format!(
        "{USERS}\n    other: {{type: http, scheme: bearer, x-apigen-issuer: 'https://other.example.com', x-apigen-audience: [app]}}"
    ))
    .replace("security: [{users: []}]", "security: [{users: []}, {other: []}]");
    let (_, message, help, _) = one_error(&text);
    assert!(message.contains("either `users` or `other`"), "{message}");
    assert!(help.contains("differ only in their scopes"), "{help}");
    // The same scheme with different scopes is one authorizer.
    let scopes = secured(USERS).replace(
        "security: [{users: []}]",
        "security: [{users: [a]}, {users: [b]}]",
    );
    assert!(errors(&scopes).is_empty(), "{:#?}", errors(&scopes));
}

#[test]
fn two_authorizers_in_one_requirement_are_refused() {
    let text = secured(&format!(
        "{USERS}\n    other: {{type: http, scheme: bearer, x-apigen-issuer: 'https://other.example.com', x-apigen-audience: [app]}}"
    ))
    .replace("security: [{users: []}]", "security: [{users: [], other: []}]");
    let (pointer, message, _, _) = one_error(&text);
    assert_eq!(pointer, "/security/0");
    assert!(message.contains("one authorizer"), "{message}");
}

#[test]
fn scopes_on_a_scheme_without_them_are_refused() {
    let text = secured("    users: {type: apiKey, in: header, name: x-api-key}")
        .replace("x-apigen:\n", "x-apigen:\n  api: rest\n")
        .replace("security: [{users: []}]", "security: [{users: [admin]}]");
    let (_, message, help, _) = one_error(&text);
    assert!(message.contains("has no scopes"), "{message}");
    assert!(help.contains("users: []"), "{help}");
}

#[test]
fn misplaced_and_misspelt_scheme_keys() {
    let (pointer, message, help, _) = one_error(&secured(&USERS.replace(
        "x-apigen-audience: [app]",
        "x-apigen-audience: [app], x-apigen-audiance: [x]",
    )));
    assert_eq!(
        pointer,
        "/components/securitySchemes/users/x-apigen-audiance"
    );
    assert!(message.contains("unknown key"), "{message}");
    assert!(help.contains("did you mean `x-apigen-audience`"), "{help}");
    let (_, message, _, _) = one_error(&secured(&USERS.replace(
        "x-apigen-audience: [app]",
        "x-apigen-audience: [app], x-apigen-usagePlan: {rateLimit: 1}",
    )));
    assert!(message.contains("usage plans"), "{message}");
    let (_, message, _, _) = one_error(&secured(&USERS.replace(
        "x-apigen-audience: [app]",
        "x-apigen-audience: [app], x-apigen-authorizerTtl: 60",
    )));
    assert!(message.contains("Lambda authorizers"), "{message}");
}

#[test]
fn mutual_tls_on_some_operations_only_is_refused() {
    let text = secured(&format!("{USERS}\n    certs: {{type: mutualTLS}}"))
        .replace("openapi: 3.0.3", "openapi: 3.1.0")
        .replace(
            "      x-apigen-action: {get: Item}",
            "      x-apigen-action: {get: Item}\n      security: [{users: [], certs: []}]",
        );
    let (_, message, help, _) = one_error(&text);
    assert!(message.contains("mutual TLS"), "{message}");
    assert!(help.contains("root `security`"), "{help}");
}

/// `BASE` with `Item` owned by `ownerId`, behind `users`.
fn owned() -> String {
    secured(USERS)
        .replace("required: [id, name]", "required: [id, name, ownerId]")
        .replace(
            "name: {type: string}",
            "name: {type: string}\n        ownerId: {type: string, readOnly: true}",
        )
        .replace(
            "key: {pk: \"ITEM#{id}\", sk: ITEM}",
            "owner: {field: ownerId}\n        key: {pk: \"USER#{ownerId}\", sk: \"ITEM#{id}\"}\n        indexes: {GSI1: {pk: ITEMS, sk: \"{id}\"}}",
        )
}

#[test]
fn an_owned_action_on_a_public_operation_is_refused() {
    let text = owned().replace(
        "      x-apigen-action: {get: Item}",
        "      x-apigen-action: {get: Item}\n      security: []",
    );
    let (pointer, message, help, _) = one_error(&text);
    assert_eq!(pointer, "/paths/~1items~1{itemId}/get/x-apigen-action");
    assert!(message.contains("nobody could be the owner"), "{message}");
    assert!(help.contains("security"), "{help}");
}

#[test]
fn access_on_a_public_operation_is_refused() {
    let text = BASE.replace(
        "x-apigen-action: {get: Item}",
        "x-apigen-action: {get: Item, access: {groups: [admin]}}",
    );
    let (_, message, _, _) = one_error(&text);
    assert!(message.contains("`access` cannot be checked"), "{message}");
}

#[test]
fn an_owned_list_through_an_index_without_the_owner_is_refused() {
    let list = "  /all:\n    get:\n      operationId: listAll\n      x-apigen-action: {list: Item, index: GSI1}\n      responses:\n        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/ItemPage'}}}}\nsecurity:";
    let page = "  schemas:\n    ItemPage:\n      type: object\n      required: [items]\n      properties: {items: {type: array, items: {$ref: '#/components/schemas/Item'}}}";
    let text = owned()
        .replacen("security:", list, 1)
        .replacen("  schemas:", page, 1);
    let (pointer, message, help, _) = one_error(&text);
    assert_eq!(
        pointer, "/paths/~1all/get/x-apigen-action/list",
        "{message}"
    );
    assert!(
        message.contains("cannot be confined to the caller's items"),
        "{message}"
    );
    assert!(help.contains("groups"), "{help}");
    // Open to a group only, it is the group's view of every owner's items.
    let admins = text.replace(
        "{list: Item, index: GSI1}",
        "{list: Item, index: GSI1, access: {groups: [admin]}}",
    );
    assert!(errors(&admins).is_empty(), "{:#?}", errors(&admins));
}

#[test]
fn access_owner_on_an_entity_without_one() {
    let text = secured(USERS).replace(
        "x-apigen-action: {get: Item}",
        "x-apigen-action: {get: Item, access: owner}",
    );
    let (pointer, message, help, _) = one_error(&text);
    assert_eq!(
        pointer,
        "/paths/~1items~1{itemId}/get/x-apigen-action/access"
    );
    assert!(message.contains("has no owner"), "{message}");
    assert!(help.contains("owner: {field"), "{help}");
    let (_, message, help, _) = one_error(&secured(USERS).replace(
        "x-apigen-action: {get: Item}",
        "x-apigen-action: {get: Item, access: everyone}",
    ));
    assert!(
        message.contains("`everyone` is not an access rule"),
        "{message}"
    );
    assert!(help.contains("authenticated"), "{help}");
}

#[test]
fn an_owner_outside_the_partition_key_or_not_a_string() {
    let text = owned().replace(
        "pk: \"USER#{ownerId}\", sk: \"ITEM#{id}\"",
        "pk: \"ITEM#{id}\", sk: \"USER#{ownerId}\"",
    );
    let (pointer, message, help, _) = one_error(&text);
    assert_eq!(
        pointer,
        "/components/schemas/Item/x-apigen-entity/owner/field"
    );
    assert!(
        message.contains("not a variable of the partition key"),
        "{message}"
    );
    assert!(help.contains("USER#{ownerId}"), "{help}");
    let number = owned().replace(
        "ownerId: {type: string, readOnly: true}",
        "ownerId: {type: integer, readOnly: true}",
    );
    assert!(
        errors(&number)
            .iter()
            .any(|e| e.1.contains("must be a plain string")),
        "{:#?}",
        errors(&number)
    );
}

#[test]
fn api_keys_in_another_header_than_x_api_key_are_refused() {
    let (pointer, message, help, _) = one_error(
        &secured("    users: {type: apiKey, in: header, name: X-Partner-Key}")
            .replace("x-apigen:\n", "x-apigen:\n  api: rest\n"),
    );
    assert_eq!(pointer, "/components/securitySchemes/users/name");
    assert!(message.contains("`x-api-key` only"), "{message}");
    assert!(help.contains("name: x-api-key"), "{help}");
}

#[test]
fn mutual_tls_on_a_rest_api_is_refused() {
    let text = secured(&format!("{USERS}\n    certs: {{type: mutualTLS}}"))
        .replace("openapi: 3.0.3", "openapi: 3.1.0")
        .replace("x-apigen:\n", "x-apigen:\n  api: rest\n")
        .replace(
            "https://login.example.com/.well-known/openid-configuration",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/openid-configuration",
        )
        .replace("security: [{users: []}]", "security: [{users: [], certs: []}]");
    let (pointer, message, help, _) = one_error(&text);
    assert_eq!(pointer, "/components/securitySchemes/certs");
    assert!(message.contains("needs an HTTP API"), "{message}");
    assert!(help.contains("api: http"), "{help}");
}

/// `BASE` behind `scheme` (one line under `securitySchemes`, named `users`) on a REST API.
fn rest(scheme: &str) -> String {
    secured(scheme).replace("x-apigen:\n", "x-apigen:\n  api: rest\n")
}

const KEYS: &str = "    users: {type: apiKey, in: header, name: x-api-key}";

#[test]
fn a_jwt_issuer_that_is_not_https_is_refused() {
    let (pointer, message, help, line) = one_error(&secured(&USERS.replace(
        "'https://login.example.com/.well-known",
        "'http://login.example.com/.well-known",
    )));
    assert_eq!(pointer, "/components/securitySchemes/users");
    assert!(
        message.contains("`http://login.example.com`, which is not an https URL"),
        "{message}"
    );
    assert!(help.contains("https issuer"), "{help}");
    assert!(line > 0);
    let (_, message, _, _) = one_error(&secured(
        "    users: {type: http, scheme: bearer, x-apigen-issuer: login.example.com, x-apigen-audience: [app]}",
    ));
    assert!(
        message.contains("`login.example.com`, which is not an https URL"),
        "{message}"
    );
}

#[test]
fn issuer_and_audience_on_a_scheme_that_is_not_jwt_are_refused() {
    let (pointer, message, help, _) = one_error(&rest(&KEYS.replace(
        "name: x-api-key",
        "name: x-api-key, x-apigen-audience: [app]",
    )));
    assert_eq!(
        pointer,
        "/components/securitySchemes/users/x-apigen-audience"
    );
    assert!(
        message.contains("`x-apigen-audience` belongs to JWT schemes"),
        "{message}"
    );
    assert!(
        help.contains("remove it") && help.contains("no issuer or audience"),
        "{help}"
    );
    let (pointer, message, help, _) = one_error(&secured(
        "    users: {type: apiKey, in: header, name: x-api-key, x-apigen-authorizer: lambda, x-apigen-issuer: 'https://login.example.com'}",
    ));
    assert_eq!(pointer, "/components/securitySchemes/users/x-apigen-issuer");
    assert!(
        message.contains("`x-apigen-issuer` belongs to JWT schemes"),
        "{message}"
    );
    assert!(
        help.contains("a Lambda authorizer decides itself"),
        "{help}"
    );
    let both = errors(
        &secured(&format!(
            "{USERS}\n    certs: {{type: mutualTLS, x-apigen-issuer: 'https://login.example.com', x-apigen-audience: [app]}}"
        ))
        .replace("openapi: 3.0.3", "openapi: 3.1.0")
        .replace("security: [{users: []}]", "security: [{users: [], certs: []}]"),
    );
    let pointers: Vec<&str> = both.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/components/securitySchemes/certs/x-apigen-audience",
            "/components/securitySchemes/certs/x-apigen-issuer"
        ],
        "{both:#?}"
    );
}

#[test]
fn an_unknown_scheme_type_is_refused() {
    let (pointer, message, help, _) = one_error(&secured("    users: {type: saml}"));
    assert_eq!(pointer, "/components/securitySchemes/users/type");
    assert!(
        message.contains("scheme type `saml` is unknown"),
        "{message}"
    );
    assert!(
        help.contains("`openIdConnect`") && help.contains("`apiKey`"),
        "{help}"
    );
    assert!(!help.contains("did you mean"), "{help}");
    let (_, message, help, _) = one_error(&secured("    users: {type: apikey, in: header}"));
    assert!(
        message.contains("scheme type `apikey` is unknown"),
        "{message}"
    );
    assert!(help.contains("did you mean `apiKey`?"), "{help}");
    let (pointer, message, help, _) = one_error(&secured("    users: {in: header}"));
    assert_eq!(pointer, "/components/securitySchemes/users");
    assert!(message.contains("has no `type`"), "{message}");
    assert!(help.contains("type: openIdConnect"), "{help}");
}

#[test]
fn an_empty_or_malformed_audience_is_refused_once() {
    for audience in ["[]", "['']", "''"] {
        let (pointer, message, help, _) = one_error(&secured(&USERS.replace(
            "x-apigen-audience: [app]",
            &format!("x-apigen-audience: {audience}"),
        )));
        assert_eq!(
            pointer, "/components/securitySchemes/users/x-apigen-audience",
            "{audience}"
        );
        assert!(
            message.contains("needs at least one audience"),
            "{audience}: {message}"
        );
        assert!(
            help.contains("x-apigen-audience: [your-client-id]"),
            "{help}"
        );
    }
    let (pointer, message, _, _) = one_error(&secured(
        &USERS.replace("x-apigen-audience: [app]", "x-apigen-audience: {app: 1}"),
    ));
    assert_eq!(
        pointer,
        "/components/securitySchemes/users/x-apigen-audience"
    );
    assert!(message.contains("must be a list of strings"), "{message}");
}

#[test]
fn a_malformed_usage_plan_is_refused() {
    let plan = |plan: &str| {
        rest(&KEYS.replace(
            "name: x-api-key",
            &format!("name: x-api-key, x-apigen-usagePlan: {plan}"),
        ))
    };
    let valid = plan("{rateLimit: 2.5, burstLimit: 5, quota: {limit: 100, period: WEEK}}");
    assert!(errors(&valid).is_empty(), "{:#?}", errors(&valid));
    const AT: &str = "/components/securitySchemes/users/x-apigen-usagePlan";

    let (pointer, message, help, _) = one_error(&plan("10"));
    assert_eq!(pointer, AT);
    assert!(message.contains("must be a mapping"), "{message}");
    assert!(
        help.contains("`rateLimit`, `burstLimit`, `quota`"),
        "{help}"
    );

    let (pointer, message, help, _) = one_error(&plan("{rateLimt: 10}"));
    assert_eq!(pointer, format!("{AT}/rateLimt"));
    assert!(message.contains("unknown key `rateLimt`"), "{message}");
    assert!(help.contains("did you mean `rateLimit`"), "{help}");

    for rate in ["fast", "0", "-1"] {
        let (pointer, message, help, _) = one_error(&plan(&format!("{{rateLimit: {rate}}}")));
        assert_eq!(pointer, format!("{AT}/rateLimit"), "{rate}");
        assert!(message.contains("positive number"), "{rate}: {message}");
        assert!(help.contains("rateLimit: 10"), "{help}");
    }
    for burst in ["0", "1.5", "'20'", "5001"] {
        let (pointer, message, help, _) = one_error(&plan(&format!("{{burstLimit: {burst}}}")));
        assert_eq!(pointer, format!("{AT}/burstLimit"), "{burst}");
        assert!(message.contains("from 1 to 5000"), "{burst}: {message}");
        assert!(help.contains("burstLimit: "), "{help}");
    }
}

#[test]
fn a_malformed_quota_is_refused() {
    let quota = |quota: &str| {
        rest(&KEYS.replace(
            "name: x-api-key",
            &format!("name: x-api-key, x-apigen-usagePlan: {{quota: {quota}}}"),
        ))
    };
    const AT: &str = "/components/securitySchemes/users/x-apigen-usagePlan/quota";

    let (pointer, message, help, _) = one_error(&quota("{period: MONTH}"));
    assert_eq!(pointer, AT);
    assert!(message.contains("`quota` has no `limit`"), "{message}");
    assert!(
        help.contains("quota: {limit: 10000, period: MONTH}"),
        "{help}"
    );
    let (_, message, _, _) = one_error(&quota("{}"));
    assert!(message.contains("has no `limit` or `period`"), "{message}");

    let (pointer, message, help, _) = one_error(&quota("{limit: 100, period: YEAR}"));
    assert_eq!(pointer, format!("{AT}/period"));
    assert!(
        message.contains("`YEAR` is not a valid `period`"),
        "{message}"
    );
    assert!(help.contains("`DAY`, `WEEK`, `MONTH`"), "{help}");

    let (pointer, message, _, _) = one_error(&quota("{limit: 0, period: DAY}"));
    assert_eq!(pointer, format!("{AT}/limit"));
    assert!(message.contains("whole number from 1"), "{message}");

    let (pointer, message, _, _) = one_error(&quota("{limit: 10, period: DAY, every: 2}"));
    assert_eq!(pointer, format!("{AT}/every"));
    assert!(message.contains("unknown key `every`"), "{message}");

    let (pointer, message, _, _) = one_error(&quota("10000"));
    assert_eq!(pointer, AT);
    assert!(message.contains("`quota` must be a mapping"), "{message}");
}

#[test]
fn an_authorizer_ttl_out_of_range_is_refused() {
    let ttl = |ttl: &str| {
        secured(&format!(
            "    users: {{type: apiKey, in: header, name: x-api-key, x-apigen-authorizer: lambda, x-apigen-authorizerTtl: {ttl}}}"
        ))
    };
    for ok in ["0", "3600"] {
        assert!(errors(&ttl(ok)).is_empty(), "{ok}: {:#?}", errors(&ttl(ok)));
    }
    for wrong in ["3601", "86400", "-1", "'5m'"] {
        let (pointer, message, help, _) = one_error(&ttl(wrong));
        assert_eq!(
            pointer, "/components/securitySchemes/users/x-apigen-authorizerTtl",
            "{wrong}"
        );
        assert!(
            message.contains("from 0 to 3600 seconds"),
            "{wrong}: {message}"
        );
        assert!(
            help.contains("to 3600 (an hour)") && help.contains("x-apigen-authorizerTtl: 300"),
            "{help}"
        );
    }
}

#[test]
fn access_authenticated_on_an_owned_entity_is_refused() {
    for access in ["authenticated", "[owner, authenticated]"] {
        let text = owned().replace(
            "x-apigen-action: {get: Item}",
            &format!("x-apigen-action: {{get: Item, access: {access}}}"),
        );
        let (pointer, message, help, _) = one_error(&text);
        assert_eq!(
            pointer, "/paths/~1items~1{itemId}/get/x-apigen-action/access",
            "{access}"
        );
        assert!(
            message.contains("`access: authenticated` on `Item`, which is owned")
                && message.contains("every owner's items"),
            "{access}: {message}"
        );
        assert!(
            help.contains("write `owner`") && help.contains("{groups: [admin]}"),
            "{help}"
        );
    }
    // On an entity without an owner it is what the action means anyway.
    let unowned = secured(USERS).replace(
        "x-apigen-action: {get: Item}",
        "x-apigen-action: {get: Item, access: authenticated}",
    );
    assert!(errors(&unowned).is_empty(), "{:#?}", errors(&unowned));
}

#[test]
fn api_keys_in_a_cookie_are_refused_even_with_a_lambda_authorizer() {
    let (pointer, message, help, _) =
        one_error(&rest("    users: {type: apiKey, in: cookie, name: key}"));
    assert_eq!(pointer, "/components/securitySchemes/users/in");
    assert!(message.contains("in a cookie"), "{message}");
    // A Lambda authorizer would not help, so the help does not offer one.
    assert!(
        help.contains("in: header") && !help.contains("x-apigen-authorizer"),
        "{help}"
    );
    let (pointer, _, help, _) = one_error(&secured(
        "    users: {type: apiKey, in: cookie, name: key, x-apigen-authorizer: lambda}",
    ));
    assert_eq!(pointer, "/components/securitySchemes/users/in");
    assert!(help.contains("in: header"), "{help}");
    // A query parameter is read by a Lambda authorizer.
    let query =
        secured("    users: {type: apiKey, in: query, name: key, x-apigen-authorizer: lambda}");
    assert!(errors(&query).is_empty(), "{:#?}", errors(&query));
}

#[test]
fn two_api_keys_in_one_requirement_are_refused() {
    let text = rest(&format!(
        "{KEYS}\n    partners: {{type: apiKey, in: header, name: x-api-key}}"
    ))
    .replace(
        "security: [{users: []}]",
        "security: [{users: [], partners: []}]",
    );
    let (pointer, message, help, _) = one_error(&text);
    assert_eq!(pointer, "/security/0");
    assert!(message.contains("one API key per route"), "{message}");
    assert!(help.contains("keep one scheme"), "{help}");
}

#[test]
fn http_digest_is_refused_like_basic() {
    let (pointer, message, help, _) =
        one_error(&secured("    users: {type: http, scheme: digest}"));
    assert_eq!(pointer, "/components/securitySchemes/users/scheme");
    assert!(message.contains("`http: digest`"), "{message}");
    assert!(help.contains("scheme: bearer"), "{help}");
    // A Lambda authorizer reads `Authorization` whatever its scheme.
    let custom = secured("    users: {type: http, scheme: basic, x-apigen-authorizer: lambda}");
    assert!(errors(&custom).is_empty(), "{:#?}", errors(&custom));
}

#[test]
fn a_key_without_the_tables_sort_key() {
    let (pointer, message, help, _) = one_error(&BASE.replace(", sk: ITEM}", "}"));
    assert_eq!(pointer, "/components/schemas/Item/x-apigen-entity/key");
    assert!(
        message.contains("table `Main` has a sort key `SK`, and this key does not set it"),
        "{message}"
    );
    assert!(help.contains("sk: "), "{help}");
}

#[test]
fn an_action_whose_body_or_response_does_not_hold_the_entity() {
    let (pointer, message, help, _) = one_error(&BASE.replacen(
        "'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}",
        "'200': {description: ok, content: {application/json: {schema: {type: object}}}}",
        1,
    ));
    assert_eq!(pointer, "/paths/~1items~1{itemId}/get/responses");
    assert!(
        message.contains("`get: Item` needs a 200 response"),
        "{message}"
    );
    assert!(help.contains("$ref: '#/components/schemas/Item'"), "{help}");
    let (pointer, message, help, _) = one_error(&BASE.replacen(
        "schema: {$ref: '#/components/schemas/Item'}}}\n      responses",
        "schema: {type: object, properties: {tags: {type: array, items: {type: string}}}}}}\n      responses",
        1,
    ));
    assert_eq!(pointer, "/paths/~1items/post");
    assert!(
        message.contains(
            "required field `name` of `Item` is not a required property of this request body"
        ),
        "{message}"
    );
    assert!(help.contains("`required`"), "{help}");
    let (_, message, _, _) = one_error(&BASE.replacen(
        "      requestBody:\n        required: true\n        content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}\n",
        "",
        1,
    ));
    assert!(
        message.contains("`create` needs a JSON request body"),
        "{message}"
    );
}

#[test]
fn a_jwt_scheme_without_issuer_or_audience_hears_of_both_at_once() {
    let found = errors(&secured("    users: {type: http, scheme: bearer}"));
    let messages: Vec<&str> = found.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        messages,
        [
            "JWT scheme `users` has no `x-apigen-audience`",
            "JWT scheme `users` has no issuer"
        ],
        "{found:#?}"
    );
    assert!(found
        .iter()
        .all(|e| e.0 == "/components/securitySchemes/users"));
}

#[test]
fn a_misspelt_or_mistyped_groups_claim() {
    let (pointer, message, help, _) = one_error(
        &secured(USERS).replace("x-apigen:\n", "x-apigen:\n  auth: {groupClaim: roles}\n"),
    );
    assert_eq!(pointer, "/x-apigen/auth/groupClaim");
    assert!(message.contains("unknown key `groupClaim`"), "{message}");
    assert!(help.contains("did you mean `groupsClaim`"), "{help}");
    let (pointer, message, _, _) = one_error(
        &secured(USERS).replace("x-apigen:\n", "x-apigen:\n  auth: {groupsClaim: [roles]}\n"),
    );
    assert_eq!(pointer, "/x-apigen/auth/groupsClaim");
    assert!(message.contains("must be a string"), "{message}");
}

/// BASE with a query of GSI1 by name, sorted by id, with `range` as given.
fn ranged(range: &str) -> String {
    BASE.replace(
        "sk: ITEM}",
        "sk: ITEM}\n        indexes: {GSI1: {pk: \"NAME#{name}\", sk: \"{id}\"}}",
    )
    .replace(
        "  /items/{itemId}:",
        &format!(
            "  /names/{{name}}/items:
    get:
      operationId: itemsByName
      x-apigen-action: {{query: Item, index: GSI1, range: {range}}}
      parameters:
        - {{name: name, in: path, required: true, schema: {{type: string}}}}
        - {{name: from, in: query, schema: {{type: string}}}}
        - {{name: until, in: query, schema: {{type: string}}}}
      responses:
        '200': {{description: ok, content: {{application/json: {{schema: {{type: object, properties: {{items: {{type: array, items: {{$ref: '#/components/schemas/Item'}}}}}}}}}}}}}}
  /items/{{itemId}}:"
        ),
    )
}

#[test]
fn between_takes_two_parameters() {
    assert!(errors(&ranged("{op: between, param: from, to: until}")).is_empty());
    let (pointer, message, help, _) = one_error(&ranged("{op: between, param: from}"));
    assert_eq!(
        pointer,
        "/paths/~1names~1{name}~1items/get/x-apigen-action/range"
    );
    assert_eq!(message, "`between` needs its upper bound");
    assert!(help.contains("to: until"), "{help}");

    let (pointer, message, _, _) = one_error(&ranged("{op: gte, param: from, to: until}"));
    assert_eq!(
        pointer,
        "/paths/~1names~1{name}~1items/get/x-apigen-action/range/to"
    );
    assert!(message.contains("this range is `gte`"), "{message}");

    let (pointer, message, _, _) = one_error(&ranged("{op: between, param: from, to: till}"));
    assert_eq!(
        pointer,
        "/paths/~1names~1{name}~1items/get/x-apigen-action/range/to"
    );
    assert!(message.contains("query parameter `till`"), "{message}");

    let (_, message, _, _) = one_error(&ranged("{op: between, param: from, to: from}"));
    assert!(message.contains("name the same one"), "{message}");
}

#[test]
fn a_default_that_does_not_fit_its_schema() {
    let spec = BASE.replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {type: array, items: {type: string}, default: [1]}",
    );
    let (pointer, message, help, line) = one_error(&spec);
    assert_eq!(pointer, "/components/schemas/Item/properties/tags/default");
    assert!(
        message.starts_with("the default of `tags` does not fit its schema"),
        "{message}"
    );
    assert!(message.contains("expected a string"), "{message}");
    assert!(help.contains("create or put omits the field"), "{help}");
    assert_eq!(line, line_of(&spec, "default: [1]"));
    let fits = BASE.replace(
        "tags: {type: array, items: {type: string}}",
        "tags: {type: array, items: {type: string}, default: [new]}",
    );
    assert!(errors(&fits).is_empty());
}

/// BASE with a delete of an item, its action as given.
fn deletable(action: &str) -> String {
    BASE.replace(
        "        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}\n        '4XX': {description: refused}\ncomponents:",
        &format!(
            "        '200': {{description: ok, content: {{application/json: {{schema: {{$ref: '#/components/schemas/Item'}}}}}}}}\n        '4XX': {{description: refused}}
    delete:
      operationId: deleteItem
      x-apigen-action: {action}
      parameters: [{{name: itemId, in: path, required: true, schema: {{type: string}}}}]
      responses:
        '204': {{description: deleted}}
        '4XX': {{description: refused}}
components:"
        ),
    )
    .replace(
        "        name: {type: string}\n",
        "        name: {type: string}\n        state: {type: string, enum: [draft, live, gone]}\n",
    )
}

#[test]
fn conditions_name_fields_and_values_the_entity_has() {
    let fine = deletable("{delete: Item, bind: {itemId: id}, condition: {state: [draft, gone]}}");
    assert!(errors(&fine).is_empty(), "{:#?}", errors(&fine));

    let (pointer, message, help, _) = one_error(&deletable(
        "{delete: Item, bind: {itemId: id}, condition: {status: draft}}",
    ));
    assert_eq!(
        pointer,
        "/paths/~1items~1{itemId}/delete/x-apigen-action/condition/status"
    );
    assert!(
        message.contains("field `status`, which `Item` does not have"),
        "{message}"
    );
    assert!(help.contains("`state`"), "{help}");

    let (pointer, message, _, _) = one_error(&deletable(
        "{delete: Item, bind: {itemId: id}, condition: {state: [draft, sold]}}",
    ));
    assert_eq!(
        pointer,
        "/paths/~1items~1{itemId}/delete/x-apigen-action/condition/state/1"
    );
    assert!(
        message.starts_with("\"sold\" is never a value of `state`"),
        "{message}"
    );

    let (_, message, _, _) = one_error(&deletable(
        "{delete: Item, bind: {itemId: id}, condition: {state: []}}",
    ));
    assert!(message.contains("needs 1 to 100"), "{message}");

    let (pointer, message, _, _) = one_error(&BASE.replace(
        "x-apigen-action: {get: Item}",
        "x-apigen-action: {get: Item, condition: {name: x}}",
    ));
    assert_eq!(
        pointer,
        "/paths/~1items~1{itemId}/get/x-apigen-action/condition"
    );
    assert!(
        message.contains("is for `update`, `put` and `delete`"),
        "{message}"
    );
}

#[test]
fn transforms_name_string_fields_and_known_steps() {
    let with = |t: &str| {
        BASE.replace(
            "key: {pk: \"ITEM#{id}\", sk: ITEM}",
            &format!("key: {{pk: \"ITEM#{{id}}\", sk: ITEM}}\n        transforms: {t}"),
        )
    };
    assert!(errors(&with("{name: [trim, lowercase, nfc]}")).is_empty());
    let (pointer, message, help, _) = one_error(&with("{name: [trim, titlecase]}"));
    assert_eq!(
        pointer,
        "/components/schemas/Item/x-apigen-entity/transforms/name/1"
    );
    assert_eq!(message, "\"titlecase\" is not a transform");
    assert!(help.contains("`nfc`"), "{help}");
    let (pointer, message, _, _) = one_error(&with("{tags: trim}"));
    assert_eq!(
        pointer,
        "/components/schemas/Item/x-apigen-entity/transforms/tags"
    );
    assert!(message.contains("is not a string"), "{message}");
    let (_, message, _, _) = one_error(&with("{title: trim}"));
    assert!(message.contains("`title` is not a property"), "{message}");
}

/// BASE with a query of GSI1 by name that declares `filter` as given, over the
/// query parameters `tag` (text), `tags` (an array of at most `max` texts),
/// `count` (an integer) and `name` (the key).
fn filtered(filter: &str, max: &str) -> String {
    ranged("{op: gte, param: from}")
        .replace(
            "range: {op: gte, param: from}}",
            &format!("filter: {filter}}}"),
        )
        .replace(
            "        - {name: from, in: query, schema: {type: string}}\n",
            &format!(
                "        - {{name: tag, in: query, schema: {{type: string}}}}
        - {{name: tags, in: query, schema: {{type: array, {max}items: {{type: string}}}}}}
        - {{name: count, in: query, schema: {{type: integer}}}}
        - {{name: made, in: query, schema: {{type: string, format: date-time}}}}\n"
            ),
        )
        .replace(
            "        tags: {type: array, items: {type: string}}\n",
            "        tags: {type: array, items: {type: string}}\n        size: {type: integer}\n        madeAt: {type: string, format: date-time}\n",
        )
}

#[test]
fn filters_test_fields_with_parameters_of_their_type() {
    let at = "/paths/~1names~1{name}~1items/get/x-apigen-action/filter";
    let fine = filtered(
        "{tag: {field: tags, op: contains}, tags: {field: name, op: in}, count: {field: size, op: gte}}",
        "maxItems: 20, ",
    );
    assert!(errors(&fine).is_empty(), "{:#?}", errors(&fine));

    let (pointer, message, help, _) = one_error(&filtered("{tag: {field: colour}}", ""));
    assert_eq!(pointer, format!("{at}/tag/field"));
    assert!(
        message.contains("field `colour`, which `Item` does not have"),
        "{message}"
    );
    assert!(help.contains("`size`"), "{help}");

    let (pointer, message, _, _) = one_error(&filtered("{colour: {field: name}}", ""));
    assert_eq!(pointer, format!("{at}/colour"));
    assert!(
        message.contains("query parameter `colour`, which this operation does not have"),
        "{message}"
    );

    let (_, message, help, _) = one_error(&filtered("{count: {field: name, op: gt}}", ""));
    assert!(
        message.contains("`count` is a number, and `name` text"),
        "{message}"
    );
    assert!(help.contains("schema of the field"), "{help}");

    let (pointer, message, help, _) = one_error(&filtered("{tags: {field: name, op: in}}", ""));
    assert_eq!(pointer, "/paths/~1names~1{name}~1items/get/parameters/2");
    assert!(message.contains("at most 100 values"), "{message}");
    assert!(help.contains("maxItems: 100"), "{help}");

    for op in ["lt", "eq", "in"] {
        let (_, message, help, _) = one_error(&filtered(
            &format!("{{made: {{field: madeAt, op: {op}}}}}"),
            "",
        ));
        assert!(
            message.contains("`madeAt` is a date-time"),
            "{op}: {message}"
        );
        assert!(help.contains("sort key"), "{op}: {help}");
    }
    // A day of a date-time is text it begins with.
    let day = filtered("{tag: {field: madeAt, op: beginsWith}}", "");
    assert!(errors(&day).is_empty(), "{:#?}", errors(&day));

    let (pointer, message, _, _) = one_error(&filtered("{tag: {field: name, op: like}}", ""));
    assert_eq!(pointer, format!("{at}/tag/op"));
    assert!(message.contains("`like` is not a valid `op`"), "{message}");

    let (pointer, message, _, _) = one_error(&filtered("{tag: {field: name, kind: eq}}", ""));
    assert_eq!(pointer, format!("{at}/tag/kind"));
    assert!(message.contains("unknown key `kind`"), "{message}");

    // The key's own parameter is in the path.
    let (_, message, _, _) = one_error(&filtered("{name: {field: name}}", ""));
    assert!(
        message.contains("names a path parameter, and filters read query parameters"),
        "{message}"
    );

    // Only reads filter.
    let spec = BASE.replace("{get: Item}", "{get: Item, filter: {tag: {field: name}}}");
    let (pointer, message, _, _) = one_error(&spec);
    assert_eq!(
        pointer,
        "/paths/~1items~1{itemId}/get/x-apigen-action/filter"
    );
    assert!(
        message.contains("`filter` is for `query` and `list`"),
        "{message}"
    );
}

#[test]
fn edge_hints_are_checked() {
    let with = |edge: &str| {
        BASE.replace(
            "x-apigen:\n  tables:",
            &format!("x-apigen:\n{edge}\n  tables:"),
        )
    };
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "  cors: {origins: ['https://app.example.com/']}",
            "/x-apigen/cors/origins/0",
            "is not an origin",
            "without a path or a trailing `/`",
        ),
        (
            "  cors: {origins: ['*'], credentials: true}",
            "/x-apigen/cors/origins/0",
            "cannot be sent credentials",
            "list the origins",
        ),
        (
            "  cors: {origins: []}",
            "/x-apigen/cors",
            "names no origin",
            "origins: [https://app.example.com]",
        ),
        (
            "  throttling: {operations: {createItme: {rateLimit: 5}}}",
            "/x-apigen/throttling/operations/createItme",
            "no operation has the operationId `createItme`",
            "did you mean `createItem`?",
        ),
        (
            "  throttling: {rateLimit: 0}",
            "/x-apigen/throttling/rateLimit",
            "must be a positive number",
            "rateLimit: 10",
        ),
        (
            "  logs: {retentionDays: 31}",
            "/x-apigen/logs/retentionDays",
            "fixed set of days",
            "30, 60",
        ),
        (
            "  stage: 'my stage'",
            "/x-apigen/stage",
            "is not a stage name",
            "stage: prod",
        ),
        (
            "  domain: {name: 'https://api.example.com'}",
            "/x-apigen/domain/name",
            "is not a domain name",
            "api.example.com",
        ),
        (
            "  domain: {name: api.example.com, certificate: my-cert}",
            "/x-apigen/domain/certificate",
            "ACM certificate",
            "arn:aws:acm:",
        ),
        (
            "  alarms: {email: ops, latencyP99: 30000}",
            "/x-apigen/alarms/email",
            "is not an email address",
            "ops@example.com",
        ),
        (
            "  alarms: {errorRate: 150}",
            "/x-apigen/alarms/errorRate",
            "percentage",
            "up to 100",
        ),
        (
            "  logs: {level: verbose}",
            "/x-apigen/logs/level",
            "is not a valid `level`",
            "`debug`",
        ),
    ];
    for (edge, pointer, message, help) in cases {
        let found = errors(&with(edge));
        let hit = found
            .iter()
            .find(|e| e.0 == *pointer)
            .unwrap_or_else(|| panic!("{edge}: no error at {pointer}: {found:#?}"));
        assert!(hit.1.contains(message), "{edge}: {}", hit.1);
        assert!(hit.2.contains(help), "{edge}: {}", hit.2);
        assert!(hit.3 > 0, "{edge}: a line");
    }
    // An email and a latency both wrong: both reported.
    let both = errors(&with("  alarms: {email: ops, latencyP99: 30000}"));
    assert_eq!(both.len(), 2, "{both:#?}");
    let valid = with(
        "  stage: live\n  cors: {origins: [http://localhost:5173]}\n  throttling: {operations: {createItem: {burstLimit: 3}}}\n  domain: {name: api.example.com, basePath: v1}\n  logs: {retentionDays: 7}\n  alarms: {enabled: false}",
    );
    assert!(errors(&valid).is_empty(), "{:#?}", errors(&valid));
}

/// BASE with a WebSocket API whose `join` subscribes to `Item`, published by its name.
fn websocket(routes: &str, publish: &str) -> String {
    BASE.replace(
        "x-apigen:\n  tables:",
        &format!("security: [{{users: []}}]\nx-apigen:\n  websocket:\n    routes: {routes}\n  tables:"),
    )
    .replace(
        "        key: {pk: \"ITEM#{id}\", sk: ITEM}\n",
        &format!("        key: {{pk: \"ITEM#{{id}}\", sk: ITEM}}\n{publish}"),
    )
    .replace(
        "components:\n  schemas:\n",
        "components:\n  securitySchemes:\n    users:\n      type: openIdConnect\n      openIdConnectUrl: https://issuer.example/.well-known/openid-configuration\n      x-apigen-audience: [app]\n    partners: {type: apiKey, in: header, name: x-api-key, x-apigen-authorizer: lambda}\n  schemas:\n    Join:\n      type: object\n      required: [name]\n      properties: {name: {type: string}, id: {type: string}}\n",
    )
    .replace(
        "        tags: {type: array, items: {type: string}}\n",
        "        tags: {type: array, items: {type: string}}\n        colour: {type: string}\n",
    )
}

const PUBLISH: &str = "        publish: \"TAG#{name}\"\n";
const JOIN: &str = "{join: {message: {$ref: '#/components/schemas/Join'}, subscribe: Item}}";

#[test]
fn websocket_hints_are_checked() {
    let fine = websocket(JOIN, PUBLISH);
    assert!(errors(&fine).is_empty(), "{:#?}", errors(&fine));
    let routes = "/x-apigen/websocket/routes";

    let (pointer, message, help, _) = one_error(&websocket(JOIN, ""));
    assert_eq!(pointer, format!("{routes}/join/subscribe"));
    assert!(message.contains("`Item` publishes no changes"), "{message}");
    assert!(help.contains("publish:"), "{help}");

    let (pointer, message, help, _) = one_error(&BASE.replace(
        "        key: {pk: \"ITEM#{id}\", sk: ITEM}\n",
        &format!("        key: {{pk: \"ITEM#{{id}}\", sk: ITEM}}\n{PUBLISH}"),
    ));
    assert_eq!(pointer, "/components/schemas/Item/x-apigen-entity/publish");
    assert!(message.contains("no WebSocket API"), "{message}");
    assert!(help.contains("websocket"), "{help}");

    let unknown = "{join: {message: {$ref: '#/components/schemas/Join'}, subscribe: Thing}}";
    let (pointer, message, help, _) = one_error(&websocket(unknown, PUBLISH));
    assert_eq!(pointer, format!("{routes}/join/subscribe"));
    assert!(message.contains("`Thing` is not an entity"), "{message}");
    assert!(help.contains("`Item`"), "{help}");

    let (pointer, message, _, _) = one_error(&websocket(
        "{$connect: {message: {$ref: '#/components/schemas/Join'}}}",
        PUBLISH,
    ));
    assert_eq!(pointer, format!("{routes}/$connect"));
    assert!(
        message.contains("a route apigen answers itself"),
        "{message}"
    );

    let (pointer, message, help, _) =
        one_error(&websocket("{say: {message: {type: object}}}", PUBLISH));
    assert_eq!(pointer, format!("{routes}/say/message"));
    assert!(
        message.contains("references to component schemas"),
        "{message}"
    );
    assert!(help.contains("$ref"), "{help}");

    // A misspelt key is named, and the route still lacks its message.
    let misspelt = errors(&websocket(
        "{say: {mesage: {$ref: '#/components/schemas/Join'}}}",
        PUBLISH,
    ));
    assert_eq!(misspelt.len(), 2, "{misspelt:#?}");
    assert_eq!(misspelt[0].0, format!("{routes}/say/mesage"));
    assert!(
        misspelt[0].1.contains("unknown key `mesage`"),
        "{misspelt:#?}"
    );
    assert!(
        misspelt[0].2.contains("did you mean `message`?"),
        "{misspelt:#?}"
    );
    assert!(
        misspelt[1].1.contains("route `say` has no `message`"),
        "{misspelt:#?}"
    );

    // The topic's variables come from the message, which must require them.
    let (_, message, help, _) = one_error(&websocket(JOIN, "        publish: \"TAG#{colour}\"\n"));
    assert!(
        message.contains("needs `colour`, which `Join` does not have"),
        "{message}"
    );
    assert!(help.contains("required property `colour`"), "{help}");
    let (_, message, help, _) = one_error(&websocket(JOIN, "        publish: \"TAG#{id}\"\n"));
    assert!(
        message.contains("needs `id`, which `Join` does not require"),
        "{message}"
    );
    assert!(help.contains("`required` list of `Join`"), "{help}");

    let (pointer, message, _, _) = one_error(&websocket(
        "{say: {message: {$ref: '#/components/schemas/Join'}, access: authenticated}}",
        "",
    ));
    assert_eq!(pointer, format!("{routes}/say/access"));
    assert!(message.contains("this route does not"), "{message}");

    let selection = websocket(JOIN, PUBLISH).replace(
        "  websocket:\n",
        "  websocket:\n    routeSelection: $request.header.x\n",
    );
    let (pointer, message, help, _) = one_error(&selection);
    assert_eq!(pointer, "/x-apigen/websocket/routeSelection");
    assert!(
        message.contains("not a route selection expression"),
        "{message}"
    );
    assert!(help.contains("$request.body."), "{help}");

    let two = websocket(JOIN, PUBLISH).replace(
        "  websocket:\n",
        "  websocket:\n    security: [{users: [], partners: []}]\n",
    );
    let (pointer, message, _, _) = one_error(&two);
    assert_eq!(pointer, "/x-apigen/websocket/security/0");
    assert!(message.contains("authorizer"), "{message}");

    // An owned entity's topic must hold its owner, or anyone could listen to anyone's items.
    let owned = websocket(JOIN, PUBLISH).replace(
        "        key: {pk: \"ITEM#{id}\", sk: ITEM}\n",
        "        key: {pk: \"ITEM#{name}\", sk: ITEM}\n        owner: {field: name}\n",
    );
    assert!(
        errors(&owned).is_empty(),
        "bound from the token: {:#?}",
        errors(&owned)
    );
    let everyone = owned.replace("publish: \"TAG#{name}\"", "publish: \"TAGS\"");
    let (pointer, message, help, _) = one_error(&everyone);
    assert_eq!(pointer, format!("{routes}/join/subscribe"));
    assert!(message.contains("other callers' data"), "{message}");
    assert!(help.contains("{name}"), "{help}");

    let kept = websocket(JOIN, PUBLISH).replace(
        "Main: {pk: PK, sk: SK, indexes: {GSI1: {pk: GSI1PK, sk: GSI1SK}}}",
        "Main: {pk: PK, sk: SK, stream: KEYS_ONLY, indexes: {GSI1: {pk: GSI1PK, sk: GSI1SK}}}",
    );
    let (pointer, message, help, _) = one_error(&kept);
    assert_eq!(pointer, "/components/schemas/Item/x-apigen-entity/publish");
    assert!(message.contains("`KEYS_ONLY`"), "{message}");
    assert!(help.contains("NEW_AND_OLD_IMAGES"), "{help}");
}
