//! Applying [`Changes`] all or nothing. Every new file is first written
//! beside its target; only then are targets replaced, each old file moved
//! aside rather than overwritten. If any step fails, the steps done so far
//! are undone in reverse, so the project is left exactly as it was.
//!
//! A process that is killed cannot undo anything, so before the first
//! change a journal (`.apigen/transaction.json`) records what the write
//! will do; removing it is the commit. [`recover`], which regeneration
//! runs first, rolls back whatever an interrupted write left.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::changeset::{Change, Changes};
use super::WriteError;
use crate::emit::{join, project_path};

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

/// Where a write in progress is recorded, relative to the project.
pub const JOURNAL: &str = ".apigen/transaction.json";

/// What a write in progress does, for [`recover`]. Paths are relative to
/// the project, `/`-separated.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// Set once every change is in: what is left is removing the old files
    /// moved aside, so an interrupted write is finished, not undone.
    #[serde(default)]
    committed: bool,
    /// Folders it creates, outermost first.
    dirs: Vec<String>,
    files: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: String,
    /// Whether a file was there before (it is moved aside).
    existed: bool,
    /// Whether a new file is written there (it is staged beside it).
    writes: bool,
}

/// Applies `changes` to their project through `fs`: all of them, or, on an
/// error, none.
pub fn apply(changes: &Changes, fs: &mut dyn Fs) -> Result<(), WriteError> {
    let mut done = Vec::new();
    match run(changes, fs, &mut done) {
        Ok(()) => {
            // Committed: what is left is tidying, and a failure there loses
            // nothing (the journal lets the next run finish it), so it is
            // not an error.
            let mut tidy = true;
            for step in &done {
                if let Step::MovedAside { aside, .. } = step {
                    tidy &= fs.remove_file(aside).is_ok();
                }
            }
            remove_emptied_dirs(changes, fs);
            if tidy {
                let _ = fs.remove_file(&join(&changes.dir, JOURNAL));
            }
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

fn existed(change: &Change) -> bool {
    match change {
        Change::Write { old, .. } => old.is_some(),
        Change::Remove { .. } => true,
    }
}

fn run(changes: &Changes, fs: &mut dyn Fs, done: &mut Vec<Step>) -> Result<(), WriteError> {
    let dir = &changes.dir;
    let journal_path = join(dir, JOURNAL);
    make_dirs(&missing_dirs([journal_path.as_path()], dir), fs, done)?;
    let targets: Vec<PathBuf> = changes
        .changes
        .iter()
        .filter(|c| matches!(c, Change::Write { .. }))
        .map(|c| join(dir, c.path()))
        .collect();
    let dirs = missing_dirs(targets.iter().map(PathBuf::as_path), dir);
    let mut journal = Journal {
        committed: false,
        dirs: dirs.iter().map(|d| project_path(d, dir)).collect(),
        files: changes
            .changes
            .iter()
            .map(|c| Entry {
                path: c.path().to_string(),
                existed: existed(c),
                writes: matches!(c, Change::Write { .. }),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&journal).expect("a journal serializes");
    let staged = sibling(&journal_path, "new");
    fs.write(&staged, text.as_bytes()).map_err(io(&staged))?;
    done.push(Step::Staged(staged.clone()));
    fs.rename(&staged, &journal_path)
        .map_err(io(&journal_path))?;
    done.push(Step::Placed(journal_path.clone()));

    // Stage every new file first: most failures (a full disk, a read-only
    // folder) happen here, before the project is touched.
    make_dirs(&dirs, fs, done)?;
    for change in &changes.changes {
        if let Change::Write { path, new, .. } = change {
            let staged = sibling(&join(dir, path), "new");
            fs.write(&staged, new.as_bytes()).map_err(io(&staged))?;
            done.push(Step::Staged(staged));
        }
    }
    for change in &changes.changes {
        let target = join(dir, change.path());
        if existed(change) {
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
    // The commit: from here on, an interrupted run is finished, not undone.
    journal.committed = true;
    write_journal(&journal, &journal_path, fs, done)
}

/// Writes the journal atomically: one rename over the old one, so that a
/// reader finds the old journal or the new, never neither. Undoing the
/// first write's placement removes whichever is there.
fn write_journal(
    journal: &Journal,
    path: &Path,
    fs: &mut dyn Fs,
    done: &mut Vec<Step>,
) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(journal).expect("a journal serializes");
    let staged = sibling(path, "new");
    fs.write(&staged, text.as_bytes()).map_err(io(&staged))?;
    done.push(Step::Staged(staged.clone()));
    fs.rename(&staged, path).map_err(io(path))
}

/// Rolls back a write in `dir` that was interrupted before it committed, or
/// finishes one interrupted after, as its journal records it. Returns
/// whether there was one.
pub fn recover(dir: &Path, fs: &mut dyn Fs) -> Result<bool, WriteError> {
    let journal_path = join(dir, JOURNAL);
    let staged = sibling(&journal_path, "new");
    if staged.exists() {
        // A journal write that never landed.
        fs.remove_file(&staged).map_err(io(&staged))?;
    }
    let text = match std::fs::read_to_string(&journal_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(&journal_path)(e)),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| WriteError::Manifest {
        path: journal_path.clone(),
        message: e.to_string(),
    })?;
    if journal.committed {
        for entry in &journal.files {
            let aside = sibling(&join(dir, &entry.path), "old");
            if aside.exists() {
                fs.remove_file(&aside).map_err(io(&aside))?;
            }
        }
        fs.remove_file(&journal_path).map_err(io(&journal_path))?;
        return Ok(true);
    }
    for entry in journal.files.iter().rev() {
        let target = join(dir, &entry.path);
        let aside = sibling(&target, "old");
        if entry.existed && aside.exists() {
            fs.rename(&aside, &target).map_err(io(&target))?;
        } else if !entry.existed && entry.writes && target.exists() {
            fs.remove_file(&target).map_err(io(&target))?;
        }
        let new = sibling(&target, "new");
        if new.exists() {
            fs.remove_file(&new).map_err(io(&new))?;
        }
    }
    for d in journal.dirs.iter().rev() {
        let d = join(dir, d);
        if is_empty_dir(&d) {
            fs.remove_dir(&d).map_err(io(&d))?;
        }
    }
    fs.remove_file(&journal_path).map_err(io(&journal_path))?;
    Ok(true)
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

/// The folders above `targets` that do not exist yet, outermost first.
fn missing_dirs<'a>(targets: impl IntoIterator<Item = &'a Path>, root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for target in targets {
        let mut missing = Vec::new();
        let mut dir = target.parent();
        while let Some(d) = dir {
            if d.as_os_str().is_empty() || d.is_dir() || out.iter().any(|o| o == d) {
                break;
            }
            missing.push(d.to_path_buf());
            if d == root {
                break;
            }
            dir = d.parent();
        }
        out.extend(missing.into_iter().rev());
    }
    out
}

fn make_dirs(dirs: &[PathBuf], fs: &mut dyn Fs, done: &mut Vec<Step>) -> Result<(), WriteError> {
    for d in dirs {
        fs.create_dir(d).map_err(io(d))?;
        done.push(Step::MadeDir(d.clone()));
    }
    Ok(())
}

/// Removes the folders that removing stale files left empty.
fn remove_emptied_dirs(changes: &Changes, fs: &mut dyn Fs) {
    for change in &changes.changes {
        let Change::Remove { path, .. } = change else {
            continue;
        };
        let mut dir = join(&changes.dir, path).parent().map(Path::to_path_buf);
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
