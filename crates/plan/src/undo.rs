//! The undo history of a root: list the applied change sets, undo one by ID (default:
//! the newest), or drop one from the history. Only the root's own journal is read, so
//! `undo` never picks a change made elsewhere.
//!
//! A command opens the [`Journal`] once: it takes the lock, repairs what an interrupted
//! run left, and keeps the lock until it is dropped, so the change set shown is the one
//! undone. An undo is planned and checked like an apply before anything changes (every
//! directory it writes is writable, every journal copy is intact, a directory it removes
//! holds nothing else); it saves what it replaces, so one that fails half-way rolls
//! itself back; one that is killed is finished by the next run.

use std::path::{Path, PathBuf};

use super::fsops::{self, Guard};
use super::journal::{self, COMMITTED, Entry, JOURNAL, State, UNDOING, UNDONE};
use super::lock::{LOCK_WAIT, Lock};
use super::meta::Meta;
use super::recover::{
    Recovery, close_undo, finished_dir, journal_exists, needed_by, recover_locked,
};
use super::txn::{self, Restore};
use super::{Error, SysRoot, io_err};

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
}

/// What `undo --forget` did.
#[derive(Debug)]
pub struct Forgotten {
    /// The change set dropped from the history.
    pub id: String,
    /// Backups (system paths) it made that stay: they hold the files as they were
    /// before distsetup, and no change set will remove them now.
    pub backups_kept: Vec<PathBuf>,
}

/// The history as `undo --list` shows it.
#[derive(Debug, Default)]
pub struct History {
    /// The change sets that can be undone, newest first.
    pub sets: Vec<ChangeSet>,
    /// Interrupted change sets repaired before reading.
    pub recovered: Vec<Recovery>,
    /// Why interrupted change sets were not repaired (a read-only file system, a
    /// failing repair); `None` when nothing stood in the way.
    pub not_repaired: Option<String>,
    /// The interrupted change sets left as they are, described.
    pub interrupted: Vec<String>,
}

fn summary(e: &Entry) -> ChangeSet {
    ChangeSet {
        id: e.id.clone(),
        date: journal::utc_date(e.date),
        command: e.command.clone(),
        paths: e.steps.iter().map(|s| s.path.clone()).collect(),
    }
}

/// The change sets of `root`: (committed ones oldest first, descriptions of the others).
fn read_sets(root: &SysRoot) -> Result<(Vec<Entry>, Vec<String>), Error> {
    let base = root.path(Path::new(JOURNAL));
    let (sets, _) = journal::scan(&base)?;
    let (mut out, mut other) = (Vec::new(), Vec::new());
    for d in &sets {
        let name = d.file_name().unwrap_or_default().to_string_lossy();
        match journal::read(d)? {
            Some(e) if e.has(UNDONE) => {}
            Some(e) if e.has(UNDOING) => other.push(format!(
                "{} (`{}`): an undo that was interrupted",
                e.id, e.command
            )),
            Some(e) if e.has(COMMITTED) => out.push(e),
            Some(e) => other.push(format!(
                "{} (`{}`): an apply that was interrupted",
                e.id, e.command
            )),
            None => other.push(format!(
                "{name}: a run that stopped before it changed anything"
            )),
        }
    }
    Ok((out, other))
}

/// A root's journal opened for one command: locked, repaired and read. The lock is held
/// until this is dropped.
#[derive(Debug)]
pub struct Journal {
    root: SysRoot,
    _lock: Option<Lock>,
    /// Interrupted change sets repaired when it was opened.
    pub recovered: Vec<Recovery>,
    sets: Vec<Entry>,
    /// Undos finished by this command: their journal goes when the command has told
    /// the user ([`Journal::reported`]), so a run killed or failing before that knows
    /// the undo finished.
    finished: Vec<PathBuf>,
}

impl Journal {
    /// Lock the journal of `root`, repair what an interrupted run left, read the change
    /// sets. A root without a journal has none (and nothing is created).
    pub fn open(root: &SysRoot) -> Result<Journal, Error> {
        if !journal_exists(root)? {
            return Ok(Journal {
                root: root.clone(),
                _lock: None,
                recovered: Vec::new(),
                sets: Vec::new(),
                finished: Vec::new(),
            });
        }
        let lock = Lock::acquire(root, LOCK_WAIT)?;
        let recovered = recover_locked(root)?;
        let (sets, _) = read_sets(root)?;
        Ok(Journal {
            root: root.clone(),
            _lock: Some(lock),
            recovered,
            sets,
            finished: Vec::new(),
        })
    }

