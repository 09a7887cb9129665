//! Applying [`Changes`] all or nothing. Every new file is first written
//! beside its target; only then are targets replaced, each old file moved
//! aside rather than overwritten. If any step fails, the steps done so far
//! are undone in reverse, so the project is left exactly as it was.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::changes::{path_in_str, Change, Changes};
use super::WriteError;

/// The file system operations a write is made of. [`OsFs`] is the real
/// one; the seam exists so that tests can make any single step fail.
pub trait Fs {
    /// Creates or truncates `path` and writes `contents` durably.
    fn write(&mut self, path: &Path, contents: &[u8]) -> std::io::Result<()>;
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()>;
    fn remove_file(&mut self, path: &Path) -> std::io::Result<()>;
    fn create_dir(&mut self, path: &Path) -> std::io::Result<()>;
    fn remove_dir(&mut self, path: &Path) -> std::io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsFs;

impl Fs for OsFs {
    fn write(&mut self, path: &Path, contents: &[u8]) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.write_all(contents)?;
        f.sync_all()
    }
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove_file(&mut self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)
    }
    fn create_dir(&mut self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)
    }
    fn remove_dir(&mut self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_dir(path)
    }
}

/// A step done, with what undoes it.
enum Step {
    MadeDir(PathBuf),
    Staged(PathBuf),
    MovedAside { target: PathBuf, aside: PathBuf },
    Placed(PathBuf),
}

/// Applies `changes` to their project through `fs`: all of them, or, on an
/// error, none.
pub fn apply(changes: &Changes, fs: &mut dyn Fs) -> Result<(), WriteError> {
    let mut done = Vec::new();
    match run(changes, fs, &mut done) {
        Ok(()) => {
            // Committed: what is left is tidying, and a failure there loses
            // nothing, so it is not an error.
            for step in &done {
                if let Step::MovedAside { aside, .. } = step {
                    let _ = fs.remove_file(aside);
                }
            }
            remove_emptied_dirs(changes, fs);
            Ok(())
        }
        Err(error) => {
            let unrestored = undo(done, fs);
            if unrestored.is_empty() {
                Err(error)
            } else {
                Err(WriteError::Rollback {
                    error: Box::new(error),
                    unrestored,
                })
            }
        }
    }
}

fn run(changes: &Changes, fs: &mut dyn Fs, done: &mut Vec<Step>) -> Result<(), WriteError> {
    let dir = &changes.dir;
    // Stage every new file first: most failures (a full disk, a read-only
    // folder) happen here, before the project is touched.
    for change in &changes.changes {
        if let Change::Write { path, new, .. } = change {
            let target = path_in_str(dir, path);
            make_parents(&target, dir, fs, done)?;
            let staged = sibling(&target, "new");
            fs.write(&staged, new.as_bytes()).map_err(io(&staged))?;
            done.push(Step::Staged(staged));
        }
    }
    for change in &changes.changes {
        let target = path_in_str(dir, change.path());
        let exists = match change {
            Change::Write { old, .. } => old.is_some(),
            Change::Remove { .. } => true,
        };
        if exists {
            let aside = sibling(&target, "old");
            fs.rename(&target, &aside).map_err(io(&target))?;
            done.push(Step::MovedAside {
                target: target.clone(),
                aside,
            });
        }
        if let Change::Write { .. } = change {
            fs.rename(&sibling(&target, "new"), &target)
                .map_err(io(&target))?;
            done.push(Step::Placed(target));
        }
    }
    Ok(())
}

/// Undoes `done` in reverse; returns the files it could not restore.
fn undo(done: Vec<Step>, fs: &mut dyn Fs) -> Vec<PathBuf> {
    let mut unrestored = Vec::new();
    for step in done.into_iter().rev() {
        match step {
            Step::Placed(target) => {
                if fs.remove_file(&target).is_err() {
                    unrestored.push(target);
                }
            }
            Step::MovedAside { target, aside } => {
                if fs.rename(&aside, &target).is_err() {
                    unrestored.push(target);
                }
            }
            Step::Staged(staged) => {
                // Gone already when it was placed.
                let _ = fs.remove_file(&staged);
            }
            Step::MadeDir(dir) => {
                let _ = fs.remove_dir(&dir);
            }
        }
    }
    unrestored
}

/// Creates the missing folders above `target`, outermost first.
fn make_parents(
    target: &Path,
    root: &Path,
    fs: &mut dyn Fs,
    done: &mut Vec<Step>,
) -> Result<(), WriteError> {
    let mut missing = Vec::new();
    let mut dir = target.parent();
    while let Some(d) = dir {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d.to_path_buf());
        if d == root {
            break;
        }
        dir = d.parent();
    }
    for d in missing.into_iter().rev() {
        fs.create_dir(&d).map_err(io(&d))?;
        done.push(Step::MadeDir(d));
    }
    Ok(())
}

/// Removes the folders that removing stale files left empty.
fn remove_emptied_dirs(changes: &Changes, fs: &mut dyn Fs) {
    for change in &changes.changes {
        let Change::Remove { path, .. } = change else {
            continue;
        };
        let mut dir = path_in_str(&changes.dir, path)
            .parent()
            .map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == changes.dir || !is_empty_dir(&d) || fs.remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// `.name.apigen-<what>` beside `target`: hidden, and in the same folder,
/// so that renames stay on one file system and are atomic.
fn sibling(target: &Path, what: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.apigen-{what}"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}
