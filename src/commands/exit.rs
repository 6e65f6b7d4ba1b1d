//! The process exit codes of every `distsetup` command, in one place. The library
//! returns typed errors and outcomes; only this module turns them into numbers.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; or nothing to change |
//! | 1 | a negative answer that is not an error: `--check` found pending changes, `--get` found no assignment, `doctor` found a problem; changes shown but not applied because there was no terminal to ask on and no `--yes` |
//! | 2 | input rejected: syntax error, an edit that cannot be done safely, a dynamic value, bad arguments |
//! | 3 | the system failed us: missing file, permission denied, port in use, I/O error |
//! | 4 | aborted: the user said no, or a file changed between showing the diff and applying |

use distsetup::plan::Outcome;

/// A process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success, or nothing to do (0).
    Ok,
    /// A negative answer that is not an error (1).
    Negative,
    /// Input rejected (2).
    Input,
    /// Environment or I/O failure (3).
    System,
    /// Aborted by the user or by a concurrent change (4).
    Aborted,
    /// distccd's own statuses, for `serve` (101 bad arguments, 102 port busy).
    Distccd(u8),
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

impl ExitStatus {
    /// The number.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Negative => 1,
            ExitStatus::Input => 2,
            ExitStatus::System => 3,
            ExitStatus::Aborted => 4,
            ExitStatus::Distccd(code) => code,
        }
    }

    /// The status of a plan's outcome.
    pub fn of_outcome(outcome: &Outcome) -> ExitStatus {
        match outcome {
            Outcome::NothingToChange | Outcome::Shown | Outcome::Applied(_) => ExitStatus::Ok,
            Outcome::Pending | Outcome::NotApplied => ExitStatus::Negative,
            Outcome::Declined => ExitStatus::Aborted,
        }
    }

    /// The status for an error chain: the first error in the chain that is classified
    /// decides; otherwise the failure is the system's.
    pub fn of_error(err: &anyhow::Error) -> ExitStatus {
        err.chain().find_map(classify).unwrap_or(ExitStatus::System)
    }
}

/// Whether the error is only that whoever read our output went away
/// (`distsetup edit F --get A | head -1`): like ripgrep, that is a quiet success, not an
/// error to print.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The library error types, each mapped to a status.
trait Classify {
    fn status(&self) -> ExitStatus;
}

macro_rules! always {
    ($status:expr => $($ty:ty),+ $(,)?) => {
        $(impl Classify for $ty {
            fn status(&self) -> ExitStatus {
                $status
            }
        })+
    };
}

always!(ExitStatus::Input =>
    distsetup::shconf::Error,
    distsetup::hostspec::Error,
    distsetup::wire::WireError,
);
always!(ExitStatus::System => distsetup::cores::Error);

impl Classify for distsetup::toolchain::Error {
    fn status(&self) -> ExitStatus {
        match self {
            // A name or path that names no toolchain is a usage error.
            distsetup::toolchain::Error::NotFound { .. } => ExitStatus::Input,
            _ => ExitStatus::System,
        }
    }
}

impl Classify for distsetup::plan::Error {
    fn status(&self) -> ExitStatus {
        use distsetup::plan::Error;
        match self {
            Error::Changed(_)
            | Error::UndoConflict(_)
            | Error::UndoLater { .. }
            | Error::RecoveryConflict { .. } => ExitStatus::Aborted,
            Error::NothingToUndo(_) => ExitStatus::Negative,
            Error::Journal { .. }
            | Error::UnknownChangeSet { .. }
            | Error::HardLinked { .. }
            | Error::DanglingLink { .. }
            | Error::LinkEscapes { .. }
            | Error::Crlf { .. } => ExitStatus::Input,
            Error::RootMissing(_)
            | Error::Io { .. }
            | Error::NotAFile(_)
            | Error::ReadOnly(_)
            | Error::Locked { .. }
            | Error::RollbackFailed { .. }
            | Error::UndoInterrupted { .. } => ExitStatus::System,
        }
    }
}

impl Classify for distsetup::profile::Error {
    fn status(&self) -> ExitStatus {
        match self {
            distsetup::profile::Error::Read { .. } => ExitStatus::System,
            _ => ExitStatus::Input,
        }
    }
}

