//! The profile schema: the types the TOML deserialises into, and their accessors.

use std::path::PathBuf;

use serde::Deserialize;

use super::Origin;
use crate::cores::JobsRule;

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
    pub(super) catalog: Vec<KnownToolchain>,
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
pub(super) struct Catalog {
    pub(super) toolchains: Vec<KnownToolchain>,
}

impl Profile {
    /// Whether `master` can configure a machine with this profile: it names a build
    /// tool's configuration (makepkg or Portage) to switch distcc on in.
    pub fn configures_master(&self) -> bool {
        self.client.makepkg.is_some() || self.client.portage.is_some()
    }

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
}
