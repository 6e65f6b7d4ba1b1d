//! The `edit`, `hosts` and `undo` commands, taking typed settings (resolved from the
//! command line in `cli.rs`). They compute a [`Plan`] and hand it to [`plan::execute`].

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::hostspec::{self, Transport};
use crate::plan::{self, Mode, Outcome, Plan, Prompter, SysRoot};

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
}

impl crate::exit::Classify for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Error::Missing(_) => crate::exit::SYSTEM,
            _ => crate::exit::INPUT,
        }
    }
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

/// `distsetup hosts`: print one line per host, the total slots, and warnings (on `err`).
pub fn hosts(source: &HostsSource, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let (name, text) = match source {
        HostsSource::Spec(s) => ("<argument>".to_string(), s.clone()),
        HostsSource::Env(Some(s)) => ("$DISTCC_HOSTS".to_string(), s.clone()),
        HostsSource::Env(None) => {
            return Err(Error::Refused {
                file: "$DISTCC_HOSTS".into(),
                reason: "not set; pass a SPEC or --file".into(),
            }
            .into());
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
         }| {
            Error::Input {
                file: name.clone(),
                line,
                column,
                reason,
            }
        },
    )?;
    let mut rows = Vec::new();
    for h in list.hosts() {
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
        let opts = h.options.to_string();
        let opts = opts.trim_start_matches(',');
        let opts = if opts.is_empty() { "-" } else { opts }.to_string();
        rows.push((address, port, h.effective_limit().to_string(), opts));
    }
    let width = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(
        out,
        "{:<width$}  {:>5}  {:>5}  OPTIONS",
        "HOST", "PORT", "LIMIT"
    )?;
    for (address, port, limit, opts) in rows {
        writeln!(out, "{address:<width$}  {port:>5}  {limit:>5}  {opts}")?;
    }
    writeln!(out, "total slots: {}", list.total_slots())?;
    for w in &list.warnings {
        writeln!(
            err,
            "distsetup: warning: {name}:{}:{}: {}",
            w.line, w.column, w.message
        )?;
    }
    Ok(crate::exit::OK)
}

/// `distsetup undo`: restore the last applied change set.
pub fn undo(
    root: &SysRoot,
    yes: bool,
    interactive: bool,
    prompter: &mut dyn Prompter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (entry, paths) = plan::pending_undo(root)?;
    writeln!(out, "undo {} restores:", entry.display())?;
    for p in &paths {
        writeln!(out, "  {}", p.display())?;
    }
    if !yes {
        if !interactive {
            writeln!(
                err,
                "not restored: no terminal to ask on; run again with --yes"
            )?;
            return Ok(crate::exit::NEGATIVE);
        }
        if !prompter.confirm("Restore these files?")? {
            writeln!(err, "not restored: declined")?;
            return Ok(crate::exit::ABORTED);
        }
    }
    let report = plan::undo(root)?;
    writeln!(out, "restored {} path(s)", report.restored.len())?;
    Ok(crate::exit::OK)
}

