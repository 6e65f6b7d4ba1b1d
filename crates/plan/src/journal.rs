//! The intent log. Each change set is a directory
//! `<root>/var/lib/distsetup/journal/<ID>/` (the journal is 0700) holding:
//! - `intent`: written (temp, fsync, rename, fsync) before anything is touched; one line
//!   per step with the path, the state before and after (content hash, mode, owner,
//!   xattrs), and the backup location;
//! - `<N>.before`: a copy of each file's previous content, with its mode and owner;
//! - markers (empty files): `committed` once every step is done, `undoing` before an
//!   undo touches anything, `undone` when it finished.
//!
//! A directory renamed to `<ID>.trash` is being deleted. An ID is the UTC time of the
//! apply and a counter (`20261202-143501-001`), so names sort by age.

use std::path::{Path, PathBuf};

use super::fsops;
use super::meta::{Meta, hex, sha256, unhex};
use super::{Error, io_err};

/// Journal directory of a root, as a system path.
pub(crate) const JOURNAL: &str = "/var/lib/distsetup/journal";
/// First line of an intent file.
const MAGIC: &str = "distsetup-intent 1";
pub(crate) const COMMITTED: &str = "committed";
pub(crate) const UNDOING: &str = "undoing";
pub(crate) const UNDONE: &str = "undone";
const TRASH: &str = ".trash";
/// Suffix of a change set whose undo finished; the undo command removes it once it has
/// reported the undo, so a run killed before that is known to have finished one.
pub(crate) const FINISHED: &str = ".undone";

/// A directory name without its `.trash` or `.undone` suffix.
fn base_name(name: &str) -> &str {
    name.strip_suffix(TRASH)
        .or_else(|| name.strip_suffix(FINISHED))
        .unwrap_or(name)
}

/// What is at a path, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    Missing,
    Dir,
    Symlink(PathBuf),
    /// A regular file: content hash and, for a before-state, its metadata (an
    /// after-state records only a planned mode).
    File {
        hash: String,
        meta: Option<Meta>,
    },
}

/// One step of a change set.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// System path.
    pub(crate) path: PathBuf,
    pub(crate) before: State,
    pub(crate) after: State,
    /// Where the file's `.distsetup-bak` lives (system path), for files.
    pub(crate) backup: Option<PathBuf>,
    /// This change set created that backup.
    pub(crate) backup_new: bool,
}

/// A change set as read from (or written to) the journal.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Real path of its directory.
    pub(crate) dir: PathBuf,
    pub(crate) id: String,
    /// Seconds since the epoch.
    pub(crate) date: u64,
    pub(crate) command: String,
    pub(crate) steps: Vec<Step>,
}

impl Entry {
    /// Where step `i`'s previous content is kept.
    pub(crate) fn copy(&self, i: usize) -> PathBuf {
        self.dir.join(format!("{i}.before"))
    }

    /// Where step `i`'s content at the start of an undo is kept (for rolling the undo
    /// back).
    pub(crate) fn after_copy(&self, i: usize) -> PathBuf {
        self.dir.join(format!("{i}.after"))
    }

    pub(crate) fn has(&self, marker: &str) -> bool {
        self.dir.join(marker).exists()
    }

    /// Create the marker file `marker` (existence is what counts), then make it durable.
    pub(crate) fn mark(&self, marker: &str) -> Result<(), Error> {
        let p = self.dir.join(marker);
        std::fs::File::create(&p).map_err(io_err(&p))?;
        fsops::sync_dir(&self.dir)
    }

    /// Remove the marker file `marker`, then make that durable.
    pub(crate) fn unmark(&self, marker: &str) -> Result<(), Error> {
        let p = self.dir.join(marker);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&p)(e)),
        }
        fsops::sync_dir(&self.dir)
    }

    /// Rename the directory to `<ID>.undone`: the undo is complete; the directory stays
    /// until the command has reported it ([`remove_finished`]).
    pub(crate) fn finish(&self) -> Result<PathBuf, Error> {
        let mut t = self.dir.as_os_str().to_owned();
        t.push(FINISHED);
        let t = PathBuf::from(t);
        fsops::rename(&self.dir, &t)?;
        Ok(t)
    }

    /// Rename the directory to `<ID>.trash` (from then on it no longer counts), then
    /// delete it.
    pub(crate) fn trash(&self) -> Result<(), Error> {
        trash(&self.dir)
    }
}

/// Retire a journal directory: rename to `.trash` (atomic), fsync, delete.
pub(crate) fn trash(dir: &Path) -> Result<(), Error> {
    let mut t = dir.as_os_str().to_owned();
    t.push(TRASH);
    let t = PathBuf::from(t);
    fsops::rename(dir, &t)?;
    std::fs::remove_dir_all(&t).map_err(io_err(&t))
}