    /// The command has reported the undos it did: their journal goes. Until then (a
    /// command killed, or failing to print), the next run finds them and says that an
    /// undo finished, so a repeated `undo` does not undo one more set.
    pub fn reported(self) -> Result<(), Error> {
        for d in &self.finished {
            journal::remove_finished(d)?;
        }
        Ok(())
    }

    /// The change sets that can be undone, newest first.
    pub fn sets(&self) -> Vec<ChangeSet> {
        self.sets.iter().rev().map(summary).collect()
    }

    fn pick(&self, id: Option<&str>) -> Result<usize, Error> {
        match id {
            None if self.sets.is_empty() => {
                Err(Error::NothingToUndo(self.root.path(Path::new(JOURNAL))))
            }
            None => Ok(self.sets.len() - 1),
            Some(id) => {
                self.sets
                    .iter()
                    .position(|e| e.id == id)
                    .ok_or_else(|| Error::UnknownChangeSet {
                        id: id.to_string(),
                        root: self.root.dir().to_path_buf(),
                    })
            }
        }
    }

    /// The change set `undo` would restore (`id`, or the newest).
    pub fn pending(&self, id: Option<&str>) -> Result<ChangeSet, Error> {
        Ok(summary(&self.sets[self.pick(id)?]))
    }

    /// Undo change set `id` (or the newest): every path back to the state before it,
    /// byte for byte with mode, owner and xattrs. Refuses, restoring nothing, when a path
    /// changed since (by a later change set, [`Error::UndoLater`]; by someone else,
    /// [`Error::UndoConflict`]) or when the undo could not complete
    /// ([`Error::NotWritable`], [`Error::UndoNotEmpty`], a damaged journal copy). A
    /// failure part-way rolls the undo back; when even that fails, the journal is kept
    /// and the next run finishes the undo ([`Error::UndoInterrupted`]).
    pub fn undo(&mut self, id: Option<&str>) -> Result<UndoReport, Error> {
        let at = self.pick(id)?;
        check_undo(&self.root, &self.sets, at)?;
        let entry = self.sets.remove(at);
        let others: Vec<Entry> = self.sets.clone();
        match undo_entry(&self.root, &entry, &others) {
            Ok((restored, backups_removed)) => {
                self.finished.push(finished_dir(&entry));
                Ok(UndoReport {
                    id: entry.id.clone(),
                    journal: entry.dir.clone(),
                    restored,
                    backups_removed,
                })
            }
            Err(e) => {
                if entry.dir.is_dir() && !entry.has(UNDOING) {
                    self.sets.insert(at, entry);
                }
                Err(e)
            }
        }
    }

    /// Drop change set `id` from the history without restoring anything: for a set that
    /// can no longer be undone because its files were changed since. Its backups stay.
    pub fn forget(&mut self, id: &str) -> Result<Forgotten, Error> {
        let at = self.pick(Some(id))?;
        let entry = self.sets.remove(at);
        entry.trash()?;
        let mut backups_kept = Vec::new();
        for b in entry.steps.iter().filter_map(|s| s.backup.as_ref()) {
            let there = std::fs::symlink_metadata(self.root.path(b)).is_ok();
            if there && !needed_by(&self.sets, b) && !backups_kept.contains(b) {
                backups_kept.push(b.clone());
            }
        }
        Ok(Forgotten {
            id: entry.id,
            backups_kept,
        })
    }
}

/// Undo change set `id` (or the newest) of `root` in one go; see [`Journal::undo`].
pub fn undo(root: &SysRoot, id: Option<&str>) -> Result<UndoReport, Error> {
    let mut journal = Journal::open(root)?;
    let report = journal.undo(id)?;
    journal.reported()?;
    Ok(report)
}

/// The change set `undo` would restore (`id`, or the newest), without changing anything.
pub fn pending_undo(root: &SysRoot, id: Option<&str>) -> Result<ChangeSet, Error> {
    Journal::open(root)?.pending(id)
}

