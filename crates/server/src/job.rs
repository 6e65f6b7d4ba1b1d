//! One compile: a private directory under `$TMPDIR`, the compiler spawned directly (no
//! shell, no PATH search), bounded in time, killed with its whole process group when the
//! client leaves or the lifetime runs out, and the directory removed on every path.

use std::collections::HashSet;
use std::fs::File;
use std::future::Future;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::{confine, seccomp};
use distcc_wire::{codes, wait_status_exit, wait_status_of};

/// A compiler's stdout or stderr: a file in the job directory that the server opened
/// (and reads through its own descriptor, whatever the compiler does to the name).
#[derive(Debug)]
pub struct Captured {
    /// The server's descriptor.
    pub file: File,
    /// How many bytes go into the reply (at most `--max-output`).
    pub len: u64,
}

impl Captured {
    #[allow(
        clippy::disallowed_methods,
        reason = "the server's own door: captured compiler output inside the job directory"
    )]
    fn create(dir: &Path, name: &str) -> std::io::Result<Captured> {
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(dir.join(name))?;
        Ok(Captured { file, len: 0 })
    }

    /// Take the size the compiler left, capped at `cap`.
    fn settle(&mut self, cap: usize) {
        let size = self.file.metadata().map_or(0, |m| m.len());
        self.len = size.min(u64::try_from(cap).unwrap_or(u64::MAX));
    }

    /// The last `n` bytes of what goes into the reply.
    pub fn tail(&self, n: u64) -> Vec<u8> {
        let start = self.len.saturating_sub(n);
        let mut buf = vec![0u8; usize::try_from(self.len - start).unwrap_or(0)];
        match self.file.read_exact_at(&mut buf, start) {
            Ok(()) => buf,
            Err(_) => Vec::new(),
        }
    }

    /// Append a server message (after what the compiler wrote).
    pub fn append(&mut self, text: &[u8]) {
        if self.file.write_all_at(text, self.len).is_ok() {
            self.len += text.len() as u64;
        }
    }
}

/// How a compile ended.
#[derive(Debug)]
pub enum Ended {
    /// The compiler exited (any status).
    Exited {
        /// Wait status as the client decodes it.
        status: u32,
        /// Compiler stdout.
        stdout: Captured,
        /// Compiler stderr.
        stderr: Captured,
    },
    /// `--job-lifetime` ran out; the process group was killed.
    LifetimeExceeded,
    /// The client closed the connection; the process group was killed.
    Disconnected,
    /// The compiler could not be started.
    SpawnFailed(std::io::Error),
}

impl Ended {
    /// The STAT value and extra SERR text for the reply.
    pub fn status(&self, lifetime: Option<Duration>, compiler: &Path) -> (u32, Option<String>) {
        match self {
            Ended::Exited { status, .. } => (*status, None),
            Ended::LifetimeExceeded => (
                wait_status_exit(codes::TIMEOUT),
                Some(format!(
                    "distsetup serve: compile killed after {} s (--job-lifetime)\n",
                    lifetime.map_or(0, |d| d.as_secs())
                )),
            ),
            Ended::Disconnected => (
                wait_status_exit(codes::IO_ERROR),
                Some("distsetup serve: client disconnected, compile killed\n".into()),
            ),
            Ended::SpawnFailed(e) => (
                wait_status_exit(codes::COMPILER_MISSING),
                Some(format!(
                    "distsetup serve: failed to start the compiler {}: {}\n",
                    compiler
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    std::io::Error::from(e.kind())
                )),
            ),
        }
    }
}

/// The process groups of running compilers, so the server can kill them all when the
/// grace period ends.
#[derive(Debug, Default)]
pub struct Groups(Mutex<HashSet<i32>>);

impl Groups {
    fn insert(&self, pgid: i32) {
        if let Ok(mut g) = self.0.lock() {
            g.insert(pgid);
        }
    }

    fn remove(&self, pgid: i32) {
        if let Ok(mut g) = self.0.lock() {
            g.remove(&pgid);
        }
    }

    /// SIGKILL every compiler still running (their jobs then clean up and reply).
    pub fn kill_all(&self) {
        if let Ok(g) = self.0.lock() {
            for &p in g.iter() {
                kill_group(p);
            }
        }
    }
}

