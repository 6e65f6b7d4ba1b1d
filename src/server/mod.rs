//! `distsetup serve`: an embedded distcc-compatible compile server (protocols 1 and 2).
//!
//! Design:
//! - one tokio runtime; one task per connection; the request is read with an I/O
//!   time-out *before* a job slot is taken, so slow or idle peers cost a connection slot
//!   (capped separately) but never a compile slot;
//! - compilers run from the server's own [`compilers::CompilerTable`], spawned directly
//!   (no shell, no PATH search of a peer string) in their own process group, in a private
//!   job directory that is removed on every path;
//! - refusals for allowed peers are answered with a failing `STAT` and an explanation on
//!   `SERR`; disallowed peers and protocol violations get a closed connection.
//!
//! Only this module opens sockets.

pub mod args;
pub mod compilers;
pub mod config;
mod conn;
mod daemon;
mod job;
pub mod log;
pub mod stats;

use std::collections::HashSet;
use std::sync::Mutex;

use thiserror::Error;

pub use config::{Alias, LogLevel, ServeSettings};

/// Why the server could not start (or stopped with an error).
#[derive(Debug, Error)]
pub enum ServeError {
    /// No `--allow`: distccd 3.4 then serves everyone; we refuse to start.
    #[error(
        "no --allow given: refusing to serve every host on the network. Name the clients, \
         e.g. --allow 192.168.1.0/24 (or --allow 127.0.0.1/32 for this machine only)"
    )]
    NoAllow,
    /// A setting that cannot work.
    #[error("{setting} {value}: {reason}")]
    BadSetting {
        /// The flag.
        setting: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
    /// Could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address and port.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Any other I/O failure at startup.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) settings: ServeSettings,
    pub(crate) table: compilers::CompilerTable,
    pub(crate) log: log::Logger,
    pub(crate) stats: stats::Stats,
    pub(crate) jobs: tokio::sync::Semaphore,
    /// Process groups of running compilers, killed when the grace period ends.
    groups: Mutex<HashSet<i32>>,
}

impl Shared {
    pub(crate) fn groups_insert(&self, pgid: i32) {
        if let Ok(mut g) = self.groups.lock() {
            g.insert(pgid);
        }
    }

    pub(crate) fn groups_remove(&self, pgid: i32) {
        if let Ok(mut g) = self.groups.lock() {
            g.remove(&pgid);
        }
    }

    fn kill_all_groups(&self) {
        if let Ok(g) = self.groups.lock() {
            for &p in g.iter() {
                job::kill_group(p);
            }
        }
    }
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which
/// request and object buffers (hundreds of KiB each) come from the heap and stay
/// there; one arena per worker thread multiplies that. A fixed threshold sends every
/// large buffer back to the kernel on free, and two arenas are plenty for a server whose
/// work happens in the compilers.
fn limit_heap_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Run the server until SIGTERM/SIGINT (or `--lifetime`), or serve one job in
/// `--inetd` mode. Returns when the server has stopped cleanly.
pub fn run(settings: ServeSettings) -> Result<(), ServeError> {
    settings.validate()?;
    limit_heap_retention();
    let table = compilers::CompilerTable::build(&settings)?;
    let log = log::Logger::open(settings.log_level, settings.log_file.as_deref())?;
    if settings.nice > 0 {
        // Like distccd: lower our priority once; every compiler inherits it.
        // SAFETY: plain syscall with no memory arguments.
        let failed = unsafe {
            *libc::__errno_location() = 0;
            libc::nice(settings.nice) == -1 && *libc::__errno_location() != 0
        };
        if failed {
            log.log(
                config::LogLevel::Warning,
                &format!(
                    "could not lower the priority by {}: {}",
                    settings.nice,
                    std::io::Error::last_os_error()
                ),
            );
        }
    }
    let shared = Shared {
        jobs: tokio::sync::Semaphore::new(settings.jobs),
        table,
        log,
        stats: stats::Stats::default(),
        groups: Mutex::new(HashSet::new()),
        settings,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 8),
        )
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            what: "starting the async runtime".into(),
            source,
        })?;
    let shared = std::sync::Arc::new(shared);
    let result = if shared.settings.inetd {
        runtime.block_on(daemon::inetd(shared.clone()))
    } else {
        runtime.block_on(daemon::daemon(shared.clone()))
    };
    shared.kill_all_groups();
    // A blocking stdin read (inetd on a tty or file) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}
