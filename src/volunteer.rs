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

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::plan::{self, Before, Mode, Plan, SysRoot};
use crate::profile::{ConfigSyntax, KnownToolchain, Profile, ServiceManager};
use crate::shconf::{self, Dialect, Document, Edit, Value};
use crate::toolchain::{self, Located, SearchPaths, TOOLS};

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
    /// A setting that does not go with this server or profile.
    #[error("{0}")]
    Unsupported(String),
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
    /// Whether ports are checked against this machine's listening sockets.
    pub check_machine_ports: bool,
}

impl Facts {
    /// The real machine.
    pub fn detect(profile: &Profile) -> Facts {
        let native_triple = std::process::Command::new("gcc")
            .arg("-dumpmachine")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty());
        Facts {
            search: SearchPaths::from_env(&profile.volunteer.toolchain_dirs),
            native_triple,
            cores: crate::cores::detect().ok().map(|c| c.usable),
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/bin/distsetup")),
            check_machine_ports: true,
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

/// One name the volunteer answers for and the executable it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    name: String,
    target: PathBuf,
}

/// Compute the plan. Writes nothing.
pub fn plan(settings: &Settings, facts: &Facts) -> Result<Report, Error> {
    let profile = &settings.profile;
    let root = &settings.root;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();

    let allow = check_allow(&settings.allow, settings.allow_anyone)?;
    let known = profile.known_toolchains();
    let found = toolchain::locate(&settings.toolchain, known, &facts.search)?;
    let Some(located) = found.first().cloned() else {
        return Err(toolchain::Error::NotFound {
            query: settings.toolchain.clone(),
            places: Vec::new(),
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
    let port = settings
        .port
        .or(entry.map(|k| k.port))
        .unwrap_or(profile.volunteer.port);
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
    let path_env = format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        alias_dir.display(),
        located.bin_dir.display()
    );
    let manager = profile.volunteer.service_manager;
    let (service, serve_args) = match settings.server {
        ServerKind::Embedded => {
            let name = format!("distsetup-serve-{tc_name}");
            let mut args = vec!["serve".to_string()];
            if let Some(l) = settings.listen {
                args.extend(["--listen".into(), l.to_string()]);
            }
            args.extend(["--port".into(), port.to_string()]);
            for a in &allow {
                args.extend(["--allow".into(), a.clone()]);
            }
            args.extend(["--jobs".into(), jobs.to_string()]);
            args.extend(["--toolchain".into(), alias_dir.display().to_string()]);
            for m in &masters {
                args.extend(["--alias".into(), format!("{m}={}", located.prefix)]);
            }
            args.extend([
                "--stats".into(),
                "--stats-port".into(),
                stats_port.to_string(),
            ]);
            let serve_args = args.clone();
            let mut argv = vec![facts.exe.display().to_string()];
            argv.extend(args);
            if manager == ServiceManager::Systemd || manager == ServiceManager::Sysv {
                argv.extend([
                    "--log-file".into(),
                    format!("/var/log/{name}/{name}.log"),
                    "--log-level".into(),
                    "info".into(),
                ]);
            }
            (service_for(profile, &name, argv, &path_env), serve_args)
        }
        ServerKind::Distccd => {
            let name = profile
                .volunteer
                .toolchain_service
                .replace("{suffix}", &suffix);
            let mut argv = vec![
                "/usr/bin/distccd".to_string(),
                "--no-detach".into(),
                "--daemon".into(),
                "--port".into(),
                port.to_string(),
                "--stats".into(),
                "--stats-port".into(),
                stats_port.to_string(),
            ];
            for a in &allow {
                argv.extend(["--allow".into(), a.clone()]);
            }
            argv.extend(["--jobs".into(), jobs.to_string()]);
            if manager == ServiceManager::Systemd || manager == ServiceManager::Sysv {
                argv.extend([
                    "--log-file".into(),
                    format!("/var/log/{name}/{name}.log"),
                    "--log-level".into(),
                    "info".into(),
                ]);
            } else {
                argv.extend(["--log-stderr".into(), "--log-level".into(), "info".into()]);
            }
            if root.state(Path::new("/usr/bin/distccd"))? == Before::Missing {
                warnings.push(format!(
                    "/usr/bin/distccd is not installed under {}: install distcc before starting {name}",
                    root.dir().display()
                ));
            }
            (service_for(profile, &name, argv, &path_env), Vec::new())
        }
    };

    check_ports(
        settings,
        facts,
        &service,
        port,
        stats_port,
        &mut warnings,
        &tc_name,
    )?;

    write_service(&mut plan, profile, &service)?;
    notes.push(format!(
        "service: {} ({}) on port {port}, stats on {stats_port}, {jobs} jobs, allowing {}",
        service.name,
        service.file.display(),
        allow.join(" ")
    ));

    if settings.server == ServerKind::Distccd {
        let names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
        plan_whitelist(root, &mut plan, profile, &names, &mut notes)?;
        plan_daemon_config(
            root,
            &mut plan,
            profile,
            &allow,
            jobs,
            settings.listen,
            &mut notes,
        )?;
        if root.state(Path::new("/usr/bin/distcc"))? == Before::Missing {
            warnings.push(
                "/usr/bin/distcc is missing: the whitelist links point to it and distccd refuses names whose link does not resolve".into(),
            );
        }
        plain_name_warning(
            profile,
            facts,
            &located.prefix,
            &local_machine,
            &service,
            port,
            &mut warnings,
        );
    }
    if is_under_home(&located.bin_dir) {
        warnings.push(format!(
            "the toolchain is under a home directory ({}); the service user may not be able to read it \
             (systemd's ProtectHome, 0700 homes): /opt is the usual place",
            located.bin_dir.display()
        ));
    }
    Ok(Report {
        plan,
        notes,
        warnings,
        service,
        serve_args,
    })
}

/// The profile's entry for the toolchain: by the name given, or by an `x-tools*` component
/// of the path (`/opt/x-tools8/aarch64-unknown-linux-gnu/bin`).
fn known_entry<'a>(
    query: &str,
    located: &Located,
    known: &'a [KnownToolchain],
) -> Option<&'a KnownToolchain> {
    if let Some(k) = known.iter().find(|k| k.name == query) {
        return Some(k);
    }
    let in_path = |p: &Path| {
        p.components().rev().find_map(|c| {
            let s = c.as_os_str().to_str()?;
            known.iter().find(|k| k.name == s)
        })
    };
    in_path(Path::new(query)).or_else(|| in_path(&located.bin_dir))
}

/// The master's triples: the profile's `serves` plus `--alias MASTER=LOCAL`, checked.
fn master_names(
    settings: &Settings,
    entry: Option<&KnownToolchain>,
    located: &Located,
    local_machine: &str,
    facts: &Facts,
) -> Result<Vec<String>, Error> {
    let mut masters: Vec<String> = Vec::new();
    let push = |m: &str, masters: &mut Vec<String>| {
        if m != located.prefix && !masters.iter().any(|x| x == m) {
            masters.push(m.to_owned());
        }
    };
    if let Some(k) = entry {
        for s in &k.serves {
            push(s, &mut masters);
        }
    }
    for a in &settings.aliases {
        let bad = |reason: String| Error::BadAlias {
            value: a.clone(),
            reason,
        };
        let (from, to) = a
            .split_once('=')
            .ok_or_else(|| bad("expected MASTER=LOCAL, e.g. armv7l-unknown-linux-gnueabihf=arm-unknown-linux-gnueabihf".into()))?;
        for (what, t) in [("MASTER", from), ("LOCAL", to)] {
            toolchain::check_triple(t)
                .map_err(|r| bad(format!("{what} `{t}` is not a triple: {r}")))?;
        }
        if to != located.prefix && !located.aliases.iter().any(|x| x == to) {
            return Err(bad(format!(
                "LOCAL must be this toolchain's prefix `{}`{}",
                located.prefix,
                if located.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" (or {})", located.aliases.join(", "))
                }
            )));
        }
        push(from, &mut masters);
    }
    for m in &masters {
        // The more specific refusal first: a native name is also a foreign architecture.
        if let Some(native) = &facts.native_triple {
            let native_machine = toolchain::elf_machine_for_triple(native).unwrap_or("unknown");
            if m == native && native_machine != local_machine {
                return Err(Error::ShadowsNative {
                    name: m.clone(),
                    local: located.prefix.clone(),
                    native_machine: native_machine.into(),
                    local_machine: local_machine.into(),
                });
            }
        }
        if let Some(mm) = toolchain::elf_machine_for_triple(m) {
            if mm != local_machine {
                return Err(Error::WrongTarget {
                    master: m.clone(),
                    master_machine: mm.into(),
                    local: located.prefix.clone(),
                    local_machine: local_machine.into(),
                });
            }
        }
    }
    Ok(masters)
}

