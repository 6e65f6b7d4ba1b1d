//! The server's compiler table: which names a client may ask for, and which executable
//! each one runs. A peer's string is only ever a key into this table: it is never handed
//! to a PATH search or a shell (CVE-2004-2687).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::config::{Alias, ServeSettings};
use super::error::ServeError;
use super::names::{TOOLS, split_tool, tool_of};

/// Plain compiler names accepted from a toolchain dir.
const PLAIN: [&str; 9] = [
    "gcc", "g++", "cc", "c++", "cpp", "clang", "clang++", "c89", "c99",
];

/// Directories a client's compiler path may name: stripped to the bare name, which is
/// then looked up like any other (distccd's secure default strips `/usr/bin/` and
/// `/bin/`; the masquerade directories are where distcc's own links live).
const STANDARD_DIRS: &[&str] = &[
    "/usr/bin/",
    "/bin/",
    "/usr/local/bin/",
    "/usr/lib/distcc/bin/",
    "/usr/lib/distcc/",
    "/usr/lib64/distcc/bin/",
    "/usr/lib64/distcc/",
];

/// Where a name in the table came from (for logs and explanations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An executable in a `--toolchain` directory.
    Toolchain,
    /// An `--alias`.
    Alias,
    /// Whitelisted in a masquerade directory (`/usr/lib/distcc`).
    Whitelist,
}

/// A compiler the server agreed to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Absolute path of the executable to run.
    pub path: PathBuf,
    /// Why the name was accepted.
    pub origin: Origin,
}

/// Why a compiler name was refused. The `Display` text goes to the client on SERR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompilerRefusal {
    /// A path outside the standard system directories.
    #[error(
        "compiler '{0}' is a path outside /usr/bin, /bin, /usr/local/bin and the distcc \
         masquerade directories; this server runs only compilers from its own table. Ask for \
         the compiler by name (distcc gcc ...), or add --alias {0}=NAME on the server (NAME \
         a compiler it has)"
    )]
    Path(String),
    /// Not in the table.
    #[error("compiler '{name}' is not in this server's table{hint}. Known names: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// How to fix it.
        hint: String,
        /// A short list of what is accepted.
        known: String,
    },
    /// Bytes that are not a plausible program name.
    #[error("compiler name {0:?} is not a valid program name")]
    Invalid(String),
}

/// The compiler table. Built once at startup; whitelist entries are checked per request
/// (Debian's dpkg trigger rewrites `/usr/lib/distcc` while we run).
#[derive(Debug, Clone)]
pub struct CompilerTable {
    fixed: BTreeMap<String, Resolved>,
    triples: Vec<(String, String)>,
    masquerade_dirs: Vec<PathBuf>,
    search_path: Vec<PathBuf>,
}

impl CompilerTable {
    /// Scan the toolchain directories and check every alias target exists.
    pub fn build(settings: &ServeSettings) -> Result<CompilerTable, ServeError> {
        let mut table = CompilerTable {
            fixed: BTreeMap::new(),
            triples: Vec::new(),
            masquerade_dirs: settings.masquerade_dirs.clone(),
            search_path: settings.search_path.clone(),
        };
        for dir in &settings.toolchains {
            // A toolchain dir is typically x-tools/TRIPLE/bin; also accept its parent.
            let entries = std::fs::read_dir(dir).map_err(|source| ServeError::Io {
                what: format!("reading toolchain directory {}", dir.display()),
                source,
            })?;
            let mut names: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for name in names {
                let Some(name) = name.to_str() else { continue };
                let is_compiler = PLAIN.contains(&name) || tool_of(name).is_some();
                let path = dir.join(name);
                if is_compiler && is_executable_file(&path) {
                    table.fixed.entry(name.to_owned()).or_insert(Resolved {
                        path: absolute(&path),
                        origin: Origin::Toolchain,
                    });
                }
            }
        }
        for alias in &settings.aliases {
            match alias {
                Alias::Name { from, to } => {
                    let path = table
                        .find_target(to)
                        .ok_or_else(|| ServeError::BadSetting {
                            setting: "--alias",
                            value: format!("{from}={to}"),
                            reason: format!(
                                "'{to}' is not an executable in the toolchain dirs or PATH"
                            ),
                        })?;
                    table.fixed.insert(
                        from.clone(),
                        Resolved {
                            path,
                            origin: Origin::Alias,
                        },
                    );
                }
                Alias::Triple { from, to } => {
                    let any = TOOLS
                        .iter()
                        .any(|t| table.find_target(&format!("{to}-{t}")).is_some());
                    if !any {
                        return Err(ServeError::BadSetting {
                            setting: "--alias",
                            value: format!("{from}={to}"),
                            reason: format!(
                                "no {to}-gcc, {to}-g++, {to}-cc, {to}-c++ or {to}-cpp in the toolchain dirs or PATH"
                            ),
                        });
                    }
                    table.triples.push((from.clone(), to.clone()));
                }
            }
        }
        Ok(table)
    }

    /// Resolve an alias target: an absolute path (operator's choice), else a name in the
    /// toolchain dirs, else in the server's PATH (skipping distcc masquerade links).
    fn find_target(&self, to: &str) -> Option<PathBuf> {
        if to.starts_with('/') {
            let p = Path::new(to);
            return is_executable_file(p).then(|| p.to_path_buf());
        }
        if to.contains('/') {
            return None;
        }
        if let Some(r) = self.fixed.get(to).filter(|r| r.origin == Origin::Toolchain) {
            return Some(r.path.clone());
        }
        self.find_in_path(to)
    }

