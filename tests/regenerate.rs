//! `apigen generate` on an existing project: generated files follow the
//! spec, the user's files and hand edits are never lost, and a failure at
//! any step leaves the project exactly as it was.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apigen::write::{self, Fs, OsFs};

/// A spec with one stored entity; `STORED.replace(HINTS...)` gives the same
/// API without storage.
const STORED: &str = r#"openapi: 3.0.3
info: {title: Notes, version: '1'}
x-apigen:
  name: notes
  tables:
    Main: {pk: PK, sk: SK}
paths:
  /notes:
    post:
      operationId: createNote
      x-apigen-action: {create: Note}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
      responses:
        '201': {description: created, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
  /notes/{id}:
    get:
      operationId: getNote
      x-apigen-action: {get: Note}
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}}
components:
  schemas:
    Note:
      type: object
      required: [id, text]
      properties:
        id: {type: string, readOnly: true}
        text: {type: string}
      x-apigen-entity:
        key: {pk: "NOTE#{id}", sk: NOTE}
"#;

fn without_storage() -> String {
    STORED
        .replace(
            "x-apigen:\n  name: notes\n  tables:\n    Main: {pk: PK, sk: SK}\n",
            "x-apigen: {name: notes}\n",
        )
        .replace("      x-apigen-action: {create: Note}\n", "")
        .replace("      x-apigen-action: {get: Note}\n", "")
        .replace(
            "      x-apigen-entity:\n        key: {pk: \"NOTE#{id}\", sk: NOTE}\n",
            "",
        )
}

/// A health check without a storage action, which the user must write.
fn with_health_check(spec: &str) -> String {
    spec.replacen(
        "paths:\n",
        "paths:\n  /health:\n    get:\n      operationId: getHealth\n      responses:\n        '204': {description: healthy}\n",
        1,
    )
}

fn apigen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apigen"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("apigen runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new project from `spec`, in a fresh temporary folder.
fn project(spec: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(work.path().join("spec.yaml"), spec).expect("writable");
    let out = apigen(work.path(), &["new", "spec.yaml", "-o", "api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = work.path().join("api");
    (work, dir)
}

/// Every file and folder under `root`, with the files' bytes.
fn tree(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("an entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            // Who holds the project now, not what it holds: a refused run may create it.
            if rel == write::lock::PATH {
                continue;
            }
            if path.is_dir() {
                out.insert(format!("{rel}/"), None);
                stack.push(path);
            } else {
                out.insert(rel, Some(std::fs::read(&path).expect("readable")));
            }
        }
    }
    out
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).expect("readable")
}

