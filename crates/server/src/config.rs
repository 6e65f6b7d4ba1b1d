//! The typed settings of `distsetup serve`. `cli.rs` converts parsed flags into these;
//! everything below takes them as given (validation happens in [`ServeSettings::validate`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use super::error::ServeError;
use super::names::tool_of;
use distcc_wire::Limits;

/// Default TCP port of distcc.
pub const DEFAULT_PORT: u16 = 3632;
/// distccd's default niceness increment.
pub const DEFAULT_NICE: i32 = 5;
/// How long a compile may run unless `--job-lifetime` says otherwise (distccd has no
/// limit: a compiler that never ends would hold a slot forever).
pub const DEFAULT_JOB_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Default port of the stats page.
pub const DEFAULT_STATS_PORT: u16 = 3633;
/// Where distcc ≥ 3.3 keeps its compiler whitelist (masquerade links).
pub const DEFAULT_MASQUERADE_DIR: &str = "/usr/lib/distcc";

/// Set in the server's environment, compiles run without Landlock (tests only: they
/// show that the grammar and the system-call filter hold on a kernel without it).
pub const NO_LANDLOCK_FOR_TESTS: &str = "DISTSETUP_TEST_NO_LANDLOCK";

/// How verbose the log is, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Failures of the server itself.
    Error,
    /// Refusals and client misbehaviour.
    Warning,
    /// Start, stop, and one line per job.
    Notice,
    /// Connection-level detail.
    Info,
    /// Everything, including argv rewriting.
    Debug,
}

impl LogLevel {
    /// Parse a distccd-style level name (`err`, `warning`, `notice`, `info`, `debug`, ...).
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "emerg" | "emergency" | "alert" | "crit" | "critical" | "err" | "error" => {
                LogLevel::Error
            }
            "warn" | "warning" => LogLevel::Warning,
            "notice" | "note" => LogLevel::Notice,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            _ => return None,
        })
    }

    /// The name used in log lines.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warning => "warning",
            LogLevel::Notice => "notice",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

/// One `--alias FROM=TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alias {
    /// `FROM` and `TO` are triples: `FROM-<tool>` runs `TO-<tool>` for every tool.
    Triple {
        /// The prefix the client asks for (without the trailing `-`).
        from: String,
        /// The prefix this machine has.
        to: String,
    },
    /// A whole compiler name: `FROM` runs `TO` (a name resolved in the toolchain dirs
    /// or the server's PATH, or an absolute path the operator chose).
    Name {
        /// The name the client asks for.
        from: String,
        /// What runs.
        to: String,
    },
}

impl Alias {
    /// Parse `FROM=TO`. A side with a tool suffix (`-gcc`, `-g++`, `-cc`, `-c++`, `-cpp`)
    /// or without any `-` is a whole name; otherwise both sides are triples.
    pub fn parse(s: &str) -> Result<Alias, ServeError> {
        let bad = |why: &str| ServeError::BadSetting {
            setting: "--alias",
            value: s.to_owned(),
            reason: why.to_owned(),
        };
        let (from, to) = s.split_once('=').ok_or_else(|| bad("expected FROM=TO"))?;
        if from.is_empty() || to.is_empty() {
            return Err(bad("FROM and TO must not be empty"));
        }
        if from.contains('/') && (!from.starts_with('/') || from.ends_with('/')) {
            return Err(bad(
                "FROM is a name or an absolute compiler path the client sends",
            ));
        }
        let is_triple = |x: &str| x.matches('-').count() >= 2 && tool_of(x).is_none();
        if is_triple(from) && !to.contains('/') && is_triple(to) {
            Ok(Alias::Triple {
                from: from.to_owned(),
                to: to.to_owned(),
            })
        } else {
            Ok(Alias::Name {
                from: from.to_owned(),
                to: to.to_owned(),
            })
        }
    }
}