/// Delete the directory of a finished undo.
pub(crate) fn remove_finished(dir: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(dir)(e)),
    }
}

fn encode_state(s: &State) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    match s {
        State::Missing => "missing".into(),
        State::Dir => "dir".into(),
        State::Symlink(t) => format!("symlink {}", hex(t.as_os_str().as_bytes())),
        State::File { hash, meta: None } => format!("file {hash}"),
        State::File {
            hash,
            meta: Some(m),
        } => format!("file {hash} {}", m.encode()),
    }
}

fn decode_state(s: &str) -> Option<State> {
    use std::os::unix::ffi::OsStrExt as _;
    let (kind, rest) = s.split_once(' ').unwrap_or((s, ""));
    match kind {
        "missing" if rest.is_empty() => Some(State::Missing),
        "dir" if rest.is_empty() => Some(State::Dir),
        "symlink" => Some(State::Symlink(PathBuf::from(std::ffi::OsStr::from_bytes(
            &unhex(rest)?,
        )))),
        "file" => {
            let (hash, meta) = match rest.split_once(' ') {
                Some((h, m)) => (h, Some(Meta::decode(m)?)),
                None => (rest, None),
            };
            (hash.len() == 64).then(|| State::File {
                hash: hash.to_string(),
                meta,
            })
        }
        _ => None,
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// The intent file's text.
fn render(e: &Entry) -> String {
    let mut out = format!(
        "{MAGIC}\ndate\t{}\ncommand\t{}\n",
        e.date,
        one_line(&e.command)
    );
    for s in &e.steps {
        let backup = s
            .backup
            .as_ref()
            .map_or("-".to_string(), |b| b.to_string_lossy().into_owned());
        out.push_str(&format!(
            "step\t{}\t{}\t{}\t{backup}\t{}\n",
            s.path.to_string_lossy(),
            encode_state(&s.before),
            encode_state(&s.after),
            if s.backup_new { "new" } else { "old" }
        ));
    }
    out.push_str("end\n");
    out
}

/// Read the change set in `dir`; `Ok(None)` when it has no intent file (a run killed
/// before it touched anything).
pub(crate) fn read(dir: &Path) -> Result<Option<Entry>, Error> {
    let intent = dir.join("intent");
    let text = match std::fs::read_to_string(&intent) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&intent)(e)),
    };
    let bad = |line: usize, what: &str| Error::Journal {
        path: intent.clone(),
        reason: format!("line {line}: {what}"),
    };
    let id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut entry = Entry {
        dir: dir.to_path_buf(),
        id,
        date: 0,
        command: String::new(),
        steps: Vec::new(),
    };
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l) != Some(MAGIC) {
        return Err(bad(1, "not a distsetup intent file"));
    }
    let mut ended = false;
    for (i, line) in lines {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["date", d] => entry.date = d.parse().map_err(|_| bad(i + 1, "bad date"))?,
            ["command", c] => entry.command = c.to_string(),
            ["step", path, before, after, backup, new] => entry.steps.push(Step {
                path: PathBuf::from(path),
                before: decode_state(before).ok_or_else(|| bad(i + 1, "bad before-state"))?,
                after: decode_state(after).ok_or_else(|| bad(i + 1, "bad after-state"))?,
                backup: (*backup != "-").then(|| PathBuf::from(backup)),
                backup_new: *new == "new",
            }),
            ["end"] => ended = true,
            _ => return Err(bad(i + 1, "unknown line")),
        }
    }
    if !ended {
        return Err(bad(text.lines().count(), "truncated (no end line)"));
    }
    Ok(Some(entry))
}

/// Write `entry`'s intent file durably: the step copies are already in its directory.
pub(crate) fn write_intent(entry: &Entry) -> Result<(), Error> {
    let tmp = entry.dir.join("intent.tmp");
    let meta = Meta {
        mode: 0o600,
        uid: current_uid(),
        gid: current_gid(),
        xattrs: Vec::new(),
    };
    fsops::write_new(&tmp, render(entry).as_bytes(), &meta)?;
    fsops::rename(&tmp, &entry.dir.join("intent"))?;
    // The entry directory itself must survive too.
    fsops::sync_dir(entry.dir.parent().unwrap_or(Path::new("/")))
}

pub(crate) fn current_uid() -> u32 {
    // SAFETY: geteuid has no failure mode.
    unsafe { libc::geteuid() }
}

