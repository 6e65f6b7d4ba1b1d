//! Distro profiles: which files a distcc set-up edits on each distro, which variables,
//! how distcc is switched on, which triples the master's compiler reports, the daemon's
//! configuration and services, and the `-j` rule the distro's own guide gives.
//!
//! Profiles are TOML files in `distro-profiles/`, embedded in the binary. A file of the
//! same name in the user's config directory (`~/.config/distsetup/profiles/NAME.toml`)
//! replaces the embedded one, and [`load_file`] reads any path (`--profile-file`). Every
//! profile is validated when it is loaded; errors name the file, the key and the problem.
//!
//! The crosstool-ng toolchain names (`x-tools7h`, `x-tools86`, ...) do not depend on the
//! volunteer's distro, so they live once in `distro-profiles/toolchains.toml`; a profile
//! may add or replace entries with its own `[[toolchains]]`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cores::JobsRule;

/// The embedded profiles, by name: `(name, TOML text)`.
const EMBEDDED: &[(&str, &str)] = &[
    ("arch", include_str!("../distro-profiles/arch.toml")),
    ("archarm", include_str!("../distro-profiles/archarm.toml")),
    ("debian", include_str!("../distro-profiles/debian.toml")),
    ("gentoo", include_str!("../distro-profiles/gentoo.toml")),
    ("void", include_str!("../distro-profiles/void.toml")),
];

/// The embedded toolchain catalog shared by every profile.
const TOOLCHAINS: &str = include_str!("../distro-profiles/toolchains.toml");

/// Loading or validating a profile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No profile of that name, embedded or in the user's directory.
    #[error("unknown profile `{name}`; known profiles: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// The profile file could not be read.
    #[error("{path}: cannot read profile: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the profile schema (unknown key, wrong type).
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// Where the profile came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A value parsed but makes no sense (bad triple, port 0, relative path, ...).
    #[error("{origin}: `{key}`: {problem}")]
    Invalid {
        /// Where the profile came from.
        origin: String,
        /// The dotted key, e.g. `client.triples[1].triple`.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

/// Where a profile was loaded from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// Compiled into the binary from `distro-profiles/NAME.toml`.
    #[default]
    Embedded,
    /// The user's override in the config directory.
    UserConfig(PathBuf),
    /// An explicit file (`--profile-file`).
    File(PathBuf),
}

impl Origin {
    fn label(&self, name: &str) -> String {
        match self {
            Origin::Embedded => format!("distro-profiles/{name}.toml (embedded)"),
            Origin::UserConfig(p) | Origin::File(p) => p.display().to_string(),
        }
    }
}

/// A distro profile, validated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    /// Short name (`archarm`); must match the file name.
    pub name: String,
    /// One line for `--profile list`.
    pub description: String,
    /// The master (client) side.
    pub client: Client,
    /// The `-j` rule and its source.
    pub jobs: Jobs,
    /// The volunteer (server) side.
    pub volunteer: Volunteer,
    /// Toolchains this profile adds to (or replaces in) the shared catalog.
    #[serde(default)]
    pub toolchains: Vec<KnownToolchain>,
    /// Where it came from (not in the TOML).
    #[serde(skip)]
    pub origin: Origin,
    /// The shared catalog merged with `toolchains` (not in the TOML).
    #[serde(skip)]
    catalog: Vec<KnownToolchain>,
}

/// The master's side: files, variables, triples, masquerade directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Client {
    /// distcc's system-wide host list (`/etc/distcc/hosts`).
    pub hosts_file: PathBuf,
    /// The client masquerade directory a build tool puts first in PATH (`/usr/lib/distcc/bin`).
    pub masquerade_dir: Option<PathBuf>,
    /// Whether the distro's distcc package fills `masquerade_dir` (Debian's does not).
    #[serde(default)]
    pub masquerade_shipped: bool,
    /// makepkg, when this distro's master builds with it.
    pub makepkg: Option<Makepkg>,
    /// Portage, for Gentoo.
    pub portage: Option<Portage>,
    /// What `gcc -dumpmachine` may report on masters of this distro.
    pub triples: Vec<MasterTriple>,
}