/// Every change set of `root` that can be undone, newest first, after repairing what an
/// interrupted run left. Where nothing can be written (a read-only root) or the repair
/// fails, the history is still read, under a shared lock, and the interrupted sets are
/// described instead of repaired.
pub fn history(root: &SysRoot) -> Result<History, Error> {
    if !journal_exists(root)? {
        return Ok(History::default());
    }
    let (lock, why) = match Lock::acquire(root, LOCK_WAIT) {
        Ok(lock) => match recover_locked(root) {
            Ok(recovered) => {
                let (sets, _) = read_sets(root)?;
                return Ok(History {
                    sets: sets.iter().rev().map(summary).collect(),
                    recovered,
                    ..History::default()
                });
            }
            Err(e) => (Some(lock), e.to_string()),
        },
        Err(e) if e.is_read_only_fs() => (Lock::shared(root, LOCK_WAIT)?, e.to_string()),
        Err(e) => return Err(e),
    };
    let (sets, interrupted) = read_sets(root)?;
    drop(lock);
    Ok(History {
        sets: sets.iter().rev().map(summary).collect(),
        recovered: Vec::new(),
        not_repaired: (!interrupted.is_empty()).then_some(why),
        interrupted,
    })
}

/// `access(W_OK)`: a read-only mount answers EROFS even to root.
fn writable(real: &Path) -> Result<(), std::io::Error> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(real.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("NUL byte in path"))?;
    // SAFETY: c is a valid NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Plan and check the undo of `sets[at]` before anything changes: every path as that
/// set left it, every journal copy intact, every directory it writes writable, every
/// directory it removes holding nothing but what the undo removes.
fn check_undo(root: &SysRoot, sets: &[Entry], at: usize) -> Result<(), Error> {
    let entry = &sets[at];
    let later = |path: &Path| {
        sets[at + 1..]
            .iter()
            .rev()
            .find(|l| l.steps.iter().any(|t| t.path.starts_with(path)))
    };
    for s in &entry.steps {
        let cur = txn::current(root, &s.path)?;
        if txn::matches(&cur, &s.after) {
            continue;
        }
        return Err(match later(&s.path) {
            Some(l) => Error::UndoLater {
                id: entry.id.clone(),
                path: root.path(&s.path),
                later: l.id.clone(),
            },
            None => Error::UndoConflict(root.path(&s.path)),
        });
    }
    let not_writable = |path: PathBuf, source| Error::NotWritable {
        id: entry.id.clone(),
        path,
        source,
    };
    for (i, s) in entry.steps.iter().enumerate() {
        let real = root.path(&s.path);
        if let State::File { hash, .. } = &s.before {
            txn::read_copy(&entry.copy(i), hash, &real)?;
        }
        let dirs = [Some(&s.path), s.backup.as_ref()];
        for d in dirs.into_iter().flatten().filter_map(|p| p.parent()) {
            let d = root.path(d);
            writable(&d).map_err(|e| not_writable(d, e))?;
        }
        if s.before == State::Missing && s.after == State::Dir {
            check_emptied(root, entry, i, &later)?;
        }
    }
    writable(&entry.dir).map_err(|e| not_writable(entry.dir.clone(), e))
}

/// The directory of step `i`, which the undo removes, must hold only what the undo
/// removes first.
fn check_emptied<'a>(
    root: &SysRoot,
    entry: &Entry,
    i: usize,
    later: &dyn Fn(&Path) -> Option<&'a Entry>,
) -> Result<(), Error> {
    let dir = &entry.steps[i].path;
    let real = root.path(dir);
    let rd = std::fs::read_dir(&real).map_err(io_err(&real))?;
    for e in rd {
        let e = e.map_err(io_err(&real))?;
        let child = dir.join(e.file_name());
        let ours = entry
            .steps
            .iter()
            .any(|t| t.path == child && t.before == State::Missing);
        if ours {
            continue;
        }
        return Err(match later(&child) {
            Some(l) => Error::UndoLater {
                id: entry.id.clone(),
                path: root.path(&child),
                later: l.id.clone(),
            },
            None => Error::UndoNotEmpty {
                id: entry.id.clone(),
                dir: real,
                entry: root.path(&child),
            },
        });
    }
    Ok(())
}

