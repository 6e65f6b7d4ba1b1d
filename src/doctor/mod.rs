//! `distsetup doctor`: why does my cluster build everything locally?
//!
//! Master side: every host of the list is reached, sent a probe compile over the distcc
//! protocol itself (so distccd and `distsetup serve` are checked alike), and the object
//! that comes back is read for the remote compiler's machine, gcc version and default
//! PIE, compared with the same probe compiled here; the local configuration (makepkg or
//! Portage) is checked for the traps that make distcc silently do nothing; a speed probe
//! proposes a host line. Volunteer side: what `distsetup volunteer` set up is still there
//! and works. Findings are `ok`, `warn` or `broken`; only `broken` fails the run.

pub use distsetup_relay::elf;
mod hosts;
mod master;
pub mod probe;
mod relay;
mod vars;
mod volunteer;
mod zeroconf;

use std::path::PathBuf;
use std::time::Duration;

use crate::plan::SysRoot;
use crate::profile::Profile;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but probably not as intended.
    Warn,
    /// Builds will not be distributed, or will be wrong.
    Broken,
}

/// One thing the doctor checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// Short name of the check (`reachable`, `compiler`, `buildenv`, ...).
    pub check: &'static str,
    /// What it is about: a host, a file, a unit.
    pub subject: String,
    /// The verdict.
    pub status: Status,
    /// What was found, in words.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    fn new(
        check: &'static str,
        subject: impl Into<String>,
        status: Status,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            subject: subject.into(),
            status,
            message: message.into(),
            hint: None,
        }
    }
    fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// A host's measured speed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Speed {
    /// The host token as it will be written (`HOST:PORT`).
    pub host: String,
    /// Median time of one compile of the speed unit, milliseconds.
    pub compile_ms: f64,
    /// Compiles per second with `parallel` compiles at once.
    pub throughput: f64,
    /// How many compiles ran at once for `throughput`.
    pub parallel: u32,
    /// The /LIMIT proposed from the measurement.
    pub limit: u32,
    /// Whether the host was configured with `,lzo`.
    pub lzo: bool,
}

/// The doctor's whole answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// `master` or `volunteer`.
    pub role: &'static str,
    /// The profile used.
    pub profile: String,
    /// The host list checked and where it came from (master side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts: Option<String>,
    /// Where the host list came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts_origin: Option<String>,
    /// Everything checked.
    pub findings: Vec<Finding>,
    /// Speed probe results (master side).
    pub speed: Vec<Speed>,
    /// A DISTCC_HOSTS line from the speed probe, fastest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_hosts: Option<String>,
}

impl Report {
    /// True when something is broken.
    pub fn broken(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Broken)
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The distro profile.
    pub profile: Profile,
    /// Where system paths resolve.
    pub root: SysRoot,
    /// `--hosts`: check these instead of the configured ones.
    pub hosts: Option<String>,
    /// `--volunteer`: check this machine as a volunteer.
    pub volunteer: bool,
    /// `--compiler`: the local compiler the probe is compared with; default: the
    /// `--remote-compiler` name when it exists here, else `cc`.
    pub compiler: Option<String>,
    /// Usable physical cores for judging `-j` (`None`: counted on this machine).
    pub local_cores: Option<usize>,
    /// The name sent to the servers; default `<local triple>-gcc`, as the distcc
    /// client rewrites a plain `gcc`.
    pub remote_compiler: Option<String>,
    /// Connect time-out.
    pub connect_timeout: Duration,
    /// Time-out of one compile exchange.
    pub compile_timeout: Duration,
    /// Rounds of the speed probe (0: skip it).
    pub speed_rounds: u32,
}

/// Told how far the checks are: a progress bar on a terminal, nothing in tests.
pub trait Progress: Sync {
    /// A new stage of `len` steps.
    fn begin(&self, _len: u64, _what: &str) {}
    /// What is being checked now.
    fn message(&self, _subject: &str) {}
    /// One step done.
    fn step(&self) {}
    /// The stage is over.
    fn end(&self) {}
    /// A host's probe started (called from that host's own thread).
    fn host_started(&self, _subject: &str) {}
    /// A host's probe ended; `worst` is its worst finding.
    fn host_done(&self, _subject: &str, _worst: Status) {}
}

/// Part of the report, handed out as soon as it is known (in report order), so that a
/// slow host does not hold back what is already found.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The host list checked and where it came from.
    Hosts {
        /// The hosts, comments dropped.
        list: &'a str,
        /// Where the list came from.
        origin: &'a str,
    },
    /// One finding.
    Finding(&'a Finding),
}

/// Hands the findings not handed out yet to `emit`.
pub(crate) fn flush(f: &[Finding], emitted: &mut usize, emit: &mut dyn FnMut(Event<'_>)) {
    for finding in f.iter().skip(*emitted) {
        emit(Event::Finding(finding));
    }
    *emitted = f.len();
}

/// No progress shown.
#[derive(Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {}

/// Run every check.
pub fn run(settings: &Settings, progress: &dyn Progress) -> Report {
    run_streaming(settings, progress, &mut |_| {})
}

/// Run every check, handing each part of the report to `emit` as soon as it is known
/// (hosts are probed concurrently; their findings still come in list order).
pub fn run_streaming(
    settings: &Settings,
    progress: &dyn Progress,
    emit: &mut dyn FnMut(Event<'_>),
) -> Report {
    if settings.volunteer {
        volunteer::check(settings, progress, emit)
    } else {
        master::check(settings, progress, emit)
    }
}

/// Read a file under the root as text (missing → `None`).
fn read_text(root: &SysRoot, path: &std::path::Path) -> Option<String> {
    root.read_file(path)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The real path of a system path under the root.
fn real(root: &SysRoot, path: &str) -> PathBuf {
    root.path(std::path::Path::new(path))
}

/// The profile for this machine from `/etc/os-release` under the root (`ID`, `ID_LIKE`),
/// with the machine deciding between Arch and Arch Linux ARM. Falls back to `debian`.
pub fn detect_profile(root: &SysRoot) -> &'static str {
    let text = read_text(root, std::path::Path::new("/etc/os-release"))
        .or_else(|| read_text(root, std::path::Path::new("/usr/lib/os-release")))
        .unwrap_or_default();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_ascii_lowercase())
            .unwrap_or_default()
    };
    let ids = format!("{} {}", field("ID"), field("ID_LIKE"));
    let has = |w: &str| ids.split_whitespace().any(|x| x == w);
    if has("archarm") {
        "archarm"
    } else if has("arch") {
        if std::env::consts::ARCH.starts_with("arm") || std::env::consts::ARCH == "aarch64" {
            "archarm"
        } else {
            "arch"
        }
    } else if has("gentoo") {
        "gentoo"
    } else if has("void") {
        "void"
    } else {
        "debian"
    }
}
