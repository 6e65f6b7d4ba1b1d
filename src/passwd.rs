//! Users as a root's `/etc/passwd` names them: who owns a directory the plan makes
//! (makepkg's build user, `portage`) and as whom a service will run. A leaf: master and
//! volunteer both ask it, neither asks the other.

use std::path::{Path, PathBuf};

use crate::plan::{self, SysRoot};

/// One line of a passwd file: what owning a directory needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
}

/// Why a user could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum PasswdError {
    /// The passwd file could not be read.
    #[error(transparent)]
    Io(#[from] plan::Error),
    /// The user is missing or its line is malformed.
    #[error("{file}: user {user}: {reason}")]
    User {
        /// The user name.
        user: String,
        /// The passwd file read.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Find `user` in the root's `/etc/passwd`.
pub fn lookup_user(root: &SysRoot, user: &str) -> Result<PasswdEntry, PasswdError> {
    let file = Path::new("/etc/passwd");
    let text = root.read_file(file)?.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split(':').collect();
        if f.first() != Some(&user) {
            continue;
        }
        let bad = |what: &str| PasswdError::User {
            user: user.to_string(),
            file: root.path(file),
            reason: format!("line {}: {what}", n + 1),
        };
        let (Some(uid), Some(gid), Some(home)) = (f.get(2), f.get(3), f.get(5)) else {
            return Err(bad("fewer than 6 fields"));
        };
        return Ok(PasswdEntry {
            uid: uid.parse().map_err(|_| bad("the uid is not a number"))?,
            gid: gid.parse().map_err(|_| bad("the gid is not a number"))?,
            home: PathBuf::from(home),
        });
    }
    Err(PasswdError::User {
        user: user.to_string(),
        file: root.path(file),
        reason: "no such user".into(),
    })
}
