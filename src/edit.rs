//! The low-level editor behind `distsetup edit` and the host-list check behind
//! `distsetup hosts`: read a file under a root, parse it with [`shconf`], apply edits
//! into a [`Plan`], and describe values. Returns values; the command layer prints.

use std::path::{Path, PathBuf};

use crate::hostspec::{self, HostList, Transport};
use crate::loadorder;
use crate::plan::{self, Mode, Plan, SysRoot};
use crate::shconf::{self, Dialect, Document, Edit, Value};

/// Errors of these commands, naming the file and, for input errors, line and column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input rejected at a position.
    #[error("{file}:{line}:{column}: {reason}")]
    Input {
        /// File (or `$DISTCC_HOSTS`, `<argument>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// The value asked for is not static.
    #[error(
        "{file}:{line}: {name} is dynamic ({reason}); its value depends on the shell at run time"
    )]
    Dynamic {
        /// The file.
        file: String,
        /// 1-based line of the assignment.
        line: usize,
        /// The variable.
        name: String,
        /// Why it is dynamic.
        reason: String,
    },
    /// The file does not exist.
    #[error("{0}: no such file (pass --create to create it)")]
    Missing(PathBuf),
    /// Input rejected as a whole.
    #[error("{file}: {reason}")]
    Refused {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// Planning the write failed.
    #[error(transparent)]
    Plan(#[from] plan::Error),
}

/// Where `hosts` reads the list from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostsSource {
    /// A spec given on the command line.
    Spec(String),
    /// A file (e.g. `/etc/distcc/hosts`).
    File(PathBuf),
    /// `$DISTCC_HOSTS` (its value; `None` when unset).
    Env(Option<String>),
}

fn utf8_or_position(bytes: Vec<u8>, file: &str) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = e.as_bytes().get(..valid).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
            .chars()
            .count()
            + 1;
        Error::Input {
            file: file.to_string(),
            line,
            column,
            reason: "not valid UTF-8 (distcc host names are text)".into(),
        }
    })
}

/// One host of a checked list, as `distsetup hosts` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRow {
    /// Address (with the ssh command when one is given).
    pub address: String,
    /// TCP port, `ssh`, or `-` for localhost.
    pub port: String,
    /// Job limit.
    pub limit: u32,
    /// Options (`lzo`, `cpp`, ...), or `-`.
    pub options: String,
}

/// A host list read and checked.
#[derive(Debug, Clone)]
pub struct CheckedHosts {
    /// Where it came from (`<argument>`, `$DISTCC_HOSTS`, a path).
    pub origin: String,
    /// The parsed list.
    pub list: HostList,
}

impl CheckedHosts {
    /// One row per host.
    pub fn rows(&self) -> Vec<HostRow> {
        self.list
            .hosts()
            .map(|h| {
                let mut address = h.address();
                if let Transport::Ssh {
                    command: Some(c), ..
                } = &h.transport
                {
                    address.push_str(&format!(" ({c})"));
                }
                let port = match &h.transport {
                    Transport::Tcp { .. } => h.effective_port().unwrap_or_default().to_string(),
                    Transport::Ssh { .. } => "ssh".into(),
                    Transport::Local => "-".into(),
                };
                let options = h.options.to_string();
                let options = options.trim_start_matches(',');
                HostRow {
                    address,
                    port,
                    limit: h.effective_limit(),
                    options: if options.is_empty() { "-" } else { options }.to_string(),
                }
            })
            .collect()
    }
}

/// Read and check a host list (`distsetup hosts`).
pub fn check_hosts(source: &HostsSource) -> Result<CheckedHosts, Error> {
    let (origin, text) = match source {
        HostsSource::Spec(s) => ("<argument>".to_string(), s.clone()),
        HostsSource::Env(Some(s)) => ("$DISTCC_HOSTS".to_string(), s.clone()),
        HostsSource::Env(None) => {
            return Err(Error::Refused {
                file: "$DISTCC_HOSTS".into(),
                reason: "not set; pass a SPEC or --file".into(),
            });
        }
        HostsSource::File(p) => {
            let name = p.display().to_string();
            let bytes = SysRoot::system()
                .read_file(p)?
                .ok_or_else(|| Error::Missing(p.clone()))?;
            (name.clone(), utf8_or_position(bytes, &name)?)
        }
    };
    let list = hostspec::parse(&text).map_err(
        |hostspec::Error::Syntax {
             line,
             column,
             reason,
         }| Error::Input {
            file: origin.clone(),
            line,
            column,
            reason,
        },
    )?;
    Ok(CheckedHosts { origin, list })
}

/// Make a user-given path absolute on the live system so the journal can name it.
pub fn system_path(root: &SysRoot, file: &Path) -> PathBuf {
    if root.dir() == Path::new("/") {
        std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf())
    } else if file.is_relative() {
        Path::new("/").join(file)
    } else {
        file.to_path_buf()
    }
}

