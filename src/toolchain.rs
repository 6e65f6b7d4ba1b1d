//! Finding a volunteer's toolchain and finding out what it really is.
//!
//! `--toolchain` takes a name a profile knows (`x-tools8`, searched in the invoking user's
//! home — `SUDO_USER`'s when run through sudo —, `/opt`, `/usr/local` and the profile's
//! directories), or a path: an `x-tools*` tree (`x-tools86/x86_64-pc-linux-gnu/bin` inside),
//! one toolchain directory with a `bin/`, a `bin` directory of prefixed executables; or a
//! system triple such as Debian's `aarch64-linux-gnu` (cross packages in `/usr/bin`).
//!
//! [`locate`] only looks at file names. [`probe`] runs the compiler: `-dumpmachine`,
//! `-dumpversion`, `-dumpfullversion`, whether it builds PIE by default, and a real compile
//! of a tiny C unit whose object's ELF machine is checked against the triple.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::profile::KnownToolchain;
pub use crate::triple::check_triple;

/// Finding or probing a toolchain failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing matching was found; every place looked at is listed.
    #[error("toolchain `{query}` not found; looked in:\n{}", places.iter().map(|p| format!("  {}", p.display())).collect::<Vec<_>>().join("\n"))]
    NotFound {
        /// What the user asked for.
        query: String,
        /// Every directory or file checked, in order.
        places: Vec<PathBuf>,
    },
    /// The compiler could not be run at all.
    #[error("cannot run {path}: {source}")]
    Run {
        /// The executable.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The compiler ran but `-dumpmachine` failed.
    #[error("{path} -dumpmachine failed: {stderr}")]
    Probe {
        /// The executable.
        path: PathBuf,
        /// Its error output.
        stderr: String,
    },
}

/// The programs a toolchain may provide under `PREFIX-NAME`.
pub const TOOLS: [&str; 5] = ["gcc", "g++", "cc", "c++", "cpp"];

/// How a toolchain was laid out where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `x-tools*/TRIPLE/bin` (crosstool-ng).
    XToolsTree,
    /// A directory of prefixed executables given directly.
    BinDir,
    /// A triple found in a system directory such as `/usr/bin`.
    System,
}

/// A toolchain found on disk (names only; nothing run yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The directory holding the executables.
    pub bin_dir: PathBuf,
    /// The main prefix (`aarch64-unknown-linux-gnu`): the x-tools subdirectory's name when
    /// it matches, else the first in sorted order.
    pub prefix: String,
    /// Other prefixes in the same directory whose `-gcc` is the same compiler (aliases).
    pub aliases: Vec<String>,
    /// `TOOL` → path of `PREFIX-TOOL`, for the tools in [`TOOLS`] that exist.
    pub tools: BTreeMap<String, PathBuf>,
    /// How it was found.
    pub layout: Layout,
}

impl Located {
    /// The path of `PREFIX-gcc`.
    pub fn gcc(&self) -> PathBuf {
        self.bin_dir.join(format!("{}-gcc", self.prefix))
    }
}

/// Where name searches look.
#[derive(Debug, Clone, Default)]
pub struct SearchPaths {
    /// The invoking user's home (`SUDO_USER`'s under sudo).
    pub home: Option<PathBuf>,
    /// More directories holding `x-tools*` trees (`/opt`, `/usr/local`, profile's).
    pub dirs: Vec<PathBuf>,
    /// Directories searched for system triples (`/usr/bin`, `/usr/local/bin`).
    pub system_bin: Vec<PathBuf>,
}

