//! The state every connection shares (settings, compiler table, log, counters, job
//! slots, running compilers) and [`Server`], the caller's handle on it.

use std::sync::Arc;

use super::compilers::CompilerTable;
use super::config::{LogLevel, ServeSettings};
use super::error::ServeError;
use super::job::{Groups, JobLimits};
use super::log::Logger;
use super::stats::Stats;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) settings: ServeSettings,
    pub(crate) table: CompilerTable,
    pub(crate) log: Logger,
    pub(crate) stats: Stats,
    pub(crate) jobs: tokio::sync::Semaphore,
    /// Process groups of running compilers, killed when the grace period ends.
    pub(crate) groups: Groups,
    /// The compile's system-call filter (`None` on architectures seccompiler lacks).
    pub(crate) seccomp: Option<super::seccomp::Filter>,
    /// Bytes of sources the connections hold on disk, capped.
    pub(crate) held: std::sync::Arc<super::source::Held>,
    /// Per-client connection and queue counts.
    pub(crate) clients: std::sync::Arc<super::clients::Clients>,
}

impl Shared {
    /// Validate the settings, build the compiler table and open the log.
    pub(crate) fn new(settings: ServeSettings) -> Result<Shared, ServeError> {
        settings.validate()?;
        let table = CompilerTable::build(&settings)?;
        let log = Logger::open(settings.log_level, settings.log_file.as_deref())?;
        let seccomp = super::seccomp::Filter::build().map_err(|e| ServeError::Io {
            what: "seccomp".into(),
            source: std::io::Error::other(e),
        })?;
        Ok(Shared {
            held: super::source::Held::new(settings.max_held_sources),
            clients: super::clients::Clients::new(
                settings.max_client_connections.max(1),
                settings.max_client_queued(),
            ),
            seccomp,
            jobs: tokio::sync::Semaphore::new(settings.jobs),
            table,
            log,
            stats: Stats::default(),
            groups: Groups::default(),
            settings,
        })
    }

    /// The bounds every compile runs under.
    pub(crate) fn job_limits(&self) -> JobLimits {
        JobLimits {
            lifetime: self.settings.job_lifetime,
            max_output: self.settings.max_output,
            max_file: self.settings.max_object,
        }
    }
}

/// A server ready to serve: settings validated, compiler table built, log open. Making
/// one opens no socket and starts no thread; [`super::run`] and [`super::serve_one`]
/// serve with it.
#[derive(Clone)]
pub struct Server {
    pub(crate) shared: Arc<Shared>,
}

impl Server {
    /// Validate `settings`, build the compiler table and open the log.
    pub fn new(settings: ServeSettings) -> Result<Server, ServeError> {
        Ok(Server {
            shared: Arc::new(Shared::new(settings)?),
        })
    }

    /// The settings the server runs with.
    pub fn settings(&self) -> &ServeSettings {
        &self.shared.settings
    }

    /// Record how the process is confined (after the caller dropped privileges), for
    /// the stats page.
    pub fn set_confinement(&self, state: super::confine::ConfineState) {
        self.shared.stats.set_confinement(state);
    }

    /// Write a line to the server's log (for the process around it: signals, priority).
    pub fn log(&self, level: LogLevel, msg: &str) {
        self.shared.log.log(level, msg);
    }
}
