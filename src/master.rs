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
//! `FEATURES` gains `distcc` (the rest kept; an accumulating `FEATURES="${FEATURES} …"` chain
//! is edited as [`crate::shconf`] documents), `MAKEOPTS="-jN -lM"`, and `/etc/distcc/hosts`
//! gets the host list. `/etc/portage/make.conf` may be a directory: each variable is edited
//! in the last file (in sorted order, the order portage reads them) that assigns it; a
//! variable no file assigns goes into a new `make.conf/distcc.conf`, which we own.
//!
//! # The hosts file
//! `/etc/distcc/hosts` keeps every comment and blank line (Gentoo's `distcc-config
//! --set-hosts` drops them); the host tokens are replaced by the new list, written where the
//! first host line was. A file whose hosts already mean the new list is left untouched.
//!
//! # -j
//! `--jobs auto` applies the profile's rule to the usable physical cores
//! ([`crate::cores::detect`]) and the remote slots: the sum of the remote hosts' limits
//! (distcc's default limit is 4; `localhost` is not remote). `--jobs N` sets `-jN`; a rule
//! with a load limit keeps `-l` = local cores. The reasoning is printed in words.

use std::path::{Component, Path, PathBuf};

use crate::cores::{JobsAdvice, JobsRule};
use crate::hostspec::{self, HostList, Transport};
use crate::plan::{self, Before, Mode, Plan, SysRoot};
use crate::profile::{Makepkg, Portage, Profile};
use crate::shconf::{self, Dialect, Document, Edit, Scope, Value};

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
    /// Planning or applying failed.
    #[error(transparent)]
    Plan(#[from] plan::Error),
    /// Writing the report failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

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
        .output()
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

/// The host list chosen, with its origin.
struct Hosts {
    /// The list as written into files (one line, tokens separated by single spaces).
    spec: String,
    /// Sum of the remote hosts' limits.
    remote_slots: usize,
    /// Any host that is not localhost.
    any_remote: bool,
}

/// A parsed file with where it lives and its original bytes.
struct ConfFile {
    path: PathBuf,
    doc: Document,
    original: Vec<u8>,
}

impl ConfFile {
    fn read(root: &SysRoot, path: &Path, dialect: Dialect) -> Result<Option<ConfFile>, Error> {
        let Some(original) = root.read_file(path)? else {
            return Ok(None);
        };
        let doc = Document::parse(&original, dialect).map_err(|e| shconf_unsafe(path, e, ""))?;
        Ok(Some(ConfFile {
            path: path.to_path_buf(),
            doc,
            original,
        }))
    }

    fn assigns(&self, name: &str) -> Option<usize> {
        self.doc
            .assignments()
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.line)
    }
}

fn shconf_unsafe(file: &Path, e: shconf::Error, by_hand: &str) -> Error {
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
        by_hand: by_hand.to_string(),
    }
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
    let hosts = resolve_hosts(settings, existing_hosts, &client.hosts_file)?;
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
    let advice = jobs(settings, facts, hosts.remote_slots, &mut report.notes)?;

    if let Some((m, main)) = makepkg {
        plan_makepkg(settings, m, main, &hosts, &advice, facts, &mut report)?;
        if !client.masquerade_shipped {
            if let Some(dir) = &client.masquerade_dir {
                plan_masquerade(settings, dir, &mut report)?;
            }
        }
    }
    if let Some(p) = &client.portage {
        plan_portage(settings, p, &hosts, &advice, facts, &mut report)?;
    }
    if write_hosts_file {
        plan_hosts_file(root, &client.hosts_file, &hosts, &mut report)?;
    }
    Ok(report)
}

/// The DISTCC_HOSTS already configured for makepkg (main file, then drop-ins), when
/// static and not empty: `(value, file)`.
fn makepkg_hosts(
    root: &SysRoot,
    m: &Makepkg,
    main: &ConfFile,
) -> Result<Option<(String, PathBuf)>, Error> {
    let mut found = scalar_of(main, &m.hosts_variable);
    if let Some(dir) = dropin_dir(root, m) {
        for f in read_dropins(root, &dir)? {
            if let Some(v) = scalar_of(&f, &m.hosts_variable) {
                found = Some(v);
            }
        }
    }
    Ok(found.filter(|(v, _)| !v.trim().is_empty()))
}

