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
//!
//! The code is split by concern: `schema` (the types the TOML deserialises into),
//! `loader` (embedded and user profiles, the shared catalog, parsing), `validate` (every
//! value checked, errors naming file and key) and `describe` ([`Profile::describe`]).
//! Everything public is re-exported here, so paths such as `profile::Profile` and
//! `profile::load` do not depend on that split.

mod describe;
mod loader;
mod schema;
mod validate;

use std::path::PathBuf;

pub use loader::{
    Loader, Summary, catalog_toolchain_names, embedded_master_names, embedded_names, list, load,
    load_file, parse, user_dir,
};
pub use schema::{
    Client, ConfigSyntax, Jobs, KnownToolchain, Makepkg, MasterTriple, Portage, Profile,
    ServiceManager, Switch, Volunteer,
};

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
