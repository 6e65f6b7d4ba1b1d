//! Recovery: what a killed or failed run left in the journal is repaired before any
//! other work, under the lock. An apply that did not commit is rolled back; an undo that
//! started is finished; leftovers that changed nothing are removed. The caller says so.

use std::path::{Path, PathBuf};

use super::journal::{self, COMMITTED, Entry, JOURNAL, UNDOING, UNDONE};
use super::lock::{LOCK_WAIT, Lock};
use super::txn::Restore;
use super::{Error, SysRoot, io_err, txn};

/// What recovery did with one change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryAction {
    /// An apply that was interrupted: every path is back to its state before it.
    RolledBack,
    /// An undo that was interrupted: finished.
    UndoFinished,
    /// A run stopped before it changed anything: its journal directory was removed.
    Discarded,
}

/// One repaired change set.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// Its ID.
    pub id: String,
    /// The command line that made it.
    pub command: String,
    /// What was done.
    pub action: RecoveryAction,
    /// System paths put back.
    pub restored: Vec<PathBuf>,
    /// Stray temp files removed (real paths).
    pub temps_removed: Vec<PathBuf>,
}

/// Take the lock of `root` and repair what an interrupted run left. Nothing to do (and
/// nothing created) when the root has no journal.
pub fn recover(root: &SysRoot) -> Result<Vec<Recovery>, Error> {
    if !journal_exists(root)? {
        return Ok(Vec::new());
    }
    let _lock = Lock::acquire(root, LOCK_WAIT)?;
    recover_locked(root)
}

/// Whether `root` has a journal; [`Error::NeedsRoot`] when only root may look.
pub(crate) fn journal_exists(root: &SysRoot) -> Result<bool, Error> {
    let base = root.path(Path::new(JOURNAL));
    match std::fs::metadata(&base) {
        Ok(m) => Ok(m.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(journal::state_err(&base)(e)),
    }
}

/// [`recover`] with the lock already held.
pub(crate) fn recover_locked(root: &SysRoot) -> Result<Vec<Recovery>, Error> {
    let base = root.path(Path::new(JOURNAL));
    let (sets, trash) = journal::scan(&base)?;
    let mut out = Vec::new();
    for t in trash {
        // An undo that finished, but whose command may not have said so: it counts as
        // the undo that was asked for.
        if t.to_string_lossy().ends_with(journal::FINISHED) {
            let entry = journal::read(&t).ok().flatten();
            out.push(Recovery {
                id: name_of(&t).trim_end_matches(journal::FINISHED).to_string(),
                command: entry.map(|e| e.command).unwrap_or_default(),
                action: RecoveryAction::UndoFinished,
                restored: Vec::new(),
                temps_removed: Vec::new(),
            });
        }
        std::fs::remove_dir_all(&t).map_err(io_err(&t))?;
    }
    for dir in sets.iter().rev() {
        let Some(entry) = journal::read(dir)? else {
            journal::trash(dir)?;
            out.push(Recovery {
                id: name_of(dir),
                command: String::new(),
                action: RecoveryAction::Discarded,
                restored: Vec::new(),
                temps_removed: Vec::new(),
            });
            continue;
        };
        if entry.has(UNDONE) {
            entry.trash()?;
            out.push(recovery(
                &entry,
                RecoveryAction::UndoFinished,
                Vec::new(),
                Vec::new(),
            ));
        } else if entry.has(UNDOING) {
            let remaining = other_sets(&sets, dir)?;
            let temps = txn::clean_temps(root, &entry)?;
            let done = finish_undo(root, &entry, &remaining)?;
            out.push(recovery(
                &entry,
                RecoveryAction::UndoFinished,
                done.0,
                temps,
            ));
        } else if !entry.has(COMMITTED) {
            let temps = txn::clean_temps(root, &entry)?;
            let restored = txn::roll_back(root, &entry, entry.steps.len())?;
            entry.trash()?;
            out.push(recovery(
                &entry,
                RecoveryAction::RolledBack,
                restored,
                temps,
            ));
        }
    }
    Ok(out)
}

fn recovery(
    e: &Entry,
    action: RecoveryAction,
    restored: Vec<PathBuf>,
    temps_removed: Vec<PathBuf>,
) -> Recovery {
    Recovery {
        id: e.id.clone(),
        command: e.command.clone(),
        action,
        restored,
        temps_removed,
    }
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The committed change sets among `sets` other than `this`.
pub(crate) fn other_sets(sets: &[PathBuf], this: &Path) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    for d in sets.iter().filter(|d| d.as_path() != this) {
        if let Some(e) = journal::read(d)? {
            if e.has(COMMITTED) && !e.has(UNDONE) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// Finish undoing `entry` (its `undoing` marker is set): every path to its before-state,
/// then [`close_undo`]. Returns the restored paths and removed backups.
pub(crate) fn finish_undo(
    root: &SysRoot,
    entry: &Entry,
    others: &[Entry],
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    txn::check_known(root, entry)?;
    let restored = txn::restore_all(root, entry, Restore::Consume)?;
    let removed = close_undo(root, entry, others)?;
    // Reported by the caller as recovered, so the finished entry can go.
    journal::remove_finished(&finished_dir(entry))?;
    Ok((restored, removed))
}

/// The end of an undo whose paths are all restored: each backup no other change set
/// needs removed when it equals the restored file, then `undone`, and the entry renamed
/// to `<ID>.undone` (removed once the command reported the undo; a run that finds it
/// knows an undo finished).
/// Returns the removed backups.
pub(crate) fn close_undo(
    root: &SysRoot,
    entry: &Entry,
    others: &[Entry],
) -> Result<Vec<PathBuf>, Error> {
    let mut removed = Vec::new();
    for s in &entry.steps {
        let Some(b) = &s.backup else { continue };
        if !needed_by(others, b) && txn::remove_backup_if(root, b, &s.before)? {
            removed.push(b.clone());
        }
    }
    entry.mark(UNDONE)?;
    entry.finish()?;
    Ok(removed)
}

/// Where `entry` is once its undo finished.
pub(crate) fn finished_dir(entry: &Entry) -> PathBuf {
    let mut t = entry.dir.as_os_str().to_owned();
    t.push(journal::FINISHED);
    PathBuf::from(t)
}

/// Whether one of `others` records `backup` as the backup of its file.
pub(crate) fn needed_by(others: &[Entry], backup: &Path) -> bool {
    others
        .iter()
        .any(|o| o.steps.iter().any(|t| t.backup.as_deref() == Some(backup)))
}
