//! `distsetup wizard`: the same set-up as `master` and `volunteer`, by answering
//! questions. It builds the very settings those commands build, so the diff and the
//! result are the same; it ends by printing the equivalent command line. Nothing is
//! written before the final confirmation (a "no" or Ctrl-C leaves the system as it was).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::Path;

use crate::plan::{Mode, SysRoot};
use crate::profile::Profile;
use crate::prompt::Ask;

/// Why the wizard stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading answers or writing the report failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A profile could not be loaded.
    #[error(transparent)]
    Profile(#[from] crate::profile::Error),
    /// The master set-up refused.
    #[error(transparent)]
    Master(#[from] crate::master::Error),
    /// The volunteer set-up refused.
    #[error(transparent)]
    Volunteer(#[from] crate::volunteer::Error),
}

/// The set-up the answers describe: the very settings `master` or `volunteer` builds
/// from its flags, and the facts they are planned against.
#[derive(Debug)]
pub enum Setup {
    /// A master.
    Master {
        /// Settings, mode [`Mode::Ask`].
        settings: Box<crate::master::Settings>,
        /// This machine.
        facts: crate::master::Facts,
    },
    /// A volunteer.
    Volunteer {
        /// Settings, mode [`Mode::Ask`].
        settings: Box<crate::volunteer::Settings>,
        /// This machine.
        facts: Box<crate::volunteer::Facts>,
    },
}

/// What the wizard found out.
#[derive(Debug)]
pub struct Answers {
    /// The set-up to plan and apply.
    pub setup: Setup,
    /// The equivalent non-interactive command line.
    pub command: String,
}

/// Quote a word for a POSIX shell when it needs it.
fn quote(w: &str) -> String {
    if !w.is_empty()
        && w.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

fn command_line(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// Run the wizard against `root` (`/` for the real system). `listening`: the TCP ports
/// this machine listens on, read by the caller (`None` under `--root`); the proposed port
/// avoids them.
pub fn run(
    root: &SysRoot,
    root_arg: Option<&Path>,
    listening: Option<BTreeSet<u16>>,
    ask: &mut dyn Ask,
) -> Result<Answers, Error> {
    let roles = vec![
        "master — this machine starts builds (makepkg, Portage, make)".to_string(),
        "volunteer — this machine compiles for a master".to_string(),
    ];
    let role = ask.select("Role of this machine", &roles, 0)?;
    let name = ask_profile(root, role == 0, ask)?;
    let profile = crate::profile::load(&name)?;
    let mut base = vec!["distsetup".to_string()];
    let root_words: Vec<String> = root_arg
        .map(|r| vec!["--root".to_string(), r.display().to_string()])
        .unwrap_or_default();
    if role == 0 {
        base.extend(["master".into(), "--profile".into(), name.clone()]);
        master(root, profile, base, root_words, ask)
    } else {
        base.extend(["volunteer".into(), "--profile".into(), name.clone()]);
        volunteer(root, profile, (base, root_words), listening, ask)
    }
}

/// The distro profile, proposed from `/etc/os-release`: for a master only the profiles
/// that can configure one, each with its master description; for a volunteer every
/// profile, described by what a volunteer gets (service manager, distccd's files).
fn ask_profile(root: &SysRoot, master: bool, ask: &mut dyn Ask) -> Result<String, Error> {
    let found = crate::doctor::detect_profile(root);
    let detected = found.as_ref().map_or("", |d| d.name);
    let mut names = Vec::new();
    let mut items = Vec::new();
    for s in crate::profile::list()? {
        let p = crate::profile::load(&s.name)?;
        if master && !p.configures_master() {
            continue;
        }
        items.push(if master {
            format!("{} — {}", s.name, s.description)
        } else {
            volunteer_description(&p)
        });
        names.push(s.name);
    }
    let default = names.iter().position(|n| *n == detected).unwrap_or(0);
    match &found {
        Some(d) => ask.say(&format!(
            "distro detected from {}: profile {detected}",
            d.evidence
        ))?,
        None => {
            ask.say("distro not detected (no /etc/os-release, no distro's own files): pick it")?
        }
    }
    if master && found.is_some() && !names.iter().any(|n| *n == detected) {
        ask.say(&format!(
            "profile {detected} cannot configure a master (no makepkg or Portage configuration to edit)"
        ))?;
    }
    let pick = ask.select("Distro profile", &items, default)?;
    Ok(names
        .get(pick)
        .cloned()
        .unwrap_or_else(|| detected.to_string()))
}

/// One line on what `volunteer` sets up with profile `p`.
fn volunteer_description(p: &Profile) -> String {
    let v = &p.volunteer;
    format!(
        "{} — volunteer: {} services in {}, distccd as user {} (its config: {})",
        p.name,
        match v.service_manager {
            crate::profile::ServiceManager::Openrc => "OpenRC",
            crate::profile::ServiceManager::Runit => "runit",
            _ => "systemd",
        },
        v.service_dir.display(),
        v.user,
        v.config.display()
    )
}

fn master(
    root: &SysRoot,
    profile: Profile,
    mut words: Vec<String>,
    root_words: Vec<String>,
    ask: &mut dyn Ask,
) -> Result<Answers, Error> {
    let facts = crate::master::Facts::detect();
    match &facts.local_cores {
        Some((_, why)) => ask.say(&format!("cores: {why}; -j follows {}", profile.jobs.source))?,
        None => ask.say(&format!(
            "cores: unknown ({})",
            facts.cores_error.as_deref().unwrap_or("?")
        ))?,
    }
    let validate = |s: &str| -> Result<(), String> {
        match crate::hostspec::parse(s) {
            Err(crate::hostspec::Error::Syntax {
                line,
                column,
                reason,
            }) => Err(format!("line {line}, column {column}: {reason}")),
            Ok(l) if l.hosts().next().is_none() => Err("name at least one host".into()),
            Ok(_) => Ok(()),
        }
    };
    let hosts = ask_hosts(ask, &validate)?;
    let jobs_ok = |s: &str| -> Result<(), String> {
        let max = crate::master::MAX_JOBS;
        if s == "auto" || s.parse::<usize>().is_ok_and(|n| (1..=max).contains(&n)) {
            Ok(())
        } else {
            Err(format!("`auto` or a number from 1 to {max}"))
        }
    };
    let jobs = ask.input(
        "make -j (auto: from the cores and the profile's rule)",
        "auto",
        &jobs_ok,
    )?;
    let settings = crate::master::Settings {
        profile,
        root: root.clone(),
        hosts: Some(hosts.clone()),
        jobs: match jobs.parse::<usize>() {
            Ok(n) => crate::master::JobsChoice::Fixed(n),
            Err(_) => crate::master::JobsChoice::Auto,
        },
        mode: Mode::Ask,
        ccache: None,
        relay: None,
    };
    words.extend(["--hosts".into(), hosts, "--jobs".into(), jobs]);
    words.extend(root_words);
    words.push("--yes".into());
    Ok(Answers {
        setup: Setup::Master {
            settings: Box::new(settings),
            facts,
        },
        command: command_line(&words),
    })
}

/// The host list; when checked and a host does not answer, the list is written only if
/// the user says so, else offered again for editing.
fn ask_hosts(ask: &mut dyn Ask, validate: crate::prompt::Validate) -> Result<String, Error> {
    const PROMPT: &str = "Volunteers (DISTCC_HOSTS syntax, e.g. 192.168.1.10:3636/8,lzo)";
    let mut hosts = ask.input(PROMPT, "", validate)?;
    loop {
        if !ask.confirm("Check now that each host accepts connections?", true)? {
            return Ok(hosts);
        }
        let failed = probe_hosts(&hosts, ask)?;
        if failed == 0
            || ask.confirm(
                &format!(
                    "{failed} host{} did not answer. Write the list anyway?",
                    if failed == 1 { "" } else { "s" }
                ),
                false,
            )?
        {
            return Ok(hosts);
        }
        hosts = ask.input_again(PROMPT, &hosts, validate)?;
    }
}

/// A TCP connect to each host, 2 s each; how many did not answer.
fn probe_hosts(spec: &str, ask: &mut dyn Ask) -> std::io::Result<usize> {
    let Ok(list) = crate::hostspec::parse(spec) else {
        return Ok(0);
    };
    let mut failed = 0;
    for h in list.hosts() {
        let crate::hostspec::Transport::Tcp { host, .. } = &h.transport else {
            ask.say(&format!("  {}: not a TCP host, not checked", h.address()))?;
            continue;
        };
        let port = h.effective_port().unwrap_or(3632);
        let verdict = match crate::doctor::probe::resolve(host, port)
            .and_then(|a| crate::doctor::probe::connect(a, std::time::Duration::from_secs(2)))
        {
            Ok((_, t)) => format!("accepts connections ({:.1} ms)", t.as_secs_f64() * 1000.0),
            Err(e) => {
                failed += 1;
                format!("{e} — `distsetup doctor` tells more once it runs")
            }
        };
        ask.say(&format!("  {host}:{port}: {verdict}"))?;
    }
    Ok(failed)
}

/// The toolchain: one found here, or a path or triple typed; with its prefix when found.
fn ask_toolchain(
    root: &SysRoot,
    profile: &Profile,
    facts: &crate::volunteer::Facts,
    ask: &mut dyn Ask,
) -> Result<(String, Option<String>), Error> {
    let found = crate::toolchain::available(
        profile.known_toolchains(),
        &facts.search,
        facts.native_triple.as_deref(),
    );
    let mut items: Vec<String> = found
        .iter()
        .map(|(n, l)| format!("{n} ({}, in {})", l.prefix, l.bin_dir.display()))
        .collect();
    items.push("another one: type a path or a triple".into());
    ask.say(&format!(
        "toolchains found{}: {}",
        found_where(root),
        found.len()
    ))?;
    let pick = ask.select("Toolchain to serve with", &items, 0)?;
    Ok(match found.get(pick) {
        Some((n, l)) => (n.clone(), Some(l.prefix.clone())),
        None => {
            let exists = |s: &str| -> Result<(), String> {
                if s.trim().is_empty() {
                    Err("a path or a triple".into())
                } else {
                    Ok(())
                }
            };
            (
                ask.input(
                    "Toolchain (path of an x-tools tree or bin directory, or a triple)",
                    "",
                    &exists,
                )?,
                None,
            )
        }
    })
}

/// Where the toolchains offered were found, when that is not the root (the plan's notes
/// say it once more, with the places).
fn found_where(root: &SysRoot) -> &'static str {
    if root.dir() == Path::new("/") {
        ""
    } else {
        " on this machine (not under the root)"
    }
}

/// Master triples (from every profile) for the same machine as `target`.
fn master_triples(target: &str) -> Vec<String> {
    let want = crate::toolchain::elf_machine_for_triple(target);
    let mut out: Vec<String> = Vec::new();
    for s in crate::profile::list().unwrap_or_default() {
        let Ok(p) = crate::profile::load(&s.name) else {
            continue;
        };
        for t in &p.client.triples {
            if crate::toolchain::elf_machine_for_triple(&t.triple) == want
                && !out.contains(&t.triple)
            {
                out.push(t.triple.clone());
            }
        }
    }
    out
}

/// This machine's first non-loopback IPv4 network, as a CIDR.
pub fn own_subnet() -> Option<String> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return None;
    }
    let mut found = None;
    let mut cur = list;
    while !cur.is_null() && found.is_none() {
        // SAFETY: cur is a node of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() && !ifa.ifa_netmask.is_null() {
            // SAFETY: non-null pointers into the list; family checked before the cast.
            let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
            if family == libc::AF_INET {
                // SAFETY: family is AF_INET, so both point at sockaddr_in structures owned by
                // the list, which outlives this block.
                let (addr, mask) = unsafe {
                    let a = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let m = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                    (
                        u32::from_be(a.sin_addr.s_addr),
                        u32::from_be(m.sin_addr.s_addr),
                    )
                };
                let ip = Ipv4Addr::from(addr);
                if !ip.is_loopback() {
                    let prefix = mask.count_ones() as u8;
                    if let Ok(net) = ipnet::Ipv4Net::new(ip, prefix) {
                        found = Some(net.trunc().to_string());
                    }
                }
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: the list came from getifaddrs.
    unsafe { libc::freeifaddrs(list) };
    found
}

/// The first port from `start` that nothing listens on here (when the listening ports
/// are known), with its stats port (+1000) free too.
fn free_port_from(start: u16, listening: Option<&BTreeSet<u16>>) -> u16 {
    let free = |p: u16| listening.is_none_or(|l| !l.contains(&p));
    (start..start.saturating_add(200))
        .find(|&p| p != 3633 && free(p) && p.checked_add(1000).is_some_and(free))
        .unwrap_or(start)
}

/// Which master triple the toolchain serves, and the alias that takes.
fn ask_alias(
    ask: &mut dyn Ask,
    prefix: &str,
    known: Option<&crate::profile::KnownToolchain>,
) -> Result<Vec<String>, Error> {
    let mut aliases: Vec<String> = Vec::new();
    let triples = master_triples(prefix);
    let mut choices: Vec<String> = triples.clone();
    choices.push("none: the toolchain's own names only".into());
    let default = known
        .and_then(|k| k.serves.first())
        .and_then(|s| triples.iter().position(|t| t == s))
        .unwrap_or(0);
    let m = ask.select(
        "Which master triple does it serve (what the master's gcc -dumpmachine says)?",
        &choices,
        default,
    )?;
    if let Some(t) = triples.get(m) {
        let served_by_profile = known.is_some_and(|k| k.serves.contains(t));
        if t != prefix && !served_by_profile {
            ask.say(&format!("proposed alias: {t} → {prefix}"))?;
            if ask.confirm(&format!("Answer {t}-gcc with {prefix}-gcc?"), true)? {
                aliases.push(format!("{t}={prefix}"));
            }
        }
    }
    Ok(aliases)
}

/// The allow list; an entry meaning "everyone" (`0.0.0.0/0`) is asked about right away,
/// and a "no" asks for the list again.
fn ask_allow(ask: &mut dyn Ask) -> Result<(Vec<String>, bool), Error> {
    let subnet = own_subnet().unwrap_or_else(|| "192.168.1.0/24".into());
    let cidr_ok = |s: &str| -> Result<(), String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        if words.is_empty() {
            return Err("name at least one network or address".into());
        }
        crate::allow::parse_list(&words, true)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    loop {
        let line = ask.input(
            "Masters allowed to connect (CIDRs, space-separated)",
            &subnet,
            &cidr_ok,
        )?;
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let Err(crate::allow::Error::Everyone(entry)) = crate::allow::parse_list(&words, false)
        else {
            return Ok((words, false));
        };
        let question = format!(
            "{entry} lets anyone who reaches this machine run compilers on it. Allow anyone?"
        );
        if ask.confirm(&question, false)? {
            return Ok((words, true));
        }
    }
}

/// Whether to enable and start the service once it is written.
fn ask_enable(profile: &Profile, ask: &mut dyn Ask) -> Result<bool, Error> {
    // What `volunteer --enable` runs: OpenRC and runit have their own way; the units
    // written for every other profile are systemd's.
    let how = match profile.volunteer.service_manager {
        crate::profile::ServiceManager::Openrc => "rc-update add, rc-service start",
        crate::profile::ServiceManager::Runit => "a link in /var/service",
        _ => "systemctl enable --now",
    };
    Ok(ask.confirm(
        &format!("Enable and start the service once written ({how})?"),
        true,
    )?)
}

fn volunteer(
    root: &SysRoot,
    profile: Profile,
    (mut words, root_words): (Vec<String>, Vec<String>),
    listening: Option<BTreeSet<u16>>,
    ask: &mut dyn Ask,
) -> Result<Answers, Error> {
    let facts = crate::volunteer::Facts::detect(&profile, listening);
    let (toolchain, prefix) = ask_toolchain(root, &profile, &facts, ask)?;
    let known = profile
        .known_toolchains()
        .iter()
        .find(|k| k.name == toolchain)
        .cloned();
    let aliases = match &prefix {
        Some(prefix) => ask_alias(ask, prefix, known.as_ref())?,
        None => Vec::new(),
    };
    let (allow, allow_anyone) = ask_allow(ask)?;
    let start = known.as_ref().map_or(3632, |k| k.port);
    let port_default = free_port_from(start, facts.listening.as_ref()).to_string();
    let port_ok = |s: &str| -> Result<(), String> {
        match s.parse::<u16>() {
            Ok(p) if p > 0 && p != 3633 => Ok(()),
            _ => Err("a port number (not 3633, distccd's stats port)".into()),
        }
    };
    let port = ask.input("Port", &port_default, &port_ok)?;
    let servers = vec![
        "embedded — distsetup serve (nothing else to install)".to_string(),
        "distccd — the distro's daemon, with whitelist links".to_string(),
    ];
    let server = ask.select("Compile server", &servers, 0)?;
    let zeroconf = ask.confirm(
        "Advertise with zeroconf (Avahi), so masters with DISTCC_HOSTS=+zeroconf find it without a host list",
        false,
    )?;
    let enable = ask_enable(&profile, ask)?;
    let settings = crate::volunteer::Settings {
        profile,
        root: root.clone(),
        toolchain: toolchain.clone(),
        server: if server == 0 {
            crate::volunteer::ServerKind::Embedded
        } else {
            crate::volunteer::ServerKind::Distccd
        },
        aliases: aliases.clone(),
        allow: allow.clone(),
        allow_anyone,
        jobs: None,
        port: port.parse().ok(),
        listen: None,
        enable,
        foreground: false,
        zeroconf,
        zeroconf_version: None,
        secure: false,
        mode: Mode::Ask,
    };
    words.extend(["--toolchain".into(), toolchain]);
    if server == 1 {
        words.extend(["--server".into(), "distccd".into()]);
    }
    for a in aliases {
        words.extend(["--alias".into(), a]);
    }
    if zeroconf {
        words.push("--zeroconf".into());
    }
    for a in allow {
        words.extend(["--allow".into(), a]);
    }
    if allow_anyone {
        words.push("--allow-anyone".into());
    }
    if enable {
        words.push("--enable".into());
    }
    words.extend(["--port".into(), port]);
    words.extend(root_words);
    words.push("--yes".into());
    Ok(Answers {
        setup: Setup::Volunteer {
            settings: Box::new(settings),
            facts: Box::new(facts),
        },
        command: command_line(&words),
    })
}
