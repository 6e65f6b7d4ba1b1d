//! The volunteer role: a toolchain, a profile and the settings become a [`Plan`] (alias
//! links, distcc whitelist, server configuration, a service). Never writes itself.
//!
//! Where things live (documented in README "volunteer"):
//! - `/usr/lib/distsetup/<toolchain>/bin` — the alias directory, wholly owned by distsetup
//!   (no distro tool manages it): the unprefixed names (`gcc`, `g++`, `cc`, `c++`, `cpp`),
//!   `TRIPLE-*` (including `TRIPLE-cc`/`TRIPLE-c++` when the toolchain lacks them) and the
//!   master's names (`MASTER-gcc`, ...), each a link to the toolchain's own executable. Both
//!   servers put it first in `PATH`; the embedded server also gets it as `--toolchain`.
//!   Every link in it is ours; a link there with another target is refused (see
//!   [`Error::StaleLink`]) rather than silently re-pointed.
//! - `/usr/lib/distcc/<name>` — distccd's whitelist (`--server distccd` only): a link to
//!   `../../bin/distcc` for each name the master may ask for, as the distro's own links
//!   are. Debian's `update-distcc-symlinks` and Gentoo's `distcc-config` may delete these
//!   after a compiler upgrade; re-running the same `distsetup volunteer` command (idempotent)
//!   puts them back. The embedded server does not depend on them.

use crate::child::CheckedOutput as _;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::plan::{self, Before, Mode, Plan, SysRoot};
use crate::profile::{ConfigSyntax, KnownToolchain, Profile, ServiceManager};
use crate::shconf::{self, Dialect, Document, Edit, Value};
use crate::toolchain::{self, Located, SearchPaths, TOOLS};

mod access;
mod aliases;
mod avahi;
mod daemon;
mod ports;
mod service;
pub use access::{Denied, ServiceUser, check_runnable, checking_user, service_user};
use aliases::*;
pub use avahi::AVAHI_SERVICES;
use daemon::*;
pub use ports::listening_ports;
use ports::*;
use service::*;
pub use service::{foreground_args, service_text};

/// The directory under which distsetup keeps one alias directory per toolchain.
pub const ALIAS_BASE: &str = "/usr/lib/distsetup";
/// What whitelist links point to (relative, as Debian's and Gentoo's own links do).
pub const WHITELIST_TARGET: &str = "../../bin/distcc";
/// Stats ports are the compile port plus this offset (3636 → 4636).
pub const STATS_OFFSET: u16 = 1000;

