//! The only room that writes to disk. A [`Plan`] is a list of changes computed against
//! the current state of a [`SysRoot`]; it renders as one unified diff and applies as a
//! transaction with a write-ahead intent log ([`apply`](Plan::apply)); [`undo`] restores
//! any applied change set of the root byte for byte, with mode, owner and xattrs.
//!
//! Lock, journal and backups (documented in README "Undo"):
//! - one run at a time per root: `flock` on `<root>/var/lib/distsetup/lock`, held for
//!   recovery, the plan check, apply and undo;
//! - every apply writes `<root>/var/lib/distsetup/journal/<ID>/` (0700) before it touches
//!   anything: the intent (each step's before/after state, content hash, mode, owner,
//!   xattrs) and a copy of each file's previous content; then applies; then marks it
//!   committed. The next run repairs an uncommitted one first ([`recover`]). The newest
//!   [`KEEP_SETS`] change sets are kept;
//! - the first time distsetup changes an existing file it copies it to
//!   `FILE.distsetup-bak` (never overwritten afterwards, so it is the pre-distsetup file),
//!   hidden (`.FILE.distsetup-bak`) in directories declared with [`Plan::hide_backups_in`];
//!   undoing the last change set that needs it removes it again;
//! - a file with more than one hard link is refused: replacing it by rename would split
//!   the links ([`Error::HardLinked`]);
//! - right before each rename the target is re-read (inode, bytes, mode, owner, xattrs;
//!   a new file is renamed with `RENAME_NOREPLACE`): another program's edit since the
//!   plan check stops the change set, which is rolled back ([`Error::ChangedUnder`]);
//! - an undo ([`Journal`]) is checked like an apply before its first change, saves what
//!   it replaces and rolls itself back when it fails; a killed one is finished by the
//!   next run, and its journal (renamed `<ID>.undone`) stays until the command has
//!   reported it, so a retried undo knows one finished;
//! - the lock is shared for a read of the history on a read-only root ([`history`]), and
//!   "permission denied" on the journal says that root is needed ([`Error::NeedsRoot`]).

mod apply;
mod fsops;
mod journal;
mod lock;
mod meta;
mod mode;
mod recover;
mod root;
pub mod scratch;
mod secret;
mod txn;
mod undo;

pub use apply::{Applied, BACKUP_SUFFIX, KEEP_SETS};
pub use lock::{LOCK_WAIT, Lock};
pub use mode::{Mode, Outcome};
pub use recover::{Recovery, RecoveryAction, recover};
pub use root::SysRoot;
pub use secret::create_secret;
pub use undo::{ChangeSet, Forgotten, History, Journal, UndoReport, history, pending_undo, undo};

use std::path::{Path, PathBuf};

