//! All-or-nothing application, the journal, and undo.

use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::{Before, Change, Error, Plan, SysRoot, io_err};

/// Journal directory of a root, as a system path.
const JOURNAL: &str = "/var/lib/distsetup/journal";
/// Suffix of the one-time backup of a file's pre-distsetup content.
pub const BACKUP_SUFFIX: &str = ".distsetup-bak";

/// Write `bytes` to `real` atomically: temp file in the same directory, mode `mode` or
/// else the original's (0644 for a new file), owner copied, fsync, rename, fsync the
/// directory.
fn write_atomic(real: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), Error> {
    let dir = real
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".distsetup-")
        .tempfile_in(dir)
        .map_err(io_err(real))?;
    tmp.write_all(bytes).map_err(io_err(real))?;
    let file = tmp.as_file();
    match std::fs::metadata(real) {
        Ok(m) => {
            let bits = mode.unwrap_or(m.mode() & 0o7777);
            file.set_permissions(std::fs::Permissions::from_mode(bits))
                .map_err(io_err(real))?;
            // Keeping the owner needs privileges; when we lack them, the file is ours anyway.
            let _ = std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()));
        }
        Err(_) => file
            .set_permissions(std::fs::Permissions::from_mode(mode.unwrap_or(0o644)))
            .map_err(io_err(real))?,
    }
    file.sync_all().map_err(io_err(real))?;
    tmp.persist(real).map_err(|e| io_err(real)(e.error))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Undo one done step (used for rollback and for `undo`).
fn restore(real: &Path, before: &Before) -> Result<(), Error> {
    match before {
        Before::File(b) => write_atomic(real, b, None),
        Before::Missing => match std::fs::symlink_metadata(real) {
            Ok(m) if m.is_dir() => std::fs::remove_dir(real).map_err(io_err(real)),
            Ok(_) => std::fs::remove_file(real).map_err(io_err(real)),
            Err(_) => Ok(()),
        },
        Before::Symlink(t) => {
            let _ = std::fs::remove_file(real);
            std::os::unix::fs::symlink(t, real).map_err(io_err(real))
        }
        Before::Dir => std::fs::create_dir(real).map_err(io_err(real)),
    }
}

fn do_change(real: &Path, change: &Change) -> Result<(), Error> {
    match change {
        Change::WriteFile { bytes, mode, .. } => write_atomic(real, bytes, *mode),
        Change::CreateSymlink { target, .. } => {
            std::os::unix::fs::symlink(target, real).map_err(io_err(real))
        }
        Change::RemoveSymlink { .. } => std::fs::remove_file(real).map_err(io_err(real)),
        Change::CreateDir { owner: None, .. } => std::fs::create_dir(real).map_err(io_err(real)),
        Change::CreateDir { owner: Some(o), .. } => {
            std::fs::create_dir(real).map_err(io_err(real))?;
            std::os::unix::fs::chown(real, Some(o.uid), Some(o.gid)).map_err(io_err(real))?;
            std::fs::set_permissions(real, std::fs::Permissions::from_mode(o.mode))
                .map_err(io_err(real))
        }
    }
}

/// What a step leaves behind, for the journal and undo's "changed since" check.
fn after_of(change: &Change) -> Before {
    match change {
        Change::WriteFile { bytes, .. } => Before::File(bytes.clone()),
        Change::CreateSymlink { target, .. } => Before::Symlink(target.clone()),
        Change::RemoveSymlink { .. } => Before::Missing,
        Change::CreateDir { .. } => Before::Dir,
    }
}

/// Apply every step of `plan` all-or-nothing. Before anything is written, every target is
/// re-read and compared with the state the diff was computed from ([`Error::Changed`]).
/// If a step fails, the steps already done are undone in reverse order. Returns the
/// journal directory (real path).
pub fn apply(plan: &Plan) -> Result<PathBuf, Error> {
    let root = plan.root();
    for step in plan.steps() {
        if root.state(step.change.path())? != step.before {
            return Err(Error::Changed(root.path(step.change.path())));
        }
    }
    let journal = write_journal(plan)?;
    let mut done: Vec<(PathBuf, &Before)> = Vec::new();
    let mut backups: Vec<PathBuf> = Vec::new();
    for step in plan.steps() {
        let real = root.path(step.change.path());
        let bak = root.path(&plan.backup_path(step.change.path()));
        let result = backup(&bak, &step.before).and_then(|bak| {
            backups.extend(bak);
            do_change(&real, &step.change)
        });
        if let Err(e) = result {
            for (p, before) in done.iter().rev() {
                let _ = restore(p, before);
            }
            for bak in &backups {
                let _ = std::fs::remove_file(bak);
            }
            let _ = std::fs::remove_dir_all(&journal);
            return Err(e);
        }
        done.push((real, &step.before));
    }
    Ok(journal)
}

/// The first time distsetup changes an existing file, keep a copy of it at `bak` (real
/// path, from [`Plan::backup_path`]); returns the backup's path when this call created it.
fn backup(bak: &Path, before: &Before) -> Result<Option<PathBuf>, Error> {
    let Before::File(bytes) = before else {
        return Ok(None);
    };
    if std::fs::symlink_metadata(bak).is_ok() {
        return Ok(None);
    }
    write_atomic(bak, bytes, None)?;
    Ok(Some(bak.to_path_buf()))
}

