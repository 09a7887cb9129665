//! apigen turns an OpenAPI document annotated with storage hints into a
//! deployable serverless Rust project: AWS Lambda behind API Gateway, with
//! DynamoDB repositories and an AWS SAM template.
//!
//! The pipeline has one module per stage:
//! [`load`] (text to document) → [`model`] (checked IR) → [`emit`] (IR to a
//! [`emit::FilePlan`]) → [`write`] (plan to disk).

pub mod diagnostic;
pub mod emit;
pub mod load;
pub mod model;
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
}

/// What to generate from.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The package name, instead of `x-apigen.name` or the title.
    pub name: Option<String>,
    /// Templates that override the embedded ones.
    pub templates: Option<PathBuf>,
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
    let api = model::build(&loaded, options.name.as_deref())
        .map_err(|d| Error::Invalid(loaded.report(d)))?;
    let plan = emit::emit(
        &api,
        &emit::EmitOptions {
            spec_text: loaded.text.clone(),
            templates: options.templates.clone(),
        },
    )?;
    let report = loaded.report(api.warnings.clone());
    Ok(Generated { api, plan, report })
}

/// What will be generated, for `apigen check`.
pub fn explain(api: &model::Api) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {} operations, {} types, {} tables, {} entities",
        api.settings.name,
        api.title,
        api.operations.len(),
        api.types.defs.len(),
        api.tables.len(),
        api.entities.len()
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
    }
    out
}