impl SearchPaths {
    /// The real places: the invoking user's home, the profile's `toolchain_dirs` (plus
    /// `/opt` and `/usr/local` when missing), `/usr/bin` and `/usr/local/bin`.
    pub fn from_env(profile_dirs: &[PathBuf]) -> Self {
        let mut dirs: Vec<PathBuf> = vec![PathBuf::from("/opt"), PathBuf::from("/usr/local")];
        for d in profile_dirs {
            if !dirs.contains(d) {
                dirs.push(d.clone());
            }
        }
        SearchPaths {
            home: invoking_home(),
            dirs,
            system_bin: vec![PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")],
        }
    }
}

/// The home of the user who ran us: `SUDO_USER`'s when run through sudo as root, else `HOME`.
pub fn invoking_home() -> Option<PathBuf> {
    invoking_home_from(
        std::env::var("SUDO_USER").ok().as_deref(),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// [`invoking_home`] with the environment passed in: `sudo_user`'s home from the user
/// database when it names a user other than root, else `home` (when not empty).
pub fn invoking_home_from(sudo_user: Option<&str>, home: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(user) = sudo_user.filter(|u| !u.is_empty() && *u != "root") {
        if let Some(dir) = home_of(user) {
            return Some(dir);
        }
    }
    home.filter(|h| !h.as_os_str().is_empty())
}

fn home_of(user: &str) -> Option<PathBuf> {
    use std::ffi::{CStr, CString};
    let name = CString::new(user).ok()?;
    // SAFETY: passwd is plain data (integers and pointers); all-zero is a valid value that
    // getpwnam_r overwrites.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to a live buffer of the size given; getpwnam_r writes
    // only into them, and `result` is checked before the strings are read.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir points into `buf`, NUL-terminated by getpwnam_r.
    let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
}

/// Find the toolchain(s) `query` names. A path is used as given; a name in `known` or
/// starting with `x-tools` is searched in `paths.home`, then `paths.dirs`; anything else
/// is taken as a triple and searched in `paths.system_bin`.
pub fn locate(
    query: &str,
    known: &[KnownToolchain],
    paths: &SearchPaths,
) -> Result<Vec<Located>, Error> {
    let mut places = Vec::new();
    let looks_like_path = query.contains('/') || query.starts_with('.') || query.starts_with('~');
    let found = if looks_like_path {
        let path = expand_tilde(query, paths.home.as_deref());
        places.push(path.clone());
        from_path(&path)
    } else if query.starts_with("x-tools") || known.iter().any(|k| k.name == query) {
        let mut found = Vec::new();
        let roots = paths.home.iter().chain(paths.dirs.iter());
        for root in roots {
            let candidate = root.join(query);
            places.push(candidate.clone());
            found = from_path(&candidate);
            if !found.is_empty() {
                break;
            }
        }
        // A known name says which prefix to expect: keep that one first.
        if let Some(k) = known.iter().find(|k| k.name == query) {
            found.sort_by_key(|l| l.prefix != k.triple);
        }
        found
    } else {
        let mut found = Vec::new();
        for dir in &paths.system_bin {
            let gcc = dir.join(format!("{query}-gcc"));
            places.push(gcc.clone());
            if is_executable(&gcc) {
                found = scan_bin_dir(dir, Layout::System, None)
                    .into_iter()
                    .filter(|l| l.prefix == query || l.aliases.iter().any(|a| a == query))
                    .map(|mut l| {
                        // The user asked for this name: make it the main prefix.
                        if l.prefix != query {
                            l.aliases.retain(|a| a != query);
                            l.aliases
                                .push(std::mem::replace(&mut l.prefix, query.to_owned()));
                            l.aliases.sort();
                            l.tools = tools_for(dir, query);
                        }
                        l
                    })
                    .collect();
                break;
            }
        }
        found
    };
    if found.is_empty() {
        Err(Error::NotFound {
            query: query.to_owned(),
            places,
        })
    } else {
        Ok(found)
    }
}

fn expand_tilde(query: &str, home: Option<&Path>) -> PathBuf {
    match (query.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(query),
    }
}

/// Every toolchain at `path`: a bin dir, a `TRIPLE` dir with `bin/`, or an x-tools tree.
fn from_path(path: &Path) -> Vec<Located> {
    if !path.is_dir() {
        return Vec::new();
    }
    let direct = scan_bin_dir(path, Layout::BinDir, None);
    if !direct.is_empty() {
        return direct;
    }
    let dir_name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    let inner = scan_bin_dir(&path.join("bin"), Layout::XToolsTree, dir_name.as_deref());
    if !inner.is_empty() {
        return inner;
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    subdirs.sort();
    subdirs
        .iter()
        .flat_map(|sub| {
            let name = sub.file_name().and_then(|n| n.to_str()).map(str::to_owned);
            scan_bin_dir(&sub.join("bin"), Layout::XToolsTree, name.as_deref())
        })
        .collect()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn tools_for(dir: &Path, prefix: &str) -> BTreeMap<String, PathBuf> {
    TOOLS
        .iter()
        .map(|t| ((*t).to_owned(), dir.join(format!("{prefix}-{t}"))))
        .filter(|(_, p)| is_executable(p))
        .collect()
}

/// Group the `PREFIX-gcc` executables of `dir` by the compiler they resolve to.
fn scan_bin_dir(dir: &Path, layout: Layout, preferred: Option<&str>) -> Vec<Located> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut by_target: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(prefix) = name.to_str().and_then(|n| n.strip_suffix("-gcc")) else {
            continue;
        };
        if check_triple(prefix).is_err() {
            continue;
        }
        let path = e.path();
        if !is_executable(&path) {
            continue;
        }
        let target = std::fs::canonicalize(&path).unwrap_or(path);
        by_target.entry(target).or_default().push(prefix.to_owned());
    }
    let mut out: Vec<Located> = by_target
        .into_values()
        .map(|mut prefixes| {
            prefixes.sort();
            let main = preferred
                .and_then(|p| prefixes.iter().position(|x| x == p))
                .unwrap_or(0);
            let prefix = prefixes.remove(main);
            Located {
                bin_dir: dir.to_path_buf(),
                tools: tools_for(dir, &prefix),
                prefix,
                aliases: prefixes,
                layout,
            }
        })
        .collect();
    out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    out
}

/// Whether the compiler builds position-independent executables by default, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieDefault {
    /// `__PIE__` is predefined with no flags.
    pub default_pie: bool,
    /// What showed it: the macro and/or the configure flag from `gcc -v`.
    pub evidence: String,
}

/// The outcome of compiling a tiny C unit with `-c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileCheck {
    /// The compiler exited 0 and wrote an object.
    pub ok: bool,
    /// The ELF machine of the object (`aarch64`, `arm`, `x86_64`, ...).
    pub object_machine: Option<String>,
    /// The compiler's error output, when it failed.
    pub stderr: String,
}

/// What a toolchain is, from running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Where it was found and under which names.
    pub located: Located,
    /// `gcc -dumpmachine`.
    pub machine: String,
    /// `gcc -dumpversion` (may be only the major version).
    pub version: String,
    /// `gcc -dumpfullversion` (gcc ≥ 7), else `None`.
    pub full_version: Option<String>,
    /// PIE by default.
    pub pie: PieDefault,
    /// The test compile.
    pub compile: CompileCheck,
}