/// Save what the undo will replace: each file (and the metadata of each directory) as
/// the change set left it, beside the journal copies.
fn save_after(root: &SysRoot, entry: &Entry) -> Result<(), Error> {
    for (i, s) in entry.steps.iter().enumerate() {
        let copy = entry.after_copy(i);
        fsops::remove(&copy)?;
        let real = root.path(&s.path);
        match &s.after {
            State::File { .. } => {
                let bytes = std::fs::read(&real).map_err(io_err(&real))?;
                fsops::write_new(&copy, &bytes, &Meta::read(&real)?)?;
            }
            State::Dir if s.before == State::Missing => {
                fsops::write_new(&copy, b"", &Meta::read(&real)?)?;
            }
            _ => {}
        }
    }
    fsops::sync_dir(&entry.dir)
}

/// Undo `entry` (checked), rolling back on failure. Returns the restored paths and
/// removed backups.
fn undo_entry(
    root: &SysRoot,
    entry: &Entry,
    others: &[Entry],
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    save_after(root, entry)?;
    if let Err(e) = entry.mark(UNDOING) {
        // The marker exists or not; only then has the undo begun.
        if !entry.has(UNDOING) {
            return Err(e);
        }
    }
    let mut restored = Vec::new();
    let mut touched = Vec::new();
    for i in (0..entry.steps.len()).rev() {
        match txn::restore_step(root, entry, i, Restore::Copy) {
            Ok(true) => {
                restored.push(entry.steps[i].path.clone());
                touched.push(i);
            }
            Ok(false) => {}
            Err(cause) => {
                // Judged on disk: a rename whose directory fsync failed did happen.
                let s = &entry.steps[i];
                let done =
                    txn::current(root, &s.path).is_ok_and(|cur| txn::exactly(&cur, &s.before));
                if done && !matches!(cause, Error::ChangedUnder(_)) {
                    touched.push(i);
                }
                return Err(roll_back_undo(root, entry, &touched, cause));
            }
        }
    }
    let removed = close_undo(root, entry, others).map_err(|e| Error::UndoInterrupted {
        id: entry.id.clone(),
        cause: Box::new(e),
    })?;
    Ok((restored, removed))
}

/// An undo stopped by `cause`: put every step in `touched` back as the change set left
/// it, drop the `undoing` marker, and return `cause` (nothing was undone). When that
/// fails too, the journal keeps the marker and the next run finishes the undo.
fn roll_back_undo(root: &SysRoot, entry: &Entry, touched: &[usize], cause: Error) -> Error {
    let back = || -> Result<(), Error> {
        for &i in touched.iter().rev() {
            put_after_back(root, entry, i)?;
        }
        for i in 0..entry.steps.len() {
            fsops::remove(&entry.after_copy(i))?;
        }
        entry.unmark(UNDOING)
    };
    match back() {
        Ok(()) => cause,
        Err(e) => Error::UndoInterrupted {
            id: entry.id.clone(),
            cause: Box::new(Error::RollbackFailed {
                cause: Box::new(cause),
                rollback: Box::new(e),
                journal: entry.dir.clone(),
            }),
        },
    }
}

/// Put step `i` back in the state the change set left it, from the copy [`save_after`]
/// made.
fn put_after_back(root: &SysRoot, entry: &Entry, i: usize) -> Result<(), Error> {
    let s = &entry.steps[i];
    let real = root.path(&s.path);
    let cur = txn::current(root, &s.path)?;
    let copy = entry.after_copy(i);
    match &s.after {
        State::File { hash, .. } => {
            if cur == State::Dir {
                fsops::remove(&real)?;
            }
            let bytes = txn::read_copy(&copy, hash, &real)?;
            match std::fs::rename(&copy, &real) {
                Ok(()) => fsops::sync_dir(real.parent().unwrap_or(Path::new("/"))),
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                    fsops::write_atomic(&real, &bytes, &Meta::read(&copy)?, Guard::None)
                }
                Err(e) => Err(io_err(&real)(e)),
            }
        }
        State::Missing => fsops::remove(&real),
        State::Symlink(t) => fsops::symlink_atomic(&real, t, None),
        State::Dir => {
            if cur != State::Dir {
                fsops::remove(&real)?;
                fsops::mkdir(&real)?;
            }
            if let Ok(meta) = Meta::read(&copy) {
                let d = std::fs::File::open(&real).map_err(io_err(&real))?;
                meta.apply(&d, &real)?;
                fsops::sync_dir(real.parent().unwrap_or(Path::new("/")))?;
            }
            Ok(())
        }
    }
}