/// Why `volunteer` refused or failed. Nothing is written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Finding or probing the toolchain failed (not found lists every place looked at).
    #[error(transparent)]
    Toolchain(#[from] toolchain::Error),
    /// The toolchain's compiler does not work.
    #[error("toolchain {bin}: {prefix}-gcc cannot compile a test file:\n{stderr}")]
    Broken {
        /// Its bin directory.
        bin: PathBuf,
        /// Its prefix.
        prefix: String,
        /// The compiler's complaint.
        stderr: String,
    },
    /// No `--allow`.
    #[error(
        "no --allow given: say which clients may use this volunteer (e.g. --allow 192.168.1.0/24); \
         distccd 3.4 serves everyone when --allow is missing"
    )]
    NoAllow,
    /// An allow entry means "everyone" without `--allow-anyone`.
    #[error(
        "--allow {0} lets anyone on the network run compilers on this machine; pass --allow-anyone if you mean it"
    )]
    AllowAnyone(String),
    /// An allow entry is not an address or a network.
    #[error(transparent)]
    BadAllow(crate::allow::Error),
    /// A `--alias` is malformed.
    #[error("--alias {value}: {reason}")]
    BadAlias {
        /// What was given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The master's name is for another architecture than the toolchain.
    #[error(
        "the master asks for {master} ({master_machine} objects) but toolchain {local} builds {local_machine} objects: \
         use a toolchain for {master_machine}"
    )]
    WrongTarget {
        /// The master's triple.
        master: String,
        /// Its ELF machine.
        master_machine: String,
        /// The toolchain's prefix.
        local: String,
        /// What the toolchain really produces.
        local_machine: String,
    },
    /// An alias would make the volunteer's own compiler name produce foreign objects.
    #[error(
        "alias {name} → {local} would shadow this machine's native compiler ({name}-gcc makes {native_machine} objects here); \
         local builds through that name would silently produce {local_machine} objects. Drop that alias"
    )]
    ShadowsNative {
        /// The master name that equals the native triple.
        name: String,
        /// The local toolchain.
        local: String,
        /// The native machine.
        native_machine: String,
        /// The toolchain's machine.
        local_machine: String,
    },
    /// A symlink we would rely on or replace points nowhere.
    #[error(
        "{path} is a broken symlink (→ {target}); remove it (rm {path}) or fix it, then run again"
    )]
    BrokenSymlink {
        /// Real path of the link.
        path: PathBuf,
        /// Its target.
        target: PathBuf,
    },
    /// A real file is where distsetup wants a link.
    #[error(
        "{0} is a real file, not a link distsetup made; distsetup never overwrites it: move it away or drop the name"
    )]
    RealFile(PathBuf),
    /// A link in distsetup's alias directory points elsewhere (the toolchain moved?).
    #[error(
        "{path} → {target} (made by distsetup for another toolchain location); wanted → {wanted}. \
         Remove the alias directory (rm -r {dir}) or `distsetup undo` the run that made it, then run again"
    )]
    StaleLink {
        /// Real path of the link.
        path: PathBuf,
        /// Its current target.
        target: PathBuf,
        /// What we would point it to.
        wanted: PathBuf,
        /// The alias directory (real path).
        dir: PathBuf,
    },
    /// The service's user cannot run the toolchain (a 0700 home on the way).
    #[error(transparent)]
    ServiceCannotRun(Box<access::Denied>),
    /// `--port` with the system distccd, whose port distsetup does not move.
    #[error(
        "--port {port}: this machine's own compiler is served by the system distccd ({service}) \
         on port {system_port}; drop --port (a second daemon for the same compiler is not what \
         you want)"
    )]
    SystemDaemonPort {
        /// What was asked.
        port: u16,
        /// The system daemon's port.
        system_port: u16,
        /// Its service name.
        service: String,
    },
    /// A port is already in use on this machine.
    #[error("port {port} ({what}) is already in use on this machine; pick another with --port")]
    PortTaken {
        /// The port.
        port: u16,
        /// What we wanted it for.
        what: String,
    },
    /// Two things would use the same port.
    #[error("port {port} ({what}) collides with {other}; pick another with --port")]
    PortClash {
        /// The port.
        port: u16,
        /// What we wanted it for.
        what: String,
        /// Who already has it.
        other: String,
    },
    /// A port too high to derive the stats port from.
    #[error("--port {0}: too high (the stats port is the port + {STATS_OFFSET})")]
    PortRange(u16),
    /// A configuration file cannot be edited safely.
    #[error("{file}:{line}:{column}: {reason}; nothing was written")]
    Unsafe {
        /// System path.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Why.
        reason: String,
    },
    /// `--zeroconf` cannot advertise what was asked.
    #[error("--zeroconf: {0}")]
    Zeroconf(String),
    /// Planning or applying failed.
    #[error(transparent)]
    Plan(#[from] plan::Error),
    /// Writing output, or running systemctl, failed.
    #[error("{0}")]
    Output(#[from] std::io::Error),
}

/// Which compile server the volunteer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// `distsetup serve` (default).
    Embedded,
    /// The system's distccd.
    Distccd,
}

