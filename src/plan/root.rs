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

    /// Follow a symlinked final component to the file it names, staying under the root
    /// (absolute targets are re-rooted). Returns a system path.
    pub fn follow(&self, path: &Path) -> Result<PathBuf, Error> {
        let mut cur = path.to_path_buf();
        for _ in 0..40 {
            let real = self.path(&cur);
            match std::fs::symlink_metadata(&real) {
                Ok(m) if m.file_type().is_symlink() => {
                    let t = std::fs::read_link(&real).map_err(io_err(&real))?;
                    cur = if t.is_absolute() {
                        t
                    } else {
                        cur.parent().unwrap_or(Path::new("/")).join(t)
                    };
                }
                _ => return Ok(cur),
            }
        }
        Err(Error::Io {
            path: self.path(path),
            source: std::io::Error::other("too many levels of symbolic links"),
        })
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
