//! Applying a plan as a transaction: lock, recover what a killed run left, check the
//! plan against the disk, write the intent durably, apply, mark committed. A failure
//! rolls back from the state on disk; a failed rollback is reported and the intent kept,
//! so the next run finishes it.

use std::path::{Path, PathBuf};

use super::fsops::{self, Guard};
use super::journal::{self, COMMITTED, Entry, JOURNAL, State, ensure_private_dir, file_state};
use super::lock::{LOCK_WAIT, Lock, command_line};
use super::meta::Meta;
use super::recover::{Recovery, recover_locked};
use super::txn;
use super::{Before, Change, Error, Plan, SysRoot, io_err};

/// Suffix of the one-time backup of a file's pre-distsetup content.
pub const BACKUP_SUFFIX: &str = ".distsetup-bak";
/// How many applied change sets the journal keeps (older ones can no longer be undone).
pub const KEEP_SETS: usize = 20;

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    /// The change set's ID (`distsetup undo ID`).
    pub id: String,
    /// Its journal directory (real path).
    pub journal: PathBuf,
    /// Interrupted change sets repaired before this one started.
    pub recovered: Vec<Recovery>,
    /// Things that went wrong after the change set was committed (it stands).
    pub warnings: Vec<String>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The metadata a newly written file gets: the old file's (mode replaced when planned),
/// or ours with the planned mode (0644 by default).
fn new_meta(old: Option<&Meta>, mode: Option<u32>) -> Meta {
    match old {
        Some(m) => Meta {
            mode: mode.unwrap_or(m.mode),
            ..m.clone()
        },
        None => Meta {
            mode: mode.unwrap_or(0o644),
            uid: journal::current_uid(),
            gid: journal::current_gid(),
            xattrs: Vec::new(),
        },
    }
}

/// Build the journal entry in `dir`: copy every file's previous content (with its
/// metadata), then write the intent durably.
fn write_entry(plan: &Plan, dir: &Path, id: &str) -> Result<Entry, Error> {
    let root = plan.root();
    // Paths a kept change set already changed: their pre-distsetup state is known (it
    // created them, or backed them up), so a backup now would hold distsetup's content.
    let base = dir.parent().unwrap_or(dir);
    let (sets, _) = journal::scan(base)?;
    let mut known: Vec<PathBuf> = Vec::new();
    for d in sets.iter().filter(|d| d.as_path() != dir) {
        if let Some(e) = journal::read(d)? {
            known.extend(e.steps.into_iter().map(|s| s.path));
        }
    }
    let mut entry = Entry {
        dir: dir.to_path_buf(),
        id: id.to_string(),
        date: now(),
        command: command_line(),
        steps: Vec::new(),
    };
    for (i, step) in plan.steps().iter().enumerate() {
        let path = step.change.path();
        let real = root.path(path);
        if path.to_string_lossy().contains(['\t', '\n']) {
            return Err(Error::Io {
                path: real,
                source: std::io::Error::other("tab or newline in a path cannot be journaled"),
            });
        }
        let before = match &step.before {
            Before::Missing => State::Missing,
            Before::Dir => State::Dir,
            Before::Symlink(t) => State::Symlink(t.clone()),
            Before::File(bytes) => {
                let meta = Meta::read(&real)?;
                fsops::write_new(&entry.copy(i), bytes, &meta)?;
                file_state(bytes, Some(meta))
            }
        };
        let after = match &step.change {
            Change::WriteFile { bytes, .. } => file_state(bytes, None),
            Change::CreateSymlink { target, .. } => State::Symlink(target.clone()),
            Change::RemoveSymlink { .. } => State::Missing,
            Change::CreateDir { .. } => State::Dir,
        };
        let backup = matches!(step.before, Before::File(_)).then(|| plan.backup_path(path));
        let backup_new = backup.as_ref().is_some_and(|b| {
            !known.iter().any(|k| k == path) && std::fs::symlink_metadata(root.path(b)).is_err()
        });
        entry.steps.push(journal::Step {
            path: path.to_path_buf(),
            before,
            after,
            backup,
            backup_new,
        });
    }
    fsops::sync_dir(dir)?;
    journal::write_intent(&entry)?;
    Ok(entry)
}

/// The check right before the rename that replaces step `i`'s existing file: the same
/// inode, bytes, mode, owner and xattrs as when the plan was checked under the lock.
fn unchanged<'a>(
    root: &'a SysRoot,
    js: &'a journal::Step,
    inode: Option<(u64, u64)>,
) -> impl Fn() -> Result<(), Error> + 'a {
    move || {
        txn::still(root, &js.path, &js.before)?;
        if identity(&root.path(&js.path)) != inode {
            return Err(Error::ChangedUnder(root.path(&js.path)));
        }
        Ok(())
    }
}

