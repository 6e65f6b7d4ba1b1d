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

/// SHA-256 of `data` as lowercase hex (FIPS 180-4); the intent log's content hash.
pub(crate) fn sha256(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
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
