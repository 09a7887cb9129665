//! The command line as a user runs it.

mod common;

use std::process::Command;

fn apigen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_apigen"))
}

#[test]
fn new_creates_a_project_and_refuses_a_non_empty_folder() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path().join("shop");
    let spec = common::repo().join("specs/shop.yaml");
    let out = apigen()
        .arg("new")
        .arg(&spec)
        .arg("-o")
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("src/handlers.rs").is_file());
    assert!(dir.join("template.yaml").is_file());

    let again = apigen()
        .arg("new")
        .arg(&spec)
        .arg("-o")
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // --force regenerates over hand edits, and keeps the user's files:
    // theirs from the start, and generated ones they took over by deleting
    // the `@generated` line.
    std::fs::write(dir.join("src/handlers.rs"), "// mine\n").expect("writable");
    std::fs::write(
        dir.join("src/generated/models.rs"),
        "// @generated, edited\n",
    )
    .expect("writable");
    std::fs::write(dir.join("src/generated/routes.rs"), "// adopted\n").expect("writable");
    let forced = apigen()
        .arg("new")
        .arg(&spec)
        .arg("-o")
        .arg(&dir)
        .arg("--force")
        .output()
        .expect("runs");
    assert!(forced.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("src/handlers.rs")).expect("readable"),
        "// mine\n"
    );
    assert!(std::fs::read_to_string(dir.join("src/generated/models.rs"))
        .expect("readable")
        .contains("pub struct"));
    assert_eq!(
        std::fs::read_to_string(dir.join("src/generated/routes.rs")).expect("readable"),
        "// adopted\n"
    );
}

#[test]
fn generate_inside_a_project_uses_its_own_spec() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path().join("pets");
    let spec = common::repo().join("specs/petstore.yaml");
    assert!(apigen()
        .arg("new")
        .arg(&spec)
        .arg("-o")
        .arg(&dir)
        .status()
        .expect("runs")
        .success());
    std::fs::remove_file(dir.join("src/generated/routes.rs")).expect("removable");
    let out = apigen()
        .arg("generate")
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("src/generated/routes.rs").is_file());
}

#[test]
fn check_reports_errors_rustc_style_and_exits_1() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let spec = work.path().join("bad.yaml");
    let text =
        std::fs::read_to_string(common::repo().join("specs/petstore.yaml")).expect("readable");
    std::fs::write(
        &spec,
        text.replacen(
            "x-apigen-action: {get: Pet}",
            "x-apigen-action: {get: Pett}",
            1,
        ),
    )
    .expect("writable");
    let out = apigen().arg("check").arg(&spec).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error = stderr
        .lines()
        .find(|l| l.contains(": error: "))
        .unwrap_or_default();
    let bad = std::fs::read_to_string(&spec).expect("readable");
    let line = bad
        .lines()
        .position(|l| l.contains("{get: Pett}"))
        .expect("the broken line")
        + 1;
    let column = bad
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find("get: Pett"))
        .expect("the verb")
        + 1;
    let prefix = format!(
        "{}:{line}:{column}: error: action names entity `Pett`",
        spec.display()
    );
    assert!(error.starts_with(&prefix), "{stderr}");
    assert!(stderr.contains("= help:"), "{stderr}");
    assert!(stderr.contains("/x-apigen-action/get"), "{stderr}");
    // The line is quoted under the message with a caret at the column, as
    // rustc quotes code.
    let quoted = format!(
        "{line} | {}\n",
        bad.lines().nth(line - 1).expect("the line").trim_end()
    );
    let caret = format!("| {}^^^\n", " ".repeat(column - 1));
    assert!(
        stderr.contains(&quoted) && stderr.contains(&caret),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "colour only on a terminal: {stderr}"
    );
    assert!(stderr.ends_with("due to 1 previous error\n"), "{stderr}");
}