/// How a word switches distcc on inside a variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Switch {
    /// The variable (`BUILDENV`, `FEATURES`).
    pub variable: String,
    /// The word that enables distcc (`distcc`).
    pub word: String,
    /// The word that disables it, if the syntax has one (`!distcc`, `-distcc`).
    pub negated: Option<String>,
}

/// makepkg's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Makepkg {
    /// `/etc/makepkg.conf`.
    pub config: PathBuf,
    /// `/etc/makepkg.conf.d` (pacman ≥ 6.1 sources `*.conf` there after the main file).
    pub dropin_dir: Option<PathBuf>,
    /// `BUILDENV` + `distcc`.
    pub enable: Switch,
    /// `DISTCC_HOSTS`.
    pub hosts_variable: String,
    /// `MAKEFLAGS`.
    pub jobs_variable: String,
}

/// Portage's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Portage {
    /// `/etc/portage/make.conf` — a file or a directory of files.
    pub config: PathBuf,
    /// `/etc/make.conf`, still read by Portage when present.
    pub legacy_config: Option<PathBuf>,
    /// `FEATURES` + `distcc`.
    pub enable: Switch,
    /// `MAKEOPTS`.
    pub jobs_variable: String,
}

/// A triple a master of this distro may report, with the distro's name for the arch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MasterTriple {
    /// The distro's architecture name (`armv7h`, `arm`, `amd64`).
    pub arch: String,
    /// What `gcc -dumpmachine` says (`armv7l-unknown-linux-gnueabihf`).
    pub triple: String,
}

/// The `-j` rule, with where it comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Jobs {
    /// The rule.
    pub rule: JobsRule,
    /// The guide it follows (title and URL).
    pub source: String,
}

/// How a volunteer's daemon configuration file is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigSyntax {
    /// systemd `EnvironmentFile=`: no `$VAR` expansion.
    EnvironmentFile,
    /// Sourced by sh.
    Shell,
    /// One entry per line (Void's `clients.allow`).
    Lines,
}

impl ConfigSyntax {
    /// The name used in the TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSyntax::EnvironmentFile => "environment-file",
            ConfigSyntax::Shell => "shell",
            ConfigSyntax::Lines => "lines",
        }
    }
}

/// The init system that runs the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceManager {
    /// systemd units.
    Systemd,
    /// OpenRC init scripts.
    Openrc,
    /// runit service directories.
    Runit,
    /// SysV init scripts.
    Sysv,
}

impl ServiceManager {
    /// The name used in the TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceManager::Systemd => "systemd",
            ServiceManager::Openrc => "openrc",
            ServiceManager::Runit => "runit",
            ServiceManager::Sysv => "sysv",
        }
    }
}

/// The volunteer's side: whitelist, daemon configuration, services, ports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Volunteer {
    /// distccd ≥ 3.3's compiler whitelist (`/usr/lib/distcc`).
    pub whitelist_dir: PathBuf,
    /// distccd's port (3632).
    pub port: u16,
    /// distccd's stats port (3633).
    pub stats_port: u16,
    /// The user the daemon runs as.
    pub user: String,
    /// The daemon's configuration file.
    pub config: PathBuf,
    /// How that file is evaluated.
    pub config_syntax: ConfigSyntax,
    /// The variable holding all daemon arguments (`DISTCC_ARGS`, `DISTCCD_OPTS`).
    pub args_variable: Option<String>,
    /// The variable holding the allowed networks, when separate (`ALLOWEDNETS`).
    pub allow_variable: Option<String>,
    /// The variable holding the job limit, when separate (`JOBS`).
    pub jobs_variable: Option<String>,
    /// The init system.
    pub service_manager: ServiceManager,
    /// The daemon's service name (`distccd`).
    pub service: String,
    /// Where the distro's own unit or script lives.
    pub service_file: PathBuf,
    /// Where distsetup puts per-toolchain units or scripts.
    pub service_dir: PathBuf,
    /// Per-toolchain service name; `{suffix}` is the toolchain's `unit-suffix`.
    pub toolchain_service: String,
    /// Per-toolchain config file; `{suffix}` as above.
    pub toolchain_config: PathBuf,
    /// Directories searched for toolchains by name, besides the user's home.
    pub toolchain_dirs: Vec<PathBuf>,
}