/// The executable the toolchain uses for `tool`: `PREFIX-tool`, or `PREFIX-gcc` for `cc`
/// and `PREFIX-g++` for `c++` when those are missing.
fn tool_target(located: &Located, tool: &str) -> Option<PathBuf> {
    if let Some(p) = located.tools.get(tool) {
        return Some(p.clone());
    }
    let fallback = match tool {
        "cc" => "gcc",
        "c++" => "g++",
        _ => return None,
    };
    located.tools.get(fallback).cloned()
}

/// Every link of the alias directory: plain names, `PREFIX-*`, `MASTER-*`.
fn alias_links(
    located: &Located,
    masters: &[String],
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Vec<Link> {
    let mut links = Vec::new();
    for tool in TOOLS {
        let Some(target) = tool_target(located, tool) else {
            if tool == "g++" {
                warnings.push(format!(
                    "{} has no {}-g++: C++ jobs will fail",
                    located.bin_dir.display(),
                    located.prefix
                ));
            }
            continue;
        };
        if !located.tools.contains_key(tool) {
            notes.push(format!(
                "{}-{tool} is missing in the toolchain: {}-{tool} → {}",
                located.prefix,
                located.prefix,
                target.display()
            ));
        }
        links.push(Link {
            name: tool.to_string(),
            target: target.clone(),
        });
        for prefix in std::iter::once(&located.prefix).chain(masters) {
            links.push(Link {
                name: format!("{prefix}-{tool}"),
                target: target.clone(),
            });
        }
    }
    links.sort_by(|a, b| a.name.cmp(&b.name));
    links
}

fn mapping_text(links: &[Link], located: &Located) -> String {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for l in links {
        let prefix = l.name.rsplit_once('-').map_or("", |(p, _)| p);
        if prefix.is_empty() {
            names.insert("plain gcc/g++/cc/c++/cpp".into());
        } else if prefix != located.prefix {
            names.insert(format!("{prefix}-*"));
        }
    }
    format!(
        "{} → {}-*",
        names.into_iter().collect::<Vec<_>>().join(", "),
        located.prefix
    )
}

/// Plan the missing directories of `dir`, outermost first.
fn ensure_dir(plan: &mut Plan, dir: &Path) -> Result<(), Error> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d == Path::new("/") {
            break;
        }
        let planned = plan
            .steps()
            .iter()
            .any(|st| matches!(&st.change, plan::Change::CreateDir { path } if path == d));
        if planned || plan.root().state(d)? != Before::Missing {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    for d in missing.iter().rev() {
        plan.create_dir(d)?;
    }
    Ok(())
}

/// A link in our own alias directory: created, kept, or refused when something else is there.
fn plan_owned_link(plan: &mut Plan, dir: &Path, link: &Link) -> Result<(), Error> {
    let path = dir.join(&link.name);
    match plan.root().state(&path)? {
        Before::Missing => Ok(plan.create_symlink(&path, &link.target)?),
        Before::Symlink(t) if t == link.target => Ok(()),
        Before::Symlink(t) => Err(Error::StaleLink {
            path: plan.root().path(&path),
            target: t,
            wanted: link.target.clone(),
            dir: plan.root().path(dir),
        }),
        _ => Err(Error::RealFile(plan.root().path(&path))),
    }
}

/// Whether the symlink at system path `path` with target `target` resolves under the root.
fn resolves(root: &SysRoot, path: &Path, target: &Path) -> bool {
    let full = if target.is_absolute() {
        root.path(target)
    } else {
        root.path(path.parent().unwrap_or(Path::new("/")))
            .join(target)
    };
    std::fs::metadata(full).is_ok()
}

/// Whitelist links `/usr/lib/distcc/NAME → ../../bin/distcc` for each name.
fn plan_whitelist(
    root: &SysRoot,
    plan: &mut Plan,
    profile: &Profile,
    names: &[&str],
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let dir = &profile.volunteer.whitelist_dir;
    ensure_dir(plan, dir)?;
    let mut existing = Vec::new();
    let target = Path::new(WHITELIST_TARGET);
    for name in names {
        let path = dir.join(name);
        match root.state(&path)? {
            Before::Missing => plan.create_symlink(&path, target)?,
            Before::Symlink(t) if t == target => existing.push((*name).to_string()),
            Before::Symlink(t) if !resolves(root, &path, &t) => {
                return Err(Error::BrokenSymlink {
                    path: root.path(&path),
                    target: t,
                });
            }
            Before::Dir => return Err(Error::RealFile(root.path(&path))),
            _ => existing.push((*name).to_string()),
        }
    }
    if !existing.is_empty() {
        notes.push(format!(
            "already whitelisted in {}: {}",
            dir.display(),
            existing.join(" ")
        ));
    }
    notes.push(format!(
        "whitelist links in {dir} may be removed by update-distcc-symlinks (Debian) or distcc-config \
         (Gentoo) after a compiler upgrade; run this command again to restore them",
        dir = dir.display()
    ));
    Ok(())
}

fn shconf_unsafe(file: &Path, e: shconf::Error) -> Error {
    let (line, column, reason) = match e {
        shconf::Error::Refused {
            line,
            column,
            reason,
        } => (line, column, reason),
        shconf::Error::Invalid(reason) => (1, 1, reason),
    };
    Error::Unsafe {
        file: file.to_path_buf(),
        line,
        column,
        reason,
    }
}

/// The system distccd's configuration: `--allow` and `--jobs` in the profile's file.
fn plan_daemon_config(
    root: &SysRoot,
    plan: &mut Plan,
    profile: &Profile,
    allow: &[String],
    jobs: usize,
    listen: Option<std::net::IpAddr>,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let v = &profile.volunteer;
    let file = &v.config;
    let original = root.read_file(file)?;
    if original.is_none() {
        notes.push(format!("{} does not exist: creating it", file.display()));
        if let Some(parent) = file.parent() {
            ensure_dir(plan, parent)?;
        }
    }
    let old = original.clone().unwrap_or_default();
    let new = match v.config_syntax {
        ConfigSyntax::Lines => allow_lines(&old, allow),
        ConfigSyntax::EnvironmentFile | ConfigSyntax::Shell => {
            let dialect = if v.config_syntax == ConfigSyntax::EnvironmentFile {
                Dialect::EnvironmentFile
            } else {
                Dialect::Bash
            };
            let mut doc = Document::parse(&old, dialect).map_err(|e| shconf_unsafe(file, e))?;
            match (&v.args_variable, &v.allow_variable) {
                (Some(var), _) if cumulative(&old, var) => cumulative_opts(&old, var, allow, jobs),
                (Some(var), _) => {
                    let words = match doc.get(var).map(|a| a.value) {
                        Some(Value::Scalar(b)) => String::from_utf8_lossy(&b)
                            .split_whitespace()
                            .map(str::to_owned)
                            .collect(),
                        Some(_) => {
                            return Err(Error::Unsafe {
                                file: file.clone(),
                                line: doc.get(var).map_or(1, |a| a.line),
                                column: 1,
                                reason: format!(
                                    "{var} is not a plain string distsetup can rewrite"
                                ),
                            });
                        }
                        None => Vec::new(),
                    };
                    let value = with_allow_jobs(words, allow, jobs).join(" ");
                    doc.apply(&Edit::Set {
                        name: var.clone(),
                        value,
                    })
                    .map_err(|e| shconf_unsafe(file, e))?;
                    doc.to_bytes()
                }
                (None, Some(allow_var)) => {
                    let mut edits = vec![Edit::Set {
                        name: allow_var.clone(),
                        value: allow.join(" "),
                    }];
                    if let Some(j) = &v.jobs_variable {
                        edits.push(Edit::Set {
                            name: j.clone(),
                            value: jobs.to_string(),
                        });
                    }
                    // Debian's default listens on 127.0.0.1 only: useless for a volunteer.
                    edits.push(Edit::Set {
                        name: "LISTENER".into(),
                        value: listen.map_or_else(|| "0.0.0.0".into(), |l| l.to_string()),
                    });
                    for e in &edits {
                        doc.apply(e).map_err(|e| shconf_unsafe(file, e))?;
                    }
                    doc.to_bytes()
                }
                (None, None) => old.clone(),
            }
        }
    };
    if original.as_deref() != Some(new.as_slice()) {
        plan.write_file(file, new)?;
    }
    Ok(())
}

/// Gentoo's conf.d: `VAR="${VAR} ..."` lines that add to the value.
fn cumulative(text: &[u8], var: &str) -> bool {
    let text = String::from_utf8_lossy(text);
    let (braced, bare) = (format!("{var}=\"${{{var}}}"), format!("{var}=\"${var}"));
    text.lines()
        .any(|l| l.starts_with(&braced) || l.starts_with(&bare))
}

/// Replace `--allow`/`--allow-private`/`--jobs`/`-j` in a word list, keeping the rest.
fn with_allow_jobs(words: Vec<String>, allow: &[String], jobs: usize) -> Vec<String> {
    let mut out = strip_options(words, &["--allow", "--jobs", "-j"], &["--allow-private"]);
    for a in allow {
        out.push("--allow".into());
        out.push(a.clone());
    }
    out.push("--jobs".into());
    out.push(jobs.to_string());
    out
}

/// Remove the options in `with_value` (and their value) and the flags in `bare`.
fn strip_options(words: Vec<String>, with_value: &[&str], bare: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        if with_value.contains(&w.as_str()) {
            it.next();
        } else if bare.contains(&w.as_str())
            || with_value
                .iter()
                .any(|o| o.starts_with("--") && w.starts_with(&format!("{o}=")))
        {
        } else {
            out.push(w);
        }
    }
    out
}

