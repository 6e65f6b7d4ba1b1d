//! The undo history of a root: list the applied change sets, undo one by ID (default:
//! the newest). Only the root's own journal is read, so `undo` never picks a change
//! made elsewhere.

use std::path::{Path, PathBuf};

use super::journal::{self, COMMITTED, Entry, JOURNAL, UNDOING, UNDONE};
use super::lock::{LOCK_WAIT, Lock};
use super::recover::{Recovery, finish_undo, other_sets, recover_locked};
use super::{Error, SysRoot, txn};

/// An applied change set, as `undo --list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// The ID `distsetup undo ID` takes.
    pub id: String,
    /// When it was applied (`YYYY-MM-DD HH:MM:SS UTC`).
    pub date: String,
    /// The command line that made it.
    pub command: String,
    /// The system paths it changed, in order.
    pub paths: Vec<PathBuf>,
}

/// What `undo` did.
#[derive(Debug)]
pub struct UndoReport {
    /// The change set undone.
    pub id: String,
    /// Its journal directory (real path; removed now).
    pub journal: PathBuf,
    /// System paths restored, in the order they were restored.
    pub restored: Vec<PathBuf>,
    /// `.distsetup-bak` files removed because no change set needs them any more.
    pub backups_removed: Vec<PathBuf>,
    /// Interrupted change sets repaired first.
    pub recovered: Vec<Recovery>,
}

fn summary(e: &Entry) -> ChangeSet {
    ChangeSet {
        id: e.id.clone(),
        date: journal::utc_date(e.date),
        command: e.command.clone(),
        paths: e.steps.iter().map(|s| s.path.clone()).collect(),
    }
}

/// The committed change sets of `root`, oldest first (after recovery).
fn committed(root: &SysRoot) -> Result<Vec<Entry>, Error> {
    let base = root.path(Path::new(JOURNAL));
    let (sets, _) = journal::scan(&base)?;
    let mut out = Vec::new();
    for d in &sets {
        if let Some(e) = journal::read(d)? {
            if e.has(COMMITTED) && !e.has(UNDONE) && !e.has(UNDOING) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// A root's journal, locked, recovered and read.
struct Opened {
    _lock: Lock,
    recovered: Vec<Recovery>,
    sets: Vec<Entry>,
}

/// Lock, recover, and read the committed sets; `None` when the root has no journal.
fn open(root: &SysRoot) -> Result<Option<Opened>, Error> {
    if !root.path(Path::new(JOURNAL)).is_dir() {
        return Ok(None);
    }
    let lock = Lock::acquire(root, LOCK_WAIT)?;
    let recovered = recover_locked(root)?;
    let sets = committed(root)?;
    Ok(Some(Opened {
        _lock: lock,
        recovered,
        sets,
    }))
}

/// Every change set of `root` that can be undone, newest first, and what recovery did
/// before reading them.
pub fn history(root: &SysRoot) -> Result<(Vec<ChangeSet>, Vec<Recovery>), Error> {
    let Some(o) = open(root)? else {
        return Ok((Vec::new(), Vec::new()));
    };
    Ok((o.sets.iter().rev().map(summary).collect(), o.recovered))
}

fn pick(root: &SysRoot, sets: &[Entry], id: Option<&str>) -> Result<usize, Error> {
    match id {
        None if sets.is_empty() => Err(Error::NothingToUndo(root.path(Path::new(JOURNAL)))),
        None => Ok(sets.len() - 1),
        Some(id) => sets
            .iter()
            .position(|e| e.id == id)
            .ok_or_else(|| Error::UnknownChangeSet {
                id: id.to_string(),
                root: root.dir().to_path_buf(),
            }),
    }
}

/// The change set `undo` would restore (`id`, or the newest) without changing anything.
pub fn pending_undo(root: &SysRoot, id: Option<&str>) -> Result<ChangeSet, Error> {
    let Some(o) = open(root)? else {
        return Err(Error::NothingToUndo(root.path(Path::new(JOURNAL))));
    };
    Ok(summary(&o.sets[pick(root, &o.sets, id)?]))
}

/// Undo change set `id` (or the newest) of `root`: every path back to the state before
/// it, byte for byte with mode, owner and xattrs. Refuses, restoring nothing, when a path
/// changed since: by a later change set ([`Error::UndoLater`], undo that one first) or by
/// someone else ([`Error::UndoConflict`]). A failure part-way keeps the journal and the
/// next run finishes the undo.
pub fn undo(root: &SysRoot, id: Option<&str>) -> Result<UndoReport, Error> {
    let Some(Opened {
        _lock,
        recovered,
        sets,
    }) = open(root)?
    else {
        return Err(Error::NothingToUndo(root.path(Path::new(JOURNAL))));
    };
    let at = pick(root, &sets, id)?;
    let entry = &sets[at];
    for s in &entry.steps {
        let cur = txn::current(root, &s.path)?;
        if txn::matches(&cur, &s.after) {
            continue;
        }
        let later = sets[at + 1..]
            .iter()
            .rev()
            .find(|l| l.steps.iter().any(|t| t.path == s.path));
        return Err(match later {
            Some(l) => Error::UndoLater {
                id: entry.id.clone(),
                path: root.path(&s.path),
                later: l.id.clone(),
            },
            None => Error::UndoConflict(root.path(&s.path)),
        });
    }
    if let Err(e) = entry.mark(UNDOING) {
        // The marker exists or not; only then has the undo begun.
        if !entry.has(UNDOING) {
            return Err(e);
        }
    }
    let all: Vec<PathBuf> = sets.iter().map(|e| e.dir.clone()).collect();
    let others = other_sets(&all, &entry.dir)?;
    let (restored, backups_removed) =
        finish_undo(root, entry, &others).map_err(|e| Error::UndoInterrupted {
            id: entry.id.clone(),
            cause: Box::new(e),
        })?;
    Ok(UndoReport {
        id: entry.id.clone(),
        journal: entry.dir.clone(),
        restored,
        backups_removed,
        recovered,
    })
}