/// Everything `distsetup serve` needs to run.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Addresses to listen on; empty means the wildcard (`::` dual-stack, or `0.0.0.0`).
    pub listen: Vec<IpAddr>,
    /// TCP port for jobs.
    pub port: u16,
    /// Peers allowed to connect (jobs and stats).
    pub allow: Vec<IpNet>,
    /// Jobs arrive over the secure link (`serve --tls`): the pinned key admits a master,
    /// so an empty `allow` (no stats page, no plain jobs) is fine.
    pub link: bool,
    /// Most compiles at once.
    pub jobs: usize,
    /// Most open client connections at once (queued, reading or compiling).
    pub max_connections: usize,
    /// Directories whose executables are compilers clients may ask for by name.
    pub toolchains: Vec<PathBuf>,
    /// Name and triple mappings.
    pub aliases: Vec<Alias>,
    /// Whitelist directories in distcc's sense (a name present there may be run).
    pub masquerade_dirs: Vec<PathBuf>,
    /// Where whitelisted and aliased names are looked up (the server's own PATH).
    pub search_path: Vec<PathBuf>,
    /// Serve the stats page on this port.
    pub stats_port: Option<u16>,
    /// Serve exactly one job on stdin/stdout.
    pub inetd: bool,
    /// Log threshold.
    pub log_level: LogLevel,
    /// Log file (append); stderr when `None`.
    pub log_file: Option<PathBuf>,
    /// Kill a compile that runs longer than this.
    pub job_lifetime: Option<Duration>,
    /// Give up on a peer that makes no progress for this long.
    pub io_timeout: Duration,
    /// Once the shutdown future completes (SIGTERM), how long running jobs may take
    /// before they are killed.
    pub grace: Duration,
    /// Exit (as after SIGTERM) after this long; for tests and benchmarks. Part of the
    /// caller's shutdown future: [`super::run`] does not read it.
    pub lifetime: Option<Duration>,
    /// Write the server's pid here while running. The process's business: the caller
    /// writes it, [`super::run`] does not.
    pub pid_file: Option<PathBuf>,
    /// Parent of the per-job directories.
    pub tmpdir: PathBuf,
    /// Niceness increment for the server and so its compilers (distccd's `--nice`,
    /// default 5): the volunteer's own work, and the client's preprocessing when both
    /// run on one machine, come first. Validated here, applied by the caller (it is a
    /// process setting).
    pub nice: i32,
    /// Hard caps on requests.
    pub limits: Limits,
    /// Most connections one client address may hold (`--max-client-connections`).
    pub max_client_connections: usize,
    /// Most jobs one client may have queued or compiling (`--max-client-queued`); its
    /// further connections wait unread. `None`: twice `jobs`, plus two.
    pub max_client_queued: Option<usize>,
    /// Most bytes of source all connections together may hold on disk (each one at most
    /// `limits.max_doti_plain`); past it a request is closed without a reply.
    pub max_held_sources: u64,
    /// Cap on compiler stdout and stderr kept for the reply (each).
    pub max_output: usize,
    /// Largest object sent back (`--max-object`); the wire format caps it below 4 GiB.
    pub max_object: u64,
    /// How long one write of a reply may wait for the client to read (a client that
    /// does not drain its reply is dropped); never longer than `io_timeout`.
    pub send_timeout: Duration,
    /// Confine each compile with Landlock where the kernel has it. Tests that show what
    /// the grammar and seccomp hold by themselves switch it off with the environment
    /// variable [`NO_LANDLOCK_FOR_TESTS`]; no flag does.
    pub landlock: bool,
    /// Started as root: the user to become after binding (`--user`); `None` picks the
    /// distro's distcc user, else `nobody`. The process's business: the caller drops.
    pub user: Option<String>,
}

impl ServeSettings {
    /// Settings with distccd's defaults and an empty allow list (which `validate` refuses).
    pub fn new() -> ServeSettings {
        let search_path = std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .filter(|d| d.is_absolute())
                    .collect()
            })
            .unwrap_or_else(|| {
                vec![
                    PathBuf::from("/usr/local/bin"),
                    PathBuf::from("/usr/bin"),
                    PathBuf::from("/bin"),
                ]
            });
        ServeSettings {
            listen: Vec::new(),
            port: DEFAULT_PORT,
            allow: Vec::new(),
            link: false,
            jobs: default_jobs(),
            max_connections: 256,
            toolchains: Vec::new(),
            aliases: Vec::new(),
            masquerade_dirs: vec![PathBuf::from(DEFAULT_MASQUERADE_DIR)],
            search_path,
            stats_port: None,
            inetd: false,
            log_level: LogLevel::Notice,
            log_file: None,
            job_lifetime: Some(DEFAULT_JOB_LIFETIME),
            io_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(30),
            lifetime: None,
            pid_file: None,
            tmpdir: std::env::temp_dir(),
            nice: DEFAULT_NICE,
            limits: Limits {
                max_doti_wire: 128 << 20,
                max_doti_plain: 256 << 20,
                max_request: 130 << 20,
                ..Limits::default()
            },
            max_held_sources: 4 << 30,
            max_client_connections: 64,
            max_client_queued: None,
            max_output: 16 << 20,
            max_object: u64::from(u32::MAX),
            send_timeout: Duration::from_secs(20),
            landlock: std::env::var_os(NO_LANDLOCK_FOR_TESTS).is_none(),
            user: None,
        }
    }

    /// Refuse settings the server cannot run with safely.
    pub fn validate(&self) -> Result<(), ServeError> {
        if self.allow.is_empty() && !self.inetd && !self.link {
            return Err(ServeError::NoAllow);
        }
        if self.jobs == 0 {
            return Err(ServeError::BadSetting {
                setting: "--jobs",
                value: "0".into(),
                reason: "at least one job must be able to run".into(),
            });
        }
        if !(0..=19).contains(&self.nice) {
            return Err(ServeError::BadSetting {
                setting: "--nice",
                value: self.nice.to_string(),
                reason: "expected 0 to 19 (an increment; the server never raises its priority)"
                    .into(),
            });
        }
        if self.max_connections < self.jobs {
            return Err(ServeError::BadSetting {
                setting: "--max-connections",
                value: self.max_connections.to_string(),
                reason: format!("must be at least --jobs ({})", self.jobs),
            });
        }
        for dir in &self.toolchains {
            if !dir.is_dir() {
                return Err(ServeError::BadSetting {
                    setting: "--toolchain",
                    value: dir.display().to_string(),
                    reason: "not a directory".into(),
                });
            }
        }
        Ok(())
    }
}

impl ServeSettings {
    /// The per-client queue actually used.
    pub fn max_client_queued(&self) -> usize {
        self.max_client_queued.unwrap_or(2 * self.jobs + 2).max(1)
    }

    /// The per-write send time-out actually used.
    pub fn send_timeout(&self) -> Duration {
        self.send_timeout.min(self.io_timeout)
    }
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings::new()
    }
}

/// distccd's default: number of CPUs + 2.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) + 2
}