/// Everything that can go wrong while planning, applying or undoing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--root DIR` does not exist or is not a directory.
    #[error("root {0} does not exist or is not a directory")]
    RootMissing(PathBuf),
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Something other than a regular file is where a file is expected.
    #[error("{0}: is a directory or special file, not a regular file")]
    NotAFile(PathBuf),
    /// The file has no write permission bits: someone made it read-only on purpose.
    #[error("{0}: is read-only (no write permission); make it writable first if it should change")]
    ReadOnly(PathBuf),
    /// A target changed between computing the diff and applying it.
    #[error(
        "{0} changed since the diff was computed; nothing was written, run again to see the new diff"
    )]
    Changed(PathBuf),
    /// A target changed while the change set was being applied (after the plan check,
    /// right before distsetup would have replaced it).
    #[error(
        "{0} was changed by another program while distsetup was applying; everything this run had changed is rolled back and that program's edit is kept; run again to see the new diff"
    )]
    ChangedUnder(PathBuf),
    /// Undo would have to write a directory it cannot write (a read-only mount).
    #[error("cannot undo {id}: {path} cannot be written ({source}); nothing was restored")]
    NotWritable {
        /// The change set.
        id: String,
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Undo would remove a directory the change set created that now holds files nobody
    /// journaled.
    #[error(
        "cannot undo {id}: it created {dir}, which now holds {entry}, put there by someone else; move that away first, or keep everything as it is and drop the change set from the history (undo --forget); nothing was restored"
    )]
    UndoNotEmpty {
        /// The change set.
        id: String,
        /// The directory (real path).
        dir: PathBuf,
        /// What is in it (real path).
        entry: PathBuf,
    },
    /// The journal (or the lock) is root's, and this run is not root.
    #[error(
        "{path}: Permission denied; distsetup keeps its lock and journal in /var/lib/distsetup, which only root may read (mode 0700: the journal holds copies of the files distsetup changed, which may be secret); run this command as root, e.g. with sudo"
    )]
    NeedsRoot {
        /// The path that could not be read or written.
        path: PathBuf,
    },
    /// Undo found a file that changed after distsetup wrote it.
    #[error("cannot undo: {0} changed since distsetup wrote it; nothing was restored")]
    UndoConflict(PathBuf),
    /// Undo of an older change set whose path a later one changed.
    #[error(
        "cannot undo {id}: {path} was changed again by change set {later}; undo {later} first; nothing was restored"
    )]
    UndoLater {
        /// The change set asked for.
        id: String,
        /// The path.
        path: PathBuf,
        /// The later change set.
        later: String,
    },
    /// There is nothing to undo.
    #[error("nothing to undo: no applied change set in {0}")]
    NothingToUndo(PathBuf),
    /// `undo ID` with an ID the root's journal does not have.
    #[error(
        "no change set {id} under {root}; `distsetup undo --list` shows the ones that can be undone"
    )]
    UnknownChangeSet {
        /// The ID asked for.
        id: String,
        /// The root.
        root: PathBuf,
    },
    /// Another run holds the root's lock.
    #[error(
        "another distsetup is changing this system ({holder}); waited {waited} s for {lock}; run again when it has finished"
    )]
    Locked {
        /// The lock file.
        lock: PathBuf,
        /// Who holds it (pid and command line), as it wrote into the lock file.
        holder: String,
        /// Seconds waited.
        waited: f64,
    },
    /// A file with several hard links: replacing it would split them.
    #[error(
        "{path}: has {links} hard links; distsetup replaces a file by renaming a new one over it, which would leave the other links with the old content, so nothing was written; make it a single file (or the others symlinks to it) and run again"
    )]
    HardLinked {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// A symlinked config whose target does not exist.
    #[error(
        "{link} is a symlink to {target}, which does not exist under {root}; fix or remove the link"
    )]
    DanglingLink {
        /// The link (real path).
        link: PathBuf,
        /// Its target as written in the link.
        target: PathBuf,
        /// The root.
        root: PathBuf,
    },
    /// A symlink whose target leaves the root with `..`.
    #[error(
        "{link} is a symlink to {target}, which points outside {root}; under --root a link must stay inside the root"
    )]
    LinkEscapes {
        /// The link (real path).
        link: PathBuf,
        /// Its target as written in the link.
        target: PathBuf,
        /// The root.
        root: PathBuf,
    },
    /// An apply failed and so did putting things back.
    #[error(
        "{cause}; rolling back also failed: {rollback}; the intent is kept in {journal} and the next distsetup run (e.g. `distsetup undo --list`) restores the previous state"
    )]
    RollbackFailed {
        /// Why the apply stopped.
        cause: Box<Error>,
        /// Why the rollback stopped.
        rollback: Box<Error>,
        /// The journal entry kept.
        journal: PathBuf,
    },
    /// An interrupted change set cannot be recovered: a path is in neither state.
    #[error(
        "interrupted change set {id} cannot be recovered: {path} is neither what distsetup found nor what it wrote (changed by someone else); put it back by hand (its previous content is in {journal}) or remove {journal} to keep things as they are"
    )]
    RecoveryConflict {
        /// The change set.
        id: String,
        /// The path (real).
        path: PathBuf,
        /// The journal entry.
        journal: PathBuf,
    },
    /// An undo stopped part-way.
    #[error(
        "undo of {id} stopped: {cause}; the journal is kept and the next distsetup run finishes the undo"
    )]
    UndoInterrupted {
        /// The change set.
        id: String,
        /// Why.
        cause: Box<Error>,
    },
    /// A shell config with CRLF line endings.
    #[error(
        "{path}:{line}: the file has CRLF (Windows) line endings; bash keeps the \\r in every value (BUILDENV=(...)\\r is a string, not an array), so nothing was written; convert it with: sed -i 's/\\r$//' {path}"
    )]
    Crlf {
        /// The file (real path).
        path: PathBuf,
        /// The first line ending in CR LF.
        line: usize,
    },
    /// The journal is not in the format we write.
    #[error("{path}: damaged journal: {reason}")]
    Journal {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Error {
    /// The error says the file system is mounted read-only.
    pub fn is_read_only_fs(&self) -> bool {
        matches!(self, Error::Io { source, .. } | Error::NotWritable { source, .. }
            if source.raw_os_error() == Some(libc::EROFS))
    }
}

/// What is at a path before the plan runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Before {
    /// Nothing.
    Missing,
    /// A regular file with these bytes.
    File(Vec<u8>),
    /// A symbolic link with this target.
    Symlink(PathBuf),
    /// A directory.
    Dir,
}

