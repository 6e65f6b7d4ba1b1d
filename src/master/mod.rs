//! The master role: a distro profile, the machine's facts and the user's settings become
//! one [`Plan`] (every file, one diff). This module reads files and runs `gcc` to learn
//! facts; it never writes — only [`crate::plan`] does.
//!
//! # makepkg (profiles `arch`, `archarm`, `debian`)
//! `BUILDENV` gains `distcc` in place of `!distcc`, `DISTCC_HOSTS` is set, and
//! `MAKEFLAGS="-jN"`. Where the settings go is decided from how makepkg loads its
//! configuration (pacman ≥ 6.1, `scripts/libmakepkg/util/config.sh`): it sources
//! `$MAKEPKG_CONF` (`/etc/makepkg.conf`), then every `$MAKEPKG_CONF.d/*.conf` in glob order,
//! then the user's `~/.config/pacman/makepkg.conf` (or else `~/.makepkg.conf`).
//! - When the profile names a drop-in directory and it exists under the root, we write
//!   `makepkg.conf.d/distcc.conf` and leave makepkg.conf alone: a pacman upgrade replaces
//!   makepkg.conf (or leaves a `.pacnew` to merge) but never touches a drop-in of ours.
//!   The drop-in holds a full static `BUILDENV=(…)`: the effective list of makepkg.conf and
//!   the drop-ins sorting before `distcc.conf`, with `!distcc` turned into `distcc`. So bash
//!   sees BUILDENV with `distcc` and without `!distcc`, whatever the earlier files said. A
//!   re-run recomputes the list, so a change in makepkg.conf shows up in the diff.
//! - Otherwise makepkg.conf is edited in place, keeping every other byte.
//! - A drop-in sorting after `distcc.conf`, or a user configuration, that assigns BUILDENV,
//!   DISTCC_HOSTS or MAKEFLAGS would override what we write: a warning names it.
//! - Glob order is taken as byte order (bash in the C locale); the names that occur in
//!   practice (`fortran.conf`, `rust.conf`) sort the same in every locale.
//!
//! A BUILDENV that is dynamic, inside an `if` or a function, or appended to with `+=` in an
//! earlier drop-in cannot be rewritten safely: we explain, write nothing, and say what to
//! add by hand. An empty `DISTCC_HOSTS=""` is never written (distcc would take it as "no
//! hosts" and ignore the hosts files): without `--hosts` the hosts already configured are
//! used, or we refuse.
//!
//! # Debian
//! `/etc/distcc/hosts` carries the host list. When a makepkg.conf exists under the root,
//! makepkg is set up too, and because Debian's distcc package fills only the top level of
//! `/usr/lib/distcc`, the masquerade directory `/usr/lib/distcc/bin` that makepkg prepends to
//! PATH is created with links `gcc`, `cc`, `g++`, `c++` (and `TRIPLE-gcc`, `TRIPLE-g++` for
//! each of the profile's triples whose compiler is installed) pointing to the *relative*
//! target `../../../bin/distcc`: a relative link means `/usr/bin/distcc` of the tree it lives
//! in, so it stays right inside a chroot, when the tree is inspected from outside, and when
//! it is bind-mounted. Which profiles treat makepkg as optional: those whose distcc package
//! does not ship the masquerade directory (`masquerade-shipped = false`).
//!
//! # Gentoo
//! `FEATURES` gains `distcc` (the rest kept), `MAKEOPTS="-jN -lM"`, and `/etc/distcc/hosts`
//! gets the host list. make.conf is decided and checked in what Portage itself reads
//! ([`crate::shconf::portage`], a model of `getconfig()` that the tests hold against the
//! real Portage): `/etc/make.conf`, then `/etc/portage/make.conf` (a directory read
//! recursively, in sorted order), with the files they `source`. Each variable is edited
//! where the assignment Portage ends up with is written (after the `source` line when that
//! is a sourced file); a variable nothing assigns goes into a new `make.conf/distcc.conf`
//! (a directory) or the last file. A new word-list line is `FEATURES="${FEATURES} distcc"`
//! so what earlier files set is kept. A file emerge cannot parse, or an assignment Portage
//! and bash read differently, is refused with its line, and every edit is read back: only
//! the intended variable may change, to the intended value (`master/portage.rs`).
//!
//! # The hosts file
//! `/etc/distcc/hosts` keeps every comment and blank line (Gentoo's `distcc-config
//! --set-hosts` drops them); the host tokens are replaced by the new list, written where the
//! first host line was. A file whose hosts already mean the new list is left untouched.
//!
//! # -j
//! `--jobs auto` applies the profile's rule to the usable physical cores
//! ([`crate::cores::detect`]) and the remote slots: the sum of the remote hosts' limits
//! (distcc's default limit is 4; `localhost` is not remote, but the measured rule adds its
//! slots, [`JobsRule::advise_slots`]). `--jobs N` sets `-jN`; a rule
//! with a load limit keeps `-l` = local cores. The reasoning is printed in words.