fn scalar_of(f: &ConfFile, name: &str) -> Option<(String, PathBuf)> {
    match f.doc.get(name)?.value {
        Value::Scalar(v) => Some((String::from_utf8_lossy(&v).into_owned(), f.path.clone())),
        _ => None,
    }
}

fn parse_hosts(text: &str, origin: &str) -> Result<HostList, Error> {
    hostspec::parse(text).map_err(
        |hostspec::Error::Syntax {
             line,
             column,
             reason,
         }| Error::Hosts {
            origin: origin.to_string(),
            line,
            column,
            reason,
        },
    )
}

/// The host tokens of a list, in order, as written (comments dropped).
fn tokens(list: &HostList) -> Vec<String> {
    list.entries
        .iter()
        .filter_map(|e| list.as_str().get(e.span.clone()).map(str::to_string))
        .collect()
}

fn resolve_hosts(
    settings: &Settings,
    existing: Option<(String, PathBuf)>,
    hosts_file: &Path,
) -> Result<Hosts, Error> {
    let (list, origin) = match (&settings.hosts, existing) {
        (Some(spec), _) => (parse_hosts(spec, "--hosts")?, "--hosts".to_string()),
        (None, Some((value, file))) => {
            let origin = format!("{} in {}", "DISTCC_HOSTS", file.display());
            (parse_hosts(&value, &origin)?, origin)
        }
        (None, None) => {
            let text = settings
                .root
                .read_file(hosts_file)?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let origin = hosts_file.display().to_string();
            (parse_hosts(&text, &origin)?, origin)
        }
    };
    if list.hosts().next().is_none() {
        let why = if settings.hosts.is_some() {
            "--hosts names no host".to_string()
        } else {
            format!(
                "none configured yet ({origin} lists none); pass --hosts, e.g. \
                 --hosts '192.168.1.10/8 192.168.1.11:3632/4'"
            )
        };
        return Err(Error::NoHosts(why));
    }
    let remote: Vec<_> = list
        .hosts()
        .filter(|h| !matches!(h.transport, Transport::Local))
        .collect();
    Ok(Hosts {
        spec: tokens(&list).join(" "),
        remote_slots: remote.iter().map(|h| h.effective_limit() as usize).sum(),
        any_remote: !remote.is_empty(),
    })
}