fn encode(before: &Before, dir: &Path, tag: &str) -> Result<String, Error> {
    Ok(match before {
        Before::Missing => "missing".into(),
        Before::Dir => "dir".into(),
        Before::Symlink(t) => {
            let p = dir.join(format!("{tag}.link"));
            std::fs::write(&p, t.as_os_str().as_bytes()).map_err(io_err(&p))?;
            format!("symlink {tag}.link")
        }
        Before::File(b) => {
            let p = dir.join(tag);
            std::fs::write(&p, b).map_err(io_err(&p))?;
            format!("file {tag}")
        }
    })
}

fn decode(field: &str, dir: &Path, manifest: &Path) -> Result<Before, Error> {
    let bad = |reason: &str| Error::Journal {
        path: manifest.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut words = field.splitn(2, ' ');
    match (words.next(), words.next()) {
        (Some("missing"), None) => Ok(Before::Missing),
        (Some("dir"), None) => Ok(Before::Dir),
        (Some("file"), Some(name)) => {
            let p = dir.join(name);
            Ok(Before::File(std::fs::read(&p).map_err(io_err(&p))?))
        }
        (Some("symlink"), Some(name)) => {
            let p = dir.join(name);
            let t = std::fs::read(&p).map_err(io_err(&p))?;
            Ok(Before::Symlink(PathBuf::from(std::ffi::OsStr::from_bytes(
                &t,
            ))))
        }
        _ => Err(bad("unknown state")),
    }
}

/// Manifest: one line per step, `PATH\tBEFORE\tAFTER`, where a state is `missing`, `dir`,
/// `file NAME` or `symlink NAME.link` naming a file beside the manifest.
fn write_journal(plan: &Plan) -> Result<PathBuf, Error> {
    let root = plan.root();
    let base = root.path(Path::new(JOURNAL));
    std::fs::create_dir_all(&base).map_err(io_err(&base))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("{stamp:020}"));
    std::fs::create_dir(&dir).map_err(io_err(&dir))?;
    let mut manifest = String::new();
    for (i, step) in plan.steps().iter().enumerate() {
        let path = step.change.path().to_string_lossy();
        if path.contains(['\t', '\n']) {
            return Err(Error::Io {
                path: root.path(step.change.path()),
                source: std::io::Error::other("tab or newline in a path cannot be journaled"),
            });
        }
        let before = encode(&step.before, &dir, &format!("{i}.before"))?;
        let after = encode(&after_of(&step.change), &dir, &format!("{i}.after"))?;
        manifest.push_str(&format!("{path}\t{before}\t{after}\n"));
    }
    let m = dir.join("manifest");
    std::fs::write(&m, manifest).map_err(io_err(&m))?;
    sync_dir(&dir)?;
    Ok(dir)
}

type JournalStep = (PathBuf, Before, Before);

fn latest_entry(base: &Path) -> Result<PathBuf, Error> {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(base) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_none() && p.join("manifest").is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    entries.sort();
    entries
        .pop()
        .ok_or_else(|| Error::NothingToUndo(base.to_path_buf()))
}

fn read_manifest(dir: &Path) -> Result<(Vec<JournalStep>, PathBuf), Error> {
    let manifest = dir.join("manifest");
    let text = std::fs::read_to_string(&manifest).map_err(io_err(&manifest))?;
    let mut steps = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [path, before, after] = f.as_slice() else {
            return Err(Error::Journal {
                path: manifest.clone(),
                reason: format!("bad line {line:?}"),
            });
        };
        steps.push((
            PathBuf::from(path),
            decode(before, dir, &manifest)?,
            decode(after, dir, &manifest)?,
        ));
    }
    Ok((steps, manifest))
}

/// What `undo` restored.
#[derive(Debug)]
pub struct UndoReport {
    /// The journal entry undone.
    pub journal: PathBuf,
    /// System paths restored, in the order they were restored.
    pub restored: Vec<PathBuf>,
}

/// Restore the last applied change set under `root`: byte for byte, removing what it
/// created. Refuses ([`Error::UndoConflict`]) when anything changed since it was written.
pub fn undo(root: &SysRoot) -> Result<UndoReport, Error> {
    let base = root.path(Path::new(JOURNAL));
    let dir = latest_entry(&base)?;
    let (steps, _) = read_manifest(&dir)?;
    for (path, _, after) in &steps {
        if root.state(path)? != *after {
            return Err(Error::UndoConflict(root.path(path)));
        }
    }
    let mut restored = Vec::new();
    for (path, before, _) in steps.iter().rev() {
        let real = root.path(path);
        if let Err(e) = restore(&real, before) {
            // Put back what we already undid so the system stays as the journal says.
            for (p, _, a) in steps.iter().filter(|(p, _, _)| restored.contains(p)) {
                let _ = restore(&root.path(p), a);
            }
            return Err(e);
        }
        restored.push(path.clone());
    }
    let mut undone = dir.as_os_str().to_owned();
    undone.push(".undone");
    std::fs::rename(&dir, &undone).map_err(io_err(&dir))?;
    Ok(UndoReport {
        journal: dir,
        restored,
    })
}

/// The journal entry `undo` would restore and the system paths it would touch, without
/// changing anything (for the preview and the question).
pub fn pending_undo(root: &SysRoot) -> Result<(PathBuf, Vec<PathBuf>), Error> {
    let base = root.path(Path::new(JOURNAL));
    let dir = latest_entry(&base)?;
    let (steps, _) = read_manifest(&dir)?;
    Ok((dir, steps.into_iter().map(|(p, _, _)| p).collect()))
}