pub(crate) fn current_gid() -> u32 {
    // SAFETY: getegid has no failure mode.
    unsafe { libc::getegid() }
}

/// Map "permission denied" on distsetup's own state to [`Error::NeedsRoot`]: the
/// journal is root's (0700), and the user should hear why, not just the errno.
pub(crate) fn state_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| match source.kind() {
        std::io::ErrorKind::PermissionDenied => Error::NeedsRoot {
            path: path.to_path_buf(),
        },
        _ => io_err(path)(source),
    }
}

/// Create `dir` with mode 0700 when missing (its missing parents with the usual mode),
/// one level at a time, fsyncing each new directory's parent so that a power loss cannot
/// lose the journal of a committed change; an existing one that others can read (made by
/// an older distsetup) is made 0700.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    match std::fs::metadata(dir) {
        Ok(m) => {
            if m.is_dir() && m.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(state_err(dir))?;
            }
            return Ok(());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(state_err(dir)(e)),
    }
    let mut missing = vec![dir];
    let mut cur = dir;
    while let Some(parent) = cur.parent().filter(|p| !p.as_os_str().is_empty()) {
        match std::fs::metadata(parent) {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(parent),
            Err(e) => return Err(state_err(parent)(e)),
        }
        cur = parent;
    }
    for d in missing.iter().rev() {
        let mode = if *d == dir { 0o700 } else { 0o755 };
        match std::fs::DirBuilder::new().mode(mode).create(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(state_err(d)(e)),
        }
        fsops::sync_dir(d.parent().unwrap_or(Path::new("/")))?;
    }
    Ok(())
}

/// The directories in `base`, sorted by name (= by age): change sets, and `.trash` and
/// `.undone` leftovers separately.
pub(crate) fn scan(base: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    let rd = match std::fs::read_dir(base) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
        Err(e) => return Err(io_err(base)(e)),
    };
    let (mut sets, mut trash) = (Vec::new(), Vec::new());
    for e in rd {
        let e = e.map_err(io_err(base))?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        // Only our own names: an older distsetup's entries (`<nanoseconds>`,
        // `<nanoseconds>.undone`) are left alone.
        if !p.is_dir() || !is_id(base_name(&name)) {
            continue;
        }
        if name.ends_with(TRASH) || name.ends_with(FINISHED) {
            trash.push(p);
        } else {
            sets.push(p);
        }
    }
    sets.sort();
    Ok((sets, trash))
}

/// `YYYYMMDD-HHMMSS-NNN`.
fn is_id(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 19
        && b[8] == b'-'
        && b[15] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit())
}

/// A new, unused ID for a change set made now.
pub(crate) fn new_id(base: &Path, now: u64) -> Result<String, Error> {
    let stamp = utc_stamp(now);
    let (sets, trash) = scan(base)?;
    let used = sets
        .iter()
        .chain(&trash)
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .filter_map(|n| {
            let rest = n.strip_prefix(&stamp)?.strip_prefix('-')?;
            base_name(rest).parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0);
    Ok(format!("{stamp}-{:03}", used + 1))
}

/// `YYYYMMDD-HHMMSS` in UTC.
pub(crate) fn utc_stamp(secs: u64) -> String {
    let t = rfc3339(secs);
    let digits = |r: std::ops::Range<usize>| t[r].replace(['-', ':'], "");
    format!("{}-{}", digits(0..10), digits(11..19))
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc_date(secs: u64) -> String {
    let t = rfc3339(secs);
    format!("{} {} UTC", &t[0..10], &t[11..19])
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time (humantime; always ASCII, 20 bytes).
fn rfc3339(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The hash of `bytes` as a file state.
pub(crate) fn file_state(bytes: &[u8], meta: Option<Meta>) -> State {
    State::File {
        hash: sha256(bytes),
        meta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_stamp(1_795_000_000), "20261118-110640");
    }

    #[test]
    fn only_our_ids_count_as_change_sets() {
        assert!(is_id("20261202-143501-001"));
        assert!(is_id("20261202-143501-1000"));
        assert!(!is_id("00001796222769123456789"));
        assert!(!is_id("00001796222769123456789.undone"));
        assert!(!is_id("20261202-143501-00x"));
    }

    #[test]
    fn states_round_trip() {
        for s in [
            State::Missing,
            State::Dir,
            State::Symlink("../a b\tc".into()),
            file_state(b"x", None),
            file_state(
                b"y",
                Some(Meta {
                    mode: 0o600,
                    uid: 1,
                    gid: 2,
                    xattrs: vec![],
                }),
            ),
        ] {
            assert_eq!(decode_state(&encode_state(&s)), Some(s));
        }
    }
}