/// The default dialect for a file name: `make.conf` (and files anywhere under a
/// `make.conf/` directory) are Portage; everything else bash. EnvironmentFile is never guessed:
/// Arch's and Gentoo's `/etc/conf.d/distccd` share a name but not a reader, so it is
/// used only when asked for.
pub fn guess_dialect(file: &Path) -> Dialect {
    // Portage reads a make.conf directory recursively: any depth is make.conf.
    if file.ancestors().any(is_make_conf) {
        Dialect::Portage
    } else {
        Dialect::Bash
    }
}

fn is_make_conf(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "make.conf")
}

/// What `edit` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditAction {
    /// `--get NAME`.
    Get(String),
    /// `--verify`.
    Verify,
    /// The edits, in command-line order.
    Apply(Vec<Edit>),
}

/// Resolved settings of `distsetup edit`.
#[derive(Debug, Clone)]
pub struct EditSettings {
    /// The file as a system path (under `root`).
    pub file: PathBuf,
    /// The root.
    pub root: SysRoot,
    /// The dialect.
    pub dialect: Dialect,
    /// `--create`: a missing file is created.
    pub create: bool,
    /// Execution mode.
    pub mode: Mode,
    /// What to do.
    pub action: EditAction,
}

/// Files larger than this are refused before parsing (a config file this big is a mistake).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// A file read and parsed for editing.
#[derive(Debug)]
pub struct Loaded {
    /// The path as shown in messages (real path under the root).
    pub shown: String,
    /// The bytes read.
    pub original: Vec<u8>,
    /// The document.
    pub doc: Document,
}

fn input_error(file: &str, err: shconf::Error) -> Error {
    match err {
        shconf::Error::Refused {
            line,
            column,
            reason,
        } => Error::Input {
            file: file.to_string(),
            line,
            column,
            reason,
        },
        shconf::Error::Invalid(reason) => Error::Refused {
            file: file.to_string(),
            reason,
        },
    }
}

/// Read and parse the file the settings name (an empty document for `--create`).
pub fn load(s: &EditSettings) -> Result<Loaded, Error> {
    let shown = s.root.path(&s.file).display().to_string();
    let original = match s.root.read_file(&s.file)? {
        Some(b) => b,
        None if s.create && matches!(s.action, EditAction::Apply(_)) => Vec::new(),
        None => return Err(Error::Missing(s.root.path(&s.file))),
    };
    if s.dialect != Dialect::EnvironmentFile {
        plan::refuse_crlf(&s.root.path(&s.file), &original)?;
    }
    if original.len() > MAX_FILE_BYTES {
        return Err(Error::Refused {
            file: shown,
            reason: format!("{} bytes is too large for a config file", original.len()),
        });
    }
    let doc = Document::parse(&original, s.dialect).map_err(|e| input_error(&shown, e))?;
    Ok(Loaded {
        shown,
        original,
        doc,
    })
}

/// The value `--get` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// A scalar.
    Scalar(Vec<u8>),
    /// Array elements.
    Array(Vec<Vec<u8>>),
}

/// Turn a refusal about make.conf files into an input error naming the file as shown.
fn portage_error(s: &EditSettings, e: loadorder::PortageEditError) -> Error {
    match e {
        loadorder::PortageEditError::Io(e) => Error::Plan(e),
        loadorder::PortageEditError::At {
            file,
            line,
            column,
            reason,
        } => Error::Input {
            file: s.root.path(&file).display().to_string(),
            line,
            column,
            reason,
        },
    }
}

/// The value of `name` at the end of the file; `None` when unassigned. For a Portage
/// make.conf: what Portage's `getconfig()` reads from this file alone (sourced files
/// included, variables set elsewhere expanding to nothing), an error where emerge would
/// stop. Otherwise what bash reads, an error naming the line when the value is dynamic.
pub fn get(s: &EditSettings, loaded: &Loaded, name: &str) -> Result<Option<Got>, Error> {
    if s.dialect == Dialect::Portage {
        let docs = [(s.file.clone(), loaded.doc.clone())];
        let view = loadorder::portage_reads(&s.root, &docs).map_err(|e| portage_error(s, e))?;
        return Ok(view
            .last(name)
            .map(|(_, a)| Got::Scalar(a.value.clone().into_bytes())));
    }
    let Some(info) = loaded.doc.get(name) else {
        return Ok(None);
    };
    match info.value {
        Value::Scalar(v) => Ok(Some(Got::Scalar(v))),
        Value::Array(v) => Ok(Some(Got::Array(v))),
        Value::Dynamic { reason } => Err(Error::Dynamic {
            file: loaded.shown.clone(),
            line: info.line,
            name: name.to_string(),
            reason,
        }),
    }
}

