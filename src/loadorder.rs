//! What makepkg and Portage actually read, in the order they read it: one model used by
//! `master` (which file to edit, what overrides it) and `doctor` (what the tools see).
//!
//! - makepkg (pacman >= 6.1) sources `makepkg.conf`, then every `*.conf` of
//!   `makepkg.conf.d/` in glob order (hidden files excluded, as bash's glob does), then
//!   the user's `~/.config/pacman/makepkg.conf` or `~/.makepkg.conf`.
//! - Portage reads `/etc/make.conf` (legacy) and then `/etc/portage/make.conf`, which may
//!   be a directory: read *recursively*, entries of each directory in sorted order,
//!   directories and files interleaved by name, every name starting with `.` or ending
//!   with `~` skipped, and the version-control directories `CVS`, `RCS`, `SCCS`
//!   (`portage.util._recursive_file_list`, `portage.const.VCS_DIRS`).
//!
//! What Portage makes of those files — the variables, where each is assigned, the files
//! they `source` — is [`portage_view`] over [`crate::shconf::portage`]; make.conf edits
//! (`master`, `edit`) go through [`edit_as_portage_reads`], which places each edit where
//! Portage takes the variable from and reads the result back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::plan::{self, Before, SysRoot};
use crate::profile::{Makepkg, Portage};
use crate::shconf::portage;
use crate::shconf::portage_check::{disagreement, intended, removed_by_stacking};
use crate::shconf::{Dialect, Document, Edit};

/// The files makepkg reads, by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakepkgFiles {
    /// `makepkg.conf` (system path; it may not exist under the root).
    pub main: PathBuf,
    /// The drop-in directory, when the profile knows one and it exists.
    pub dropin_dir: Option<PathBuf>,
    /// Its `*.conf` files in the order makepkg sources them.
    pub dropins: Vec<PathBuf>,
    /// The per-user configurations that exist, read last.
    pub users: Vec<PathBuf>,
}

impl MakepkgFiles {
    /// Every file, in reading order (`main` only when it exists).
    pub fn all(&self, root: &SysRoot) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if root.path(&self.main).is_file() {
            out.push(self.main.clone());
        }
        out.extend(self.dropins.iter().cloned());
        out.extend(self.users.iter().cloned());
        out
    }
}

/// What makepkg reads under `root` for the profile's makepkg settings.
pub fn makepkg(root: &SysRoot, m: &Makepkg) -> Result<MakepkgFiles, plan::Error> {
    let dropin_dir = m
        .dropin_dir
        .as_ref()
        .filter(|d| {
            root.follow(d)
                .and_then(|real| root.state(&real))
                .is_ok_and(|s| s == Before::Dir)
        })
        .cloned();
    let dropins = match &dropin_dir {
        Some(dir) => files_in(root, dir, |n| !n.starts_with('.') && n.ends_with(".conf"))?,
        None => Vec::new(),
    };
    Ok(MakepkgFiles {
        main: m.config.clone(),
        dropin_dir,
        dropins,
        users: makepkg_user_configs(root),
    })
}

