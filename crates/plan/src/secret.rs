//! Secrets made once and kept: a node's private key for the secure link. Written outside
//! the journal on purpose: `undo` takes back configuration, and a key pair is an identity
//! other machines pinned, so undoing a pairing must not change who this machine is.

use std::io::Write as _;
use std::path::Path;

use super::fsops::{self, sync_dir};
use super::{Error, SysRoot, io_err};

/// Create the file at system path `path` with `bytes`, mode 0600, owned by `owner`
/// (uid, gid; root's when `None`), unless a file is already there: then nothing is
/// written and the answer is `false`. Missing parent directories are made (0755). The
/// content appears whole or not at all (temp file, fsync, rename that never replaces).
pub fn create_secret(
    root: &SysRoot,
    path: &Path,
    bytes: &[u8],
    owner: Option<(u32, u32)>,
) -> Result<bool, Error> {
    use std::os::unix::fs::DirBuilderExt as _;
    let real = root.path(path);
    if std::fs::symlink_metadata(&real).is_ok() {
        return Ok(false);
    }
    let dir = real.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(io_err(dir))?;
    // tempfile makes its files 0600.
    let mut tmp = fsops::temp_builder()
        .tempfile_in(dir)
        .map_err(io_err(&real))?;
    tmp.write_all(bytes).map_err(io_err(&real))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid)).map_err(io_err(&real))?;
    }
    tmp.as_file().sync_all().map_err(io_err(&real))?;
    match tmp.persist_noclobber(&real) {
        Ok(_) => {}
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_err(&real)(e.error)),
    }
    sync_dir(dir)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_secret_is_made_once_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = SysRoot::new(dir.path()).unwrap();
        let key = Path::new("/etc/distsetup/identity.key");
        assert!(create_secret(&root, key, b"first", None).unwrap());
        assert!(!create_secret(&root, key, b"second", None).unwrap());
        let real = root.path(key);
        assert_eq!(std::fs::read(&real).unwrap(), b"first");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(real.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("identity.key")]);
    }
}
