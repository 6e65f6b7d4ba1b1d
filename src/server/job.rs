//! One compile: a private directory under `$TMPDIR`, the compiler spawned directly (no
//! shell, no PATH search), bounded in time, killed with its whole process group when the
//! client leaves or the lifetime runs out, and the directory removed on every path.

use std::collections::HashSet;
use std::future::Future;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::wire::{codes, wait_status_exit, wait_status_of};

/// How a compile ended.
#[derive(Debug)]
pub enum Ended {
    /// The compiler exited (any status).
    Exited {
        /// Wait status as the client decodes it.
        status: u32,
        /// Compiler stdout.
        stdout: Vec<u8>,
        /// Compiler stderr.
        stderr: Vec<u8>,
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
                    "distsetup serve: failed to exec {}: {e}\n",
                    compiler.display()
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
}

/// Run `argv` (argv[0] = absolute compiler path) in `dir`. `disconnected` completes when
/// the client goes away.
pub async fn run(
    groups: &Groups,
    limits: JobLimits,
    dir: &Path,
    argv: &[Vec<u8>],
    disconnected: impl Future<Output = ()>,
) -> Ended {
    let Some((program, args)) = argv.split_first() else {
        return Ended::SpawnFailed(std::io::Error::other("empty command"));
    };
    let program = std::ffi::OsStr::from_bytes(program);
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .current_dir(dir)
        // gcc's own temp files (cc*.s) go into the job dir, so a kill leaves nothing behind.
        .env("TMPDIR", dir)
        .env("_DISTCC_SAFEGUARD", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ended::SpawnFailed(e),
    };
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    if let Some(p) = pgid {
        groups.insert(p);
    }
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let cap = limits.max_output;
    let lifetime = limits.lifetime;
    let ended = {
        let collect = async {
            let (o, e, w) = tokio::join!(
                read_capped(stdout, cap),
                read_capped(stderr, cap),
                child.wait()
            );
            (o, e, w)
        };
        let timer = async {
            match lifetime {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            (stdout, stderr, waited) = collect => match waited {
                Ok(st) => Ended::Exited { status: wait_status_of(st), stdout, stderr },
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

/// Read a pipe to its end, keeping at most `cap` bytes (the rest is drained and dropped
/// so the compiler never blocks on a full pipe).
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> Vec<u8> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => {
                let room = cap.saturating_sub(out.len()).min(n);
                out.extend_from_slice(&buf[..room]);
            }
        }
    }
}
