//! Loading: the embedded profiles and toolchain catalog, the user's overrides, explicit
//! files, and parsing TOML into a validated [`Profile`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::schema::Catalog;
use super::validate::validate;
use super::{Error, KnownToolchain, Origin, Profile};

/// The embedded profiles, by name: `(name, TOML text)`.
const EMBEDDED: &[(&str, &str)] = &[
    ("arch", include_str!("../../distro-profiles/arch.toml")),
    (
        "archarm",
        include_str!("../../distro-profiles/archarm.toml"),
    ),
    ("debian", include_str!("../../distro-profiles/debian.toml")),
    ("gentoo", include_str!("../../distro-profiles/gentoo.toml")),
    ("void", include_str!("../../distro-profiles/void.toml")),
];

/// The embedded toolchain catalog shared by every profile.
const TOOLCHAINS: &str = include_str!("../../distro-profiles/toolchains.toml");

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

/// The embedded profiles `master` can configure a machine with (for shell completion and
/// menus: `void` has no build tool configuration to edit).
pub fn embedded_master_names() -> Vec<&'static str> {
    EMBEDDED
        .iter()
        .filter(|(_, text)| parse(text, Origin::Embedded).is_ok_and(|p| p.configures_master()))
        .map(|(n, _)| *n)
        .collect()
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

pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