/// One change. Paths are system paths (`/etc/makepkg.conf`), resolved under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Write a regular file with these bytes.
    WriteFile {
        /// System path of the file actually written (symlinks already followed).
        path: PathBuf,
        /// The new content.
        bytes: Vec<u8>,
        /// Permission bits to set; `None` keeps an existing file's mode (0644 for a new
        /// file).
        mode: Option<u32>,
    },
    /// Create a symbolic link.
    CreateSymlink {
        /// System path of the link.
        path: PathBuf,
        /// What it points to.
        target: PathBuf,
    },
    /// Remove a symbolic link (one distsetup made).
    RemoveSymlink {
        /// System path of the link.
        path: PathBuf,
    },
    /// Create a directory (parents must exist or be created by earlier steps).
    CreateDir {
        /// System path of the directory.
        path: PathBuf,
        /// Owner and mode for a directory a user other than root writes (a compiler
        /// cache); `None`: root's, mode from the umask.
        owner: Option<DirOwner>,
    },
}

/// Who owns a directory the plan creates, and its permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirOwner {
    /// User id (from the root's own /etc/passwd).
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Permission bits, set after creation (so the umask does not cut them).
    pub mode: u32,
}

impl Change {
    /// The system path this change touches.
    pub fn path(&self) -> &Path {
        match self {
            Change::WriteFile { path, .. }
            | Change::CreateSymlink { path, .. }
            | Change::RemoveSymlink { path }
            | Change::CreateDir { path, .. } => path,
        }
    }
}

/// A change with the state it was computed against.
#[derive(Debug, Clone)]
pub struct Step {
    /// The change.
    pub change: Change,
    /// What was there when the plan was made.
    pub before: Before,
    /// When a config was reached through a symlink: the path the user named.
    pub via_symlink: Option<PathBuf>,
}

/// A list of changes against one root.
#[derive(Debug, Clone)]
pub struct Plan {
    root: SysRoot,
    steps: Vec<Step>,
    /// Directories whose every file is read as configuration (Portage's make.conf/):
    /// a backup there must be hidden, or it would be read too.
    read_all_dirs: Vec<PathBuf>,
}

impl Plan {
    /// An empty plan for `root`.
    pub fn new(root: SysRoot) -> Plan {
        Plan {
            root,
            steps: Vec::new(),
            read_all_dirs: Vec::new(),
        }
    }

    /// Declare `dir` (a system path) a directory whose every file is read as
    /// configuration, hidden files excepted (Portage reads every file of
    /// `/etc/portage/make.conf/` but those starting with `.` or ending with `~`). Backups of
    /// files directly in it are then named `.NAME.distsetup-bak`, so the reader skips them.
    pub fn hide_backups_in(&mut self, dir: &Path) {
        if !self.read_all_dirs.iter().any(|d| d == dir) {
            self.read_all_dirs.push(dir.to_path_buf());
        }
    }

    /// Where the one-time backup of the file at system path `path` goes (system path).
    pub fn backup_path(&self, path: &Path) -> PathBuf {
        let hidden = path
            .parent()
            .is_some_and(|parent| self.read_all_dirs.iter().any(|d| d == parent));
        let mut name = std::ffi::OsString::new();
        if hidden {
            name.push(".");
        }
        name.push(path.file_name().unwrap_or_default());
        name.push(BACKUP_SUFFIX);
        path.with_file_name(name)
    }