/// Regular files (or links to them) directly in the system directory `dir`, sorted by
/// name bytes, filtered by `keep`.
pub fn files_in(
    root: &SysRoot,
    dir: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>, plan::Error> {
    let dir_real = root.path(&root.follow(dir)?);
    Ok(sorted_names(&dir_real)?
        .into_iter()
        .filter(|n| keep(n) && dir_real.join(n).is_file())
        .map(|n| dir.join(n))
        .collect())
}

/// The names in the real directory `real` (UTF-8 ones), sorted by bytes.
fn sorted_names(real: &Path) -> Result<Vec<String>, plan::Error> {
    let entries = std::fs::read_dir(real).map_err(|source| plan::Error::Io {
        path: real.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// The user configurations makepkg reads last, under the root.
pub fn makepkg_user_configs(root: &SysRoot) -> Vec<PathBuf> {
    let mut homes = vec![PathBuf::from("/root")];
    if let Ok(entries) = std::fs::read_dir(root.path(Path::new("/home"))) {
        let mut more: Vec<PathBuf> = entries
            .flatten()
            .map(|e| Path::new("/home").join(e.file_name()))
            .collect();
        more.sort();
        homes.extend(more);
    }
    homes
        .iter()
        .flat_map(|h| {
            [
                h.join(".config/pacman/makepkg.conf"),
                h.join(".makepkg.conf"),
            ]
        })
        .filter(|p| root.path(p).is_file())
        .collect()
}

/// The files Portage reads for make.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortageFiles {
    /// `/etc/make.conf`, when it exists: read first.
    pub legacy: Option<PathBuf>,
    /// `/etc/portage/make.conf` with symlinks followed (system path).
    pub config: PathBuf,
    /// `config` is a directory.
    pub is_dir: bool,
    /// Every directory of the tree (the top one first), when `config` is a directory:
    /// a backup in any of them would be read too.
    pub dirs: Vec<PathBuf>,
    /// The files of `config` in reading order (`config` itself when it is a file).
    pub files: Vec<PathBuf>,
}

impl PortageFiles {
    /// Every file, in reading order, the legacy one first.
    pub fn all(&self) -> Vec<PathBuf> {
        self.legacy
            .iter()
            .cloned()
            .chain(self.files.iter().cloned())
            .collect()
    }
}

/// Portage's filter for names in a make.conf directory tree.
fn portage_keeps_name(name: &str) -> bool {
    !name.starts_with('.') && !name.ends_with('~')
}

/// What Portage reads under `root` for the profile's Portage settings.
pub fn portage(root: &SysRoot, p: &Portage) -> Result<PortageFiles, plan::Error> {
    portage_at(root, &p.config, p.legacy_config.as_deref())
}

/// What Portage reads under `root` for make.conf at `config` (a file or a directory) with
/// the legacy file `legacy` read first.
pub fn portage_at(
    root: &SysRoot,
    config: &Path,
    legacy: Option<&Path>,
) -> Result<PortageFiles, plan::Error> {
    let legacy = legacy
        .filter(|l| root.path(l).is_file())
        .map(Path::to_path_buf);
    let config_given = config;
    let config = root.follow(config)?;
    // Portage reads the pair once when they are the same file (os.path.samefile): an old
    // /etc/make.conf linked to /etc/portage/make.conf is common.
    let same = |a: &Path, b: &Path| {
        let real = |p: &Path| std::fs::canonicalize(root.path(p)).ok();
        real(a).is_some() && real(a) == real(b)
    };
    let legacy = legacy.filter(|l| !same(l, config_given));
    let (is_dir, dirs, files) = match root.state(&config)? {
        Before::Dir => {
            let (mut dirs, mut files) = (vec![config.clone()], Vec::new());
            walk(root, &config, &mut dirs, &mut files)?;
            (true, dirs, files)
        }
        Before::File(_) => (false, Vec::new(), vec![config.clone()]),
        _ => (false, Vec::new(), Vec::new()),
    };
    Ok(PortageFiles {
        legacy,
        config,
        is_dir,
        dirs,
        files,
    })
}

/// The files of the make.conf directory `dir` (system path) in Portage's reading order.
pub fn portage_dir_files(root: &SysRoot, dir: &Path) -> Result<Vec<PathBuf>, plan::Error> {
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    walk(root, dir, &mut dirs, &mut files)?;
    Ok(files)
}

/// Depth first, each directory's entries sorted by name, as Portage walks it.
fn walk(
    root: &SysRoot,
    dir: &Path,
    dirs: &mut Vec<PathBuf>,
    files: &mut Vec<PathBuf>,
) -> Result<(), plan::Error> {
    let names = sorted_names(&root.path(dir))?;
    for name in names.into_iter().filter(|n| portage_keeps_name(n)) {
        let path = dir.join(&name);
        let real = root.path(&path);
        if real.is_dir() {
            // portage.const.VCS_DIRS: version-control directories are not read.
            if ["CVS", "RCS", "SCCS"].contains(&name.as_str()) {
                continue;
            }
            dirs.push(path.clone());
            walk(root, &path, dirs, files)?;
        } else if real.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Everything Portage reads for make.conf, in order: each assignment with the top-level
/// file it came through (itself or a file it sources), as [`crate::shconf::portage`]
/// models `portage.util.getconfig()`.
#[derive(Debug, Clone, Default)]
pub struct PortageView {
    /// (top-level file, assignment), in the order Portage performs them.
    pub assignments: Vec<(PathBuf, portage::Assignment)>,
    /// What Portage prints on the way (a bad substitution empties a value).
    pub warnings: Vec<portage::Warning>,
}

impl PortageView {
    /// The variables as Portage ends up with them (the last assignment wins).
    pub fn vars(&self) -> BTreeMap<String, String> {
        self.assignments
            .iter()
            .map(|(_, a)| (a.name.clone(), a.value.clone()))
            .collect()
    }

    /// The assignment of `name` that takes effect, with its top-level file.
    pub fn last(&self, name: &str) -> Option<&(PathBuf, portage::Assignment)> {
        self.assignments.iter().rev().find(|(_, a)| a.name == name)
    }
}

/// Why Portage's view could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PortageReadError {
    /// A file could not be read at all.
    #[error(transparent)]
    Io(#[from] plan::Error),
    /// emerge would stop at this file and line.
    #[error("{0}; Portage will not read this file (emerge stops here)")]
    Parse(#[from] portage::ParseError),
}

/// Read `files` (system paths, in Portage's order; missing ones skipped) as Portage does,
/// each expanding with the variables read before. `replaced` gives the bytes of files as
/// they would be after an edit (also when they are sourced). Sourced paths resolve under
/// the root, relative ones against the sourcing file's directory.
pub fn portage_view(
    root: &SysRoot,
    files: &[PathBuf],
    replaced: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<PortageView, PortageReadError> {
    let read = |p: &Path| -> Result<Option<Vec<u8>>, plan::Error> {
        match replaced.get(p) {
            Some(b) => Ok(Some(b.clone())),
            None => root.read_file(p),
        }
    };
    let mut view = PortageView::default();
    let mut known = BTreeMap::new();
    for file in files {
        let Some(bytes) = read(file)? else { continue };
        let mut source = |path: &str| match read(Path::new(path)) {
            Ok(Some(b)) => portage::Sourced::Found(b),
            Ok(None) => portage::Sourced::Missing,
            Err(e) => portage::Sourced::Failed(e.to_string()),
        };
        let name = file.display().to_string();
        let got = portage::getconfig(&name, &bytes, &mut known, &mut source)?;
        view.assignments
            .extend(got.assignments.into_iter().map(|a| (file.clone(), a)));
        view.warnings.extend(got.warnings);
    }
    Ok(view)
}

/// Why an edit of make.conf files was refused.
#[derive(Debug, thiserror::Error)]
pub enum PortageEditError {
    /// A file could not be read.
    #[error(transparent)]
    Io(#[from] plan::Error),
    /// Refused at a place, in words.
    #[error("{file}:{line}:{column}: {reason}")]
    At {
        /// The file (system path).
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

fn at(file: &Path, line: usize, reason: String) -> PortageEditError {
    PortageEditError::At {
        file: file.to_path_buf(),
        line,
        column: 1,
        reason,
    }
}

fn shconf_at(file: &Path, e: crate::shconf::Error) -> PortageEditError {
    let (line, column, reason) = e.into_position();
    PortageEditError::At {
        file: file.to_path_buf(),
        line,
        column,
        reason,
    }
}

/// What Portage reads from `docs` (top-level files in reading order, as edited so far).
pub fn portage_reads(
    root: &SysRoot,
    docs: &[(PathBuf, Document)],
) -> Result<PortageView, PortageEditError> {
    let tops: Vec<PathBuf> = docs.iter().map(|(p, _)| p.clone()).collect();
    let replaced: BTreeMap<PathBuf, Vec<u8>> = docs
        .iter()
        .map(|(p, d)| (p.clone(), d.to_bytes()))
        .collect();
    portage_view(root, &tops, &replaced).map_err(|e| match e {
        PortageReadError::Io(e) => PortageEditError::Io(e),
        PortageReadError::Parse(e) => at(
            Path::new(&e.file),
            e.line,
            format!(
                "{}: Portage will not read this file (emerge stops here)",
                e.message
            ),
        ),
    })
}

/// Apply `edit` to the make.conf files `docs` (top-level files in Portage's reading
/// order) where it takes effect for Portage, and check the result in what Portage reads.
///
/// The edit goes where the assignment Portage ends up with is written; when that is a
/// file sourced by `docs[i]`, a new line goes at the end of `docs[i]` (after the
/// `source`); when nothing assigns the variable, into `docs[unassigned]`. Refused: a file
/// emerge cannot parse, an assignment of the variable that Portage and bash read
/// differently, and any result where Portage would not read exactly the intended change
/// of this one variable. `Ok(false)` when Portage already reads what was asked.
pub fn edit_as_portage_reads(
    root: &SysRoot,
    docs: &mut [(PathBuf, Document)],
    edit: &Edit,
    unassigned: usize,
) -> Result<bool, PortageEditError> {
    let name = edit.name();
    let before = portage_reads(root, docs)?;
    let old = before.vars().get(name).cloned();
    if intended(edit, old.as_deref(), old.as_deref()) {
        return Ok(false);
    }
    let (index, append) = match before.last(name) {
        Some((top, a)) => (
            docs.iter()
                .position(|(p, _)| p == top)
                .unwrap_or(unassigned),
            a.file != top.display().to_string(),
        ),
        None => (unassigned, false),
    };
    // `FEATURES="${FEATURES} -distcc"` after a `distcc`: only a new line after it adds it.
    let append = append || removed_by_stacking(edit, old.as_deref());
    let (path, doc) = docs
        .get_mut(index)
        .ok_or_else(|| at(Path::new("make.conf"), 1, "no file to edit".into()))?;
    if append {
        let mut line = Document::parse(b"", Dialect::Portage).map_err(|e| shconf_at(path, e))?;
        line.apply(edit).map_err(|e| shconf_at(path, e))?;
        let mut bytes = doc.to_bytes();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.extend_from_slice(doc.line_ending());
        }
        bytes.extend(line.to_bytes());
        *doc = Document::parse(&bytes, Dialect::Portage).map_err(|e| shconf_at(path, e))?;
    } else {
        let own = before
            .assignments
            .iter()
            .filter(|(top, a)| top == path && a.file == top.display().to_string())
            .map(|(_, a)| a);
        if let Some((line, why)) = disagreement(doc, own, name) {
            return Err(at(path, line, why));
        }
        doc.apply(edit).map_err(|e| shconf_at(path, e))?;
    }
    let path = path.clone();
    let after = portage_reads(root, docs)?;
    let (b, a) = (before.vars(), after.vars());
    let new = a.get(name).cloned();
    if !intended(edit, old.as_deref(), new.as_deref()) {
        return Err(at(
            &path,
            1,
            format!(
                "after the edit Portage would read {name} as {new:?} (before: {old:?}), \
                 which is not what was asked; nothing was written"
            ),
        ));
    }
    let names: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    if let Some(other) = names
        .into_iter()
        .find(|k| k.as_str() != name && b.get(*k) != a.get(*k))
    {
        return Err(at(
            &path,
            1,
            format!(
                "the edit of {name} would change what Portage reads for {other}; nothing was written"
            ),
        ));
    }
    Ok(true)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "tests build their fixtures on disk"
)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "X=1\n").unwrap();
    }

    #[test]
    fn a_make_conf_directory_is_read_recursively_in_portages_order() {
        let t = tempfile::tempdir().unwrap();
        for f in [
            "etc/portage/make.conf/00-base.conf",
            "etc/portage/make.conf/local/features.conf",
            "etc/portage/make.conf/distcc.conf",
            "etc/portage/make.conf/site/a",
            "etc/portage/make.conf/.hidden",
            "etc/portage/make.conf/old~",
            "etc/portage/make.conf/.git/config",
            "etc/portage/make.conf/CVS/Entries",
            "etc/make.conf",
        ] {
            touch(t.path(), f);
        }
        let root = SysRoot::new(t.path()).unwrap();
        let p = crate::profile::load("gentoo").unwrap();
        let files = portage(&root, p.client.portage.as_ref().unwrap()).unwrap();
        let names: Vec<String> = files
            .all()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/etc/make.conf",
                "/etc/portage/make.conf/00-base.conf",
                "/etc/portage/make.conf/distcc.conf",
                "/etc/portage/make.conf/local/features.conf",
                "/etc/portage/make.conf/site/a",
            ]
        );
        assert!(files.is_dir);
        assert_eq!(files.dirs.len(), 3);
    }

    #[test]
    fn a_legacy_make_conf_linked_to_the_new_one_is_read_once() {
        let t = tempfile::tempdir().unwrap();
        touch(t.path(), "etc/portage/make.conf");
        std::os::unix::fs::symlink("portage/make.conf", t.path().join("etc/make.conf")).unwrap();
        let root = SysRoot::new(t.path()).unwrap();
        let p = crate::profile::load("gentoo").unwrap();
        let files = portage(&root, p.client.portage.as_ref().unwrap()).unwrap();
        assert_eq!(files.all(), [PathBuf::from("/etc/portage/make.conf")]);
    }

    #[test]
    fn makepkg_reads_main_then_visible_dropins_then_the_users_file() {
        let t = tempfile::tempdir().unwrap();
        for f in [
            "etc/makepkg.conf",
            "etc/makepkg.conf.d/rust.conf",
            "etc/makepkg.conf.d/.distcc.conf",
            "etc/makepkg.conf.d/a.conf",
            "etc/makepkg.conf.d/notes.txt",
            "home/alarm/.makepkg.conf",
        ] {
            touch(t.path(), f);
        }
        let root = SysRoot::new(t.path()).unwrap();
        let p = crate::profile::load("archarm").unwrap();
        let files = makepkg(&root, p.client.makepkg.as_ref().unwrap()).unwrap();
        let names: Vec<String> = files
            .all(&root)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/etc/makepkg.conf",
                "/etc/makepkg.conf.d/a.conf",
                "/etc/makepkg.conf.d/rust.conf",
                "/home/alarm/.makepkg.conf",
            ]
        );
    }
}
