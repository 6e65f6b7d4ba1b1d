//! The file system operations a transaction is made of. Each either happened or did
//! not: a file or link is replaced by renaming a temp file named `.distsetup-XXXXXX`
//! over it; a killed run can leave such a temp file behind, which the next run removes
//! ([`clean_temps`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::meta::Meta;
use super::{Error, io_err};

/// Prefix of the temp files distsetup renames into place.
pub(crate) const TEMP_PREFIX: &str = ".distsetup-";
/// Random characters after the prefix (tempfile's alphabet: ASCII letters and digits).
const TEMP_RANDOM: usize = 6;

fn parent_of(real: &Path) -> &Path {
    real.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

pub(crate) fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX).rand_bytes(TEMP_RANDOM);
    b
}

/// What must still hold right before a temp file is renamed over its target: another
/// program may have edited the target since the plan was checked, and a rename would
/// silently drop that edit.
pub(crate) enum Guard<'a> {
    /// No check (the target is distsetup's own, or being put back after a failure).
    None,
    /// Nothing may be there: the rename refuses to replace anything
    /// (`renameat2(RENAME_NOREPLACE)`), so no window is left at all.
    Absent,
    /// The check runs after the temp file is written and synced, right before the
    /// rename; it fails with [`Error::ChangedUnder`] when the target is not as planned.
    Unchanged(&'a dyn Fn() -> Result<(), Error>),
}

/// Write `bytes` to `real` atomically with the metadata `meta`: temp file in the same
/// directory, owner/xattrs/mode set, fsync, `guard`, rename, fsync the directory. A
/// failure after the rename (the directory fsync) is still an error; callers judge what
/// is done by the state on disk, never by the error.
pub(crate) fn write_atomic(
    real: &Path,
    bytes: &[u8],
    meta: &Meta,
    guard: Guard<'_>,
) -> Result<(), Error> {
    let dir = parent_of(real);
    let mut tmp = temp_builder().tempfile_in(dir).map_err(io_err(real))?;
    tmp.write_all(bytes).map_err(io_err(real))?;
    meta.apply(tmp.as_file(), real)?;
    tmp.as_file().sync_all().map_err(io_err(real))?;
    match guard {
        Guard::None => {
            tmp.persist(real).map_err(|e| io_err(real)(e.error))?;
        }
        Guard::Absent => {
            tmp.persist_noclobber(real).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::ChangedUnder(real.to_path_buf())
                } else {
                    io_err(real)(e.error)
                }
            })?;
        }
        Guard::Unchanged(check) => {
            // What the check passes, read through a descriptor of the file itself: a
            // write that lands in it after the check (the process preempted before its
            // rename) is seen afterwards, and that program's version is put back.
            let old = std::fs::File::open(real).ok();
            let seen = old.as_ref().and_then(|f| contents(f).ok());
            check()?;
            tmp.persist(real).map_err(|e| io_err(real)(e.error))?;
            if let (Some(f), Some(seen)) = (old, seen) {
                let now = contents(&f).map_err(io_err(real))?;
                if now != seen {
                    sync_dir(dir)?;
                    write_atomic(real, &now, meta, Guard::None)?;
                    return Err(Error::ChangedUnder(real.to_path_buf()));
                }
            }
        }
    }
    sync_dir(dir)
}

/// The whole content of the open file `f`, from its start.
fn contents(f: &std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt as _;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = f.read_at(&mut buf, out.len() as u64)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Copy `bytes` to the new file `dest` with `meta` (a journal copy): created exclusively,
/// fsynced.
pub(crate) fn write_new(dest: &Path, bytes: &[u8], meta: &Meta) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(io_err(dest))?;
    f.write_all(bytes).map_err(io_err(dest))?;
    meta.apply(&f, dest)?;
    f.sync_all().map_err(io_err(dest))
}

/// Make `real` a symlink to `target`, replacing whatever non-directory is there, by
/// renaming a temp link over it (after `check`, when given).
pub(crate) fn symlink_atomic(
    real: &Path,
    target: &Path,
    check: Option<&dyn Fn() -> Result<(), Error>>,
) -> Result<(), Error> {
    let dir = parent_of(real);
    let tmp = temp_builder()
        .make_in(dir, |p| std::os::unix::fs::symlink(target, p))
        .map_err(io_err(real))?;
    if let Some(check) = check {
        check()?;
    }
    tmp.persist(real).map_err(|e| io_err(real)(e.error))?;
    sync_dir(dir)
}

/// Remove the file, link or empty directory at `real`; nothing there is fine.
pub(crate) fn remove(real: &Path) -> Result<(), Error> {
    let r = match std::fs::symlink_metadata(real) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(real),
        Ok(_) => std::fs::remove_file(real),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    r.map_err(io_err(real))?;
    sync_dir(parent_of(real))
}

/// Create the directory `real` (its parent must exist).
pub(crate) fn mkdir(real: &Path) -> Result<(), Error> {
    std::fs::create_dir(real).map_err(io_err(real))?;
    sync_dir(parent_of(real))
}

/// Rename `from` to `to` and fsync the directory of `to`.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::rename(from, to).map_err(io_err(to))?;
    sync_dir(parent_of(to))
}

/// fsync a directory, so the renames in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// True for the name of a temp file distsetup makes (`.distsetup-` and six letters or
/// digits); never for a backup (`.distsetup-bak` has three).
pub(crate) fn is_temp_name(name: &[u8]) -> bool {
    name.strip_prefix(TEMP_PREFIX.as_bytes())
        .is_some_and(|rest| rest.len() == TEMP_RANDOM && rest.iter().all(u8::is_ascii_alphanumeric))
}

/// Remove the temp files a killed run left in `dirs`; returns what was removed. A
/// directory that does not exist has none.
pub(crate) fn clean_temps<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
) -> Result<Vec<PathBuf>, Error> {
    use std::os::unix::ffi::OsStrExt as _;
    let mut removed = Vec::new();
    let mut seen: Vec<&Path> = Vec::new();
    for dir in dirs {
        if seen.contains(&dir) {
            continue;
        }
        seen.push(dir);
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(dir)(e)),
        };
        for e in entries {
            let e = e.map_err(io_err(dir))?;
            if !is_temp_name(e.file_name().as_bytes()) {
                continue;
            }
            let p = e.path();
            if e.file_type().map_err(io_err(&p))?.is_dir() {
                continue;
            }
            std::fs::remove_file(&p).map_err(io_err(&p))?;
            removed.push(p);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_told_from_backups() {
        assert!(is_temp_name(b".distsetup-a1B2c3"));
        assert!(!is_temp_name(b".distsetup-bak"));
        assert!(!is_temp_name(b"x.distsetup-bak"));
        assert!(!is_temp_name(b".distsetup-a1B2c3d"));
        assert!(!is_temp_name(b".distsetup-a1.2c3"));
    }
}
