//! Moving the paths of a journaled change set back to their before-state. What is done
//! is judged by what is on disk, never by which call returned an error: a rename that
//! happened is done even when the fsync after it failed.

use std::path::{Path, PathBuf};

use super::fsops::{self, Guard};
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
pub(crate) fn exactly(cur: &State, want: &State) -> bool {
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

/// How [`restore_step`] puts a file back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restore {
    /// Rename the journal copy into place: needs no free space (rolling back an apply,
    /// finishing an interrupted undo); the copy is gone afterwards.
    Consume,
    /// Write a new file from the copy and keep the copy, so that an undo that fails
    /// later can be rolled back and undone again.
    Copy,
}

/// Fails with [`Error::ChangedUnder`] unless system path `path` is still exactly `want`:
/// the check right before a rename or removal replaces what is there.
pub(crate) fn still(root: &SysRoot, path: &Path, want: &State) -> Result<(), Error> {
    if exactly(&current(root, path)?, want) {
        Ok(())
    } else {
        Err(Error::ChangedUnder(root.path(path)))
    }
}

/// Put step `i` of `entry` back to its before-state from its journal copy. Each
/// replacement is guarded: the path must still be what it was when this step began, so
/// an edit made meanwhile by another program is never overwritten. Returns whether
/// anything changed.
pub(crate) fn restore_step(
    root: &SysRoot,
    entry: &Entry,
    i: usize,
    how: Restore,
) -> Result<bool, Error> {
    let s: &Step = &entry.steps[i];
    let real = root.path(&s.path);
    let cur = current(root, &s.path)?;
    if exactly(&cur, &s.before) {
        return Ok(false);
    }
    let check = || still(root, &s.path, &cur);
    match &s.before {
        State::Missing => {
            check()?;
            fsops::remove(&real)?;
        }
        State::Dir => {
            check()?;
            fsops::remove(&real)?;
            fsops::mkdir(&real)?;
        }
        State::Symlink(t) => {
            if cur == State::Dir {
                check()?;
                fsops::remove(&real)?;
            }
            fsops::symlink_atomic(&real, t, Some(&check))?;
        }
        State::File { hash, meta } => {
            if cur == State::Dir {
                check()?;
                fsops::remove(&real)?;
            }
            let copy = entry.copy(i);
            let bytes = read_copy(&copy, hash, &real)?;
            let meta = meta.clone().unwrap_or_default();
            if how == Restore::Copy {
                fsops::write_atomic(&real, &bytes, &meta, Guard::Unchanged(&check))?;
                return Ok(true);
            }
            // The copy already has the original's mode, owner and xattrs: renaming it
            // into place needs no free space. Across file systems, write a new copy.
            check()?;
            match std::fs::rename(&copy, &real) {
                Ok(()) => fsops::sync_dir(real.parent().unwrap_or(Path::new("/")))?,
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                    fsops::write_atomic(&real, &bytes, &meta, Guard::None)?;
                }
                Err(e) => return Err(io_err(&real)(e)),
            }
        }
    }
    Ok(true)
}

/// The bytes of the journal copy `copy` of `real`, checked against `hash`.
pub(crate) fn read_copy(copy: &Path, hash: &str, real: &Path) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(copy).map_err(|e| Error::Journal {
        path: copy.to_path_buf(),
        reason: format!("the copy of {} is unreadable: {e}", real.display()),
    })?;
    if sha256(&bytes) != hash {
        return Err(Error::Journal {
            path: copy.to_path_buf(),
            reason: format!("the copy of {} does not match its hash", real.display()),
        });
    }
    Ok(bytes)
}

/// Restore every step, last first. Returns the system paths that changed.
pub(crate) fn restore_all(
    root: &SysRoot,
    entry: &Entry,
    how: Restore,
) -> Result<Vec<PathBuf>, Error> {
    let mut restored = Vec::new();
    for i in (0..entry.steps.len()).rev() {
        if restore_step(root, entry, i, how)? {
            restored.push(entry.steps[i].path.clone());
        }
    }
    Ok(restored)
}

/// Roll back an apply that did not commit: temp files removed, the first `upto` steps
/// (those that may have run) to their before-state, the backups this change set made
/// removed. Steps from `upto` on never ran, so what is there is not ours to judge. The
/// entry itself is left to the caller (trash it once this returned Ok).
pub(crate) fn roll_back(root: &SysRoot, entry: &Entry, upto: usize) -> Result<Vec<PathBuf>, Error> {
    clean_temps(root, entry)?;
    let ran = Entry {
        steps: entry.steps[..upto.min(entry.steps.len())].to_vec(),
        ..entry.clone()
    };
    check_known(root, &ran)?;
    let restored = restore_all(root, &ran, Restore::Consume)?;
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
