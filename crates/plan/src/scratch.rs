//! Scratch space for probes: a private temporary directory that disappears when dropped.
//!
//! Probes (doctor's speed and target checks, the toolchain's test compile) need a source
//! file on disk for a compiler to read. That is a write too, so it lives here, in the one
//! crate that writes; nothing outside the system temporary directory is ever touched.

use std::path::{Path, PathBuf};

/// A private temporary directory (mode 0700), removed with everything in it on drop.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new scratch directory under the system temporary directory (`TMPDIR`).
    pub fn new() -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix("distsetup-probe.")
            .tempdir()?;
        Ok(Scratch { dir })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `name` (a plain file name, no directories) with `contents`; returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("scratch file name {name:?} must be a plain file name"),
            ));
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn writes_inside_and_vanishes_on_drop() {
        let s = Scratch::new().unwrap();
        let p = s.write("probe.c", b"int x;\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"int x;\n");
        assert!(p.starts_with(s.path()));
        let dir = s.path().to_path_buf();
        drop(s);
        assert!(!dir.exists());
    }

    #[test]
    fn refuses_paths_outside() {
        let s = Scratch::new().unwrap();
        assert!(s.write("../x", b"").is_err());
        assert!(s.write("a/b", b"").is_err());
        assert!(s.write("", b"").is_err());
    }
}