/// The resolved command line of `distsetup volunteer`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The distro profile.
    pub profile: Profile,
    /// Where system paths resolve.
    pub root: SysRoot,
    /// `--toolchain NAME|PATH`.
    pub toolchain: String,
    /// `--server`.
    pub server: ServerKind,
    /// `--alias MASTER=LOCAL`, as given.
    pub aliases: Vec<String>,
    /// `--allow CIDR`, as given.
    pub allow: Vec<String>,
    /// `--allow-anyone`.
    pub allow_anyone: bool,
    /// `--jobs N`.
    pub jobs: Option<usize>,
    /// `--port P`.
    pub port: Option<u16>,
    /// `--listen ADDR`: the one address the server listens on (default: every address,
    /// IPv4 and IPv6).
    pub listen: Option<std::net::IpAddr>,
    /// `--enable`.
    pub enable: bool,
    /// `--foreground`.
    pub foreground: bool,
    /// `--zeroconf`: advertise through Avahi.
    pub zeroconf: bool,
    /// `--zeroconf-version V`: advertise for masters whose `cc -dumpversion` says V.
    pub zeroconf_version: Option<String>,
    /// `--secure`: the embedded server serves the secure link (`serve --tls`).
    pub secure: bool,
    /// Execution mode.
    pub mode: Mode,
}

/// Facts about this machine the plan depends on (tests pass their own).
#[derive(Debug, Clone)]
pub struct Facts {
    /// Where toolchain names are searched.
    pub search: SearchPaths,
    /// `gcc -dumpmachine` of this machine's native compiler, when there is one.
    pub native_triple: Option<String>,
    /// Usable cores (default `--jobs`).
    pub cores: Option<usize>,
    /// Absolute path of the distsetup binary (for `ExecStart=`).
    pub exe: PathBuf,
    /// The TCP ports listening on this machine ([`listening_ports`] of its
    /// `/proc/net/tcp` and `tcp6`, read by the command layer); `None` when they were not
    /// read (under `--root` they say nothing about the target). Planning never binds.
    pub listening: Option<BTreeSet<u16>>,
}

impl Facts {
    /// The real machine, with the listening ports the caller read.
    pub fn detect(profile: &Profile, listening: Option<BTreeSet<u16>>) -> Facts {
        let native_triple = std::process::Command::new("gcc")
            .arg("-dumpmachine")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .checked_output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty());
        Facts {
            search: SearchPaths::from_env(&profile.volunteer.toolchain_dirs),
            native_triple,
            cores: crate::cores::detect().ok().map(|c| c.usable),
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/bin/distsetup")),
            listening,
        }
    }
}

/// The service written for the toolchain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its name (`distsetup-serve-x-tools8`, `distccd-armv8`).
    pub name: String,
    /// The file written (system path).
    pub file: PathBuf,
    /// The service manager it is for.
    pub manager: ServiceManager,
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// The `PATH` the server runs with.
    pub path_env: String,
}

/// The plan and the words that go with it.
#[derive(Debug)]
pub struct Report {
    /// Every change, one diff.
    pub plan: Plan,
    /// What was chosen and found, for standard output.
    pub notes: Vec<String>,
    /// What will not work as the user expects, for standard error.
    pub warnings: Vec<String>,
    /// The service for this toolchain.
    pub service: Service,
    /// The `distsetup serve` arguments for `--foreground` (embedded only; no log file).
    pub serve_args: Vec<String>,
}

