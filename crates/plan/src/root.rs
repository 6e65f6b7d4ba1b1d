//! `--root DIR`: every system path resolves under DIR.

use std::path::{Component, Path, PathBuf};

use super::{Before, Error, io_err};

/// The directory system paths resolve under (`/` for the live system).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysRoot {
    dir: PathBuf,
}

impl SysRoot {
    /// The live system.
    pub fn system() -> SysRoot {
        SysRoot {
            dir: PathBuf::from("/"),
        }
    }

    /// `dir` as the root; refused when it does not exist or is not a directory.
    pub fn new(dir: &Path) -> Result<SysRoot, Error> {
        if !dir.is_dir() {
            return Err(Error::RootMissing(dir.to_path_buf()));
        }
        Ok(SysRoot {
            dir: dir.to_path_buf(),
        })
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the system path `path` lives on this machine. Relative paths are taken as
    /// given (relative to the working directory) only on the live system.
    pub fn path(&self, path: &Path) -> PathBuf {
        if self.dir == Path::new("/") || path.is_relative() {
            return path.to_path_buf();
        }
        let mut out = self.dir.clone();
        for c in path.components() {
            if let Component::Normal(n) = c {
                out.push(n);
            }
        }
        out
    }

    /// Resolve `path` the way the kernel would inside a chroot at the root: every
    /// symlink on the way is followed, relative targets from the link's directory
    /// (`..` included), absolute ones from the root. Returns a system path with no
    /// symlink in it. A link whose target climbs above the root is refused
    /// ([`Error::LinkEscapes`]), and so is one that dangles ([`Error::DanglingLink`]).
    pub fn follow(&self, path: &Path) -> Result<PathBuf, Error> {
        if path.is_relative() {
            return Ok(path.to_path_buf());
        }
        let mut out = PathBuf::from("/");
        let mut todo: Vec<std::ffi::OsString> = Vec::new();
        push_components(&mut todo, path);
        let mut followed = 0;
        // Links whose target is being resolved: (first stack index of the target, link,
        // target). A part popped at index >= that belongs to the link's target.
        let mut links: Vec<(usize, PathBuf, PathBuf)> = Vec::new();
        while let Some(part) = todo.pop() {
            while links.last().is_some_and(|(m, _, _)| *m > todo.len()) {
                links.pop();
            }
            if part == ".." {
                if out == Path::new("/") {
                    if let Some((_, link, target)) = links.pop() {
                        return Err(Error::LinkEscapes {
                            link: self.path(&link),
                            target,
                            root: self.dir.clone(),
                        });
                    }
                }
                out.pop();
                continue;
            }
            let next = out.join(&part);
            let real = self.path(&next);
            match std::fs::symlink_metadata(&real) {
                Ok(m) if m.file_type().is_symlink() => {
                    followed += 1;
                    if followed > 40 {
                        return Err(Error::Io {
                            path: self.path(path),
                            source: std::io::Error::other("too many levels of symbolic links"),
                        });
                    }
                    let t = std::fs::read_link(&real).map_err(io_err(&real))?;
                    if t.is_absolute() {
                        out = PathBuf::from("/");
                    }
                    let mark = todo.len();
                    push_components(&mut todo, &t);
                    links.push((mark, next, t));
                }
                Ok(_) => out = next,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if let Some((_, link, target)) = links.pop() {
                        return Err(Error::DanglingLink {
                            link: self.path(&link),
                            target,
                            root: self.dir.clone(),
                        });
                    }
                    // Nothing there, and no link on the way: the rest is taken as given.
                    out = next;
                    while let Some(p) = todo.pop() {
                        out.push(p);
                    }
                }
                Err(e) => return Err(io_err(&real)(e)),
            }
        }
        Ok(out)
    }

    /// What is at system path `path` now (the link itself, not its target).
    pub fn state(&self, path: &Path) -> Result<Before, Error> {
        let real = self.path(path);
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Before::Missing),
            Err(e) => return Err(io_err(&real)(e)),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            Ok(Before::Symlink(
                std::fs::read_link(&real).map_err(io_err(&real))?,
            ))
        } else if ft.is_dir() {
            Ok(Before::Dir)
        } else if ft.is_file() {
            Ok(Before::File(std::fs::read(&real).map_err(io_err(&real))?))
        } else {
            Err(Error::NotAFile(real))
        }
    }

    /// Read the regular file at system path `path` (following symlinks): `Ok(None)` when
    /// missing, an error naming the file for a directory or anything unreadable.
    pub fn read_file(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        let target = self.follow(path)?;
        match self.state(&target)? {
            Before::Missing => Ok(None),
            Before::File(b) => Ok(Some(b)),
            _ => Err(Error::NotAFile(self.path(&target))),
        }
    }
}

/// Push the components of `p` onto the stack `todo` so that the first pops first.
fn push_components(todo: &mut Vec<std::ffi::OsString>, p: &Path) {
    for c in p.components().rev() {
        match c {
            Component::Normal(n) => todo.push(n.to_os_string()),
            Component::ParentDir => todo.push("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
}