    /// The root the plan applies to.
    pub fn root(&self) -> &SysRoot {
        &self.root
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// True when applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Plan writing `bytes` to the file at system path `path` (following a symlinked
    /// config to its target). Adds nothing when the file already has these bytes.
    pub fn write_file(&mut self, path: &Path, bytes: Vec<u8>) -> Result<(), Error> {
        self.write_file_mode(path, bytes, None)
    }

    /// Like [`Plan::write_file`], and the file gets the permission bits `mode` (an init
    /// script 0755): a file with the right bytes but another mode is a change too, shown
    /// in the diff, checked by `--check` and done by the same apply.
    pub fn write_file_mode(
        &mut self,
        path: &Path,
        bytes: Vec<u8>,
        mode: Option<u32>,
    ) -> Result<(), Error> {
        self.write_file_checked(path, None, bytes, mode)
    }

    /// Like [`Plan::write_file`] for `bytes` computed from `read`, what the caller read
    /// from the file (empty when it was missing): when the file no longer holds that
    /// (another program changed it while the caller was planning), the plan is refused
    /// ([`Error::Changed`]) rather than written over that change.
    pub fn write_file_from(
        &mut self,
        path: &Path,
        read: &[u8],
        bytes: Vec<u8>,
    ) -> Result<(), Error> {
        self.write_file_checked(path, Some(read), bytes, None)
    }

    fn write_file_checked(
        &mut self,
        path: &Path,
        read: Option<&[u8]>,
        bytes: Vec<u8>,
        mode: Option<u32>,
    ) -> Result<(), Error> {
        use std::os::unix::fs::PermissionsExt as _;
        let target = self.root.follow(path)?;
        let before = self.root.state(&target)?;
        let same = match (&before, read) {
            (_, None) => true,
            (Before::File(b), Some(r)) => b == r,
            (Before::Missing, Some(r)) => r.is_empty(),
            (_, Some(_)) => false,
        };
        if !same {
            return Err(Error::Changed(self.root.path(&target)));
        }
        match &before {
            Before::File(old) => {
                let real = self.root.path(&target);
                let meta = std::fs::metadata(&real).map_err(io_err(&real))?;
                let same_mode = mode.is_none_or(|m| meta.permissions().mode() & 0o7777 == m);
                if *old == bytes && same_mode {
                    return Ok(());
                }
                if meta.permissions().readonly() {
                    return Err(Error::ReadOnly(real));
                }
                if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
                    return Err(Error::HardLinked {
                        links: std::os::unix::fs::MetadataExt::nlink(&meta),
                        path: real,
                    });
                }
            }
            Before::Missing => {}
            Before::Dir | Before::Symlink(_) => {
                return Err(Error::NotAFile(self.root.path(&target)));
            }
        }
        let via_symlink = (target != path).then(|| path.to_path_buf());
        self.steps.push(Step {
            change: Change::WriteFile {
                path: target,
                bytes,
                mode,
            },
            before,
            via_symlink,
        });
        Ok(())
    }

    /// Plan a symlink `path -> target`; nothing when it already points there.
    pub fn create_symlink(&mut self, path: &Path, target: &Path) -> Result<(), Error> {
        let before = self.root.state(path)?;
        match &before {
            Before::Symlink(t) if t == target => return Ok(()),
            Before::Missing => {}
            _ => return Err(Error::NotAFile(self.root.path(path))),
        }
        self.push(
            Change::CreateSymlink {
                path: path.to_path_buf(),
                target: target.to_path_buf(),
            },
            before,
        );
        Ok(())
    }

    /// Plan removing the symlink at `path`; nothing when there is none.
    pub fn remove_symlink(&mut self, path: &Path) -> Result<(), Error> {
        let before = self.root.state(path)?;
        match &before {
            Before::Missing => Ok(()),
            Before::Symlink(_) => {
                self.push(
                    Change::RemoveSymlink {
                        path: path.to_path_buf(),
                    },
                    before,
                );
                Ok(())
            }
            _ => Err(Error::NotAFile(self.root.path(path))),
        }
    }

    /// Plan creating the directory `path`; nothing when it exists.
    pub fn create_dir(&mut self, path: &Path) -> Result<(), Error> {
        self.create_dir_owned(path, None)
    }

    /// Plan creating the directory `path` owned by `owner` (root's when `None`); nothing
    /// when it exists (whoever owns it).
    pub fn create_dir_owned(&mut self, path: &Path, owner: Option<DirOwner>) -> Result<(), Error> {
        let before = self.root.state(path)?;
        match &before {
            Before::Dir => Ok(()),
            Before::Missing => {
                self.push(
                    Change::CreateDir {
                        path: path.to_path_buf(),
                        owner,
                    },
                    before,
                );
                Ok(())
            }
            _ => Err(Error::NotAFile(self.root.path(path))),
        }
    }

    /// Plan creating `dir` and every missing parent (outermost first); nothing for the
    /// parts that exist or are already planned, nor for the parents of distsetup's own
    /// state directory (`/var`, `/var/lib`): taking the lock makes them before any step
    /// runs, so a step creating them would find them there and refuse.
    pub fn create_dir_all(&mut self, dir: &Path) -> Result<(), Error> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.as_os_str().is_empty()
                || d == Path::new("/")
                || Path::new(lock::STATE_DIR).starts_with(d)
            {
                break;
            }
            let planned = self
                .steps
                .iter()
                .any(|st| matches!(&st.change, Change::CreateDir { path, .. } if path == d));
            if planned || self.root.state(d)? != Before::Missing {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.iter().rev() {
            self.create_dir(d)?;
        }
        Ok(())
    }