/// Compute the plan. Writes nothing.
pub fn plan(settings: &Settings, facts: &Facts) -> Result<Report, Error> {
    let profile = &settings.profile;
    let root = &settings.root;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();

    let allow = check_allow(&settings.allow, settings.allow_anyone)?;
    let known = profile.known_toolchains();
    if let Some(note) = host_search_note(root, facts) {
        notes.push(note);
    }
    let (located, local_machine, versions) = locate_and_probe(settings, facts, &mut notes)?;
    let entry = known_entry(&settings.toolchain, &located, known);
    let tc_name = entry
        .map(|k| k.name.clone())
        .unwrap_or_else(|| located.prefix.clone());

    let masters = master_names(settings, entry, &located, &local_machine, facts)?;

    let alias_dir = PathBuf::from(ALIAS_BASE).join(&tc_name).join("bin");
    let links = alias_links(&located, &masters, &mut notes, &mut warnings);
    let mut plan = Plan::new(root.clone());
    ensure_dir(&mut plan, &alias_dir)?;
    for l in &links {
        plan_owned_link(&mut plan, &alias_dir, l)?;
    }
    notes.push(format!(
        "aliases in {} (distsetup's own directory): {}",
        alias_dir.display(),
        mapping_text(&links, &located)
    ));

    let jobs = settings.jobs.or(facts.cores).unwrap_or(2).max(1);
    // This machine's own compiler with distccd: the system distccd is the one meant.
    let system = settings.server == ServerKind::Distccd && is_system_compiler(&located, facts);
    let port = choose_port(settings, entry, system)?;
    let stats_port = port
        .checked_add(STATS_OFFSET)
        .ok_or(Error::PortRange(port))?;
    let suffix = entry.map(|k| k.unit_suffix.clone()).unwrap_or_else(|| {
        located
            .prefix
            .split('-')
            .next()
            .unwrap_or("cross")
            .to_owned()
    });
    let path_env = service_path(&alias_dir, &located.bin_dir);
    let inputs = ServiceInputs {
        tc_name: &tc_name,
        alias_dir: &alias_dir,
        prefix: &located.prefix,
        masters: &masters,
        allow: &allow,
        jobs,
        port,
        stats_port,
        suffix: &suffix,
        path_env: &path_env,
    };
    let (service, serve_args) = match settings.server {
        ServerKind::Embedded => embedded_service(settings, facts, &inputs),
        ServerKind::Distccd if system => (system_service(profile, &path_env), Vec::new()),
        ServerKind::Distccd => distccd_service(settings, &inputs, &mut warnings)?,
    };

    if !system {
        check_ports(
            settings,
            facts,
            &service,
            port,
            stats_port,
            (&mut notes, &mut warnings),
            &tc_name,
        )?;
    }
    check_service_user(settings, &service, &located, &mut warnings)?;
    if !system {
        write_service(&mut plan, profile, &service)?;
        notes.push(format!(
            "service: {} ({}) on port {port}, stats on {stats_port}, {jobs} jobs, allowing {}",
            service.name,
            service.file.display(),
            allow.join(" ")
        ));
    }
    let out = (&mut plan, &mut notes, &mut warnings);
    avahi::plan_avahi(settings, facts, &inputs, &versions, out)?;

    if settings.server == ServerKind::Distccd {
        let names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
        let system = SystemDaemon {
            names: &names,
            allow: &allow,
            jobs,
            local_machine: &local_machine,
            prefix: &located.prefix,
            service: &service,
            port,
            system,
        };
        plan_system_daemon(
            settings,
            facts,
            &system,
            &mut plan,
            &mut notes,
            &mut warnings,
        )?;
    }
    Ok(Report {
        plan,
        notes,
        warnings,
        service,
        serve_args,
    })
}

