//! The execution modes shared by every command that writes (`edit`, `master`,
//! `volunteer`): dry run, apply, check, or ask; and what came of it. The binary's
//! command layer shows the diff, asks and applies.

use std::path::PathBuf;

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