/// A crosstool-ng style toolchain name and what it holds.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KnownToolchain {
    /// The directory name (`x-tools7h`).
    pub name: String,
    /// The prefix of its executables and its subdirectory (`arm-unknown-linux-gnueabihf`).
    pub triple: String,
    /// Master triples it stands in for (`armv7l-unknown-linux-gnueabihf`).
    #[serde(default)]
    pub serves: Vec<String>,
    /// Name part of its per-toolchain service (`armv7h` → `distccd-armv7h`).
    pub unit_suffix: String,
    /// The port its daemon conventionally listens on.
    pub port: u16,
    /// One line saying what it is for.
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    toolchains: Vec<KnownToolchain>,
}

/// A name and its one-line description, for `--profile list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Profile name.
    pub name: String,
    /// One line.
    pub description: String,
    /// Embedded, or overridden by a user file.
    pub origin: Origin,
}

/// The names of the profiles built into the binary (for shell completion).
pub fn embedded_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// The crosstool-ng toolchain names of the shared catalog (for shell completion).
pub fn catalog_toolchain_names() -> Vec<String> {
    toml_edit::de::from_str::<Catalog>(TOOLCHAINS)
        .map(|c| c.toolchains.into_iter().map(|t| t.name).collect())
        .unwrap_or_default()
}

/// The user's profile directory: `$XDG_CONFIG_HOME/distsetup/profiles` (usually
/// `~/.config/distsetup/profiles`), if a home directory is known.
pub fn user_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "distsetup").map(|d| d.config_dir().join("profiles"))
}

/// Loads profiles: embedded ones, overridden by files in a user directory.
#[derive(Debug, Clone)]
pub struct Loader {
    user_dir: Option<PathBuf>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader {
            user_dir: user_dir(),
        }
    }
}

impl Loader {
    /// A loader whose user overrides live in `dir` (`None`: embedded profiles only).
    pub fn with_user_dir(dir: Option<PathBuf>) -> Self {
        Loader { user_dir: dir }
    }

    /// The profile `name`: the user's file if there is one, else the embedded one.
    pub fn load(&self, name: &str) -> Result<Profile, Error> {
        if let Some(path) = self.user_file(name) {
            let text = read(&path)?;
            return parse(&text, Origin::UserConfig(path));
        }
        match EMBEDDED.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => parse(text, Origin::Embedded),
            None => Err(Error::Unknown {
                name: name.to_owned(),
                known: self.names().join(", "),
            }),
        }
    }

    /// Every profile name with its description, sorted by name; user files that fail to
    /// load are reported as errors rather than hidden.
    pub fn list(&self) -> Result<Vec<Summary>, Error> {
        self.names()
            .iter()
            .map(|n| {
                self.load(n).map(|p| Summary {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    origin: p.origin.clone(),
                })
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        let mut names: BTreeSet<String> = EMBEDDED.iter().map(|(n, _)| (*n).to_owned()).collect();
        if let Some(dir) = &self.user_dir {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let name = e.file_name();
                    if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".toml")) {
                        if valid_name(stem) {
                            names.insert(stem.to_owned());
                        }
                    }
                }
            }
        }
        names.into_iter().collect()
    }

    fn user_file(&self, name: &str) -> Option<PathBuf> {
        if !valid_name(name) {
            return None;
        }
        let path = self.user_dir.as_ref()?.join(format!("{name}.toml"));
        path.is_file().then_some(path)
    }
}

/// Every profile with its description, the user's overrides and additions included
/// (what `--profile list` shows).
pub fn list() -> Result<Vec<Summary>, Error> {
    Loader::default().list()
}

/// Load the embedded-or-user profile `name` with the default user directory.
pub fn load(name: &str) -> Result<Profile, Error> {
    Loader::default().load(name)
}