/// Print the plan and act on it; the exit code of the outcome.
pub fn run_plan(
    plan: &Plan,
    mode: Mode,
    interactive: bool,
    prompter: &mut dyn Prompter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let outcome: Outcome = plan::execute(plan, mode, interactive, prompter, out, err)?;
    Ok(outcome.exit_code())
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

/// One edit as the user asked for it (applied in command-line order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditOp {
    /// `--set NAME=VALUE`.
    Set {
        /// Variable.
        name: String,
        /// New scalar value.
        value: String,
    },
    /// `--unset NAME`.
    Unset {
        /// Variable.
        name: String,
    },
    /// `--enable NAME=WORD`.
    Enable {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
    /// `--disable NAME=WORD`.
    Disable {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
    /// `--add NAME=WORD`.
    Add {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
    /// `--remove NAME=WORD`.
    Remove {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
}

/// Which evaluator reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectChoice {
    /// bash (makepkg.conf, Gentoo conf.d, /etc/default/distcc).
    Bash,
    /// Portage make.conf.
    Portage,
    /// systemd EnvironmentFile (Arch's /etc/conf.d/distccd).
    EnvFile,
}

impl DialectChoice {
    /// The default for a file name: `make.conf` (and files under a `make.conf/`
    /// directory) are Portage; everything else bash. EnvironmentFile is never guessed:
    /// Arch's and Gentoo's `/etc/conf.d/distccd` share a name but not a reader, so it is
    /// used only with `--dialect envfile`.
    pub fn guess(file: &Path) -> DialectChoice {
        let is_make_conf = |p: &Path| p.file_name().is_some_and(|n| n == "make.conf");
        if is_make_conf(file) || file.parent().is_some_and(is_make_conf) {
            DialectChoice::Portage
        } else {
            DialectChoice::Bash
        }
    }
}

/// What `edit` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditAction {
    /// `--get NAME`.
    Get(String),
    /// `--verify`.
    Verify,
    /// The edits, in order.
    Apply(Vec<EditOp>),
}

/// Resolved settings of `distsetup edit`.
#[derive(Debug, Clone)]
pub struct EditSettings {
    /// The file as a system path (under `root`).
    pub file: PathBuf,
    /// The root.
    pub root: SysRoot,
    /// The dialect.
    pub dialect: DialectChoice,
    /// `--create`: a missing file is created.
    pub create: bool,
    /// Execution mode.
    pub mode: Mode,
    /// What to do.
    pub action: EditAction,
}

/// Files larger than this are refused before parsing (a config file this big is a mistake).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// `distsetup edit`: get, verify, or plan and apply edits.
pub fn edit(
    s: &EditSettings,
    interactive: bool,
    prompter: &mut dyn Prompter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let shown = s.root.path(&s.file).display().to_string();
    let original = match s.root.read_file(&s.file)? {
        Some(b) => b,
        None if s.create && matches!(s.action, EditAction::Apply(_)) => Vec::new(),
        None => return Err(Error::Missing(s.root.path(&s.file)).into()),
    };
    if original.len() > MAX_FILE_BYTES {
        return Err(Error::Refused {
            file: shown,
            reason: format!("{} bytes is too large for a config file", original.len()),
        }
        .into());
    }
    let mut doc = model::parse(&original, s.dialect, &shown)?;
    match &s.action {
        EditAction::Get(name) => match model::get(&doc, name) {
            None => Ok(crate::exit::NEGATIVE),
            Some(model::Got::Scalar(v)) => {
                out.write_all(&v)?;
                out.write_all(b"\n")?;
                Ok(crate::exit::OK)
            }
            Some(model::Got::Array(items)) => {
                for v in items {
                    out.write_all(&v)?;
                    out.write_all(b"\n")?;
                }
                Ok(crate::exit::OK)
            }
            Some(model::Got::Dynamic { line, reason }) => Err(Error::Dynamic {
                file: shown,
                line,
                name: name.clone(),
                reason,
            }
            .into()),
        },
        EditAction::Verify => {
            let exact = model::to_bytes(&doc) == original;
            for line in model::listing(&doc) {
                writeln!(out, "{line}")?;
            }
            if exact {
                writeln!(out, "round trip: byte-exact ({} bytes)", original.len())?;
                Ok(crate::exit::OK)
            } else {
                writeln!(err, "distsetup: {shown}: round trip is NOT byte-exact")?;
                Ok(crate::exit::INPUT)
            }
        }
        EditAction::Apply(ops) => {
            for op in ops {
                model::apply(&mut doc, op, &shown)?;
            }
            let mut plan = Plan::new(s.root.clone());
            plan.write_file(&s.file, model::to_bytes(&doc))?;
            run_plan(&plan, s.mode, interactive, prompter, out, err)
        }
    }
}

/// The thin adapter between this command and the `shconf` document model, so the
/// command's shape does not depend on the model's names.
mod model {
    use super::{DialectChoice, EditOp, Error};
    use crate::shconf::{self, Dialect, Document, Edit, Value};

    /// The value `--get` prints.
    pub enum Got {
        /// A scalar.
        Scalar(Vec<u8>),
        /// Array elements.
        Array(Vec<Vec<u8>>),
        /// Not static.
        Dynamic {
            /// Line of the assignment.
            line: usize,
            /// Why.
            reason: String,
        },
    }

    pub type Doc = Document;

    fn dialect(d: DialectChoice) -> Dialect {
        match d {
            DialectChoice::Bash => Dialect::Bash,
            DialectChoice::Portage => Dialect::Portage,
            DialectChoice::EnvFile => Dialect::EnvironmentFile,
        }
    }

    fn input(file: &str, err: shconf::Error) -> Error {
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

    pub fn parse(bytes: &[u8], d: DialectChoice, file: &str) -> Result<Doc, Error> {
        Document::parse(bytes, dialect(d)).map_err(|e| input(file, e))
    }

    pub fn get(doc: &Doc, name: &str) -> Option<Got> {
        let info = doc.get(name)?;
        Some(match info.value {
            Value::Scalar(v) => Got::Scalar(v),
            Value::Array(v) => Got::Array(v),
            Value::Dynamic { reason } => Got::Dynamic {
                line: info.line,
                reason,
            },
        })
    }

    pub fn to_bytes(doc: &Doc) -> Vec<u8> {
        doc.to_bytes()
    }

    /// One line per assignment: `line:column NAME static VALUE [scope]` or
    /// `line:column NAME dynamic (why) [scope]`.
    pub fn listing(doc: &Doc) -> Vec<String> {
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

    pub fn apply(doc: &mut Doc, op: &EditOp, file: &str) -> Result<(), Error> {
        let edit = match op.clone() {
            EditOp::Set { name, value } => Edit::Set { name, value },
            EditOp::Unset { name } => Edit::Unset { name },
            EditOp::Enable { name, word } => Edit::Enable { name, word },
            EditOp::Disable { name, word } => Edit::Disable { name, word },
            EditOp::Add { name, word } => Edit::Add { name, word },
            EditOp::Remove { name, word } => Edit::Remove { name, word },
        };
        doc.apply(&edit).map(|_| ()).map_err(|e| input(file, e))
    }
}
