//! Start-up check: the user the server dropped to can run every compiler it offers. The
//! table is built while still root, so a toolchain behind a 0700 home passes it, and
//! then every compile fails with "Permission denied" (distcc's exit 110) while the client
//! quietly builds on the master. Said once, at start, with the fix.

use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;

use super::config::LogLevel;
use super::shared::Server;

/// A compiler of the table that the server's user cannot start.
#[derive(Debug)]
pub struct Unrunnable {
    /// The executable, as the table names it.
    pub path: PathBuf,
    /// Why it may not be executed.
    pub error: std::io::Error,
}

/// The executables of the compiler table the current user may not execute: `access(2)`
/// with X_OK, which walks the path (every directory on the way, every link) with the
/// process's own ids. Nothing is run: a compiler runs only confined, for a job.
pub fn unrunnable(server: &Server) -> Vec<Unrunnable> {
    server
        .shared
        .table
        .executables()
        .into_iter()
        .filter_map(|path| {
            let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
            // SAFETY: `c` is a NUL-terminated path that outlives the call.
            let ok = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
            (!ok).then(|| Unrunnable {
                path,
                error: std::io::Error::last_os_error(),
            })
        })
        .collect()
}

/// Check as `user` (the user the process now runs as) and log one line when some
/// compilers cannot run. Returns how many cannot.
pub fn check(server: &Server, user: &str) -> usize {
    let bad = unrunnable(server);
    if bad.is_empty() {
        return 0;
    }
    let list: Vec<String> = bad
        .iter()
        .map(|u| format!("{} ({})", u.path.display(), u.error))
        .collect();
    server.log(
        LogLevel::Error,
        &format!(
            "user {user} cannot run {} of the compilers this server offers: {}; every compile \
             with them fails (distcc's exit 110). A directory on the way is closed to {user} \
             (a 0700 home?): move the toolchain to /opt, or let others through that directory \
             (chmod o+x), then restart the server",
            bad.len(),
            list.join(", ")
        ),
    );
    bad.len()
}
