//! What regenerating a project would do, worked out before anything is
//! written: which files change, which go, which are the user's, and which
//! the user edited by hand (conflicts).

use std::path::Path;

use super::changeset::{Change, Changes, Conflict, ConflictReason, Kept, KeptReason};
use super::manifest::{self, Manifest, Recorded};
use super::WriteError;
use crate::emit::{is_generated, join, path_in, FilePlan, Owner};

/// Reads a project's manifest; `None` when it has none.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, WriteError> {
    let path = dir.join(manifest::PATH);
    let Some(text) = read(&path)? else {
        return Ok(None);
    };
    Manifest::parse(&text)
        .map(Some)
        .map_err(|e| WriteError::Manifest {
            path,
            message: e.to_string(),
        })
}

/// Compares `plan` with the project in `dir`. Reads, never writes.
pub fn changes(
    plan: &FilePlan,
    dir: &Path,
    options: &Recorded,
    force: bool,
) -> Result<Changes, WriteError> {
    let journal = join(dir, super::transaction::JOURNAL);
    if journal.exists() {
        return Err(WriteError::Interrupted(journal));
    }
    let previous = read_manifest(dir)?;
    let mut manifest = Manifest::new(options.clone());
    let mut out = Changes {
        dir: dir.to_path_buf(),
        changes: Vec::new(),
        conflicts: Vec::new(),
        overwritten: Vec::new(),
        kept: Vec::new(),
    };
    let conflict = |out: &mut Changes, path: &str, reason, change: Change| {
        let c = Conflict {
            path: path.to_string(),
            reason,
        };
        if force {
            out.overwritten.push(c);
            out.changes.push(change);
        } else {
            out.conflicts.push(c);
        }
    };

    for file in &plan.files {
        let disk = read(&path_in(dir, file))?;
        if file.owner == Owner::User {
            // A file that an older apigen generated and nobody edited since (src/main.rs before
            // it became the user's) is still apigen's to replace, once.
            let untouched = |old: &str| {
                is_generated(old) && previous.as_ref().is_some_and(|m| m.wrote(&file.path, old))
            };
            match disk {
                Some(old) if untouched(&old) => out.changes.push(Change::Write {
                    path: file.path.clone(),
                    old: Some(old),
                    new: file.contents.clone(),
                }),
                Some(_) => out.kept.push(Kept {
                    path: file.path.clone(),
                    why: KeptReason::Yours,
                }),
                None => out.changes.push(Change::Write {
                    path: file.path.clone(),
                    old: None,
                    new: file.contents.clone(),
                }),
            }
            continue;
        }
        let Some(old) = disk else {
            manifest
                .files
                .insert(file.path.clone(), manifest::hash(&file.contents));
            out.changes.push(Change::Write {
                path: file.path.clone(),
                old: None,
                new: file.contents.clone(),
            });
            continue;
        };
        if is_generated(&file.contents) && !is_generated(&old) {
            out.kept.push(Kept {
                path: file.path.clone(),
                why: KeptReason::Adopted,
            });
            continue;
        }
        manifest
            .files
            .insert(file.path.clone(), manifest::hash(&file.contents));
        if old == file.contents {
            continue;
        }
        let change = Change::Write {
            path: file.path.clone(),
            old: Some(old.clone()),
            new: file.contents.clone(),
        };
        match &previous {
            Some(m) if m.wrote(&file.path, &old) => out.changes.push(change),
            Some(m) if m.files.contains_key(&file.path) => {
                conflict(&mut out, &file.path, ConflictReason::Edited, change)
            }
            _ => conflict(&mut out, &file.path, ConflictReason::Untracked, change),
        }
    }

    if let Some(previous) = &previous {
        for path in previous.files.keys() {
            if plan.get(path).is_some() || path == manifest::PATH {
                continue;
            }
            let Some(old) = read(&join(dir, path))? else {
                continue;
            };
            let change = Change::Remove {
                path: path.clone(),
                old: old.clone(),
            };
            if previous.wrote(path, &old) {
                out.changes.push(change);
            } else if is_generated(&old) {
                conflict(&mut out, path, ConflictReason::EditedStale, change);
            } else {
                // Its `@generated` line is gone: the user took it over.
                out.kept.push(Kept {
                    path: path.clone(),
                    why: KeptReason::Adopted,
                });
            }
        }
    }

    let text = manifest.to_text();
    let old = read(&dir.join(manifest::PATH))?;
    if old.as_deref() != Some(text.as_str()) {
        out.changes.push(Change::Write {
            path: manifest::PATH.to_string(),
            old,
            new: text,
        });
    }
    Ok(out)
}

/// A file's text, or `None` when there is no file.
fn read(path: &Path) -> Result<Option<String>, WriteError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| WriteError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not UTF-8 text, so not a file apigen wrote",
                ),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(WriteError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