#[test]
fn regeneration_follows_the_spec_and_never_touches_your_files() {
    let (_work, dir) = project(STORED);
    let handlers = read(&dir, "src/handlers.rs")
        .replace("pub struct Service", "/// Mine.\npub struct Service");
    std::fs::write(dir.join("src/handlers.rs"), &handlers).expect("writable");
    std::fs::write(dir.join("openapi.yaml"), with_health_check(STORED)).expect("writable");

    let out = apigen(&dir.join("src"), &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        read(&dir, "src/handlers.rs"),
        handlers,
        "your file is untouched"
    );
    assert!(read(&dir, "src/generated/routes.rs").contains("/health"));
    // The printed stub is the method to paste, and names the operation.
    let err = stderr(&out);
    assert!(err.contains("has no method for 1 operation"), "{err}");
    assert!(
        err.contains("    async fn get_health(\n        &self,"),
        "{err}"
    );
    assert!(err.contains("Updated src/generated/routes.rs"), "{err}");

    let again = apigen(&dir, &["generate", "--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stdout(&again).is_empty());
}

#[test]
fn hand_edits_stop_regeneration_until_forced() {
    let (_work, dir) = project(STORED);
    let edited = format!("{}// my fix\n", read(&dir, "src/generated/models.rs"));
    std::fs::write(dir.join("src/generated/models.rs"), &edited).expect("writable");
    std::fs::write(dir.join("openapi.yaml"), with_health_check(STORED)).expect("writable");
    let before = tree(&dir);

    let refused = apigen(&dir, &["generate"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("src/generated/models.rs: edited since apigen wrote it"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no colour when not on a terminal: {err}"
    );
    assert_eq!(tree(&dir), before, "nothing was written");

    let check = apigen(&dir, &["generate", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let diff = stdout(&check);
    assert!(
        diff.contains("--- a/src/generated/models.rs\n+++ b/src/generated/models.rs\n"),
        "{diff}"
    );
    assert!(diff.contains("\n-// my fix\n"), "{diff}");
    assert!(diff.contains("+    /// `GET /health`"), "{diff}");
    assert_eq!(tree(&dir), before, "--check writes nothing");

    let forced = apigen(&dir, &["generate", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stderr(&forced).contains("overwrote your edits to `src/generated/models.rs`"));
    assert!(!read(&dir, "src/generated/models.rs").contains("// my fix"));
    assert_eq!(
        apigen(&dir, &["generate", "--check"]).status.code(),
        Some(0)
    );
}

#[test]
fn deleting_the_generated_line_makes_a_file_yours() {
    let (_work, dir) = project(STORED);
    let template = read(&dir, "template.yaml");
    let (first, rest) = template.split_once('\n').expect("lines");
    assert!(first.contains("@generated"));
    std::fs::write(dir.join("template.yaml"), format!("{rest}# my alarm\n")).expect("writable");
    std::fs::write(dir.join("openapi.yaml"), with_health_check(STORED)).expect("writable");
    let out = apigen(&dir, &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`template.yaml` is yours"),
        "{}",
        stderr(&out)
    );
    assert!(read(&dir, "template.yaml").ends_with("# my alarm\n"));
}

#[test]
fn generated_files_the_spec_no_longer_gives_are_removed() {
    let (work, dir) = project(STORED);
    assert!(dir.join("src/generated/actions.rs").is_file());
    std::fs::write(work.path().join("plain.yaml"), without_storage()).expect("writable");

    // An edited stale file is a conflict like any other.
    let store = dir.join("src/generated/actions.rs");
    let original = std::fs::read_to_string(&store).expect("readable");
    std::fs::write(&store, format!("{original}// mine\n")).expect("writable");
    let refused = apigen(work.path(), &["generate", "plain.yaml", "-o", "api"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains(
            "src/generated/actions.rs: edited since apigen wrote it, and no longer generated"
        ),
        "{}",
        stderr(&refused)
    );
    std::fs::write(&store, original).expect("writable");

    let out = apigen(work.path(), &["generate", "plain.yaml", "-o", "api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Removed src/generated/actions.rs"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("src/generated/entities.rs").exists());

    // Moving to a shared runtime removes the vendored copy, emptied folders too.
    let shared = common::repo().join("runtime");
    let args = ["generate", "plain.yaml", "-o", "api", "--runtime"];
    let out = apigen(
        work.path(),
        &[&args[..], &[shared.to_str().expect("UTF-8")]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("in Cargo.toml, give apigen-runtime `path = "),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("vendor").exists(), "emptied folders go too");
    assert_eq!(
        read(&dir, "openapi.yaml"),
        without_storage(),
        "the project's copy follows the spec"
    );
    let manifest = read(&dir, ".apigen/manifest.json");
    assert!(!manifest.contains("entities.rs"), "{manifest}");
    // Regenerating from the project's own copy now changes nothing.
    assert_eq!(
        apigen(&dir, &["generate", "--check"]).status.code(),
        Some(0)
    );
}

#[test]
fn output_is_byte_for_byte_deterministic_and_options_are_remembered() {
    let (work, dir) = project(STORED);
    let out = apigen(work.path(), &["new", "spec.yaml", "-o", "again"]);
    assert!(out.status.success());
    assert_eq!(tree(&dir), tree(&work.path().join("again")));

    let named = apigen(
        work.path(),
        &["new", "spec.yaml", "-o", "named", "--name", "memo-api"],
    );
    assert!(named.status.success(), "{}", stderr(&named));
    let named = work.path().join("named");
    assert!(read(&named, ".apigen/manifest.json").contains("\"name\": \"memo-api\""));
    std::fs::write(named.join("openapi.yaml"), with_health_check(STORED)).expect("writable");
    let out = apigen(&named, &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        read(&named, "samconfig.toml").contains("stack_name = \"memo-api\""),
        "the recorded name is used again"
    );
}

#[test]
fn generate_outside_a_project_says_how_to_name_one() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let out = apigen(work.path(), &["generate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("apigen generate SPEC -o DIR"),
        "{}",
        stderr(&out)
    );
}

/// Puts `tree` back exactly.
fn restore(root: &Path, tree: &BTreeMap<String, Option<Vec<u8>>>) {
    std::fs::remove_dir_all(root).expect("removable");
    std::fs::create_dir(root).expect("creatable");
    for (path, contents) in tree {
        match contents {
            None => std::fs::create_dir_all(root.join(path)).expect("creatable"),
            Some(bytes) => {
                let p = root.join(path);
                std::fs::create_dir_all(p.parent().expect("a parent")).expect("creatable");
                std::fs::write(p, bytes).expect("writable");
            }
        }
    }
}

/// The real file system, except that step `fail_at` fails; when `crash`,
/// every step after it fails too, as if the process had been killed there
/// and could not undo anything.
struct FailingFs {
    steps: usize,
    fail_at: usize,
    crash: bool,
}

impl FailingFs {
    fn new(fail_at: usize) -> Self {
        Self {
            steps: 0,
            fail_at,
            crash: false,
        }
    }

    fn step(&mut self) -> std::io::Result<()> {
        self.steps += 1;
        if self.steps == self.fail_at || (self.crash && self.steps > self.fail_at) {
            Err(std::io::Error::other("injected failure"))
        } else {
            Ok(())
        }
    }
}

impl Fs for FailingFs {
    fn write(&mut self, path: &Path, contents: &[u8]) -> std::io::Result<()> {
        self.step()?;
        OsFs.write(path, contents)
    }
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.step()?;
        OsFs.rename(from, to)
    }
    fn remove_file(&mut self, path: &Path) -> std::io::Result<()> {
        self.step()?;
        OsFs.remove_file(path)
    }
    fn create_dir(&mut self, path: &Path) -> std::io::Result<()> {
        self.step()?;
        OsFs.create_dir(path)
    }
    fn remove_dir(&mut self, path: &Path) -> std::io::Result<()> {
        self.step()?;
        OsFs.remove_dir(path)
    }
}

/// Applies `changes` (planned from `plan`) failing at step 1, then 2, and
/// so on until a run completes; after every failed run the project must be
/// exactly as it was. Returns the number of steps tried.
fn fail_at_every_step(
    dir: &Path,
    plan: &apigen::emit::FilePlan,
    changes: &write::Changes,
) -> usize {
    let before = tree(dir);
    let mut fail_at = 1;
    loop {
        let mut fs = FailingFs::new(fail_at);
        let result = write::apply(changes, &mut fs);
        if fs.steps < fail_at {
            result.expect("no failure was injected");
            break;
        }
        match result {
            Err(error) => {
                assert!(error.to_string().contains("injected failure"), "{error}");
                assert_eq!(
                    tree(dir),
                    before,
                    "a failure at step {fail_at} changed the project"
                );
            }
            Ok(()) => {
                // The failure hit the tidying after the commit, which is not
                // an error: the changes are in, and the next run finishes
                // the tidying from the journal.
                write::recover(dir, &mut OsFs).expect("recovers");
                let after =
                    write::changes(plan, dir, &Default::default(), false).expect("readable");
                assert!(
                    after.is_empty(),
                    "not committed, yet no error, at step {fail_at}"
                );
                let stray: Vec<String> = tree(dir)
                    .into_keys()
                    .filter(|p| !before.contains_key(p) && !p.ends_with('/'))
                    .filter(|p| changes.changes.iter().all(|c| c.path() != p))
                    .collect();
                assert!(stray.is_empty(), "{stray:?}");
                restore(dir, &before);
            }
        }
        fail_at += 1;
    }
    assert!(
        write::changes(plan, dir, &Default::default(), false)
            .expect("readable")
            .is_empty(),
        "the run that completed applied everything"
    );
    fail_at
}

/// A write killed at each step in turn (nothing undone in-process) is
/// rolled back by the next run from its journal.
#[test]
fn a_run_killed_at_any_step_is_rolled_back_by_the_next() {
    let (work, dir) = project(&with_health_check(&without_storage()));
    std::fs::write(work.path().join("stored.yaml"), STORED).expect("writable");
    let plan = apigen::plan(
        &work.path().join("stored.yaml"),
        &apigen::Options::default(),
    )
    .expect("valid")
    .plan;
    let changes = write::changes(&plan, &dir, &Default::default(), false).expect("readable");
    let before = tree(&dir);
    let mut killed_at = 1;
    loop {
        let mut fs = FailingFs {
            crash: true,
            ..FailingFs::new(killed_at)
        };
        if write::apply(&changes, &mut fs).is_ok() {
            if fs.steps < killed_at {
                break;
            }
            // Killed after the commit, while tidying: the next run finishes.
            assert!(
                write::recover(&dir, &mut OsFs).expect("recovers"),
                "a journal is left"
            );
            assert!(write::changes(&plan, &dir, &Default::default(), false)
                .expect("readable")
                .is_empty());
            let leftovers: Vec<String> = tree(&dir)
                .into_keys()
                .filter(|p| p.contains(".apigen-") || p.ends_with("transaction.json"))
                .collect();
            assert!(
                leftovers.is_empty(),
                "killed at step {killed_at}: {leftovers:?}"
            );
            restore(&dir, &before);
            killed_at += 1;
            continue;
        }
        let journal = dir.join(write::transaction::JOURNAL);
        if journal.is_file() {
            let refused = apigen(&dir, &["generate", "--check"]);
            assert_eq!(refused.status.code(), Some(2));
            assert!(
                stderr(&refused).contains("interrupted"),
                "{}",
                stderr(&refused)
            );
        } else {
            // Before the journal is in place, only the journal itself may
            // have been started.
            let now = tree(&dir);
            let differs: Vec<&String> = now
                .keys()
                .chain(before.keys())
                .filter(|k| now.get(*k) != before.get(*k))
                .collect();
            assert!(
                differs
                    .iter()
                    .all(|k| k.as_str() == ".apigen/.transaction.json.apigen-new"),
                "killed at step {killed_at}: changes made without a journal: {differs:?}"
            );
        }
        assert!(write::recover(&dir, &mut OsFs).is_ok());
        assert_eq!(
            tree(&dir),
            before,
            "killed at step {killed_at}, then recovered"
        );
        killed_at += 1;
    }
    assert!(
        killed_at > 2 * changes.changes.len(),
        "only {killed_at} steps were tried"
    );
}

/// Regeneration that creates, updates and removes files fails at each of
/// its steps in turn.
#[test]
fn a_failure_at_any_step_leaves_the_project_as_it_was() {
    let (work, dir) = project(&with_health_check(&without_storage()));
    let plan_of = |name: &str, text: &str| {
        std::fs::write(work.path().join(name), text).expect("writable");
        apigen::plan(&work.path().join(name), &apigen::Options::default())
            .expect("valid")
            .plan
    };

    let stored = plan_of("stored.yaml", STORED);
    let changes = write::changes(&stored, &dir, &Default::default(), false).expect("readable");
    let verbs: Vec<&str> = changes.files().map(|c| c.verb()).collect();
    assert!(
        verbs.contains(&"created") && verbs.contains(&"updated"),
        "{verbs:?}"
    );
    let steps = fail_at_every_step(&dir, &stored, &changes);
    assert!(
        steps > 2 * changes.changes.len(),
        "only {steps} steps were tried"
    );

    let plain = plan_of("plain.yaml", &without_storage());
    let removal = write::changes(&plain, &dir, &Default::default(), false).expect("readable");
    assert!(
        removal.files().any(|c| c.verb() == "removed"),
        "the change set removes files"
    );
    fail_at_every_step(&dir, &plain, &removal);
}

#[test]
fn a_spec_with_errors_is_refused_with_exit_1_and_nothing_is_written() {
    let (_work, dir) = project(STORED);
    std::fs::write(
        dir.join("openapi.yaml"),
        STORED.replace("{get: Note}", "{get: Nope}"),
    )
    .expect("writable");
    let before = tree(&dir);
    for args in [&["generate"][..], &["generate", "--check"]] {
        let out = apigen(&dir, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("error: action names entity `Nope`"),
            "{}",
            stderr(&out)
        );
        assert_eq!(tree(&dir), before);
    }
    let fresh = dir.parent().expect("a parent").join("fresh");
    let out = apigen(
        &dir,
        &["new", "openapi.yaml", "-o", fresh.to_str().expect("UTF-8")],
    );
    assert_eq!(out.status.code(), Some(1), "`new` refuses it too");
    assert!(!fresh.exists(), "and writes nothing");
    let colored = apigen(&dir, &["--color", "always", "generate"]);
    assert!(
        stderr(&colored).contains("\x1b[1;31merror\x1b[0m"),
        "{}",
        stderr(&colored)
    );
}

#[test]
fn a_second_generate_on_a_project_is_refused_while_one_runs() {
    let (_work, dir) = project(STORED);
    std::fs::write(dir.join("openapi.yaml"), with_health_check(STORED)).expect("writable");
    let before = tree(&dir);
    let held = write::lock(&dir).expect("the first run takes the lock");

    // Another process, and another thread of this one, are both refused.
    let out = apigen(&dir, &["generate"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "another apigen generate is running on this project (pid {})",
            std::process::id()
        )),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(".apigen/lock"), "{}", stderr(&out));
    let other = std::thread::scope(|s| s.spawn(|| write::lock(&dir)).join().expect("no panic"));
    assert!(
        matches!(other, Err(write::WriteError::Locked { pid: Some(p), .. }) if p == std::process::id()),
        "{other:?}"
    );
    assert_eq!(tree(&dir), before, "the refused run wrote nothing");

    drop(held);
    let out = apigen(&dir, &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_lock_left_by_a_dead_run_does_not_block() {
    let (_work, dir) = project(STORED);
    // What a killed run leaves: the file, with a PID, but no OS lock on it.
    std::fs::create_dir_all(dir.join(".apigen")).expect("writable");
    std::fs::write(dir.join(write::lock::PATH), "999999").expect("writable");
    let out = apigen(&dir, &["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pid = read(&dir, write::lock::PATH);
    assert!(pid != "999999" && pid.parse::<u32>().is_ok(), "{pid}");
}

/// Cargo.toml is the user's, so a spec that gains storage cannot add the
/// runtime's `dynamodb` feature there itself: `generate` says what to add.
#[test]
fn a_spec_that_gains_storage_names_the_runtime_feature_cargo_toml_lacks() {
    let (work, dir) = project(&without_storage());
    let manifest = read(&dir, "Cargo.toml");
    assert!(!manifest.contains("\"dynamodb\""), "{manifest}");
    std::fs::write(work.path().join("stored.yaml"), STORED).expect("writable");
    let out = apigen(work.path(), &["generate", "stored.yaml", "-o", "api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "its `apigen-runtime` lacks the feature `dynamodb` that the generated code now uses"
        ),
        "{}",
        stderr(&out)
    );
}