/// The service's PATH: the alias directory, the compiler's own directory, then the
/// system's, each once (a distro's cross compiler lives in /usr/bin itself).
fn service_path(alias_dir: &Path, bin_dir: &Path) -> String {
    let mut dirs: Vec<String> = Vec::new();
    for d in [
        alias_dir.display().to_string(),
        bin_dir.display().to_string(),
        "/usr/local/bin".into(),
        "/usr/bin".into(),
        "/bin".into(),
    ] {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs.join(":")
}

/// distccd's whitelist links point to /usr/bin/distcc.
fn warn_no_distcc(root: &SysRoot, warnings: &mut Vec<String>) -> Result<(), Error> {
    if root.state(Path::new("/usr/bin/distcc"))? == Before::Missing {
        warnings.push(
            "/usr/bin/distcc is missing: the whitelist links point to it and distccd refuses names whose link does not resolve".into(),
        );
    }
    Ok(())
}

/// The service's user must be able to run the compiler: refused on this machine, a
/// warning under `--root` (the toolchain is looked up here, the service runs there).
fn check_service_user(
    settings: &Settings,
    service: &Service,
    located: &Located,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let Some(user) = service_user(&settings.profile, service) else {
        return Ok(());
    };
    let top = access::toolchain_top(located);
    match check_runnable(&located.gcc(), Some(&top), &user) {
        Ok(()) => Ok(()),
        Err(denied) if settings.root.dir() != Path::new("/") => {
            warnings.push(denied.to_string());
            Ok(())
        }
        Err(denied) => Err(Error::ServiceCannotRun(denied)),
    }
}

/// The toolchain's `-dumpversion` and `-dumpfullversion` (what `--zeroconf` advertises).
type GccVersions = (String, Option<String>);

/// Find the toolchain, check that it compiles, and say which machine its objects are for.
fn locate_and_probe(
    settings: &Settings,
    facts: &Facts,
    notes: &mut Vec<String>,
) -> Result<(Located, String, GccVersions), Error> {
    let known = settings.profile.known_toolchains();
    let found = toolchain::locate(&settings.toolchain, known, &facts.search)?;
    let Some(located) = found.first().cloned() else {
        return Err(toolchain::Error::NotFound {
            query: settings.toolchain.clone(),
            places: Vec::new(),
            known: Vec::new(),
            found: Vec::new(),
        }
        .into());
    };
    for other in found.iter().skip(1) {
        notes.push(format!(
            "also found {} in {} (not used; pass its path to use it)",
            other.prefix,
            other.bin_dir.display()
        ));
    }
    let report = toolchain::probe(&located)?;
    if !report.compile.ok {
        return Err(Error::Broken {
            bin: located.bin_dir.clone(),
            prefix: located.prefix.clone(),
            stderr: report.compile.stderr.clone(),
        });
    }
    notes.push(format!("toolchain: {}", report.describe()));
    let local_machine = report
        .compile
        .object_machine
        .clone()
        .or_else(|| toolchain::elf_machine_for_triple(&report.machine).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let versions = (report.version.clone(), report.full_version.clone());
    Ok((located, local_machine, versions))
}

/// Plan the missing directories of `dir`, outermost first.
fn ensure_dir(plan: &mut Plan, dir: &Path) -> Result<(), Error> {
    Ok(plan.create_dir_all(dir)?)
}

/// Why the running binary is a poor `ExecStart=` for the unit `volunteer` writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExeWarning {
    /// It lives in a Cargo build tree (`cargo run`, `target/release/distsetup`).
    #[error(
        "the unit will run {0}, a binary in a Cargo build tree: `cargo clean` or the next build \
         breaks the service, and a clone under /tmp is invisible to it (PrivateTmp). Install \
         distsetup first (cargo install --locked --path . --root /usr/local, or the PKGBUILD) \
         and run the installed one"
    )]
    BuildTree(PathBuf),
    /// It lives under a home directory, which the sandboxed service may not read.
    #[error(
        "the unit will run {0}, under a home directory the service cannot read (ProtectHome, \
         0700 homes). Install distsetup in /usr/local or /usr (cargo install --locked --path . \
         --root /usr/local, or the PKGBUILD) and run the installed one"
    )]
    Home(PathBuf),
}

/// Whether `exe` (the running binary, which the unit's `ExecStart=` names) is somewhere
/// a service should not run from.
pub fn exe_warning(exe: &Path, home: Option<&Path>) -> Option<ExeWarning> {
    // Cargo's target directory, wherever CARGO_TARGET_DIR puts it: its CACHEDIR.TAG says
    // Cargo made it; an untagged `target` beside a Cargo.toml is one too.
    let in_build_tree = exe.ancestors().skip(1).any(|d| {
        std::fs::read_to_string(d.join("CACHEDIR.TAG"))
            .is_ok_and(|tag| tag.contains("created by cargo"))
            || (d.file_name().is_some_and(|n| n == "target")
                && d.parent().is_some_and(|p| p.join("Cargo.toml").is_file()))
    });
    if in_build_tree {
        return Some(ExeWarning::BuildTree(exe.to_path_buf()));
    }
    let under_home =
        is_under_home(exe) || home.is_some_and(|h| h != Path::new("/") && exe.starts_with(h));
    under_home.then(|| ExeWarning::Home(exe.to_path_buf()))
}

