//! apigen turns an OpenAPI document annotated with storage hints into a
//! deployable serverless Rust project: AWS Lambda behind API Gateway, with
//! DynamoDB repositories and an AWS SAM template.
//!
//! The pipeline has one module per stage:
//! [`load`] (text to document) → [`model`] (checked IR) → [`emit`] (IR to a
//! [`emit::FilePlan`]) → [`write`] (plan to disk). [`build`] runs the same
//! pipeline from a build script.

pub mod build;
pub mod diagnostic;
pub mod emit;
pub mod json_pointer;
pub mod load;
pub mod model;
pub mod overrides;
pub mod source_map;
pub mod user_code;
pub mod write;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Report};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] load::LoadError),
    /// The spec has errors; the report lists them all.
    #[error("{0}")]
    Invalid(Report),
    #[error(transparent)]
    Emit(#[from] emit::EmitError),
    #[error(transparent)]
    Write(#[from] write::WriteError),
    #[error("OUT_DIR is not set: `apigen::build` runs from a build script (or give it `out_dir`)")]
    NoOutDir,
}

/// What to generate from.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The package name, instead of `x-apigen.name` or the title.
    pub name: Option<String>,
    /// Templates that override the embedded ones.
    pub templates: Option<PathBuf>,
    /// The runtime crate's folder as the project names it (relative to the project,
    /// `/`-separated), instead of a vendored copy: one copy shared by a workspace's services, or
    /// a checkout of apigen. See [`Options::runtime_at`].
    pub runtime: Option<String>,
    /// The crate has no `hooks` module (a build script's crate without `src/hooks.rs`), so
    /// stored entities call no hooks.
    pub without_hooks: bool,
    /// The project's [`overrides::FILE`], merged into `template.yaml` when it exists.
    pub overrides: Option<PathBuf>,
}

impl Options {
    /// Uses the runtime crate in `folder` for a project in `project` (paths as the caller sees
    /// them; Cargo.toml gets the one from the project to the folder).
    pub fn runtime_at(mut self, folder: &Path, project: &Path) -> Self {
        self.runtime = Some(write::manifest::relative(folder, project));
        self
    }
}

/// A checked spec and the files it gives.
#[derive(Debug)]
pub struct Generated {
    pub api: model::Api,
    pub plan: emit::FilePlan,
    /// Warnings, rendered against the spec's text.
    pub report: Report,
}

/// Loads, checks and plans the project for the spec at `spec`. Writes nothing.
pub fn plan(spec: &Path, options: &Options) -> Result<Generated, Error> {
    let loaded = load::load(spec)?;
    let overrides = match &options.overrides {
        Some(path) => overrides::Source::read(path).map_err(|e| emit::EmitError::Template {
            name: path.display().to_string(),
            message: e.to_string(),
        })?,
        None => None,
    };
    let mut api = model::build(&loaded, options.name.as_deref())
        .map_err(|d| Error::Invalid(loaded.report(d)))?;
    let unbuildable = emit::tests::unbuildable_warnings(&api);
    api.warnings.extend(unbuildable);
    let report = loaded.report(api.warnings.clone());
    // The model holds all that is needed from the document; the text goes into the project.
    let load::Spec { text, .. } = loaded;
    let plan = emit::emit(
        &api,
        &emit::EmitOptions {
            spec_text: text,
            templates: options.templates.clone(),
            runtime: options.runtime.clone(),
            hooks: !options.without_hooks,
            overrides,
        },
    );
    let plan = plan?;
    Ok(Generated { api, plan, report })
}

/// A project to regenerate in place, planned.
#[derive(Debug)]
pub struct Regeneration {
    pub dir: PathBuf,
    pub spec: PathBuf,
    pub generated: Generated,
    /// The options to record in the manifest.
    pub recorded: write::Recorded,
    /// The runtime version the project was last generated with: `None` before the manifest
    /// recorded it (projects older than the runtime crate) or with no manifest.
    pub runtime_before: Option<String>,
}