/// Gentoo cumulative lines: rewrite the live lines that carry `--allow` or `--jobs`/`-N`-free
/// `--jobs` in place (only inside their quotes), then append what is still missing.
fn cumulative_opts(old: &[u8], var: &str, allow: &[String], jobs: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(old);
    let prefix = format!("{var}=\"${{{var}}} ");
    let prefix_braceless = format!("{var}=\"${var} ");
    let mut out = String::new();
    let mut placed_allow = false;
    let mut placed_jobs = false;
    let allow_words: Vec<String> = allow
        .iter()
        .flat_map(|a| ["--allow".to_string(), a.clone()])
        .collect();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = line.get(body.len()..).unwrap_or("");
        let rest = body
            .strip_prefix(&prefix)
            .or_else(|| body.strip_prefix(&prefix_braceless));
        let Some(inner) = rest.and_then(|r| r.strip_suffix('"')) else {
            out.push_str(line);
            continue;
        };
        let words: Vec<String> = inner.split_whitespace().map(str::to_owned).collect();
        let has_allow = words
            .iter()
            .any(|w| w == "--allow" || w == "--allow-private");
        let has_jobs = words.iter().any(|w| w == "--jobs" || w == "-j");
        if !has_allow && !has_jobs {
            out.push_str(line);
            continue;
        }
        let mut kept = strip_options(words, &["--allow", "--jobs", "-j"], &["--allow-private"]);
        if has_allow && !placed_allow {
            kept.extend(allow_words.iter().cloned());
            placed_allow = true;
        }
        if has_jobs && !placed_jobs {
            kept.extend(["--jobs".to_string(), jobs.to_string()]);
            placed_jobs = true;
        }
        if kept.is_empty() {
            continue;
        }
        let head = body
            .len()
            .checked_sub(inner.len() + 1)
            .and_then(|n| body.get(..n))
            .unwrap_or(&prefix);
        out.push_str(&format!("{head}{}\"{ending}", kept.join(" ")));
    }
    let mut extra = Vec::new();
    if !placed_allow {
        extra.extend(allow_words);
    }
    if !placed_jobs {
        extra.extend(["--jobs".to_string(), jobs.to_string()]);
    }
    if !extra.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "# Added by distsetup volunteer.\n{prefix}{}\"\n",
            extra.join(" ")
        ));
    }
    out.into_bytes()
}

