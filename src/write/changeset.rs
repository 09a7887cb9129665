//! What a write will do, as values: the changes to the project, the hand
//! edits in their way and the files left alone. Worked out by
//! `super::changes`, shown by `super::diff`, applied by `super::transaction`.

use std::path::PathBuf;

use super::manifest;

/// One change to the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Write `new` at `path`; `old` is what is there now, if anything.
    Write {
        path: String,
        old: Option<String>,
        new: String,
    },
    /// Delete a generated file the spec no longer gives.
    Remove { path: String, old: String },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Write { path, .. } | Change::Remove { path, .. } => path,
        }
    }

    /// A word for the summary: created, updated or removed.
    pub fn verb(&self) -> &'static str {
        match self {
            Change::Write { old: None, .. } => "created",
            Change::Write { .. } => "updated",
            Change::Remove { .. } => "removed",
        }
    }
}

/// A generated file whose contents on disk apigen did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: String,
    pub reason: ConflictReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// Edited since apigen wrote it.
    Edited,
    /// Edited since apigen wrote it, and the spec no longer gives it.
    EditedStale,
    /// A file apigen has no record of writing is where it would write one.
    Untracked,
}

impl ConflictReason {
    pub fn describe(self) -> &'static str {
        match self {
            ConflictReason::Edited => "edited since apigen wrote it",
            ConflictReason::EditedStale => {
                "edited since apigen wrote it, and no longer generated (it would be removed)"
            }
            ConflictReason::Untracked => "not written by apigen (no record in the manifest)",
        }
    }
}

/// A file regeneration leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub path: String,
    pub why: KeptReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptReason {
    /// A file written once for the user (handlers, Cargo.toml).
    Yours,
    /// A generated file whose `@generated` line the user deleted to own it.
    Adopted,
}

/// Everything regeneration would do to a project.
#[derive(Debug, Clone)]
pub struct Changes {
    pub dir: PathBuf,
    /// In the order they are applied; the manifest comes last.
    pub changes: Vec<Change>,
    /// Hand edits that stop regeneration. Empty when forced: the edits are
    /// then in `changes` and named in `overwritten`.
    pub conflicts: Vec<Conflict>,
    /// Hand edits `--force` will overwrite or remove.
    pub overwritten: Vec<Conflict>,
    pub kept: Vec<Kept>,
}

impl Changes {
    /// Whether regeneration would change nothing at all.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.conflicts.is_empty()
    }

    /// The changes besides the manifest's own update.
    pub fn files(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.path() != manifest::PATH)
    }
}