    fn push(&mut self, change: Change, before: Before) {
        self.steps.push(Step {
            change,
            before,
            via_symlink: None,
        });
    }

    /// One unified diff for every change. Files: `--- a/PATH` / `+++ b/PATH` hunks;
    /// symlinks: `-> target` lines; directories: a `+++ b/PATH/` header.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        // A chain of new directories (/usr/lib/distsetup/, …/x-tools8/, …/bin/) is one
        // hunk, named by its deepest directory, not one hunk per level.
        let mut parents: Vec<String> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let shown = step.change.path().display().to_string();
            if self.opens_a_chain(i) {
                parents.push(format!("{shown}/"));
                continue;
            }
            if let Some(link) = &step.via_symlink {
                out.push_str(&format!(
                    "# {} is a symlink; editing its target {}\n",
                    link.display(),
                    shown
                ));
            }
            match (&step.change, &step.before) {
                (Change::WriteFile { bytes, mode, .. }, before) => {
                    if let Some(m) = mode {
                        out.push_str(&format!("# {shown}: mode {m:04o}\n"));
                    }
                    let old = match before {
                        Before::File(b) => String::from_utf8_lossy(b).into_owned(),
                        _ => String::new(),
                    };
                    let new = String::from_utf8_lossy(bytes);
                    let a = if matches!(before, Before::Missing) {
                        "/dev/null".to_string()
                    } else {
                        format!("a{shown}")
                    };
                    let text = similar::TextDiff::from_lines(old.as_str(), new.as_ref());
                    out.push_str(
                        &text
                            .unified_diff()
                            .context_radius(3)
                            .header(&a, &format!("b{shown}"))
                            .to_string(),
                    );
                }
                (Change::CreateSymlink { target, .. }, _) => {
                    out.push_str(&format!(
                        "--- /dev/null\n+++ b{shown} (symlink)\n+-> {}\n",
                        target.display()
                    ));
                }
                (Change::RemoveSymlink { .. }, before) => {
                    let t = match before {
                        Before::Symlink(t) => t.display().to_string(),
                        _ => String::new(),
                    };
                    out.push_str(&format!("--- a{shown} (symlink)\n+++ /dev/null\n--> {t}\n"));
                }
                (Change::CreateDir { owner, .. }, _) => {
                    let also = if parents.is_empty() {
                        String::new()
                    } else {
                        format!(", and its parents {}", parents.join(" "))
                    };
                    parents.clear();
                    out.push_str(&format!("--- /dev/null\n+++ b{shown}/ (directory{also})\n"));
                    if let Some(o) = owner {
                        out.push_str(&format!(
                            "# {shown}/: owner {}:{}, mode {:04o}\n",
                            o.uid, o.gid, o.mode
                        ));
                    }
                }
            }
        }
        out
    }

    /// Whether step `i` is a new directory, without an owner of its own to show, whose
    /// next step makes a directory inside it: the diff names it with that one.
    fn opens_a_chain(&self, i: usize) -> bool {
        let (Some(step), Some(next)) = (self.steps.get(i), self.steps.get(i + 1)) else {
            return false;
        };
        let plain_dir = matches!(step.change, Change::CreateDir { owner: None, .. });
        let child_dir = matches!(next.change, Change::CreateDir { .. })
            && next.change.path().parent() == Some(step.change.path());
        plain_dir && child_dir && step.via_symlink.is_none()
    }

    /// Apply every step as one transaction and journal it; see [`apply::apply`].
    pub fn apply(&self) -> Result<Applied, Error> {
        apply::apply(self)
    }
}

/// The first line of `bytes` that ends in CR LF (1-based), if any: bash does not strip the
/// CR, so every value on such a line carries it.
pub fn crlf_line(bytes: &[u8]) -> Option<usize> {
    let at = bytes.windows(2).position(|w| w == b"\r\n")?;
    Some(bytes[..at].iter().filter(|b| **b == b'\n').count() + 1)
}

/// Refuse to edit a shell config with CRLF line endings ([`Error::Crlf`]): bash is the
/// judge, and bash keeps the CR in every value.
pub fn refuse_crlf(real: &Path, bytes: &[u8]) -> Result<(), Error> {
    match crlf_line(bytes) {
        Some(line) => Err(Error::Crlf {
            path: real.to_path_buf(),
            line,
        }),
        None => Ok(()),
    }
}