/// True when joining the lexer's tokens gives back every byte that was read: the check
/// behind `--verify` (the document's stored input would prove nothing).
pub fn round_trips(loaded: &Loaded) -> bool {
    let joined: Vec<u8> = loaded
        .doc
        .token_spans()
        .flat_map(|(_, bytes)| bytes.iter().copied())
        .collect();
    joined == loaded.original
}

/// One line per assignment: `line:column NAME static VALUE [scope]` or
/// `line:column NAME dynamic (why) [scope]`.
pub fn listing(doc: &Document) -> Vec<String> {
    doc.assignments()
        .into_iter()
        .map(|a| {
            let scope = match a.scope {
                shconf::Scope::TopLevel => "top-level",
                shconf::Scope::Conditional => "conditional",
                shconf::Scope::Function => "function",
            };
            let value = match &a.value {
                Value::Scalar(v) => format!("static {:?}", String::from_utf8_lossy(v)),
                Value::Array(v) => format!(
                    "static ({})",
                    v.iter()
                        .map(|e| format!("{:?}", String::from_utf8_lossy(e)))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                Value::Dynamic { reason } => format!("dynamic ({reason})"),
            };
            format!("{}:{} {} {value} [{scope}]", a.line, a.column, a.name)
        })
        .collect()
}

/// Portage reads /etc/make.conf before /etc/portage/make.conf, and a file of a make.conf
/// directory tree before the files sorting after it: when one of those assigns an edited
/// variable, Portage takes that value and the edit would not take effect. Refused, naming
/// that file and line.
fn overridden_later(s: &EditSettings, doc: &Document, edits: &[Edit]) -> Result<(), Error> {
    // Portage's own files: /etc/make.conf, then /etc/portage/make.conf (file or tree).
    let standard = loadorder::portage_at(
        &s.root,
        Path::new("/etc/portage/make.conf"),
        Some(Path::new("/etc/make.conf")),
    )?
    .all();
    let files = if standard.contains(&s.file) {
        standard
    } else {
        // Another make.conf directory tree (a chroot's, a template): its files in order.
        let Some(tree) = s
            .file
            .ancestors()
            .skip(1)
            .find(|d| is_make_conf(d) && s.root.path(d).is_dir())
        else {
            return Ok(());
        };
        loadorder::portage_dir_files(&s.root, tree)?
    };
    let replaced = [(s.file.clone(), doc.to_bytes())].into_iter().collect();
    let view = loadorder::portage_view(&s.root, &files, &replaced).map_err(|e| match e {
        loadorder::PortageReadError::Io(e) => Error::Plan(e),
        loadorder::PortageReadError::Parse(e) => Error::Input {
            file: s.root.path(Path::new(&e.file)).display().to_string(),
            line: e.line,
            column: 1,
            reason: format!("{}: Portage will not read this file", e.message),
        },
    })?;
    let at = files.iter().position(|f| *f == s.file);
    for edit in edits {
        if let Some((top, a)) = view.last(edit.name()) {
            let later = files.iter().position(|f| f == top) > at;
            if later {
                return Err(Error::Input {
                    file: s.root.path(Path::new(&a.file)).display().to_string(),
                    line: a.line,
                    column: 1,
                    reason: format!(
                        "{} is assigned here, read after {}: Portage takes this value, so the \
                         edit would not take effect; edit this file instead",
                        edit.name(),
                        s.file.display()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Apply `edits` in order and plan writing the result.
pub fn plan_edits(s: &EditSettings, mut loaded: Loaded, edits: &[Edit]) -> Result<Plan, Error> {
    if s.dialect == Dialect::Portage {
        // Decided and checked in what Portage reads (the file and what it sources).
        let mut docs = [(s.file.clone(), loaded.doc)];
        for edit in edits {
            loadorder::edit_as_portage_reads(&s.root, &mut docs, edit, 0)
                .map_err(|e| portage_error(s, e))?;
        }
        let [(_, doc)] = docs;
        overridden_later(s, &doc, edits)?;
        loaded.doc = doc;
    }
    for edit in edits.iter().filter(|_| s.dialect != Dialect::Portage) {
        loaded
            .doc
            .apply(edit)
            .map_err(|e| input_error(&loaded.shown, e))?;
    }
    let mut plan = Plan::new(s.root.clone());
    // Portage reads every file of a make.conf directory tree but hidden ones: a backup
    // named the usual way beside the file would be read after it and undo the edit.
    if let Some(dir) = s.file.parent() {
        if s.dialect == Dialect::Portage && dir.ancestors().any(is_make_conf) {
            plan.hide_backups_in(dir);
        }
    }
    plan.write_file_from(&s.file, &loaded.original, loaded.doc.to_bytes())?;
    Ok(plan)
}