/// Bounds on one compile.
#[derive(Debug, Clone, Copy)]
pub struct JobLimits {
    /// Kill the compiler after this long.
    pub lifetime: Option<Duration>,
    /// Keep at most this much of stdout and of stderr.
    pub max_output: usize,
    /// No file of the compile may grow past this (`RLIMIT_FSIZE`: the object, the
    /// captured output, temporary files); a compiler that tries gets `SIGXFSZ`.
    pub max_file: u64,
}

/// Where and how one compile runs.
pub struct Spawn<'a> {
    /// The job directory (cwd, TMPDIR, the only writable place).
    pub dir: &'a Path,
    /// argv[0] is the absolute compiler path.
    pub argv: &'a [Vec<u8>],
    /// The Landlock ruleset to enforce in the child (`None`: no Landlock).
    pub ruleset: Option<OwnedFd>,
    /// The system-call filter to load in the child (`None`: no seccomp).
    pub seccomp: Option<Vec<seccompiler::BpfProgram>>,
}

/// Run the compile. `disconnected` completes when the client goes away.
pub async fn run(
    groups: &Groups,
    limits: JobLimits,
    spawn: Spawn<'_>,
    disconnected: impl Future<Output = ()>,
) -> Ended {
    let dir = spawn.dir;
    let Some((program, args)) = spawn.argv.split_first() else {
        return Ended::SpawnFailed(std::io::Error::other("empty command"));
    };
    let (mut stdout, mut stderr) = match (
        Captured::create(dir, ".stdout"),
        Captured::create(dir, ".stderr"),
    ) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => return Ended::SpawnFailed(e),
    };
    let (child_out, child_err) = match (stdout.file.try_clone(), stderr.file.try_clone()) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => return Ended::SpawnFailed(e),
    };
    let program = std::ffi::OsStr::from_bytes(program);
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .current_dir(dir)
        // gcc's own temp files (cc*.s) go into the job dir, so a kill leaves nothing behind.
        .env("TMPDIR", dir)
        .env("_DISTCC_SAFEGUARD", "1")
        .stdin(std::process::Stdio::null())
        .stdout(child_out)
        .stderr(child_err)
        .process_group(0)
        .kill_on_drop(true);
    let fd = confine::raw(spawn.ruleset.as_ref());
    let filter = spawn.seccomp;
    let fsize = libc::rlimit {
        rlim_cur: limits.max_file,
        rlim_max: limits.max_file,
    };
    // SAFETY: the closure makes only async-signal-safe syscalls (see enforce_in_child
    // and seccomp::install) and allocates nothing; the ruleset fd stays open in the
    // parent until spawn returns.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_FSIZE, &fsize) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            confine::enforce_in_child(fd)?;
            if let Some(programs) = &filter {
                seccomp::install(programs)?;
            }
            Ok(())
        });
    }
    let spawned = cmd.spawn();
    drop(cmd);
    drop(spawn.ruleset);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Ended::SpawnFailed(e),
    };
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    if let Some(p) = pgid {
        groups.insert(p);
    }
    let lifetime = limits.lifetime;
    let ended = {
        let timer = async {
            match lifetime {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            waited = child.wait() => match waited {
                Ok(st) => {
                    stdout.settle(limits.max_output);
                    stderr.settle(limits.max_output);
                    Ended::Exited { status: wait_status_of(st), stdout, stderr }
                }
                Err(e) => Ended::SpawnFailed(e),
            },
            () = timer => Ended::LifetimeExceeded,
            () = disconnected => Ended::Disconnected,
        }
    };
    if !matches!(ended, Ended::Exited { .. }) {
        if let Some(p) = pgid {
            kill_group(p);
        }
        let _ = child.wait().await;
    }
    if let Some(p) = pgid {
        groups.remove(p);
    }
    ended
}

/// SIGKILL a whole process group (the compiler driver and cc1/as under it).
fn kill_group(pgid: i32) {
    if pgid > 1 {
        // SAFETY: plain syscall; a stale group only yields ESRCH.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}
