//! From the model to a [`FilePlan`]: every file of the generated project,
//! with its contents and who owns it. Pure: no IO besides reading template
//! overrides.

mod auth_docs;
mod description;
mod examples;
mod messages;
mod models;
mod operations;
mod project;
mod runtime;
mod rust;
mod schemas;
mod security;
mod spec_examples;
mod stack;
mod storage;
mod template;
mod templates;
pub(crate) mod tests;

use std::path::{Path, PathBuf};

use crate::model::Api;
pub use examples::{example, example_body};
pub use project::stub as handler_stub;
pub use runtime::{changes_since as runtime_changes_since, runtime_requirement, VENDOR};
pub use templates::{RUNTIME as RUNTIME_FILES, RUNTIME_VERSION};

/// Who owns a file: the generator rewrites its files on every run; the
/// user's files are written once and never touched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// Marked `@generated`, rewritten on every run.
    Generator,
    /// The project's copy of the spec: rewritten when the project is
    /// regenerated from another spec, and like a generated file refused if
    /// edited in place meanwhile; it carries no marker, being the user's text.
    Spec,
    /// Written once, when missing.
    User,
    /// The vendored copy of the runtime crate: rewritten like generated files (and refused if
    /// edited), but unmarked, being that crate's own source.
    Vendored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative path, `/`-separated.
    pub path: String,
    pub contents: String,
    pub owner: Owner,
}

/// Every file of a generated project, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct FilePlan {
    pub files: Vec<PlannedFile>,
}

impl FilePlan {
    fn add(&mut self, path: &str, contents: String, owner: Owner) {
        self.files.push(PlannedFile {
            path: path.to_string(),
            contents,
            owner,
        });
    }

    pub fn get(&self, path: &str) -> Option<&PlannedFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("internal error: generated `{file}` is not valid Rust: {message}")]
    Syntax { file: String, message: String },
    #[error("template `{name}`: {message}")]
    Template { name: String, message: String },
    /// `template.overrides.yaml` cannot be merged; the report says where and why.
    #[error("{0}")]
    Overrides(Box<crate::Report>),
}

/// Options of an emission.
#[derive(Debug, Clone, Default)]
pub struct EmitOptions {
    /// The spec's text, copied into the project as `openapi.yaml`.
    pub spec_text: String,
    /// A folder of templates that override the embedded ones.
    pub templates: Option<PathBuf>,
    /// The runtime crate's folder as the project's Cargo.toml names it (relative to the
    /// project, `/`-separated); `None` vendors a copy into the project.
    pub runtime: Option<String>,
    /// The crate has a `hooks` module (`src/hooks.rs`) that stored entities call.
    pub hooks: bool,
    /// The user's fragment merged into `template.yaml`.
    pub overrides: Option<crate::overrides::Source>,
}

/// Plans every file of the project for `api`.
pub fn emit(api: &Api, options: &EmitOptions) -> Result<FilePlan, EmitError> {
    let templates = templates::load(options.templates.as_deref())?;
    let mut plan = FilePlan::default();
    let gen = Owner::Generator;
    // (path in the project, how to build it), the largest first; built and printed together
    // below.
    let mut sources: Vec<(&str, rust::Job)> = vec![
        (
            "src/generated/operations.rs",
            Box::new(|| operations::emit_operations(api)),
        ),
        (
            "src/generated/schemas.rs",
            Box::new(|| {
                let names = schemas::SchemaNames::new(api);
                let mut patterns = schemas::Patterns::default();
                let specs = operations::specs(api, &names, &mut patterns);
                schemas::emit(api, &names, specs, &mut patterns)
            }),
        ),
        ("tests/api.rs", Box::new(|| tests::emit(api))),
        ("src/generated/models.rs", Box::new(|| models::emit(api))),
    ];
    if api.has_storage() {
        sources.push((
            "src/generated/entities.rs",
            Box::new(|| storage::emit_entities(api, options.hooks)),
        ));
        sources.push((
            "src/generated/actions.rs",
            Box::new(|| storage::emit_actions(api)),
        ));
    }
    if api.has_security() {
        sources.push((
            "src/generated/security.rs",
            Box::new(|| security::emit(api)),
        ));
    }
    if let Some(ws) = &api.websocket {
        sources.push((
            "src/generated/messages.rs",
            Box::new(move || messages::emit(api, ws)),
        ));
    }
    sources.push((
        "src/generated/api.rs",
        Box::new(|| operations::emit_api(api)),
    ));
    sources.push((
        "src/generated/routes.rs",
        Box::new(|| operations::emit_routes(api)),
    ));
    if spec_examples::any(api) {
        sources.push(("tests/examples.rs", Box::new(|| spec_examples::emit(api))));
    }
    for (path, text) in rust::format_files(sources)? {
        plan.add(path, text, gen);
    }
    project::emit(api, options, &templates, &mut plan)?;
    plan.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(plan)
}

/// The marker that tells generated files from the user's.
pub const MARKER: &str = "@generated";

/// Whether a file's contents carry the generated marker in its first lines.
pub fn is_generated(contents: &str) -> bool {
    contents.lines().take(3).any(|l| l.contains(MARKER))
}

/// The path of a planned file under `root`.
pub fn path_in(root: &Path, file: &PlannedFile) -> PathBuf {
    join(root, &file.path)
}

/// A project path (`/`-separated, as planned files name themselves) under
/// `root`.
pub fn join(root: &Path, path: &str) -> PathBuf {
    path.split('/').fold(root.to_path_buf(), |p, s| p.join(s))
}

/// `path` as a project path relative to `root`: `/`-separated, and as
/// given when it is not under `root`.
pub fn project_path(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