/// Void's `/etc/distcc/clients.allow`: one entry per line; append the missing ones.
fn allow_lines(old: &[u8], allow: &[String]) -> Vec<u8> {
    let text = String::from_utf8_lossy(old);
    let present: BTreeSet<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = text.to_string();
    for a in allow {
        if !present.contains(a.as_str()) {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(a);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Validate the allow list with the one allow-list parser ([`crate::allow`]); returns
/// the entries as written (distccd and serve take addresses and CIDRs alike), deduplicated.
fn check_allow(allow: &[String], anyone: bool) -> Result<Vec<String>, Error> {
    crate::allow::parse_list(allow, anyone).map_err(|e| match e {
        crate::allow::Error::Empty => Error::NoAllow,
        crate::allow::Error::Everyone(a) => Error::AllowAnyone(a),
        other => Error::BadAllow(other),
    })?;
    let mut out: Vec<String> = Vec::new();
    for a in allow {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    if out.is_empty() {
        out.push("0.0.0.0/0".into());
    }
    Ok(out)
}

/// The service file for `name` in the profile's service manager.
fn service_for(profile: &Profile, name: &str, argv: Vec<String>, path_env: &str) -> Service {
    let v = &profile.volunteer;
    let manager = match v.service_manager {
        // Debian's distcc is a SysV script, but Debian boots systemd: our units are systemd's.
        ServiceManager::Sysv => ServiceManager::Systemd,
        m => m,
    };
    let file = match manager {
        ServiceManager::Openrc => v.service_dir.join(name),
        ServiceManager::Runit => v.service_dir.join(name).join("run"),
        _ => v.service_dir.join(format!("{name}.service")),
    };
    Service {
        name: name.to_string(),
        file,
        manager,
        argv,
        path_env: path_env.to_string(),
    }
}

/// Quote one `ExecStart=` word for systemd.
fn systemd_word(w: &str) -> String {
    let escaped = w.replace('%', "%%").replace('$', "$$");
    if escaped.is_empty() || escaped.contains([' ', '\t', '"', '\'', '\\', ';']) {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

/// Quote one word for sh.
fn sh_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.=:,@+%".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The text of the service file.
pub fn service_text(service: &Service, user: Option<&str>, description: &str) -> String {
    let header = "Written by `distsetup volunteer`; run it again to change this file, `distsetup undo` to remove it.";
    match service.manager {
        ServiceManager::Openrc => {
            let (cmd, args) = service
                .argv
                .split_first()
                .map_or(("", &[][..]), |(c, a)| (c.as_str(), a));
            let args: Vec<String> = args.iter().map(|a| sh_word(a)).collect();
            let mut s = format!(
                "#!/sbin/openrc-run\n# {header}\n\ndescription={}\ncommand={}\ncommand_args={}\ncommand_background=yes\npidfile=\"/run/${{RC_SVCNAME}}.pid\"\n",
                sh_word(description),
                sh_word(cmd),
                sh_word(&args.join(" "))
            );
            if let Some(u) = user {
                s.push_str(&format!("command_user={}\n", sh_word(u)));
            }
            s.push_str(&format!(
                "error_log=\"/var/log/${{RC_SVCNAME}}.log\"\n\ndepend() {{\n\tneed net\n}}\n\nstart_pre() {{\n\texport PATH={}\n}}\n",
                sh_word(&service.path_env)
            ));
            s
        }
        ServiceManager::Runit => {
            let args: Vec<String> = service.argv.iter().map(|a| sh_word(a)).collect();
            let chpst = user.map_or(String::new(), |u| format!("chpst -u {} ", sh_word(u)));
            format!(
                "#!/bin/sh\n# {header}\n# {description}\nexport PATH={}\nexec 2>&1\nexec {chpst}{}\n",
                sh_word(&service.path_env),
                args.join(" ")
            )
        }
        _ => {
            let exec: Vec<String> = service.argv.iter().map(|a| systemd_word(a)).collect();
            let mut s = format!(
                "# {header}\n[Unit]\nDescription={description}\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\n"
            );
            match user {
                Some(u) => s.push_str(&format!("User={u}\n")),
                None => s.push_str("DynamicUser=yes\n"),
            }
            s.push_str(&format!(
                "Environment=PATH={}\nLogsDirectory={}\nExecStart={}\nRestart=on-failure\n",
                service.path_env,
                service.name,
                exec.join(" ")
            ));
            // Hardening that leaves compiling alone: gcc writes only to TMPDIR (PrivateTmp)
            // and reads the toolchain (read-only is enough).
            s.push_str(
                "PrivateTmp=yes\nNoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=read-only\n\
                 PrivateDevices=yes\nProtectKernelTunables=yes\nProtectKernelModules=yes\n\
                 ProtectControlGroups=yes\nRestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n\
                 RestrictNamespaces=yes\nRestrictRealtime=yes\nLockPersonality=yes\n\n\
                 [Install]\nWantedBy=multi-user.target\n",
            );
            s
        }
    }
}

fn write_service(plan: &mut Plan, profile: &Profile, service: &Service) -> Result<(), Error> {
    let user = if service.argv.first().is_some_and(|a| a.ends_with("distccd")) {
        Some(profile.volunteer.user.as_str())
    } else if service.manager == ServiceManager::Systemd {
        None
    } else {
        // No DynamicUser outside systemd: the profile's unprivileged user.
        Some(profile.volunteer.user.as_str())
    };
    let description = format!("distcc compile server {}", service.name);
    let text = service_text(service, user, &description);
    if let Some(parent) = service.file.parent() {
        ensure_dir(plan, parent)?;
    }
    // An OpenRC or runit script must be executable; a unit must not be.
    let mode = (service.manager != ServiceManager::Systemd).then_some(0o755);
    plan.write_file_mode(&service.file, text.into_bytes(), mode)?;
    Ok(())
}

/// `--port N` / `--stats-port N` in a service file we or the distro wrote.
fn ports_in(text: &str) -> Vec<(String, u16)> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let (opt, val) = match w.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v)),
            _ => (*w, words.get(i + 1).copied()),
        };
        if opt == "--port" || opt == "--stats-port" {
            if let Some(p) = val.and_then(|v| v.parse().ok()) {
                out.push((opt.to_string(), p));
            }
        }
    }
    out
}

fn check_ports(
    settings: &Settings,
    facts: &Facts,
    service: &Service,
    port: u16,
    stats_port: u16,
    warnings: &mut Vec<String>,
    tc_name: &str,
) -> Result<(), Error> {
    let profile = &settings.profile;
    let root = &settings.root;
    let v = &profile.volunteer;
    let ours = [(port, "the compile port"), (stats_port, "the stats port")];
    let mut taken: Vec<(u16, String)> = vec![(
        v.stats_port,
        format!("distccd's default stats port {}", v.stats_port),
    )];
    if settings.server == ServerKind::Distccd {
        taken.push((
            v.port,
            format!("the system distccd ({}) port {}", v.service, v.port),
        ));
    }
    // Other services distsetup or the distro wrote in the service directory.
    let dir = root.path(&v.service_dir);
    let own_file = root.path(&service.file);
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !(name.starts_with("distccd") || name.starts_with("distsetup-serve")) {
                continue;
            }
            let f = if f.is_dir() { f.join("run") } else { f };
            if f == own_file {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&f) {
                for (_, p) in ports_in(&text) {
                    taken.push((p, f.display().to_string()));
                }
            }
        }
    }
    for (p, what) in ours {
        if let Some((_, other)) = taken.iter().find(|(t, _)| *t == p) {
            return Err(Error::PortClash {
                port: p,
                what: what.into(),
                other: other.clone(),
            });
        }
    }
    for k in profile.known_toolchains() {
        if k.port == port && k.name != tc_name {
            warnings.push(format!(
                "port {port} is the usual port of {} ({}): a volunteer running both needs another --port",
                k.name, k.description
            ));
        }
    }
    if !facts.check_machine_ports {
        return Ok(());
    }
    // Our own service already configured with these ports may be what holds them now.
    let already: Vec<u16> = std::fs::read_to_string(&own_file)
        .map(|t| ports_in(&t).into_iter().map(|(_, p)| p).collect())
        .unwrap_or_default();
    for (p, what) in ours {
        if already.contains(&p) {
            continue;
        }
        if let Err(e) = TcpListener::bind(("0.0.0.0", p)) {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                return Err(Error::PortTaken {
                    port: p,
                    what: what.into(),
                });
            }
        }
    }
    Ok(())
}

