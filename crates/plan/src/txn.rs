//! Moving the paths of a journaled change set back to their before-state. What is done
//! is judged by what is on disk, never by which call returned an error: a rename that
//! happened is done even when the fsync after it failed.

use std::path::{Path, PathBuf};

use super::fsops;
use super::journal::{Entry, State, Step};
use super::meta::{Meta, sha256};
use super::{Error, SysRoot, io_err};

/// What is at system path `path` now; a file's state carries its hash and metadata.
pub(crate) fn current(root: &SysRoot, path: &Path) -> Result<State, Error> {
    let real = root.path(path);
    let m = match std::fs::symlink_metadata(&real) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::Missing),
        Err(e) => return Err(io_err(&real)(e)),
    };
    let ft = m.file_type();
    if ft.is_symlink() {
        Ok(State::Symlink(
            std::fs::read_link(&real).map_err(io_err(&real))?,
        ))
    } else if ft.is_dir() {
        Ok(State::Dir)
    } else if ft.is_file() {
        let bytes = std::fs::read(&real).map_err(io_err(&real))?;
        Ok(State::File {
            hash: sha256(&bytes),
            meta: Some(Meta::read(&real)?),
        })
    } else {
        Err(Error::NotAFile(real))
    }
}

/// `cur` has the kind and content of `want` (metadata aside).
pub(crate) fn matches(cur: &State, want: &State) -> bool {
    match (cur, want) {
        (State::File { hash: a, .. }, State::File { hash: b, .. }) => a == b,
        _ => cur == want,
    }
}

/// `cur` is exactly `want`, metadata included where `want` records it.
fn exactly(cur: &State, want: &State) -> bool {
    match (cur, want) {
        (State::File { hash: a, meta: m }, State::File { hash: b, meta: w }) => {
            a == b && (w.is_none() || m == w)
        }
        _ => cur == want,
    }
}

/// Check that every step is in its before- or after-state; anything else was changed by
/// someone else, and guessing would lose their change.
pub(crate) fn check_known(root: &SysRoot, entry: &Entry) -> Result<(), Error> {
    for s in &entry.steps {
        let cur = current(root, &s.path)?;
        if !matches(&cur, &s.before) && !matches(&cur, &s.after) {
            return Err(Error::RecoveryConflict {
                id: entry.id.clone(),
                path: root.path(&s.path),
                journal: entry.dir.clone(),
            });
        }
    }
    Ok(())
}

/// Remove the temp files a killed run may have left beside the entry's paths.
pub(crate) fn clean_temps(root: &SysRoot, entry: &Entry) -> Result<Vec<PathBuf>, Error> {
    let dirs: Vec<PathBuf> = entry
        .steps
        .iter()
        .flat_map(|s| [Some(&s.path), s.backup.as_ref()])
        .flatten()
        .filter_map(|p| p.parent().map(|d| root.path(d)))
        .collect();
    fsops::clean_temps(dirs.iter().map(PathBuf::as_path))
}

/// Put step `i` of `entry` back to its before-state, using (and consuming) the journal
/// copy of a file. Returns whether anything changed.
pub(crate) fn restore_step(root: &SysRoot, entry: &Entry, i: usize) -> Result<bool, Error> {
    let s: &Step = &entry.steps[i];
    let real = root.path(&s.path);
    let cur = current(root, &s.path)?;
    if exactly(&cur, &s.before) {
        return Ok(false);
    }
    match &s.before {
        State::Missing => fsops::remove(&real)?,
        State::Dir => {
            fsops::remove(&real)?;
            fsops::mkdir(&real)?;
        }
        State::Symlink(t) => {
            if cur == State::Dir {
                fsops::remove(&real)?;
            }
            fsops::symlink_atomic(&real, t)?;
        }
        State::File { hash, meta } => {
            if cur == State::Dir {
                fsops::remove(&real)?;
            }
            let copy = entry.copy(i);
            let bytes = std::fs::read(&copy).map_err(|e| Error::Journal {
                path: copy.clone(),
                reason: format!("the copy of {} is unreadable: {e}", real.display()),
            })?;
            if sha256(&bytes) != *hash {
                return Err(Error::Journal {
                    path: copy,
                    reason: format!("the copy of {} does not match its hash", real.display()),
                });
            }
            // The copy already has the original's mode, owner and xattrs: renaming it
            // into place needs no free space. Across file systems, write a new copy.
            match std::fs::rename(&copy, &real) {
                Ok(()) => fsops::sync_dir(real.parent().unwrap_or(Path::new("/")))?,
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                    let meta = meta.clone().unwrap_or_default();
                    fsops::write_atomic(&real, &bytes, &meta)?;
                }
                Err(e) => return Err(io_err(&real)(e)),
            }
        }
    }
    Ok(true)
}

/// Restore every step, last first. Returns the system paths that changed.
pub(crate) fn restore_all(root: &SysRoot, entry: &Entry) -> Result<Vec<PathBuf>, Error> {
    let mut restored = Vec::new();
    for i in (0..entry.steps.len()).rev() {
        if restore_step(root, entry, i)? {
            restored.push(entry.steps[i].path.clone());
        }
    }
    Ok(restored)
}

/// Roll back an apply that did not commit: temp files removed, every path to its
/// before-state, the backups this change set made removed. The entry itself is left to
/// the caller (trash it once this returned Ok).
pub(crate) fn roll_back(root: &SysRoot, entry: &Entry) -> Result<Vec<PathBuf>, Error> {
    clean_temps(root, entry)?;
    check_known(root, entry)?;
    let restored = restore_all(root, entry)?;
    for s in entry.steps.iter().filter(|s| s.backup_new) {
        if let Some(b) = &s.backup {
            remove_backup_if(root, b, &s.before)?;
        }
    }
    Ok(restored)
}

/// Remove the backup at system path `backup` when it holds exactly `content`'s bytes (so
/// nothing is lost by removing it). Returns whether it was removed.
pub(crate) fn remove_backup_if(
    root: &SysRoot,
    backup: &Path,
    content: &State,
) -> Result<bool, Error> {
    let cur = current(root, backup)?;
    if matches!(cur, State::File { .. }) && matches(&cur, content) {
        fsops::remove(&root.path(backup))?;
        return Ok(true);
    }
    Ok(false)
}