impl Report {
    /// Whether the file-name prefix and `-dumpmachine` agree (a renamed compiler may lie).
    pub fn names_match_machine(&self) -> bool {
        self.located.prefix == self.machine
    }

    /// Whether the test object's ELF machine is the one the triple names.
    pub fn object_matches_machine(&self) -> bool {
        match (
            &self.compile.object_machine,
            elf_machine_for_triple(&self.machine),
        ) {
            (Some(got), Some(want)) => got == want,
            _ => false,
        }
    }

    /// A few lines for the user.
    pub fn describe(&self) -> String {
        let l = &self.located;
        let mut lines = vec![format!("{} in {}", l.prefix, l.bin_dir.display())];
        if !l.aliases.is_empty() {
            lines.push(format!("  also named: {}", l.aliases.join(", ")));
        }
        let naming = if self.names_match_machine() {
            String::new()
        } else {
            " (differs from its file names)".to_owned()
        };
        lines.push(format!("  target (-dumpmachine): {}{naming}", self.machine));
        lines.push(format!(
            "  gcc {}{}",
            self.version,
            self.full_version
                .as_ref()
                .filter(|f| **f != self.version)
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        ));
        lines.push(format!(
            "  default PIE: {} ({})",
            if self.pie.default_pie { "yes" } else { "no" },
            self.pie.evidence
        ));
        let tools: Vec<&str> = l.tools.keys().map(String::as_str).collect();
        let missing: Vec<&str> = TOOLS
            .iter()
            .copied()
            .filter(|t| !l.tools.contains_key(*t))
            .collect();
        lines.push(format!(
            "  tools: {}{}",
            tools.join(" "),
            if missing.is_empty() {
                String::new()
            } else {
                format!(" (missing: {})", missing.join(" "))
            }
        ));
        lines.push(if self.compile.ok {
            format!(
                "  test compile: ok, object for {}",
                self.compile
                    .object_machine
                    .as_deref()
                    .unwrap_or("an unknown machine")
            )
        } else {
            format!("  test compile: FAILED: {}", self.compile.stderr.trim())
        });
        lines.join("\n")
    }
}