/// The seeds' trap: plain `gcc`/`cc` whitelisted for the system distccd answers with the
/// native compiler, producing objects for the wrong machine.
fn plain_name_warning(
    profile: &Profile,
    facts: &Facts,
    toolchain_machine: &str,
    local_machine: &str,
    service: &Service,
    port: u16,
    warnings: &mut Vec<String>,
) {
    let Some(native) = &facts.native_triple else {
        return;
    };
    let native_machine = toolchain::elf_machine_for_triple(native).unwrap_or("unknown");
    if native_machine == local_machine {
        return;
    }
    let v = &profile.volunteer;
    warnings.push(format!(
        "WRONG ARCHITECTURE TRAP: the system distccd ({service}, port {sys_port}) answers a plain `gcc`/`cc`/`g++` \
         request with this machine's native {native} compiler: a master building for {local_machine} that sends plain names gets \
         {native_machine} objects without any error. The fix: point the master at port {port} ({name}), whose PATH maps \
         gcc, g++, cc, c++, cpp → the {toolchain_machine} cross compiler; e.g. DISTCC_HOSTS=\"VOLUNTEER:{port}\" — and do not list \
         this volunteer on port {sys_port} for that master",
        service = v.service,
        sys_port = v.port,
        name = service.name,
    ));
}

fn is_under_home(p: &Path) -> bool {
    p.starts_with("/home") || p.starts_with("/root")
}

/// The `distsetup serve` arguments for `--foreground`: the service names system paths,
/// but in the foreground under `--root` the toolchain directory just written is the one
/// inside the root.
pub fn foreground_args(settings: &Settings, serve_args: &[String]) -> Vec<String> {
    let mut args = serve_args.to_vec();
    let mut i = 0;
    while i + 1 < args.len() {
        if args[i] == "--toolchain" {
            args[i + 1] = settings
                .root
                .path(Path::new(&args[i + 1]))
                .display()
                .to_string();
        }
        i += 1;
    }
    args
}