    fn find_in_path(&self, name: &str) -> Option<PathBuf> {
        self.search_path.iter().find_map(|dir| {
            let p = dir.join(name);
            (is_executable_file(&p) && !is_distcc(&p)).then_some(p)
        })
    }

    /// Every executable a name of the table maps to (whitelisted names are looked up per
    /// request and are not included), each once.
    pub fn executables(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.fixed.values().map(|r| r.path.clone()).collect();
        for (_, to) in &self.triples {
            out.extend(
                TOOLS
                    .iter()
                    .filter_map(|t| self.find_target(&format!("{to}-{t}"))),
            );
        }
        out.sort();
        out.dedup();
        out
    }

    /// A one-line summary for the startup log.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .fixed
            .iter()
            .map(|(n, r)| format!("{n} -> {}", r.path.display()))
            .collect();
        parts.extend(self.triples.iter().map(|(f, t)| format!("{f}-* -> {t}-*")));
        parts.extend(
            self.masquerade_dirs
                .iter()
                .map(|d| format!("names whitelisted in {}", d.display())),
        );
        parts.join(", ")
    }

    /// Look up what the client asked for.
    pub fn resolve(&self, requested: &[u8]) -> Result<Resolved, CompilerRefusal> {
        let shown = String::from_utf8_lossy(requested).into_owned();
        if requested.contains(&b'/') {
            // An operator's --alias for exactly this path, else distccd's secure
            // default: a standard directory is stripped and the name looked up.
            if let Some(r) = self.fixed.get(shown.as_str()) {
                return Ok(r.clone());
            }
            let name = STANDARD_DIRS
                .iter()
                .find_map(|d| requested.strip_prefix(d.as_bytes()))
                .filter(|n| !n.contains(&b'/'))
                .ok_or_else(|| CompilerRefusal::Path(shown.clone()))?;
            return self.resolve(name);
        }
        let Ok(name) = std::str::from_utf8(requested) else {
            return Err(CompilerRefusal::Invalid(shown));
        };
        if name.is_empty()
            || name.starts_with('-')
            || name.starts_with('.')
            || name.bytes().any(|b| b.is_ascii_control() || b == b' ')
        {
            return Err(CompilerRefusal::Invalid(shown));
        }
        if let Some(r) = self.fixed.get(name) {
            return Ok(r.clone());
        }
        if let Some((prefix, tool)) = split_tool(name) {
            for (from, to) in &self.triples {
                if prefix == from {
                    if let Some(path) = self.find_target(&format!("{to}-{tool}")) {
                        return Ok(Resolved {
                            path,
                            origin: Origin::Alias,
                        });
                    }
                }
            }
        }
        for dir in &self.masquerade_dirs {
            let link = dir.join(name);
            // distccd accepts anything access(X_OK) passes, directories included; we want
            // a regular file or a symlink to one.
            if std::fs::metadata(&link).is_ok_and(|m| m.is_file()) {
                if let Some(path) = self.find_in_path(name) {
                    return Ok(Resolved {
                        path,
                        origin: Origin::Whitelist,
                    });
                }
            }
        }
        Err(CompilerRefusal::Unknown {
            hint: self.hint(name),
            known: self.known_names(),
            name: shown,
        })
    }

    fn hint(&self, name: &str) -> String {
        match split_tool(name) {
            Some((prefix, _)) if prefix.contains('-') => format!(
                "; add --alias {prefix}=<local triple> (for example --alias {prefix}={}) \
                 or --toolchain DIR with a {name}",
                self.local_triple_example(prefix)
            ),
            _ => format!(
                "; add --alias {name}=<compiler> or --toolchain DIR, or whitelist it in {}",
                self.masquerade_dirs
                    .first()
                    .map_or_else(|| "/usr/lib/distcc".into(), |d| d.display().to_string())
            ),
        }
    }

    /// Guess a local triple with the same CPU as `prefix` for the hint.
    fn local_triple_example(&self, prefix: &str) -> String {
        let cpu = prefix.split('-').next().unwrap_or_default();
        let family = if cpu.starts_with("arm") { "arm" } else { cpu };
        for dir in &self.masquerade_dirs {
            if let Ok(rd) = std::fs::read_dir(dir) {
                let mut names: Vec<String> = rd
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .collect();
                names.sort();
                for n in names {
                    if let Some((p, t)) = split_tool(&n) {
                        if t == "gcc" && p.starts_with(family) {
                            return p.to_owned();
                        }
                    }
                }
            }
        }
        "TRIPLE".into()
    }

    fn known_names(&self) -> String {
        let mut names: Vec<String> = self.fixed.keys().cloned().collect();
        names.extend(self.triples.iter().map(|(f, _)| format!("{f}-*")));
        for dir in &self.masquerade_dirs {
            if let Ok(rd) = std::fs::read_dir(dir) {
                let mut wl: Vec<String> = rd
                    .filter_map(Result::ok)
                    .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .collect();
                wl.sort();
                names.extend(wl);
            }
        }
        if names.is_empty() {
            return "(none)".into();
        }
        if names.len() > 24 {
            let more = names.len() - 24;
            names.truncate(24);
            names.push(format!("and {more} more"));
        }
        names.join(", ")
    }
}

fn is_executable_file(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when `p` resolves to distcc itself (a masquerade link): running it would recurse.
fn is_distcc(p: &Path) -> bool {
    std::fs::canonicalize(p).is_ok_and(|real| {
        real.file_name()
            .map(OsStr::as_bytes)
            .is_some_and(|n| n.starts_with(b"distcc"))
    })
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