fn run(path: &Path, args: &[&str]) -> Result<std::process::Output, Error> {
    Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .env("LC_ALL", "C")
        .output()
        .map_err(|source| Error::Run {
            path: path.to_path_buf(),
            source,
        })
}

fn stdout_line(out: &std::process::Output) -> Option<String> {
    let s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// Run the toolchain's gcc to learn its target, version, PIE default, and whether it compiles.
pub fn probe(located: &Located) -> Result<Report, Error> {
    let gcc = located.gcc();
    let dump = run(&gcc, &["-dumpmachine"])?;
    let machine = stdout_line(&dump).ok_or_else(|| Error::Probe {
        path: gcc.clone(),
        stderr: String::from_utf8_lossy(&dump.stderr).trim().to_owned(),
    })?;
    let version = stdout_line(&run(&gcc, &["-dumpversion"])?).unwrap_or_default();
    let full_version = stdout_line(&run(&gcc, &["-dumpfullversion"])?);
    let pie = pie_default(&gcc)?;
    let compile = test_compile(&gcc)?;
    Ok(Report {
        located: located.clone(),
        machine,
        version,
        full_version,
        pie,
        compile,
    })
}

fn pie_default(gcc: &Path) -> Result<PieDefault, Error> {
    let macros = Command::new(gcc)
        .args(["-dM", "-E", "-x", "c", "-"])
        .stdin(Stdio::null())
        .env("LC_ALL", "C")
        .output()
        .map_err(|source| Error::Run {
            path: gcc.to_path_buf(),
            source,
        })?;
    let text = String::from_utf8_lossy(&macros.stdout);
    let pie_macro = text.lines().any(|l| l.starts_with("#define __PIE__ "));
    let verbose = run(gcc, &["-v"])?;
    let configured = String::from_utf8_lossy(&verbose.stderr);
    let flag = if configured.contains("--enable-default-pie") {
        Some("configured with --enable-default-pie")
    } else if configured.contains("--disable-default-pie") {
        Some("configured with --disable-default-pie")
    } else {
        None
    };
    let mut evidence = if pie_macro {
        "__PIE__ predefined".to_owned()
    } else {
        "__PIE__ not predefined".to_owned()
    };
    if let Some(f) = flag {
        evidence.push_str("; ");
        evidence.push_str(f);
    }
    Ok(PieDefault {
        default_pie: pie_macro,
        evidence,
    })
}

fn test_compile(gcc: &Path) -> Result<CompileCheck, Error> {
    let dir = crate::plan::scratch::Scratch::new().map_err(|source| Error::Run {
        path: gcc.to_path_buf(),
        source,
    })?;
    let obj = dir.path().join("probe.o");
    let src = dir
        .write(
            "probe.c",
            b"int distsetup_probe(int x) { return 2 * x + 1; }\n",
        )
        .map_err(|source| Error::Run {
            path: dir.path().join("probe.c"),
            source,
        })?;
    let out = Command::new(gcc)
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .stdin(Stdio::null())
        .env("LC_ALL", "C")
        .output()
        .map_err(|source| Error::Run {
            path: gcc.to_path_buf(),
            source,
        })?;
    let object = std::fs::read(&obj).ok();
    Ok(CompileCheck {
        ok: out.status.success() && object.is_some(),
        object_machine: object.as_deref().and_then(elf_machine),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The machine an ELF file is for, from its header (`e_machine`).
pub use distsetup_relay::elf::machine as elf_machine;

/// The ELF machine name a triple's objects should carry.
pub fn elf_machine_for_triple(triple: &str) -> Option<&'static str> {
    let arch = triple.split('-').next()?;
    Some(match arch {
        "x86_64" => "x86_64",
        "aarch64" | "arm64" => "aarch64",
        a if a.starts_with("arm") => "arm",
        "i386" | "i486" | "i586" | "i686" => "i386",
        a if a.starts_with("riscv") => "riscv",
        _ => return None,
    })
}