use crate::child::CheckedOutput as _;
use std::path::{Component, Path, PathBuf};

use crate::cores::{JobsAdvice, JobsRule};
use crate::hostspec::{self, HostList, Transport};
use crate::plan::{self, Before, Mode, Plan, SysRoot};
use crate::profile::{Makepkg, Portage, Profile};
use crate::shconf::{self, Dialect, Document, Edit, Scope, Value};

mod ccache;
mod conf;
mod hosts;
mod makepkg;
mod portage;
mod relay;
mod zeroconf;
pub use crate::passwd::{PasswdEntry, lookup_user};
use ccache::*;
pub use ccache::{Ccache, with_prefix_command};
pub use conf::relative_target;
use conf::*;
pub use hosts::hosts_file_bytes;
use hosts::*;
use makepkg::*;
use portage::*;
pub use relay::{RelayChoice, client_env, client_hosts};

/// The drop-in we own in `makepkg.conf.d/` and `make.conf/`.
pub const DROPIN_NAME: &str = "distcc.conf";

/// Compiler flag variables checked for `-march=native`/`-mtune=native`.
const FLAG_VARS: [&str; 3] = ["CFLAGS", "CXXFLAGS", "COMMON_FLAGS"];

/// Why `master` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The host list does not parse.
    #[error("{origin}: line {line}, column {column}: {reason}")]
    Hosts {
        /// `--hosts`, or the file the list came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// No hosts to configure.
    #[error("no distcc hosts: {0}")]
    NoHosts(String),
    /// A file cannot be edited safely.
    #[error("{file}:{line}:{column}: {reason}\nnothing was written; add this by hand: {by_hand}")]
    Unsafe {
        /// The file (system path).
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
        /// What the user should write instead.
        by_hand: String,
    },
    /// A configuration file the profile needs is missing.
    #[error("{path}: not found under {root}; {hint}")]
    MissingConfig {
        /// System path.
        path: PathBuf,
        /// The root.
        root: PathBuf,
        /// What that means.
        hint: String,
    },
    /// The profile configures no client.
    #[error("profile {0} has no makepkg or portage section: it cannot configure a master")]
    NoClient(String),
    /// `--jobs auto` without a core count.
    #[error("cannot count this machine's cores ({0}); pass --jobs N")]
    NoCores(String),
    /// A user the plan needs (makepkg's build user, `portage`) is not there.
    #[error("{file}: user {user}: {reason}")]
    User {
        /// The user name.
        user: String,
        /// The passwd file read.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Planning or applying failed.
    #[error(transparent)]
    Plan(#[from] plan::Error),
    /// Writing the report failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// The largest `--jobs N` accepted: far beyond any real cluster's slots, small enough
/// that a typo (`--jobs 9999999999`) is refused instead of written into MAKEFLAGS.
pub const MAX_JOBS: usize = 1024;

/// How `-j` is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobsChoice {
    /// From the profile's rule, the cores and the remote slots.
    Auto,
    /// `--jobs N`.
    Fixed(usize),
}

/// The resolved command line of `distsetup master`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The distro profile.
    pub profile: Profile,
    /// Where system paths resolve.
    pub root: SysRoot,
    /// `--hosts SPEC`, if given.
    pub hosts: Option<String>,
    /// `--jobs`.
    pub jobs: JobsChoice,
    /// Execution mode.
    pub mode: Mode,
    /// `--ccache`: ccache in front of distcc.
    pub ccache: Option<Ccache>,
    /// `--relay`: the client talks to `distsetup relay` on this machine.
    pub relay: Option<RelayChoice>,
}

/// What `-march=native` means on this machine (`gcc -march=native -Q --help=target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeFlags {
    /// The resolved `-march=` value.
    pub march: String,
    /// The resolved `-mtune=` value.
    pub mtune: String,
}

