//! What a compile can reach: the server gives up root after binding (no supplementary
//! groups, `PR_SET_NO_NEW_PRIVS`), and every compiler is confined by Landlock in its
//! child before exec: read and execute on the system and toolchain directories, read and
//! write in its own job directory only, no TCP, no abstract UNIX sockets, no signals
//! outside its sandbox.
//!
//! The ruleset is built in the server (opening `O_PATH` descriptors allocates); the child
//! only calls `prctl` and `landlock_restrict_self`, both async-signal-safe syscalls.
//! Where the kernel has no Landlock the compile runs with the privilege drop alone; the
//! server logs that once at start and `--stats` shows it.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, path_beneath_rules,
};

use super::error::ServeError;

/// The newest ABI this server asks for; older kernels get the subset they know.
const WANTED_ABI: ABI = ABI::V6;

/// Directories (and files) a compiler needs to read and run beyond its own toolchain:
/// the dynamic loader's libraries and cache, the distro's alternatives links, the
/// devices gcc opens.
const SYSTEM_READ_EXEC: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/dev/urandom",
    "/dev/random",
];

/// Files a compiler may write outside its job directory (gcc writes `/dev/null`).
const SYSTEM_WRITE: &[&str] = &["/dev/null"];

/// The Landlock ABI the running kernel offers (0: none).
pub fn landlock_abi() -> i32 {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns a number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    i32::try_from(v).unwrap_or(0).max(0)
}

/// How the server and its compiles are confined (logged at start, shown by `--stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfineState {
    /// The kernel's Landlock ABI (0: compiles run without Landlock).
    pub landlock_abi: i32,
    /// The user the server and its compiles run as.
    pub user: String,
    /// Its uid.
    pub uid: u32,
}

impl ConfineState {
    /// The state of the calling process as it is now.
    pub fn current() -> ConfineState {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        ConfineState {
            landlock_abi: landlock_abi(),
            user: user_name(uid).unwrap_or_else(|| uid.to_string()),
            uid,
        }
    }

    /// One line for the log and the stats page.
    pub fn describe(&self) -> String {
        let landlock = if self.landlock_abi > 0 {
            format!("landlock ABI {}", self.landlock_abi)
        } else {
            "landlock unavailable (kernel without Landlock): compiles are confined by the \
             unprivileged user alone"
                .to_owned()
        };
        format!("user {} (uid {}), {landlock}", self.user, self.uid)
    }
}

fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: passwd is plain data; getpwuid_r writes into buf within its length.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut out);
        if rc != 0 || out.is_null() {
            return None;
        }
        Some(CStr::from_ptr(pw.pw_name).to_string_lossy().into_owned())
    }
}

/// A user's uid and primary gid.
pub fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: as in user_name.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() {
            return None;
        }
        Some((pw.pw_uid, pw.pw_gid))
    }
}

/// The user to become when started as root: `--user`, else the distro's distcc user
/// (`distcc` on Arch and Gentoo, `distccd` on Debian), else `nobody`.
pub fn default_user() -> String {
    ["distcc", "distccd"]
        .into_iter()
        .find(|n| lookup_user(n).is_some())
        .unwrap_or("nobody")
        .to_owned()
}

/// Started as root: give up root for `user` (no supplementary groups, its primary group,
/// then `PR_SET_NO_NEW_PRIVS`). glibc applies set*id to every thread of the process.
/// Not root: nothing to give up; `PR_SET_NO_NEW_PRIVS` only. `keep` (the pid file) is
/// handed to `user` first, so the server can still empty it when it stops.
#[allow(
    clippy::disallowed_methods,
    reason = "the server's own door: hands its pid file and logs to the service user before dropping root"
)]
pub fn drop_privileges(user: &str, keep: &[&Path]) -> Result<ConfineState, ServeError> {
    let bad = |reason: String| ServeError::BadSetting {
        setting: "--user",
        value: user.to_owned(),
        reason,
    };
    // SAFETY: plain syscalls without memory arguments (setgroups gets an empty list).
    unsafe {
        if libc::geteuid() == 0 {
            let (uid, gid) = lookup_user(user).ok_or_else(|| bad("no such user".into()))?;
            if uid == 0 {
                return Err(bad(
                    "the compile server must not run compiles as root".into()
                ));
            }
            for path in keep {
                let _ = std::os::unix::fs::chown(path, Some(uid), Some(gid));
            }
            let os = |what: &str| bad(format!("{what}: {}", std::io::Error::last_os_error()));
            if libc::setgroups(0, std::ptr::null()) != 0 {
                return Err(os("setgroups([])"));
            }
            if libc::setgid(gid) != 0 {
                return Err(os("setgid"));
            }
            if libc::setuid(uid) != 0 {
                return Err(os("setuid"));
            }
            if libc::setuid(0) == 0 || libc::geteuid() == 0 {
                return Err(bad("root could be regained after setuid".into()));
            }
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(bad(format!(
                "PR_SET_NO_NEW_PRIVS: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(ConfineState::current())
}

/// The directories a compile may read and execute from: the system's, each
/// `--toolchain` directory with its parent (x-tools/TRIPLE holds libexec and the
/// sysroot next to bin), and the installation root of `compiler`.
pub fn read_exec_paths(toolchains: &[PathBuf], compiler: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = SYSTEM_READ_EXEC.iter().map(PathBuf::from).collect();
    let mut add_root = |p: &Path| {
        paths.push(p.to_path_buf());
        if let Some(parent) = p.parent().filter(|d| d.parent().is_some()) {
            paths.push(parent.to_path_buf());
        }
    };
    for dir in toolchains {
        add_root(&std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()));
    }
    if let Some(bin) = std::fs::canonicalize(compiler)
        .ok()
        .as_deref()
        .and_then(Path::parent)
    {
        add_root(bin);
    }
    paths.retain(|p| p.exists());
    paths.sort();
    paths.dedup();
    paths
}

/// A Landlock ruleset for one compile, created but not yet enforced. `None` where the
/// kernel has no Landlock.
pub fn job_ruleset(read_exec: &[PathBuf], job_dir: &Path) -> Result<Option<OwnedFd>, String> {
    if landlock_abi() <= 0 {
        return Ok(None);
    }
    let abi = WANTED_ABI;
    let read = AccessFs::from_read(abi);
    let created = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(read_exec, read)))
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                SYSTEM_WRITE,
                read | AccessFs::WriteFile | AccessFs::Truncate,
            ))
        })
        .and_then(|r| r.add_rules(path_beneath_rules([job_dir], AccessFs::from_all(abi))))
        .map_err(|e| format!("cannot build the Landlock ruleset: {e}"))?;
    Ok(Option::<OwnedFd>::from(created))
}

/// In the compile's child, between fork and exec: no new privileges, then the ruleset.
///
/// # Safety
/// Runs after fork in a multithreaded process: it makes only async-signal-safe syscalls
/// and allocates nothing.
pub unsafe fn enforce_in_child(ruleset: Option<RawFd>) -> std::io::Result<()> {
    // SAFETY: plain syscalls on an fd the parent keeps open until the child has exec'd.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if let Some(fd) = ruleset {
            if libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The raw fd of a ruleset, for [`enforce_in_child`].
pub fn raw(ruleset: Option<&OwnedFd>) -> Option<RawFd> {
    ruleset.map(AsRawFd::as_raw_fd)
}
