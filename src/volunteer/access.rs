//! Whether the service's user can run the toolchain. Every other check runs as root: a
//! toolchain unpacked in a 0700 home passes them all, then each compile fails with
//! "Permission denied" (distcc's exit 110) and the client quietly builds on the master.

use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

use crate::child::CheckedOutput as _;

use super::*;

/// The user a service runs its compiles as, as found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    /// The name checked with.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary group (both servers drop every supplementary group).
    pub gid: u32,
    /// Who that is, in words (`nobody, standing in for systemd's DynamicUser`).
    pub role: String,
}

/// The user the service's compiles run as: distccd, an OpenRC or a runit service run as
/// the profile's distcc user; the embedded server's systemd unit has a `DynamicUser`, a
/// uid that owns nothing, checked as `nobody`. `None` when neither user exists here.
pub fn service_user(profile: &Profile, service: &Service) -> Option<ServiceUser> {
    let distccd = service.argv.first().is_some_and(|a| a.ends_with("distccd"));
    let dynamic = !distccd && service.manager == ServiceManager::Systemd;
    checking_user(profile, (!dynamic).then_some(service.name.as_str()))
}

/// The user to check as: the profile's distcc user for a service that runs as it
/// (`runs_as_profile_user`: the service's name), else `nobody` for systemd's
/// `DynamicUser`, or when the profile's user does not exist here.
pub fn checking_user(profile: &Profile, runs_as_profile_user: Option<&str>) -> Option<ServiceUser> {
    let system = SysRoot::system();
    let name = &profile.volunteer.user;
    let wanted = runs_as_profile_user.and_then(|service| {
        let e = crate::passwd::lookup_user(&system, name).ok()?;
        Some((
            name.clone(),
            e,
            format!("{name}, the user {service} runs as"),
        ))
    });
    let (name, entry, role) = match wanted {
        Some(found) => found,
        None => {
            let entry = crate::passwd::lookup_user(&system, "nobody").ok()?;
            let role = match runs_as_profile_user {
                None => "nobody, standing in for the service's DynamicUser".to_owned(),
                Some(_) => format!("nobody, standing in for {name} (not a user on this machine)"),
            };
            ("nobody".to_owned(), entry, role)
        }
    };
    Some(ServiceUser {
        name,
        uid: entry.uid,
        gid: entry.gid,
        role,
    })
}

/// Why the service user cannot run the compiler, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the service user ({}) cannot run {}: {}; every compile would fail with \"Permission denied\" \
     (distcc's exit 110) and the master would quietly build by itself. {}",
    user.role,
    compiler.display(),
    why,
    fix
)]
pub struct Denied {
    /// Who was checked.
    pub user: ServiceUser,
    /// The compiler.
    pub compiler: PathBuf,
    /// What stops it.
    pub why: String,
    /// What to do.
    pub fix: String,
}

/// Check that `user` can run the toolchain's gcc: as root, by running it as that user
/// (`-dumpmachine`, without supplementary groups, as both servers run it); otherwise from
/// the permissions of every directory on the way (through every link). `top` is the
/// toolchain's own directory (what to move), when known.
pub fn check_runnable(
    gcc: &Path,
    top: Option<&Path>,
    user: &ServiceUser,
) -> Result<(), Box<Denied>> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let run_error = if root {
        let ran = Command::new(gcc)
            .arg("-dumpmachine")
            .uid(user.uid)
            .gid(user.gid)
            .current_dir("/")
            .stdin(Stdio::null())
            .checked_output();
        match ran {
            Ok(o) if o.status.success() => return Ok(()),
            Ok(o) => Some(format!(
                "it fails when run as that user: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(format!("starting it as that user fails: {e}")),
        }
    } else {
        None
    };
    let blocked = closed_directory(gcc, user);
    if run_error.is_none() && blocked.is_none() {
        return Ok(());
    }
    let moved = |dir: &Path| top.unwrap_or(dir).display().to_string();
    let (why, fix) = match &blocked {
        Some((dir, mode)) => (
            format!(
                "{} is mode {:04o}, closed to that user{}",
                dir.display(),
                mode & 0o7777,
                run_error.map(|e| format!(" ({e})")).unwrap_or_default()
            ),
            format!(
                "Move the toolchain out of it (sudo mv {} /opt/, then run this again with the new \
                 path), or let other users through: sudo chmod o+x {}",
                moved(dir),
                dir.display()
            ),
        ),
        None => (
            run_error.unwrap_or_default(),
            format!(
                "Install the toolchain where every user may run it (/opt is the usual place){}",
                top.map(|t| format!(": sudo mv {} /opt/", t.display()))
                    .unwrap_or_default()
            ),
        ),
    };
    Err(Box::new(Denied {
        user: user.clone(),
        compiler: gcc.to_path_buf(),
        why,
        fix,
    }))
}

/// The first directory on the way to `path` that `user` may not search, with its mode:
/// the directories of the path as written and of every link it goes through.
fn closed_directory(path: &Path, user: &ServiceUser) -> Option<(PathBuf, u32)> {
    let mut hop = path.to_path_buf();
    for _ in 0..40 {
        let mut dirs: Vec<&Path> = hop.ancestors().skip(1).collect();
        dirs.reverse();
        for dir in dirs {
            let Ok(meta) = std::fs::metadata(dir) else {
                continue;
            };
            let bit = if meta.uid() == user.uid {
                0o100
            } else if meta.gid() == user.gid {
                0o010
            } else {
                0o001
            };
            if meta.mode() & bit == 0 && user.uid != 0 {
                return Some((dir.to_path_buf(), meta.mode()));
            }
        }
        let Ok(target) = std::fs::read_link(&hop) else {
            return None;
        };
        hop = match hop.parent() {
            Some(parent) => parent.join(target),
            None => target,
        };
    }
    None
}

/// The toolchain's own directory: the x-tools tree for crosstool-ng's layout, else the
/// directory of the executables.
pub(super) fn toolchain_top(located: &Located) -> PathBuf {
    let bin = &located.bin_dir;
    match located.layout {
        toolchain::Layout::XToolsTree => bin
            .parent()
            .and_then(Path::parent)
            .unwrap_or(bin)
            .to_path_buf(),
        _ => bin.clone(),
    }
}