/// Plans the regeneration of the project in `dir` from `spec` (its own
/// `openapi.yaml` by default), with the options it was generated with
/// unless `options` overrides them. Writes nothing; a write interrupted
/// earlier is an error until [`write::recover`] rolls it back.
pub fn regeneration(
    dir: &Path,
    spec: Option<&Path>,
    options: Options,
) -> Result<Regeneration, Error> {
    // An interrupted write may have moved the spec itself aside.
    let journal = dir.join(write::transaction::JOURNAL);
    if journal.exists() {
        return Err(write::WriteError::Interrupted(journal).into());
    }
    let manifest = write::read_manifest(dir)?;
    let runtime_before = manifest.as_ref().and_then(|m| m.runtime.clone());
    let previous = manifest.map(|m| m.options).unwrap_or_default();
    let options = Options {
        templates: options.templates.or_else(|| previous.templates_in(dir)),
        name: options.name.or(previous.name),
        runtime: options.runtime.or(previous.runtime),
        without_hooks: false,
        overrides: Some(dir.join(overrides::FILE)),
    };
    let spec = spec.map_or_else(|| dir.join("openapi.yaml"), Path::to_path_buf);
    let generated = plan(&spec, &options)?;
    let recorded = record(&options, dir);
    Ok(Regeneration {
        dir: dir.to_path_buf(),
        spec,
        generated,
        recorded,
        runtime_before,
    })
}

/// The options to keep in the manifest of a project in `dir`.
pub fn record(options: &Options, dir: &Path) -> write::Recorded {
    write::Recorded {
        name: options.name.clone(),
        templates: options
            .templates
            .as_deref()
            .map(|t| write::manifest::relative(t, dir)),
        runtime: options.runtime.clone(),
    }
}

/// The project `start` is in: the nearest folder at or above it with a
/// manifest.
pub fn find_project(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|d| d.join(write::manifest::PATH).is_file())
        .map(Path::to_path_buf)
}

/// What will be generated, for `apigen check`.
/// `1 entity`, `2 entities`: a count and its noun, for messages.
pub fn tally(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {}", model::names::plural(noun))
    }
}

pub fn explain(api: &model::Api) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {}, {}, {}, {}",
        api.settings.name,
        api.title,
        tally(api.operations.len(), "operation"),
        tally(api.types.defs.len(), "type"),
        tally(api.tables.len(), "table"),
        tally(api.entities.len(), "entity")
    );
    for e in &api.entities {
        let t = &api.tables[e.table];
        let _ = write!(
            out,
            "\nentity {} (type {}) in table {}\n  key: pk {}",
            e.schema, e.type_value, t.name, e.key.pk.source
        );
        if let Some(sk) = &e.key.sk {
            let _ = write!(out, ", sk {}", sk.source);
        }
        out.push('\n');
        for ix in &e.indexes {
            let _ = write!(
                out,
                "  index {}: pk {}",
                t.indexes[ix.index].name, ix.key.pk.source
            );
            if let Some(sk) = &ix.key.sk {
                let _ = write!(out, ", sk {}", sk.source);
            }
            out.push('\n');
        }
    }
    if !api.examples.is_empty() {
        let fitting = api.examples.iter().filter(|e| e.misfit.is_none()).count();
        let _ = writeln!(
            out,
            "\nexamples: {fitting} of {} round-trip through their types in tests/examples.rs{}",
            api.examples.len(),
            if fitting < api.examples.len() {
                "; the others are warned about above"
            } else {
                ""
            }
        );
    }
    out.push('\n');
    for op in &api.operations {
        let _ = writeln!(
            out,
            "{:<7} {:<40} {:<28} {}",
            op.method.upper(),
            op.path,
            op.id,
            op.reason
        );
        if !api.auth.is_empty() || op.security.is_secured() {
            let _ = writeln!(out, "        who: {}", api.who_may_call(op));
        }
    }
    out
}