/// Facts about the machine the plan depends on, gathered once (tests pass their own).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Usable physical cores and the words explaining the count; `None` when unknown.
    pub local_cores: Option<(usize, String)>,
    /// Why the cores are unknown, when they are.
    pub cores_error: Option<String>,
    /// `-march=native` resolved by this machine's gcc, when gcc is there.
    pub native: Option<NativeFlags>,
}

impl Facts {
    /// Count the cores and ask gcc what `native` means.
    pub fn detect() -> Facts {
        let (local_cores, cores_error) = match crate::cores::detect() {
            Ok(c) => (Some((c.usable, c.explain())), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Facts {
            local_cores,
            cores_error,
            native: native_flags(),
        }
    }
}

/// Run `gcc -march=native -Q --help=target` and read the resolved `-march=`/`-mtune=`.
pub fn native_flags() -> Option<NativeFlags> {
    let out = std::process::Command::new("gcc")
        .args(["-march=native", "-Q", "--help=target"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .checked_output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_native(&String::from_utf8_lossy(&out.stdout))
}

/// Read `-march=` and `-mtune=` from gcc's `-Q --help=target` listing.
pub fn parse_native(text: &str) -> Option<NativeFlags> {
    let value = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.trim_start().strip_prefix(key)?;
            let v = rest.trim();
            (!v.is_empty() && !v.contains(' ')).then(|| v.to_string())
        })
    };
    Some(NativeFlags {
        march: value("-march=")?,
        mtune: value("-mtune=").unwrap_or_default(),
    })
}

/// The plan and the words that go with it.
#[derive(Debug)]
pub struct Report {
    /// Every change, one diff.
    pub plan: Plan,
    /// The reasoning (hosts, cores, -j, where things go), for standard output.
    pub notes: Vec<String>,
    /// Things that will not work as the user expects, for standard error.
    pub warnings: Vec<String>,
}

/// Compute the plan for `settings` on a machine described by `facts`. Writes nothing.
pub fn plan(settings: &Settings, facts: &Facts) -> Result<Report, Error> {
    let profile = &settings.profile;
    let root = &settings.root;
    let client = &profile.client;
    if client.makepkg.is_none() && client.portage.is_none() {
        return Err(Error::NoClient(profile.name.clone()));
    }
    let mut report = Report {
        plan: Plan::new(root.clone()),
        notes: vec![format!(
            "profile {}: {} (root {})",
            profile.name,
            profile.description,
            root.dir().display()
        )],
        warnings: Vec::new(),
    };
    // Debian-like profiles: makepkg is a guest, the hosts file is the main configuration.
    let makepkg_optional = !client.masquerade_shipped;
    let makepkg = match &client.makepkg {
        Some(m) => {
            let main = ConfFile::read(root, &m.config, Dialect::Bash)?;
            if main.is_none() && !makepkg_optional {
                return Err(Error::MissingConfig {
                    path: m.config.clone(),
                    root: root.dir().to_path_buf(),
                    hint: "is makepkg (pacman) installed there?".into(),
                });
            }
            if main.is_none() {
                report.notes.push(format!(
                    "makepkg: {} not found, so makepkg is not set up",
                    m.config.display()
                ));
            }
            main.map(|main| (m, main))
        }
        None => None,
    };
    let write_hosts_file = client.makepkg.is_none() || makepkg_optional;
    let existing_hosts = match &makepkg {
        Some((m, main)) => makepkg_hosts(root, m, main)?,
        None => None,
    };
    let mut hosts = resolve_hosts(settings, existing_hosts, &client.hosts_file)?;
    report.warnings.append(&mut hosts.warnings);
    report.notes.push(format!(
        "hosts: {} ({} remote {})",
        hosts.spec,
        hosts.remote_slots,
        if hosts.remote_slots == 1 {
            "slot"
        } else {
            "slots"
        }
    ));
    let discovered = if hosts.zeroconf {
        zeroconf::snapshot(&profile.name, "cc", &mut report)
    } else {
        0
    };
    // What +zeroconf finds now counts as remote slots for -j (a snapshot, said so).
    hosts.remote_slots += discovered;
    let advice = jobs(settings, facts, &hosts, &mut report.notes)?;
    if let Some(r) = &settings.relay {
        relay::plan_relay(settings, r, &mut hosts, &mut report)?;
        if client.portage.is_none() && makepkg_optional {
            relay::plan_profile_d(&mut report)?;
        }
    }

    if makepkg.is_none() && client.portage.is_none() {
        report.notes.push(no_make_config(&advice));
    }
    if let Some((m, main)) = makepkg {
        plan_makepkg(settings, m, main, &hosts, &advice, facts, &mut report)?;
        if !client.masquerade_shipped {
            if let Some(dir) = &client.masquerade_dir {
                plan_masquerade(settings, dir, &mut report)?;
            }
        }
        if let Some(cc) = &settings.ccache {
            plan_makepkg_ccache(settings, cc, &mut report)?;
        }
    }
    if settings.ccache.is_some() && makepkg_optional {
        plan_debian_ccache(root, &mut report)?;
    }
    if let Some(p) = &client.portage {
        plan_portage(settings, p, &hosts, &advice, facts, &mut report)?;
    }
    if write_hosts_file {
        plan_hosts_file(root, &client.hosts_file, &hosts, &mut report)?;
    }
    Ok(report)
}

/// Without makepkg or Portage nothing reads `-j` from a file: say how to pass it.
fn no_make_config(advice: &JobsAdvice) -> String {
    let flags = advice.flags();
    format!(
        "make: {flags} is written nowhere (no makepkg.conf here, and make reads no \
         configuration file); pass it yourself: make {flags} CC=\"distcc gcc\" \
         CXX=\"distcc g++\", or export MAKEFLAGS=\"{flags}\" in the shell that builds \
         (dpkg-buildpackage {flags} for Debian packages)"
    )
}

fn jobs(
    settings: &Settings,
    facts: &Facts,
    hosts: &Hosts,
    notes: &mut Vec<String>,
) -> Result<JobsAdvice, Error> {
    let (remote_slots, localhost_slots) = (hosts.remote_slots, hosts.localhost_slots);
    let jobs = &settings.profile.jobs;
    let rule: JobsRule = jobs.rule;
    match settings.jobs {
        JobsChoice::Auto => {
            let Some((cores, why)) = &facts.local_cores else {
                return Err(Error::NoCores(
                    facts
                        .cores_error
                        .clone()
                        .unwrap_or_else(|| "unknown".into()),
                ));
            };
            notes.push(format!("cores: {why}"));
            let advice = rule.advise_slots(*cores, remote_slots, localhost_slots);
            // The number and how it came, then the rule and its source on lines of their
            // own (one line of nested parentheses was unreadable).
            notes.push(format!("jobs: {}", advice.reasoning));
            notes.push(format!("      rule: {}", rule.summary()));
            notes.push(format!("      from: {}", jobs.source));
            Ok(advice)
        }
        JobsChoice::Fixed(n) => {
            let load = facts
                .local_cores
                .as_ref()
                .and_then(|(c, _)| rule.advise_slots(*c, remote_slots, localhost_slots).load);
            let mut reasoning = format!("--jobs {n} given → -j{n}");
            if let Some(l) = load {
                reasoning.push_str(&format!("; load limit = {l} local cores → -l{l}"));
            }
            notes.push(format!("jobs: {reasoning}"));
            Ok(JobsAdvice {
                jobs: n,
                load,
                reasoning,
            })
        }
    }
}

impl From<crate::passwd::PasswdError> for Error {
    fn from(e: crate::passwd::PasswdError) -> Error {
        match e {
            crate::passwd::PasswdError::Io(e) => Error::Plan(e),
            crate::passwd::PasswdError::User { user, file, reason } => {
                Error::User { user, file, reason }
            }
        }
    }
}