impl Classify for distsetup::edit::Error {
    fn status(&self) -> ExitStatus {
        match self {
            distsetup::edit::Error::Missing(_) => ExitStatus::System,
            distsetup::edit::Error::Plan(e) => e.status(),
            _ => ExitStatus::Input,
        }
    }
}

impl Classify for distsetup::master::Error {
    fn status(&self) -> ExitStatus {
        use distsetup::master::Error;
        match self {
            Error::Plan(e) => e.status(),
            Error::MissingConfig { .. } | Error::Output(_) => ExitStatus::System,
            _ => ExitStatus::Input,
        }
    }
}

impl Classify for distsetup::volunteer::Error {
    fn status(&self) -> ExitStatus {
        use distsetup::volunteer::Error;
        match self {
            Error::Toolchain(e) => e.status(),
            Error::Plan(e) => e.status(),
            Error::PortTaken { .. }
            | Error::Broken { .. }
            | Error::ServiceCannotRun(_)
            | Error::Output(_) => ExitStatus::System,
            _ => ExitStatus::Input,
        }
    }
}

impl Classify for distsetup::server::ServeError {
    fn status(&self) -> ExitStatus {
        use distsetup::server::ServeError;
        match self {
            ServeError::NoAllow | ServeError::BadSetting { .. } => ExitStatus::Input,
            ServeError::Bind { .. } | ServeError::Io { .. } => ExitStatus::System,
        }
    }
}

impl Classify for distsetup::wizard::Error {
    fn status(&self) -> ExitStatus {
        use distsetup::wizard::Error;
        match self {
            Error::Io(_) => ExitStatus::System,
            Error::Profile(e) => e.status(),
            Error::Master(e) => e.status(),
            Error::Volunteer(e) => e.status(),
        }
    }
}

/// Errors of the command layer itself.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The wizard was started without a terminal.
    #[error(
        "the wizard asks questions and needs a terminal; without one use `distsetup master` or `distsetup volunteer` (see --help)"
    )]
    NoTerminal,
    /// A command-line value that the library cannot take.
    #[error("{0}")]
    BadArgument(String),
}

impl Classify for CommandError {
    fn status(&self) -> ExitStatus {
        ExitStatus::Input
    }
}

fn classify(cause: &(dyn std::error::Error + 'static)) -> Option<ExitStatus> {
    macro_rules! try_types {
        ($($ty:ty),+ $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$ty>() {
                return Some(e.status());
            })+
        };
    }
    try_types!(
        CommandError,
        distsetup::shconf::Error,
        distsetup::hostspec::Error,
        distsetup::profile::Error,
        distsetup::toolchain::Error,
        distsetup::cores::Error,
        distsetup::server::ServeError,
        distsetup::wizard::Error,
        distsetup::wire::WireError,
        distsetup::edit::Error,
        distsetup::master::Error,
        distsetup::plan::Error,
        distsetup::volunteer::Error,
    );
    if cause.downcast_ref::<std::io::Error>().is_some() {
        return Some(ExitStatus::System);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_aborts_and_a_plain_io_error_is_the_system() {
        let changed = anyhow::Error::from(distsetup::plan::Error::Changed("/etc/x".into()));
        assert_eq!(ExitStatus::of_error(&changed), ExitStatus::Aborted);
        let io = anyhow::Error::from(std::io::Error::other("boom")).context("reading");
        assert_eq!(ExitStatus::of_error(&io), ExitStatus::System);
        let syntax = anyhow::Error::from(distsetup::hostspec::Error::Syntax {
            line: 1,
            column: 2,
            reason: "x".into(),
        });
        assert_eq!(ExitStatus::of_error(&syntax), ExitStatus::Input);
    }

    #[test]
    fn outcomes_map_to_the_documented_codes() {
        assert_eq!(ExitStatus::of_outcome(&Outcome::Pending).code(), 1);
        assert_eq!(ExitStatus::of_outcome(&Outcome::Declined).code(), 4);
        assert_eq!(ExitStatus::of_outcome(&Outcome::Shown).code(), 0);
    }
}