fn jobs(
    settings: &Settings,
    facts: &Facts,
    remote_slots: usize,
    notes: &mut Vec<String>,
) -> Result<JobsAdvice, Error> {
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
            let advice = rule.advise(*cores, remote_slots);
            notes.push(format!(
                "jobs: {} ({}): {}",
                rule.summary(),
                jobs.source,
                advice.reasoning
            ));
            Ok(advice)
        }
        JobsChoice::Fixed(n) => {
            let load = facts
                .local_cores
                .as_ref()
                .and_then(|(c, _)| rule.advise(*c, remote_slots).load);
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

/// The drop-in directory makepkg reads, when the profile knows one and it exists.
fn dropin_dir(root: &SysRoot, m: &Makepkg) -> Option<PathBuf> {
    let dir = m.dropin_dir.as_ref()?;
    matches!(root.state(&root.follow(dir).ok()?), Ok(Before::Dir)).then(|| dir.clone())
}

/// Every `*.conf` in `dir`, in glob (byte) order.
fn read_dropins(root: &SysRoot, dir: &Path) -> Result<Vec<ConfFile>, Error> {
    let names = list_dir(root, dir, |n| n.ends_with(".conf"))?;
    let mut out = Vec::new();
    for name in names {
        if let Some(f) = ConfFile::read(root, &dir.join(&name), Dialect::Bash)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// Names of regular files (or links to them) in the system directory `dir`, sorted by
/// bytes, hidden ones excluded, filtered by `keep`.
fn list_dir(root: &SysRoot, dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, Error> {
    let real = root.path(&root.follow(dir)?);
    let entries = std::fs::read_dir(&real).map_err(|source| plan::Error::Io {
        path: real.clone(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.') && keep(n))
        .collect();
    names.sort();
    Ok(names)
}

/// The user configurations makepkg reads last, under the root.
fn user_configs(root: &SysRoot) -> Vec<PathBuf> {
    let mut homes = vec![PathBuf::from("/root")];
    if let Ok(entries) = std::fs::read_dir(root.path(Path::new("/home"))) {
        let mut more: Vec<PathBuf> = entries
            .flatten()
            .map(|e| Path::new("/home").join(e.file_name()))
            .collect();
        more.sort();
        homes.extend(more);
    }
    homes
        .iter()
        .flat_map(|h| {
            [
                h.join(".config/pacman/makepkg.conf"),
                h.join(".makepkg.conf"),
            ]
        })
        .filter(|p| root.path(p).is_file())
        .collect()
}

fn warn_overrides(files: &[ConfFile], vars: &[&str], why: &str, warnings: &mut Vec<String>) {
    for f in files {
        for v in vars {
            if let Some(line) = f.assigns(v) {
                warnings.push(format!(
                    "{}:{line} assigns {v}; {why}, so it overrides what distsetup writes",
                    f.path.display()
                ));
            }
        }
    }
}

fn by_hand_makepkg(m: &Makepkg, hosts: &Hosts, advice: &JobsAdvice) -> String {
    format!(
        "put `{}` in {} (in place of `{}`), and set {}=\"{}\" and {}=\"{}\"",
        m.enable.word,
        m.enable.variable,
        m.enable.negated.as_deref().unwrap_or("nothing"),
        m.hosts_variable,
        hosts.spec,
        m.jobs_variable,
        advice.flags()
    )
}

/// Refuse a BUILDENV whose value bash cannot be known to have.
fn check_static_array(
    f: &ConfFile,
    var: &str,
    by_hand: &str,
) -> Result<Option<Vec<String>>, Error> {
    let unsafe_at = |line: usize, column: usize, reason: String| Error::Unsafe {
        file: f.path.clone(),
        line,
        column,
        reason,
        by_hand: by_hand.to_string(),
    };
    for a in f.doc.assignments().iter().filter(|a| a.name == var) {
        if a.scope != Scope::TopLevel {
            return Err(unsafe_at(
                a.line,
                a.column,
                format!(
                    "{var} is assigned inside {}, so its value depends on what happens when makepkg runs",
                    if a.scope == Scope::Function {
                        "a function"
                    } else {
                        "an `if`, `case` or loop"
                    }
                ),
            ));
        }
        if a.append {
            return Err(unsafe_at(
                a.line,
                a.column,
                format!("{var}+=(…) appends to a list set in another file"),
            ));
        }
    }
    let Some(info) = f.doc.get(var) else {
        return Ok(None);
    };
    match info.value {
        Value::Array(v) => Ok(Some(
            v.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        )),
        Value::Scalar(_) => Err(unsafe_at(
            info.line,
            info.column,
            format!("{var} is a string, but makepkg wants an array"),
        )),
        Value::Dynamic { reason } => Err(unsafe_at(
            info.line,
            info.column,
            format!("{var} is dynamic: {reason}"),
        )),
    }
}

fn enable_word(mut words: Vec<String>, word: &str, negated: Option<&str>) -> Vec<String> {
    let mut found = false;
    for w in words.iter_mut() {
        if Some(w.as_str()) == negated {
            *w = word.to_string();
        }
        found |= w == word;
    }
    if !found {
        words.insert(0, word.to_string());
    }
    words
}

const DROPIN_HEADER: &str = "#!/hint/bash
# distcc for makepkg, written by `distsetup master`.
# makepkg reads this file after makepkg.conf and the drop-ins sorting before it, so
# BUILDENV below is their whole list with distcc switched on. Run `distsetup master`
# again after changing makepkg.conf: it recomputes this file and shows the difference.
";

#[allow(clippy::too_many_arguments)]
fn plan_makepkg(
    settings: &Settings,
    m: &Makepkg,
    mut main: ConfFile,
    hosts: &Hosts,
    advice: &JobsAdvice,
    facts: &Facts,
    report: &mut Report,
) -> Result<(), Error> {
    let root = &settings.root;
    let by_hand = by_hand_makepkg(m, hosts, advice);
    let var = m.enable.variable.as_str();
    let negated = m.enable.negated.as_deref();
    let later_why = "makepkg reads it after distcc.conf";
    let users: Vec<ConfFile> = user_configs(root)
        .iter()
        .map(|p| ConfFile::read(root, p, Dialect::Bash))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let watched = [var, m.hosts_variable.as_str(), m.jobs_variable.as_str()];
    warn_native(&[&main], hosts, facts, &mut report.warnings);

    if let Some(dir) = dropin_dir(root, m) {
        let ours = dir.join(DROPIN_NAME);
        let dropins = read_dropins(root, &dir)?;
        let (earlier, rest): (Vec<ConfFile>, Vec<ConfFile>) = dropins
            .into_iter()
            .partition(|f| f.path.file_name() < ours.file_name());
        let (existing, later): (Vec<ConfFile>, Vec<ConfFile>) =
            rest.into_iter().partition(|f| f.path == ours);
        let mut words = check_static_array(&main, var, &by_hand)?.unwrap_or_default();
        for f in &earlier {
            if let Some(w) = check_static_array(f, var, &by_hand)? {
                words = w;
            }
        }
        let words = enable_word(words, &m.enable.word, negated);
        warn_overrides(&later, &watched, later_why, &mut report.warnings);
        warn_overrides(
            &users,
            &watched,
            "makepkg reads it last",
            &mut report.warnings,
        );
        report.notes.push(format!(
            "makepkg: {} exists, so the settings go into the drop-in {} \
             (pacman upgrades never touch it); {} is left as it is",
            dir.display(),
            ours.display(),
            m.config.display()
        ));
        let mut file = match existing.into_iter().next() {
            Some(f) => f,
            None => ConfFile {
                path: ours.clone(),
                doc: Document::parse(DROPIN_HEADER.as_bytes(), Dialect::Bash)
                    .map_err(|e| shconf_unsafe(&ours, e, &by_hand))?,
                original: Vec::new(),
            },
        };
        let edits = [
            Edit::SetArray {
                name: var.to_string(),
                values: words,
            },
            Edit::Set {
                name: m.hosts_variable.clone(),
                value: hosts.spec.clone(),
            },
            Edit::Set {
                name: m.jobs_variable.clone(),
                value: advice.flags(),
            },
        ];
        apply_edits(&mut file, &edits, &by_hand)?;
        return write_conf(&mut report.plan, file);
    }

    if m.dropin_dir.is_none() {
        report.notes.push(format!(
            "makepkg: editing {} in place (this profile's makepkg reads no drop-in directory)",
            m.config.display()
        ));
    } else {
        report.notes.push(format!(
            "makepkg: no drop-in directory under the root, so {} is edited in place",
            m.config.display()
        ));
    }
    warn_overrides(
        &users,
        &watched,
        "makepkg reads it last",
        &mut report.warnings,
    );
    check_static_array(&main, var, &by_hand)?;
    let edits = [
        Edit::Enable {
            name: var.to_string(),
            word: m.enable.word.clone(),
        },
        Edit::Set {
            name: m.hosts_variable.clone(),
            value: hosts.spec.clone(),
        },
        Edit::Set {
            name: m.jobs_variable.clone(),
            value: advice.flags(),
        },
    ];
    apply_edits(&mut main, &edits, &by_hand)?;
    // The word edit works on the effective assignment; make sure bash ends up seeing it.
    if let Some(words) = check_static_array(&main, var, &by_hand)? {
        if negated.is_some_and(|n| words.iter().any(|w| w == n)) {
            return Err(Error::Unsafe {
                file: main.path.clone(),
                line: main.assigns(var).unwrap_or(1),
                column: 1,
                reason: format!("{var} would still hold `{}`", negated.unwrap_or_default()),
                by_hand,
            });
        }
    }
    write_conf(&mut report.plan, main)
}

fn apply_edits(file: &mut ConfFile, edits: &[Edit], by_hand: &str) -> Result<(), Error> {
    for e in edits {
        if let Err(err) = file.doc.apply(e) {
            // shconf's reason is about the edit; when the value itself is dynamic, that
            // is the explanation the user needs.
            return Err(match file.doc.get(e.name()) {
                Some(info) if matches!(info.value, Value::Dynamic { .. }) => {
                    let why = match info.value {
                        Value::Dynamic { reason } => reason,
                        _ => String::new(),
                    };
                    Error::Unsafe {
                        file: file.path.clone(),
                        line: info.line,
                        column: info.column,
                        reason: format!("{} cannot be edited safely: {why} ({err})", e.name()),
                        by_hand: by_hand.to_string(),
                    }
                }
                _ => shconf_unsafe(&file.path, err, by_hand),
            });
        }
    }
    Ok(())
}

fn write_conf(plan: &mut Plan, file: ConfFile) -> Result<(), Error> {
    let bytes = file.doc.to_bytes();
    if bytes != file.original {
        ensure_dir(plan, file.path.parent().unwrap_or(Path::new("/")))?;
    }
    // write_file adds nothing when the file already holds these bytes.
    plan.write_file(&file.path, bytes)?;
    Ok(())
}

/// Plan creating `dir` and every missing ancestor, outermost first.
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
            .any(|s| matches!(&s.change, plan::Change::CreateDir { path } if path == d));
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

/// `to` relative to the directory `from` (both absolute system paths).
pub fn relative_target(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in b.iter().skip(common) {
        out.push(c.as_os_str());
    }
    out
}

/// The masquerade links makepkg needs where the distro does not ship them.
fn plan_masquerade(settings: &Settings, dir: &Path, report: &mut Report) -> Result<(), Error> {
    let root = &settings.root;
    let distcc = Path::new("/usr/bin/distcc");
    if !root.path(distcc).exists() {
        report.warnings.push(format!(
            "{} is missing under {}: install distcc, the masquerade links point to it",
            distcc.display(),
            root.dir().display()
        ));
    }
    let mut names: Vec<String> = ["gcc", "cc", "g++", "c++"].map(String::from).to_vec();
    for t in &settings.profile.client.triples {
        for c in ["gcc", "g++"] {
            let name = format!("{}-{c}", t.triple);
            if root.path(&Path::new("/usr/bin").join(&name)).exists() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    ensure_dir(&mut report.plan, dir)?;
    let target = relative_target(dir, distcc);
    report.notes.push(format!(
        "masquerade: {} gets {} → {} (makepkg puts this directory first in PATH; \
         this distro's distcc package does not create it)",
        dir.display(),
        names.join(", "),
        target.display()
    ));
    for name in names {
        let link = dir.join(&name);
        match root.state(&link)? {
            Before::Missing => report.plan.create_symlink(&link, &target)?,
            Before::Symlink(t) if t.file_name() == Some("distcc".as_ref()) => {}
            _ => report.warnings.push(format!(
                "{} exists and is not a link to distcc; left alone, so {name} will not be distributed",
                link.display()
            )),
        }
    }
    Ok(())
}

/// The new bytes of a hosts file holding `spec`, comments kept; `None` when unchanged.
pub fn hosts_file_bytes(existing: Option<&str>, spec: &str) -> Option<Vec<u8>> {
    let Some(text) = existing else {
        return Some(
            format!(
                "# distcc host list (see distcc(1), HOST SPECIFICATIONS), written by distsetup master\n{spec}\n"
            )
            .into_bytes(),
        );
    };
    let new_items = hostspec::parse(spec)
        .ok()
        .map(|l| l.entries.into_iter().map(|e| e.item).collect::<Vec<_>>());
    let old_items = hostspec::parse(text)
        .ok()
        .map(|l| l.entries.into_iter().map(|e| e.item).collect::<Vec<_>>());
    if new_items.is_some() && new_items == old_items {
        return None;
    }
    let mut out = String::new();
    let mut placed = false;
    for line in text.split_inclusive('\n') {
        let content = line.split('#').next().unwrap_or_default();
        if content.trim().is_empty() {
            out.push_str(line);
            continue;
        }
        if !placed {
            let ending = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            out.push_str(spec);
            out.push_str(ending);
            placed = true;
        }
    }
    if !placed {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(spec);
        out.push('\n');
    }
    Some(out.into_bytes())
}

fn plan_hosts_file(
    root: &SysRoot,
    path: &Path,
    hosts: &Hosts,
    report: &mut Report,
) -> Result<(), Error> {
    let existing = root
        .read_file(path)?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    if let Some(bytes) = hosts_file_bytes(existing.as_deref(), &hosts.spec) {
        ensure_dir(&mut report.plan, path.parent().unwrap_or(Path::new("/")))?;
        report.plan.write_file(path, bytes)?;
        report.notes.push(format!(
            "hosts file: {} gets the host list (its comments are kept)",
            path.display()
        ));
    }
    Ok(())
}

/// Warn about `-march=native`/`-mtune=native` when compiles go to other machines.
fn warn_native(files: &[&ConfFile], hosts: &Hosts, facts: &Facts, warnings: &mut Vec<String>) {
    if !hosts.any_remote {
        return;
    }
    for f in files {
        for var in FLAG_VARS {
            let Some(info) = f.doc.get(var) else { continue };
            let Value::Scalar(v) = &info.value else {
                continue;
            };
            let v = String::from_utf8_lossy(v);
            for (flag, what) in [("-march=native", "march"), ("-mtune=native", "mtune")] {
                if !v.split_whitespace().any(|w| w == flag) {
                    continue;
                }
                let instead = match &facts.native {
                    Some(n) if what == "march" => format!(
                        "use -march={} instead (what `gcc -march=native -Q --help=target` resolves to here)",
                        n.march
                    ),
                    Some(n) => format!(
                        "use -mtune={} instead (what `gcc -march=native -Q --help=target` resolves to here)",
                        n.mtune
                    ),
                    None => format!(
                        "run `gcc -march=native -Q --help=target` on this machine and use the -{what}= value it shows"
                    ),
                };
                warnings.push(format!(
                    "{}:{}: {var} contains {flag}: distcc then compiles locally, or the volunteers \
                     tune for their own CPU; {instead}",
                    f.path.display(),
                    info.line
                ));
            }
        }
    }
}

fn plan_portage(
    settings: &Settings,
    p: &Portage,
    hosts: &Hosts,
    advice: &JobsAdvice,
    facts: &Facts,
    report: &mut Report,
) -> Result<(), Error> {
    let root = &settings.root;
    let by_hand = format!(
        "add `{}` to {} and set {}=\"{}\" in make.conf",
        p.enable.word,
        p.enable.variable,
        p.jobs_variable,
        advice.flags()
    );
    let config = root.follow(&p.config)?;
    let mut files: Vec<ConfFile> = Vec::new();
    let is_dir = root.state(&config)? == Before::Dir;
    if is_dir {
        let backup = plan::BACKUP_SUFFIX;
        for name in list_dir(root, &config, |n| {
            !n.starts_with('.') && !n.ends_with('~') && !n.ends_with(backup)
        })? {
            if let Some(f) = ConfFile::read(root, &config.join(name), Dialect::Portage)? {
                files.push(f);
            }
        }
        report.notes.push(format!(
            "portage: {} is a directory; each variable is edited where it is assigned, \
             else in {}",
            p.config.display(),
            config.join(DROPIN_NAME).display()
        ));
    } else {
        let legacy = p.legacy_config.as_ref().filter(|l| root.path(l).is_file());
        let file = match ConfFile::read(root, &p.config, Dialect::Portage)? {
            Some(f) => f,
            None => match legacy {
                Some(l) => ConfFile::read(root, l, Dialect::Portage)?.ok_or_else(|| {
                    Error::MissingConfig {
                        path: l.clone(),
                        root: root.dir().to_path_buf(),
                        hint: "it vanished while being read".into(),
                    }
                })?,
                None => {
                    return Err(Error::MissingConfig {
                        path: p.config.clone(),
                        root: root.dir().to_path_buf(),
                        hint: "is this a Gentoo system (Portage installed)?".into(),
                    });
                }
            },
        };
        files.push(file);
    }
    warn_native(
        &files.iter().collect::<Vec<_>>(),
        hosts,
        facts,
        &mut report.warnings,
    );
    let edits = [
        Edit::Enable {
            name: p.enable.variable.clone(),
            word: p.enable.word.clone(),
        },
        Edit::Set {
            name: p.jobs_variable.clone(),
            value: advice.flags(),
        },
    ];
    for edit in &edits {
        let at = files.iter().rposition(|f| f.doc.get(edit.name()).is_some());
        let index = match at {
            Some(i) => i,
            None if is_dir => match files
                .iter()
                .position(|f| f.path.file_name() == Some(DROPIN_NAME.as_ref()))
            {
                Some(i) => i,
                None => {
                    let path = config.join(DROPIN_NAME);
                    files.push(ConfFile {
                        doc: Document::parse(
                            b"# Portage settings for distcc, written by `distsetup master`.\n",
                            Dialect::Portage,
                        )
                        .map_err(|e| shconf_unsafe(&path, e, &by_hand))?,
                        path,
                        original: Vec::new(),
                    });
                    files.len() - 1
                }
            },
            None => 0,
        };
        if let Some(f) = files.get_mut(index) {
            apply_edits(f, std::slice::from_ref(edit), &by_hand)?;
        }
    }
    if is_dir {
        // Portage reads every file of the directory but hidden ones: a backup named
        // beside the file the usual way would be read after it and undo the edit.
        report.plan.hide_backups_in(&config);
    }
    for f in files {
        write_conf(&mut report.plan, f)?;
    }
    Ok(())
}
