//! The execution modes shared by every command that writes (`edit`, `master`,
//! `volunteer`): dry run, apply, check, or ask.

use std::io::Write;
use std::path::PathBuf;

use super::{Error, Plan};

/// How to treat a computed plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--dry-run`: print the diff, write nothing.
    DryRun,
    /// `--yes`: print the diff and apply.
    Yes,
    /// `--check`: print the diff; the outcome says whether changes are pending.
    Check,
    /// Default: ask on a terminal; without one, show the diff and change nothing.
    Ask,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The system already matches (exit 0).
    NothingToChange,
    /// `--dry-run` showed the diff (exit 0).
    Shown,
    /// `--check` found pending changes (exit 1).
    Pending,
    /// No terminal to ask on and no `--yes`: shown, not applied (exit 1).
    NotApplied,
    /// The user said no (exit 4).
    Declined,
    /// Applied; the journal entry `undo` will use.
    Applied(PathBuf),
}

impl Outcome {
    /// The process exit code for this outcome (see `crate::exit`).
    pub fn exit_code(&self) -> u8 {
        use crate::exit;
        match self {
            Outcome::NothingToChange | Outcome::Shown | Outcome::Applied(_) => exit::OK,
            Outcome::Pending | Outcome::NotApplied => exit::NEGATIVE,
            Outcome::Declined => exit::ABORTED,
        }
    }
}

/// Asks the user yes/no. A trait so tests and the wizard can script the answers.
pub trait Prompter {
    /// Ask `question`; `Ok(true)` means go ahead.
    fn confirm(&mut self, question: &str) -> std::io::Result<bool>;
}

/// The terminal prompter (dialoguer), default answer "no".
#[derive(Debug, Default)]
pub struct DialoguerPrompter;

impl Prompter for DialoguerPrompter {
    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|dialoguer::Error::IO(e)| e)
    }
}

/// Show `plan` on `out` and act on it according to `mode`. `interactive` says whether a
/// terminal is there to ask on; the hint for the no-terminal case goes to `err`.
pub fn execute(
    plan: &Plan,
    mode: Mode,
    interactive: bool,
    prompter: &mut dyn Prompter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, Error> {
    let io = |e| Error::Io {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    if plan.is_empty() {
        writeln!(out, "nothing to change").map_err(io)?;
        return Ok(Outcome::NothingToChange);
    }
    out.write_all(plan.diff().as_bytes()).map_err(io)?;
    out.flush().map_err(io)?;
    let go = match mode {
        Mode::DryRun => return Ok(Outcome::Shown),
        Mode::Check => return Ok(Outcome::Pending),
        Mode::Yes => true,
        Mode::Ask if !interactive => {
            writeln!(
                err,
                "not applied: no terminal to ask on; run again with --yes to apply"
            )
            .map_err(io)?;
            return Ok(Outcome::NotApplied);
        }
        Mode::Ask => prompter.confirm("Apply these changes?").map_err(io)?,
    };
    if !go {
        writeln!(err, "not applied: declined").map_err(io)?;
        return Ok(Outcome::Declined);
    }
    let journal = plan.apply()?;
    writeln!(out, "applied; `distsetup undo` restores the previous state").map_err(io)?;
    Ok(Outcome::Applied(journal))
}