/// Load a profile from an explicit file (`--profile-file PATH`).
pub fn load_file(path: &Path) -> Result<Profile, Error> {
    let text = read(path)?;
    parse(&text, Origin::File(path.to_path_buf()))
}

/// Parse and validate profile text. `origin` names it in errors.
pub fn parse(text: &str, origin: Origin) -> Result<Profile, Error> {
    let fallback = match &origin {
        Origin::Embedded => "profile".to_owned(),
        Origin::UserConfig(p) | Origin::File(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let mut profile: Profile = toml_edit::de::from_str(text).map_err(|e| {
        // Name the file even when the name key itself is what failed.
        let name = peek_name(text).unwrap_or(fallback.clone());
        syntax_error(origin.label(&name), text, e.message(), e.span())
    })?;
    let label = origin.label(&profile.name);
    profile.origin = origin;
    let catalog: Catalog = toml_edit::de::from_str(TOOLCHAINS).map_err(|e| {
        syntax_error(
            "distro-profiles/toolchains.toml (embedded)".to_owned(),
            TOOLCHAINS,
            e.message(),
            e.span(),
        )
    })?;
    let mut merged: BTreeMap<String, KnownToolchain> = BTreeMap::new();
    for t in catalog
        .toolchains
        .into_iter()
        .chain(profile.toolchains.iter().cloned())
    {
        merged.insert(t.name.clone(), t);
    }
    profile.catalog = merged.into_values().collect();
    validate(&profile, &label, &fallback)?;
    Ok(profile)
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn peek_name(text: &str) -> Option<String> {
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    doc.get("name")?.as_str().map(str::to_owned)
}

fn syntax_error(
    origin: String,
    text: &str,
    message: &str,
    span: Option<std::ops::Range<usize>>,
) -> Error {
    let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
    Error::Syntax {
        origin,
        line,
        column,
        message: message.trim().to_owned(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

struct Check<'a> {
    origin: &'a str,
}

impl Check<'_> {
    fn fail(&self, key: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::Invalid {
            origin: self.origin.to_owned(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    fn absolute(&self, key: &str, path: &Path) -> Result<(), Error> {
        if path.is_absolute() {
            Ok(())
        } else {
            Err(self.fail(key, format!("`{}` is not an absolute path", path.display())))
        }
    }

    fn port(&self, key: &str, port: u16) -> Result<(), Error> {
        if port == 0 {
            Err(self.fail(key, "port 0 is not allowed (use 1-65535)"))
        } else {
            Ok(())
        }
    }

    fn triple(&self, key: &str, triple: &str) -> Result<(), Error> {
        crate::triple::check_triple(triple).map_err(|why| {
            self.fail(
                key,
                format!("`{triple}` is not a target triple: {why} (expected ARCH-VENDOR-OS[-ABI], e.g. x86_64-pc-linux-gnu)"),
            )
        })
    }

    fn word(&self, key: &str, value: &str) -> Result<(), Error> {
        let ok = !value.is_empty()
            && value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.fail(key, format!("`{value}` is not a shell variable name")))
        }
    }
}

fn validate(p: &Profile, origin: &str, expected_name: &str) -> Result<(), Error> {
    let c = Check { origin };
    if !valid_name(&p.name) {
        return Err(c.fail(
            "name",
            format!(
                "`{}` is not a valid profile name (lowercase letters, digits, - and _)",
                p.name
            ),
        ));
    }
    if matches!(p.origin, Origin::UserConfig(_)) && p.name != expected_name {
        return Err(c.fail(
            "name",
            format!(
                "`{}` does not match the file name `{expected_name}.toml`",
                p.name
            ),
        ));
    }
    if p.description.trim().is_empty() || p.description.contains('\n') {
        return Err(c.fail("description", "must be one non-empty line"));
    }
    c.absolute("client.hosts-file", &p.client.hosts_file)?;
    if let Some(m) = &p.client.masquerade_dir {
        c.absolute("client.masquerade-dir", m)?;
    }
    if let Some(m) = &p.client.makepkg {
        c.absolute("client.makepkg.config", &m.config)?;
        if let Some(d) = &m.dropin_dir {
            c.absolute("client.makepkg.dropin-dir", d)?;
        }
        c.word("client.makepkg.enable.variable", &m.enable.variable)?;
        c.word("client.makepkg.hosts-variable", &m.hosts_variable)?;
        c.word("client.makepkg.jobs-variable", &m.jobs_variable)?;
    }
    if let Some(pt) = &p.client.portage {
        c.absolute("client.portage.config", &pt.config)?;
        if let Some(l) = &pt.legacy_config {
            c.absolute("client.portage.legacy-config", l)?;
        }
        c.word("client.portage.enable.variable", &pt.enable.variable)?;
        c.word("client.portage.jobs-variable", &pt.jobs_variable)?;
    }
    if p.client.triples.is_empty() {
        return Err(c.fail("client.triples", "lists no triple"));
    }
    for (i, t) in p.client.triples.iter().enumerate() {
        c.triple(&format!("client.triples[{i}].triple"), &t.triple)?;
    }
    if p.jobs.source.trim().is_empty() {
        return Err(c.fail("jobs.source", "must cite the guide the rule follows"));
    }
    let v = &p.volunteer;
    c.absolute("volunteer.whitelist-dir", &v.whitelist_dir)?;
    c.port("volunteer.port", v.port)?;
    c.port("volunteer.stats-port", v.stats_port)?;
    if v.port == v.stats_port {
        return Err(c.fail(
            "volunteer.stats-port",
            format!("port {} is also volunteer.port", v.port),
        ));
    }
    c.absolute("volunteer.config", &v.config)?;
    c.absolute("volunteer.service-file", &v.service_file)?;
    c.absolute("volunteer.service-dir", &v.service_dir)?;
    c.absolute("volunteer.toolchain-config", &v.toolchain_config)?;
    for (key, var) in [
        ("volunteer.args-variable", &v.args_variable),
        ("volunteer.allow-variable", &v.allow_variable),
        ("volunteer.jobs-variable", &v.jobs_variable),
    ] {
        if let Some(var) = var {
            c.word(key, var)?;
        }
    }
    if v.args_variable.is_none()
        && v.allow_variable.is_none()
        && v.config_syntax != ConfigSyntax::Lines
    {
        return Err(c.fail(
            "volunteer",
            "needs args-variable or allow-variable to say where --allow goes",
        ));
    }
    if !v.toolchain_service.contains("{suffix}") {
        return Err(c.fail("volunteer.toolchain-service", "must contain `{suffix}`"));
    }
    for (i, d) in v.toolchain_dirs.iter().enumerate() {
        c.absolute(&format!("volunteer.toolchain-dirs[{i}]"), d)?;
    }
    let mut ports: BTreeMap<u16, &str> = BTreeMap::new();
    for (i, t) in p.toolchains.iter().enumerate() {
        check_toolchain(&c, &format!("toolchains[{i}]"), t)?;
    }
    for t in &p.catalog {
        if let Some(other) = ports.insert(t.port, &t.name) {
            return Err(c.fail(
                format!("toolchains.{}.port", t.name),
                format!("port {} is also used by toolchain `{other}`", t.port),
            ));
        }
    }
    Ok(())
}

fn check_toolchain(c: &Check<'_>, key: &str, t: &KnownToolchain) -> Result<(), Error> {
    if !valid_name(&t.name) {
        return Err(c.fail(
            format!("{key}.name"),
            format!("`{}` is not a valid toolchain name", t.name),
        ));
    }
    c.triple(&format!("{key}.triple"), &t.triple)?;
    for (j, s) in t.serves.iter().enumerate() {
        c.triple(&format!("{key}.serves[{j}]"), s)?;
    }
    c.port(&format!("{key}.port"), t.port)?;
    if !valid_name(&t.unit_suffix) {
        return Err(c.fail(
            format!("{key}.unit-suffix"),
            format!("`{}` cannot be part of a service name", t.unit_suffix),
        ));
    }
    Ok(())
}

impl Profile {
    /// Every toolchain this profile knows: the shared catalog plus its own entries.
    pub fn known_toolchains(&self) -> &[KnownToolchain] {
        &self.catalog
    }

    /// The known toolchain called `name`.
    pub fn toolchain(&self, name: &str) -> Option<&KnownToolchain> {
        self.catalog.iter().find(|t| t.name == name)
    }

    /// The distro's architecture name for a master triple, if the profile lists it.
    pub fn arch_for_triple(&self, triple: &str) -> Option<&str> {
        self.client
            .triples
            .iter()
            .find(|t| t.triple == triple)
            .map(|t| t.arch.as_str())
    }

    /// The per-toolchain service name (`distccd-armv7h`).
    pub fn toolchain_service(&self, t: &KnownToolchain) -> String {
        self.volunteer
            .toolchain_service
            .replace("{suffix}", &t.unit_suffix)
    }

    /// The per-toolchain daemon config path (`/etc/conf.d/distccd-armv7h`).
    pub fn toolchain_config(&self, t: &KnownToolchain) -> PathBuf {
        PathBuf::from(
            self.volunteer
                .toolchain_config
                .to_string_lossy()
                .replace("{suffix}", &t.unit_suffix),
        )
    }

    /// A human-readable account of everything the profile states.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let path = |p: &Path| p.display().to_string();
        let _ = writeln!(s, "{}: {}", self.name, self.description);
        let _ = writeln!(s, "  from: {}", self.origin.label(&self.name));
        let _ = writeln!(s, "master:");
        if let Some(m) = &self.client.makepkg {
            let _ = writeln!(
                s,
                "  makepkg: {}{}; {} gains `{}`; {}; {}",
                path(&m.config),
                m.dropin_dir
                    .as_ref()
                    .map(|d| format!(" (drop-ins in {})", path(d)))
                    .unwrap_or_default(),
                m.enable.variable,
                m.enable.word,
                m.hosts_variable,
                m.jobs_variable
            );
        }
        if let Some(pt) = &self.client.portage {
            let _ = writeln!(
                s,
                "  portage: {} (file or directory){}; {} gains `{}`; {}",
                path(&pt.config),
                pt.legacy_config
                    .as_ref()
                    .map(|l| format!(", also {}", path(l)))
                    .unwrap_or_default(),
                pt.enable.variable,
                pt.enable.word,
                pt.jobs_variable
            );
        }
        let _ = writeln!(s, "  hosts file: {}", path(&self.client.hosts_file));
        match &self.client.masquerade_dir {
            Some(d) if self.client.masquerade_shipped => {
                let _ = writeln!(s, "  masquerade dir: {}", path(d));
            }
            Some(d) => {
                let _ = writeln!(
                    s,
                    "  masquerade dir: {} (not shipped by the distro's distcc package)",
                    path(d)
                );
            }
            None => {}
        }
        let triples: Vec<String> = self
            .client
            .triples
            .iter()
            .map(|t| format!("{} ({})", t.triple, t.arch))
            .collect();
        let _ = writeln!(s, "  compiler triples: {}", triples.join(", "));
        let _ = writeln!(
            s,
            "  jobs: {} — {}",
            self.jobs.rule.summary(),
            self.jobs.source
        );
        let v = &self.volunteer;
        let _ = writeln!(s, "volunteer:");
        let _ = writeln!(
            s,
            "  daemon config: {} ({}); port {}, stats port {}; user {}",
            path(&v.config),
            v.config_syntax.as_str(),
            v.port,
            v.stats_port,
            v.user
        );
        let _ = writeln!(
            s,
            "  service: {} via {} ({}); per toolchain: {} in {}",
            v.service,
            v.service_manager.as_str(),
            path(&v.service_file),
            v.toolchain_service,
            path(&v.service_dir)
        );
        let _ = writeln!(s, "  whitelist: {}", path(&v.whitelist_dir));
        let _ = writeln!(s, "toolchains:");
        for t in &self.catalog {
            let serves = if t.serves.is_empty() {
                String::new()
            } else {
                format!(", serves {}", t.serves.join(", "))
            };
            let _ = writeln!(
                s,
                "  {}: {}{}; port {}; {}",
                t.name, t.triple, serves, t.port, t.description
            );
        }
        s
    }
}