/// What `--server distccd` adds beside its unit.
struct SystemDaemon<'a> {
    names: &'a [&'a str],
    allow: &'a [String],
    jobs: usize,
    local_machine: &'a str,
    prefix: &'a str,
    service: &'a Service,
    port: u16,
    /// The toolchain is this machine's own compiler: the system distccd serves it, and is
    /// configured to start.
    system: bool,
}

/// The compile port: `--port`, else the known toolchain's, else the profile's; the
/// system distccd's own port when it serves the toolchain (another is refused).
fn choose_port(
    settings: &Settings,
    entry: Option<&KnownToolchain>,
    system: bool,
) -> Result<u16, Error> {
    let v = &settings.profile.volunteer;
    match (system, settings.port) {
        (true, Some(p)) if p != v.port => Err(Error::SystemDaemonPort {
            port: p,
            system_port: v.port,
            service: v.service.clone(),
        }),
        (true, _) => Ok(v.port),
        (false, p) => Ok(p.or(entry.map(|k| k.port)).unwrap_or(v.port)),
    }
}

/// Whether the toolchain is this machine's own compiler (a system triple that is the
/// native one), which the system distccd already serves.
fn is_system_compiler(located: &Located, facts: &Facts) -> bool {
    located.layout == toolchain::Layout::System
        && facts.native_triple.as_deref().is_some_and(|native| {
            located.prefix == native || located.aliases.iter().any(|a| a == native)
        })
}

/// The system distccd as the service (nothing written for it but its configuration).
fn system_service(profile: &Profile, path_env: &str) -> Service {
    let v = &profile.volunteer;
    Service {
        name: v.service.clone(),
        file: v.service_file.clone(),
        manager: match v.service_manager {
            ServiceManager::Sysv => ServiceManager::Systemd,
            m => m,
        },
        argv: vec!["/usr/bin/distccd".into()],
        path_env: path_env.to_owned(),
    }
}

/// `--server distccd`: the whitelist links, and the system distccd's configuration for
/// a native toolchain only (see [`system_daemon_untouched`]).
fn plan_system_daemon(
    settings: &Settings,
    facts: &Facts,
    d: &SystemDaemon<'_>,
    plan: &mut Plan,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let (root, profile) = (&settings.root, &settings.profile);
    plan_whitelist(root, plan, profile, d.names, notes)?;
    let native = facts
        .native_triple
        .as_deref()
        .and_then(toolchain::elf_machine_for_triple)
        == Some(d.local_machine);
    if native {
        plan_daemon_config(settings, plan, (d.allow, d.jobs), d.system, notes)?;
        if d.system {
            notes.push(format!(
                "this machine's own compiler: the system distccd ({}, port {}) serves it; its \
                 configuration ({}) gets the allow list, the jobs and every address to listen \
                 on, and is set to start (no second daemon)",
                profile.volunteer.service,
                d.port,
                profile.volunteer.config.display()
            ));
        }
    } else {
        notes.push(system_daemon_untouched(profile, d.service, d.port));
    }
    warn_no_distcc(root, warnings)?;
    plain_name_warning(
        profile,
        facts,
        d.prefix,
        d.local_machine,
        d.service,
        d.port,
        warnings,
    );
    Ok(())
}

/// Under `--root`, toolchains are still looked for (and run) on this machine: the
/// compiler is probed here, so it must be runnable here. Say so, naming the places.
pub fn host_search_note(root: &SysRoot, facts: &Facts) -> Option<String> {
    if root.dir() == Path::new("/") {
        return None;
    }
    let places: Vec<String> = facts
        .search
        .home
        .iter()
        .chain(&facts.search.dirs)
        .chain(&facts.search.system_bin)
        .map(|p| p.display().to_string())
        .collect();
    Some(format!(
        "toolchain names are looked up on this machine, not under {}: {} (the compiler must run here to be checked; pass a path to choose another)",
        root.dir().display(),
        places.join(", ")
    ))
}
