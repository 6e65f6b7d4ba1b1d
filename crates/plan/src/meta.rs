//! What a file is besides its bytes (mode, owner, extended attributes — ACLs are
//! `system.posix_acl_*` attributes), and a content hash for the intent log.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use super::{Error, io_err};

/// Extended attributes: (name, value), sorted by name.
pub(crate) type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// Mode, owner and extended attributes of a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Meta {
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) xattrs: Xattrs,
}

fn cpath(path: &Path) -> Result<CString, Error> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other("NUL byte in path"),
    })
}

/// Errors that mean "this file system or this user cannot have that attribute": the
/// attribute is then skipped, as `cp -a` does.
fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOTSUP) | Some(libc::EPERM) | Some(libc::EACCES)
    )
}

impl Meta {
    /// The metadata of the file at `path` (not following a final symlink).
    pub(crate) fn read(path: &Path) -> Result<Meta, Error> {
        let m = std::fs::symlink_metadata(path).map_err(io_err(path))?;
        Ok(Meta {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            xattrs: xattrs(path)?,
        })
    }

    /// Give the open file `file` (a temp file named `shown` in errors) this owner,
    /// these attributes and this mode, in that order: chown clears set-id bits and an
    /// ACL sets the group bits, so the mode comes last.
    pub(crate) fn apply(&self, file: &std::fs::File, shown: &Path) -> Result<(), Error> {
        use std::os::fd::AsRawFd as _;
        let fd = file.as_raw_fd();
        if let Err(e) = std::os::unix::fs::fchown(file, Some(self.uid), Some(self.gid)) {
            // Without privileges the file is ours anyway.
            if !unsupported(&e) {
                return Err(io_err(shown)(e));
            }
        }
        for (name, value) in &self.xattrs {
            let Ok(n) = CString::new(name.clone()) else {
                continue;
            };
            // SAFETY: fd is open; name is NUL-terminated; value is a valid buffer.
            let r =
                unsafe { libc::fsetxattr(fd, n.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
            if r != 0 {
                let e = std::io::Error::last_os_error();
                if !unsupported(&e) {
                    return Err(io_err(shown)(e));
                }
            }
        }
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(self.mode))
            .map_err(io_err(shown))
    }

    /// `MODE UID GID XATTRS` for the intent log: octal mode, decimal ids, attributes as
    /// `hex(name)=hex(value)` joined by `,` (`-` for none).
    pub(crate) fn encode(&self) -> String {
        let x = if self.xattrs.is_empty() {
            "-".to_string()
        } else {
            self.xattrs
                .iter()
                .map(|(n, v)| format!("{}={}", hex(n), hex(v)))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!("{:o} {} {} {x}", self.mode, self.uid, self.gid)
    }

    /// The inverse of [`Meta::encode`].
    pub(crate) fn decode(s: &str) -> Option<Meta> {
        let mut w = s.split(' ');
        let mode = u32::from_str_radix(w.next()?, 8).ok()?;
        let uid = w.next()?.parse().ok()?;
        let gid = w.next()?.parse().ok()?;
        let x = w.next()?;
        let mut xattrs = Vec::new();
        if x != "-" {
            for pair in x.split(',') {
                let (n, v) = pair.split_once('=')?;
                xattrs.push((unhex(n)?, unhex(v)?));
            }
        }
        if w.next().is_some() {
            return None;
        }
        Some(Meta {
            mode,
            uid,
            gid,
            xattrs,
        })
    }
}

/// The extended attributes of `path` (not following a final symlink), sorted by name.
pub(crate) fn xattrs(path: &Path) -> Result<Xattrs, Error> {
    let c = cpath(path)?;
    let names = loop {
        // SAFETY: a null buffer of size 0 asks for the size.
        let size = unsafe { libc::llistxattr(c.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            let e = std::io::Error::last_os_error();
            return if unsupported(&e) {
                Ok(Vec::new())
            } else {
                Err(io_err(path)(e))
            };
        }
        let mut buf = vec![0u8; size as usize];
        // SAFETY: buf has the length we pass.
        let got = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if got >= 0 {
            buf.truncate(got as usize);
            break buf;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(io_err(path)(e));
        }
    };
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Ok(n) = CString::new(name) else { continue };
        if let Some(v) = xattr_value(&c, &n, path)? {
            out.push((name.to_vec(), v));
        }
    }
    out.sort();
    Ok(out)
}

fn xattr_value(c: &CString, n: &CString, path: &Path) -> Result<Option<Vec<u8>>, Error> {
    loop {
        // SAFETY: size query with a null buffer.
        let size = unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENODATA) => Ok(None),
                _ if unsupported(&e) => Ok(None),
                _ => Err(io_err(path)(e)),
            };
        }
        let mut v = vec![0u8; size as usize];
        // SAFETY: v has the length we pass.
        let got =
            unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
        if got >= 0 {
            v.truncate(got as usize);
            return Ok(Some(v));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(io_err(path)(e));
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 of `data` as lowercase hex; the intent log's content hash.
pub(crate) fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_fips_vectors() {
        assert_eq!(
            sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn meta_round_trips_through_its_encoding() {
        let m = Meta {
            mode: 0o4750,
            uid: 7,
            gid: 9,
            xattrs: vec![
                (b"user.a".to_vec(), vec![0, 1, 255]),
                (b"user.b".to_vec(), vec![]),
            ],
        };
        assert_eq!(Meta::decode(&m.encode()), Some(m));
        assert_eq!(Meta::decode("644 0 0 -").map(|m| m.mode), Some(0o644));
        assert_eq!(Meta::decode("644 0 0 - extra"), None);
    }
}