#[test]
fn check_prints_warnings_and_colour_only_when_asked() {
    let spec = common::repo().join("specs/petstore.yaml");
    let out = apigen().arg("check").arg(&spec).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(": warning: `list: Pet` is served by a Scan"),
        "{stderr}"
    );
    let colored = apigen()
        .args(["--color", "always", "check"])
        .arg(&spec)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&colored.stderr).contains("\x1b[1;33mwarning\x1b[0m"));
    let usage = apigen().args(["check"]).output().expect("runs");
    assert_eq!(usage.status.code(), Some(2), "a usage error");
    let missing = apigen()
        .args(["check", "no/such.yaml"])
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(2), "an IO error");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read `no/such.yaml`"));
}

#[test]
fn check_explains_what_will_be_generated() {
    let out = apigen()
        .arg("check")
        .arg(common::repo().join("specs/shop.yaml"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("entity Order (type ORDER) in table Main"),
        "{stdout}"
    );
    assert!(stdout.contains("declared `query: Order`"), "{stdout}");
}

#[test]
fn a_spec_without_hints_gives_stub_handlers() {
    let out = apigen()
        .arg("check")
        .arg(common::corpus_dir().join("oai-petstore.yaml"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("hand-written"));
}

/// Orders with two indexes, one of them sparse, and operations that
/// declare their error statuses in every way but one.
const ADVICE: &str = r#"openapi: 3.0.3
info: {title: Shop, version: '1'}
x-apigen:
  tables:
    Main: {pk: PK, sk: SK, indexes: {GSI1: {pk: GSI1PK, sk: GSI1SK}, GSI2: {pk: GSI2PK, sk: GSI2SK}}}
paths:
  /orders:
    post:
      operationId: createOrder
      x-apigen-action: {create: Order}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}
      responses:
        '201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}}
        4XX: {description: refused}
  /orders/{orderId}:
    get:
      operationId: getOrder
      x-apigen-action: {get: Order}
      parameters: [{name: orderId, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}}
        default: {description: refused}
  /a: {get: {operationId: a, parameters: [{name: q, in: query, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}}
  /b: {get: {operationId: b, parameters: [{name: n, in: query, schema: {type: integer}}], responses: {'204': {description: ok}}}}
  /c: {get: {operationId: c, parameters: [{name: X-Key, in: header, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}}
  /d: {get: {operationId: d, parameters: [{name: s, in: cookie, required: true, schema: {type: string}}], responses: {'204': {description: ok}, '400': {description: bad}}}}
  /e/{id}: {get: {operationId: e, parameters: [{name: id, in: path, required: true, schema: {type: string, format: uuid}}], responses: {'204': {description: ok}}}}
  /f: {post: {operationId: f, requestBody: {content: {application/json: {schema: {type: object}}}}, responses: {'204': {description: ok}}}}
  /g/{id}: {get: {operationId: g, parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'204': {description: ok}}}}
components:
  schemas:
    Order:
      type: object
      required: [id, customerId]
      properties:
        id: {type: string, readOnly: true}
        customerId: {type: string}
        status: {type: string}
        placedAt: {type: string, format: date-time}
      x-apigen-entity:
        key: {pk: "ORDER#{id}", sk: ORDER}
        indexes:
          GSI1: {pk: "CUSTOMER#{customerId}", sk: "ORDER#{id}"}
          GSI2: {pk: "STATUS#{status}", sk: "{placedAt}#{id}"}
"#;

#[test]
fn check_notes_sparse_indexes_and_warns_once_of_undeclared_statuses() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let spec = work.path().join("spec.yaml");
    std::fs::write(&spec, ADVICE).expect("writable");
    let out = apigen().arg("check").arg(&spec).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            ": note: index GSI2 of Order is sparse: items without `status` or `placedAt` are not in it"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("= at /components/schemas/Order/x-apigen-entity/indexes/GSI2"));
    assert!(!stderr.contains("index GSI1 of Order"), "{stderr}");
    // Once per spec: d declares 400, g can refuse nothing, 4XX and default cover all.
    assert_eq!(stderr.matches("do not declare").count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            ": warning: 5 operations can answer error statuses their responses do not declare: a (400), b (400), c (400) and 2 more"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("a `4XX` or `default` response covers all"));
    let colored = apigen()
        .args(["--color", "always", "check"])
        .arg(&spec)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&colored.stderr).contains("\x1b[1;36mnote\x1b[0m"));
}

