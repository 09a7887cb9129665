//! Applying a [`FilePlan`] to disk: the generator's files are rewritten,
//! the user's are written once and never again. Every file is written to a
//! temporary sibling and renamed over its target, so a reader never sees a
//! half-written file, and a new project appears whole or not at all.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::emit::{path_in, FilePlan, Owner};

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
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a write did, for the summary the CLI prints.
#[derive(Debug, Default)]
pub struct Outcome {
    pub written: Vec<String>,
    pub kept: Vec<String>,
}

/// Creates a new project in `dir`. A non-empty `dir` is refused unless
/// `force`; then the user's existing files are kept.
pub fn create(plan: &FilePlan, dir: &Path, force: bool) -> Result<Outcome, WriteError> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(io(dir)(e)),
    };
    if !empty && !force {
        return Err(WriteError::NotEmpty(dir.to_path_buf()));
    }
    if !empty {
        return update(plan, dir);
    }
    // Build the whole project beside its destination, then move it in one
    // rename, so that a failure leaves nothing half-made.
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile_dir(parent)?;
    let result = (|| {
        let mut outcome = Outcome::default();
        for file in &plan.files {
            write_file(&path_in(&staging, file), &file.contents)?;
            outcome.written.push(file.path.clone());
        }
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(io(dir))?;
        }
        std::fs::rename(&staging, dir).map_err(io(dir))?;
        Ok(outcome)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Writes the plan into an existing project: generator files are replaced,
/// user files only written when missing.
pub fn update(plan: &FilePlan, dir: &Path) -> Result<Outcome, WriteError> {
    let mut outcome = Outcome::default();
    for file in &plan.files {
        let path = path_in(dir, file);
        if file.owner == Owner::User && path.exists() {
            outcome.kept.push(file.path.clone());
            continue;
        }
        if std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents) {
            continue;
        }
        write_file(&path, &file.contents)?;
        outcome.written.push(file.path.clone());
    }
    Ok(outcome)
}

/// Writes one file atomically: a temporary sibling, then a rename.
pub fn write_file(path: &Path, contents: &str) -> Result<(), WriteError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.apigen-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

fn tempfile_dir(parent: &Path) -> Result<PathBuf, WriteError> {
    for n in 0..1000 {
        let candidate = parent.join(format!(".apigen-new-{}-{n}", std::process::id()));
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&candidate)(e)),
        }
    }
    Err(io(parent)(std::io::Error::other(
        "no free name for a staging folder",
    )))
}
