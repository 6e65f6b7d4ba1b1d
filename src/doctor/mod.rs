//! `distsetup doctor`: why does my cluster build everything locally?
//!
//! Master side: every host of the list is reached, sent a probe compile over the distcc
//! protocol itself (so distccd and `distsetup serve` are checked alike), and the object
//! that comes back is read for the remote compiler's machine, gcc version and default
//! PIE, compared with the same probe compiled here; the local configuration (makepkg or
//! Portage) is checked for the traps that make distcc silently do nothing; a speed probe
//! proposes a host line. Volunteer side: what `distsetup volunteer` set up is still there
//! and works. Findings are `ok`, `warn` or `broken`; only `broken` fails the run.

pub mod elf;
mod master;
pub mod probe;
mod volunteer;

use std::io::Write;
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

impl Status {
    fn tag(self) -> &'static str {
        match self {
            Status::Ok => "[ok]    ",
            Status::Warn => "[warn]  ",
            Status::Broken => "[BROKEN]",
        }
    }
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

    /// The process exit code: 0 unless something is broken (1).
    pub fn exit_code(&self) -> u8 {
        if self.broken() {
            crate::exit::NEGATIVE
        } else {
            crate::exit::OK
        }
    }

    /// The plain-text report.
    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "distsetup doctor: {} (profile {})",
            self.role, self.profile
        )?;
        if let (Some(h), Some(o)) = (&self.hosts, &self.hosts_origin) {
            writeln!(out, "hosts: {h} (from {o})")?;
        }
        for f in &self.findings {
            writeln!(
                out,
                "{} {:<10} {}: {}",
                f.status.tag(),
                f.check,
                f.subject,
                f.message
            )?;
            if let Some(h) = &f.hint {
                writeln!(out, "           → {h}")?;
            }
        }
        if !self.speed.is_empty() {
            writeln!(out, "speed (fixed unit, -O2):")?;
            for s in &self.speed {
                writeln!(
                    out,
                    "  {:<24} {:7.1} ms per compile, {:5.1} compiles/s with {} at once → /{}",
                    s.host, s.compile_ms, s.throughput, s.parallel, s.limit
                )?;
            }
        }
        if let Some(p) = &self.proposed_hosts {
            writeln!(out, "proposed host list (fastest first): {p}")?;
            writeln!(
                out,
                "  apply with: distsetup master --profile {} --hosts '{p}'",
                self.profile
            )?;
        }
        let count = |s| self.findings.iter().filter(|f| f.status == s).count();
        writeln!(
            out,
            "summary: {} ok, {} warnings, {} broken",
            count(Status::Ok),
            count(Status::Warn),
            count(Status::Broken)
        )
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
    /// The local compiler the probe is compared with (`cc`).
    pub compiler: String,
    /// The name sent to the servers; default `<local triple>-gcc`, as the distcc
    /// client rewrites a plain `gcc`.
    pub remote_compiler: Option<String>,
    /// Connect time-out.
    pub connect_timeout: Duration,
    /// Time-out of one compile exchange.
    pub compile_timeout: Duration,
    /// Rounds of the speed probe (0: skip it).
    pub speed_rounds: u32,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// Run every check.
pub fn run(settings: &Settings) -> Report {
    if settings.volunteer {
        volunteer::check(settings)
    } else {
        master::check(settings)
    }
}

/// A progress bar on stderr, or a hidden one.
fn progress(settings: &Settings, len: u64, what: &str) -> indicatif::ProgressBar {
    if !settings.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
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