#[test]
fn a_long_description_is_cut_at_a_sentence_where_one_line_fits_and_kept_whole_elsewhere() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let out = apigen()
        .arg("new")
        .arg(common::repo().join("tests/specs/accounts.yaml"))
        .arg("-o")
        .arg(work.path().join("api"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| std::fs::read_to_string(work.path().join("api").join(p)).expect(p);
    let first = r#"Profiles and files of each tenant: \"quoted\", 'single', and `code`."#;
    assert!(
        read("Cargo.toml").contains(&format!("description = \"{first}\"\n")),
        "{}",
        read("Cargo.toml")
    );
    assert!(
        read("template.yaml").contains(&format!("Description: \"{first}\"\n")),
        "{}",
        read("template.yaml")
    );
    let lib = read("src/lib.rs");
    for line in [
        "//! ````text\n",
        "//! ## Markdown: *emphasis*, & and # and {braces} and [brackets]\n",
        "//! - C:\\path\\to\\file and a regex \\d+\\.\\w* with backslashes\n",
        "//! ```\n//! fn main() { panic!(\"a doctest would run this\") }\n//! ```\n",
        "//!     indented code */ that would close a block comment\n",
        "//! Non-ASCII: café, Zürich, 東京, 🚀 — and a tab    here.\n//! ````\n",
    ] {
        assert!(lib.contains(line), "{line:?} in\n{lib}");
    }
    let readme = read("README.md");
    assert!(
        readme.contains("is below, and must not reach Cargo.toml.\n\n## Markdown"),
        "{readme}"
    );
    assert!(readme.contains("Non-ASCII: café, Zürich"), "{readme}");
    let lint = Command::new(common::venv_tool("cfn-lint"))
        .arg("template.yaml")
        .current_dir(work.path().join("api"))
        .output()
        .expect("cfn-lint runs");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

/// What `apigen check` prints of each operation's callers, by operation id.
fn who_may_call(stdout: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = stdout.lines().collect();
    lines
        .windows(2)
        .filter_map(|pair| {
            let who = pair[1].strip_prefix("        who: ")?;
            let id = pair[0].split_whitespace().nth(2)?;
            Some((id.to_string(), who.to_string()))
        })
        .collect()
}

#[test]
fn check_says_who_may_call_each_operation() {
    let out = apigen()
        .arg("check")
        .arg(common::repo().join("specs/notes.yaml"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let who = who_may_call(&stdout);
    let of = |id: &str| {
        who.iter()
            .find(|(op, _)| op == id)
            .map(|(_, who)| who.as_str())
            .unwrap_or_else(|| panic!("no `who:` line under {id} in\n{stdout}"))
    };
    // One line under every operation.
    assert_eq!(who.len(), 10, "{stdout}");
    assert_eq!(of("health"), "anyone (public)");
    assert_eq!(
        of("listMyNotes"),
        "users (JWT) with scopes notes/read; the owner (`Note.ownerId` from the `sub` claim)"
    );
    assert_eq!(
        of("createNote"),
        "users (JWT) with scopes notes/write; the owner (`Note.ownerId` from the `sub` claim)"
    );
    assert_eq!(
        of("listUserNotes"),
        "users (JWT); the owner or groups admin (`Note.ownerId` from the `sub` claim, or from parameter `ownerId` for groups admin)"
    );
    assert_eq!(
        of("listAllNotes"),
        "users (JWT); groups admin (every owner's `Note` items)"
    );
}

#[test]
fn a_groups_claim_of_the_spec_reaches_the_generated_security_table() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let notes = std::fs::read_to_string(common::repo().join("specs/notes.yaml"))
        .expect("notes.yaml is readable");
    let generate = |name: &str, spec_text: &str| {
        let spec = work.path().join(format!("{name}.yaml"));
        std::fs::write(&spec, spec_text).expect("writable");
        let dir = work.path().join(name);
        let out = apigen()
            .arg("new")
            .arg(&spec)
            .arg("-o")
            .arg(&dir)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(dir.join("src/generated/security.rs")).expect("a security table")
    };
    let roles = notes.replace("groupsClaim: cognito:groups", "groupsClaim: roles");
    assert_ne!(roles, notes, "notes.yaml names its groups claim");
    let table = generate("roles", &roles);
    assert!(table.contains("groups_claim: \"roles\""), "{table}");
    assert!(!table.contains("cognito:groups"), "{table}");
    // Without `auth`, the default.
    let default = notes.replace(
        "  auth:\n    groupsClaim: cognito:groups        # the default, spelled out\n",
        "",
    );
    assert_ne!(default, notes, "notes.yaml has an `auth` block");
    let table = generate("default", &default);
    assert!(
        table.contains("groups_claim: \"cognito:groups\""),
        "{table}"
    );
}

#[test]
fn template_overrides_are_merged_checked_and_an_adopted_template_is_compared() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let dir = work.path().join("pets");
    let spec = common::repo().join("specs/petstore.yaml");
    assert!(apigen()
        .arg("new")
        .arg(&spec)
        .arg("-o")
        .arg(&dir)
        .status()
        .expect("runs")
        .success());
    // Written once, empty: the template is as generated.
    let starter = std::fs::read_to_string(dir.join("template.overrides.yaml")).expect("a starter");
    assert!(
        starter.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "{starter}"
    );
    let overrides = "Resources:\n  Uploads:\n    Type: AWS::S3::Bucket\n  ApiFunction:\n    Properties:\n      MemorySize: 1024\n";
    std::fs::write(dir.join("template.overrides.yaml"), overrides).expect("writable");
    let generate = || {
        apigen()
            .arg("generate")
            .current_dir(&dir)
            .output()
            .expect("runs")
    };
    let out = generate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let template = std::fs::read_to_string(dir.join("template.yaml")).expect("readable");
    assert!(
        template.contains("  Uploads:\n    Type: AWS::S3::Bucket"),
        "{template}"
    );
    assert!(template.contains("MemorySize: 1024"), "{template}");
    common::lint_template(&dir);
    // The user's file stays theirs.
    assert_eq!(
        std::fs::read_to_string(dir.join("template.overrides.yaml")).expect("readable"),
        overrides
    );

    // A reference to nothing is refused with the file, line and pointer; nothing is written.
    std::fs::write(
        dir.join("template.overrides.yaml"),
        "Resources:\n  ApiFunction:\n    Properties:\n      Environment:\n        Variables:\n          BUCKET: !Ref Bucket\n",
    )
    .expect("writable");
    let out = generate();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("template.overrides.yaml:6:"), "{stderr}");
    assert!(
        stderr.contains("no parameter or resource is named `Bucket`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/Resources/ApiFunction/Properties/Environment/Variables/BUCKET"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("template.yaml")).expect("readable"),
        template
    );

    // A template taken over (its `@generated` line gone) that lacks a route is warned about.
    std::fs::write(dir.join("template.overrides.yaml"), "").expect("writable");
    let adopted: String = template
        .lines()
        .filter(|l| !l.contains("@generated"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("Method: DELETE", "Method: PATCH");
    std::fs::write(dir.join("template.yaml"), &adopted).expect("writable");
    let out = generate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`template.yaml` deploys no route for DELETE /pets/{petId}"),
        "{stderr}"
    );
    assert!(stderr.contains("template.overrides.yaml"), "{stderr}");
}
