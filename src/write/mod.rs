//! Applying a [`FilePlan`] to disk without losing anything.
//!
//! A new project is built in a staging folder beside its destination and
//! renamed into place. An existing project is compared with the plan first
//! ([`changes`]): the manifest (`.apigen/manifest.json`) records what apigen
//! wrote, so a file edited by hand since is a conflict that stops
//! regeneration, unless forced. The changes are then applied all or nothing
//! ([`transaction`]).

mod changes;
mod changeset;
pub mod diff;
pub mod lock;
pub mod manifest;
pub mod transaction;

use std::path::{Path, PathBuf};

pub use changes::{changes, read_manifest};
pub use changeset::{Change, Changes, Conflict, ConflictReason, Kept, KeptReason};
pub use lock::{lock, ProjectLock};
pub use manifest::{Manifest, Recorded};
pub use transaction::{apply, recover, Fs, OsFs};

use crate::emit::FilePlan;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{}` is not empty; pass --force to generate into it anyway", .0.display())]
    NotEmpty(PathBuf),
    #[error("cannot write `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the manifest `{}`: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    /// A write was interrupted; regeneration rolls it back before anything.
    #[error("an interrupted regeneration left `{}`; `apigen generate` rolls it back", .0.display())]
    Interrupted(PathBuf),
    /// Another `apigen generate` holds the project's lock.
    #[error("{}", lock::locked_message(path, *pid))]
    Locked { path: PathBuf, pid: Option<u32> },
    /// Generated files were edited by hand; nothing was written.
    #[error("{}", conflicts_message(.0))]
    Edited(Vec<Conflict>),
    /// A write failed and undoing it failed too.
    #[error("{error}; the project could not be fully restored, check: {}", list(.unrestored))]
    Rollback {
        error: Box<WriteError>,
        unrestored: Vec<PathBuf>,
    },
}

fn conflicts_message(conflicts: &[Conflict]) -> String {
    let n = conflicts.len();
    let mut out = format!(
        "{n} generated file{} changed by hand; nothing was written",
        if n == 1 { " was" } else { "s were" }
    );
    for c in conflicts {
        out.push_str(&format!("\n  {}: {}", c.path, c.reason.describe()));
    }
    out
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a write did, for the summary the CLI prints.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each file written or removed, with `created`, `updated` or
    /// `removed`; the manifest is not listed.
    pub changed: Vec<(&'static str, String)>,
    pub kept: Vec<Kept>,
    /// Hand edits that `force` overwrote.
    pub overwritten: Vec<Conflict>,
}

impl Outcome {
    fn of(changes: &Changes) -> Self {
        Self {
            changed: changes
                .files()
                .map(|c| (c.verb(), c.path().to_string()))
                .collect(),
            kept: changes.kept.clone(),
            overwritten: changes.overwritten.clone(),
        }
    }
}

/// Creates a new project in `dir`. A non-empty `dir` is refused unless
/// `force`; then it is regenerated with hand edits overwritten and the
/// user's own files kept.
pub fn create(
    plan: &FilePlan,
    dir: &Path,
    options: &Recorded,
    force: bool,
) -> Result<Outcome, WriteError> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(source) => {
            return Err(WriteError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    if !empty && !force {
        return Err(WriteError::NotEmpty(dir.to_path_buf()));
    }
    if !empty {
        return regenerate(plan, dir, options, true);
    }
    // Build the whole project beside its destination, then move it in one
    // rename, so that a failure leaves nothing half-made.
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| WriteError::Io {
        path: parent.to_path_buf(),
        source,
    })?;
    let staging = staging_dir(parent)?;
    let result = (|| {
        let planned = changes(plan, &staging, options, false)?;
        apply(&planned, &mut OsFs)?;
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|source| WriteError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::rename(&staging, dir).map_err(|source| WriteError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(Outcome::of(&planned))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Regenerates the project in `dir` from `plan`: generated files are
/// rewritten and stale ones removed, the user's files are never touched,
/// and hand edits to generated files stop it (unless `force`). A write
/// interrupted earlier must first be rolled back with [`recover`].
pub fn regenerate(
    plan: &FilePlan,
    dir: &Path,
    options: &Recorded,
    force: bool,
) -> Result<Outcome, WriteError> {
    let planned = changes(plan, dir, options, force)?;
    if !planned.conflicts.is_empty() {
        return Err(WriteError::Edited(planned.conflicts));
    }
    apply(&planned, &mut OsFs)?;
    Ok(Outcome::of(&planned))
}

/// Writes one file atomically: a temporary sibling, then a rename. For
/// single outputs, such as the code a build script writes to `OUT_DIR`.
pub fn write_file(path: &Path, contents: &str) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staged = path.with_file_name(format!(".{name}.apigen-new"));
    let mut fs = OsFs;
    if let Err(e) = fs
        .write(&staged, contents.as_bytes())
        .and_then(|()| fs.rename(&staged, path))
    {
        let _ = std::fs::remove_file(&staged);
        return Err(io(e));
    }
    Ok(())
}

fn staging_dir(parent: &Path) -> Result<PathBuf, WriteError> {
    for n in 0..1000 {
        let candidate = parent.join(format!(".apigen-new-{}-{n}", std::process::id()));
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(WriteError::Io {
                    path: candidate,
                    source,
                })
            }
        }
    }
    Err(WriteError::Io {
        path: parent.to_path_buf(),
        source: std::io::Error::other("no free name for a staging folder"),
    })
}