/// Device and inode of the file at `real` (not following a final symlink).
fn identity(real: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::symlink_metadata(real)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Do step `i`: the first backup of a file, then the change itself. Every replacement
/// is guarded against an edit made by another program since the plan was checked.
fn run_step(
    root: &SysRoot,
    plan: &Plan,
    entry: &Entry,
    i: usize,
    inode: Option<(u64, u64)>,
) -> Result<(), Error> {
    let step = &plan.steps()[i];
    let js = &entry.steps[i];
    let real = root.path(step.change.path());
    let old_meta = match &js.before {
        State::File { meta, .. } => meta.as_ref(),
        _ => None,
    };
    if let (true, Some(bak), Before::File(bytes)) = (js.backup_new, &js.backup, &step.before) {
        let meta = old_meta.cloned().unwrap_or_default();
        fsops::write_atomic(&root.path(bak), bytes, &meta, Guard::Absent)?;
    }
    let taken = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::ChangedUnder(real.clone()),
        _ => io_err(&real)(e),
    };
    match &step.change {
        Change::WriteFile { bytes, mode, .. } => {
            let meta = new_meta(old_meta, *mode);
            if js.before == State::Missing {
                fsops::write_atomic(&real, bytes, &meta, Guard::Absent)
            } else {
                let check = unchanged(root, js, inode);
                fsops::write_atomic(&real, bytes, &meta, Guard::Unchanged(&check))
            }
        }
        Change::CreateSymlink { target, .. } => {
            std::os::unix::fs::symlink(target, &real).map_err(taken)?;
            fsops::sync_dir(real.parent().unwrap_or(Path::new("/")))
        }
        Change::RemoveSymlink { .. } => {
            txn::still(root, &js.path, &js.before)?;
            fsops::remove(&real)
        }
        Change::CreateDir { owner: None, .. } => {
            std::fs::create_dir(&real).map_err(taken)?;
            fsops::sync_dir(real.parent().unwrap_or(Path::new("/")))
        }
        Change::CreateDir { owner: Some(o), .. } => {
            // Owner and mode before the directory is synced: a crash leaves either no
            // directory or the user's (recovery removes a directory the plan made).
            std::fs::create_dir(&real).map_err(taken)?;
            std::os::unix::fs::chown(&real, Some(o.uid), Some(o.gid)).map_err(io_err(&real))?;
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(o.mode))
                .map_err(io_err(&real))?;
            fsops::sync_dir(real.parent().unwrap_or(Path::new("/")))
        }
    }
}

/// After `cause` stopped an apply at step `at`: roll back and drop the entry, or say
/// why not. A step whose target another program changed was not done by us and is left
/// as that program made it.
fn fail(root: &SysRoot, entry: &Entry, at: usize, cause: Error) -> Error {
    let upto = if matches!(cause, Error::ChangedUnder(_)) {
        at
    } else {
        at + 1
    };
    match txn::roll_back(root, entry, upto) {
        // Everything is back; an entry that cannot be removed now is removed by the next
        // run's recovery (rolling back again changes nothing).
        Ok(_) => {
            let _ = entry.trash();
            cause
        }
        Err(rollback) => Error::RollbackFailed {
            cause: Box::new(cause),
            rollback: Box::new(rollback),
            journal: entry.dir.clone(),
        },
    }
}

/// Apply every step of `plan` as one transaction (see the module comment). Before
/// anything is written, every target is re-read and compared with the state the diff was
/// computed from ([`Error::Changed`]).
pub fn apply(plan: &Plan) -> Result<Applied, Error> {
    let root = plan.root();
    let _lock = Lock::acquire(root, LOCK_WAIT)?;
    let recovered = recover_locked(root)?;
    let mut inodes = Vec::new();
    for step in plan.steps() {
        if root.state(step.change.path())? != step.before {
            return Err(Error::Changed(root.path(step.change.path())));
        }
        inodes.push(identity(&root.path(step.change.path())));
    }
    let base = root.path(Path::new(JOURNAL));
    ensure_private_dir(&base)?;
    let id = journal::new_id(&base, now())?;
    let dir = base.join(&id);
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(io_err(&dir))?;
    }
    let entry = match write_entry(plan, &dir, &id) {
        Ok(e) => e,
        Err(e) => {
            // Nothing was touched; a directory we cannot remove now is removed by the
            // next run's recovery.
            let _ = journal::trash(&dir);
            return Err(e);
        }
    };
    for (i, inode) in inodes.into_iter().enumerate() {
        if let Err(e) = run_step(root, plan, &entry, i, inode) {
            return Err(fail(root, &entry, i, e));
        }
    }
    let mut warnings = Vec::new();
    if let Err(e) = entry.mark(COMMITTED) {
        if !entry.has(COMMITTED) {
            return Err(fail(root, &entry, plan.steps().len(), e));
        }
        warnings.push(format!("change set {id} is applied, but: {e}"));
    }
    if let Err(e) = prune(&base, KEEP_SETS) {
        warnings.push(format!("old change sets not pruned: {e}"));
    }
    Ok(Applied {
        id,
        journal: dir,
        recovered,
        warnings,
    })
}

/// Keep the newest `keep` committed change sets; older ones go.
fn prune(base: &Path, keep: usize) -> Result<(), Error> {
    let (sets, _) = journal::scan(base)?;
    let committed: Vec<&PathBuf> = sets.iter().filter(|d| d.join(COMMITTED).exists()).collect();
    let excess = committed.len().saturating_sub(keep);
    for d in &committed[..excess] {
        journal::trash(d)?;
    }
    Ok(())
}
