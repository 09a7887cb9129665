//! One `apigen generate` at a time per project.
//!
//! The lock is an OS file lock on `.apigen/lock`, not the file's existence:
//! the OS releases it when its process dies, so a killed run never blocks
//! the next one. The file keeps the holder's PID, for the message only.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use super::WriteError;

/// Where the lock lives, relative to the project.
pub const PATH: &str = ".apigen/lock";

/// Held for as long as this value lives.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

/// Takes the project's lock without waiting: another run holding it is
/// [`WriteError::Locked`].
pub fn lock(dir: &Path) -> Result<ProjectLock, WriteError> {
    let path = dir.join(PATH);
    let io = |source| WriteError::Io {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    // Not truncated on open: until the lock is ours, the PID in it is the holder's.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(WriteError::Locked {
                path,
                pid: text.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| write!(file, "{}", std::process::id()))
        .map_err(io)?;
    Ok(ProjectLock { _file: file })
}

pub(super) fn locked_message(path: &Path, pid: Option<u32>) -> String {
    let holder = pid.map_or_else(String::new, |p| format!(" (pid {p})"));
    format!(
        "another apigen generate is running on this project{holder}; wait for it, or remove `{}` if it died",
        path.display()
    )
}
