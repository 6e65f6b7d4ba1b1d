//! `distsetup undo`: the root's history of applied change sets, undoing one, or dropping
//! one from the history. One lock for the whole command: the change set shown is the one
//! undone, and no other run can slip in between.

use distsetup::plan::{self, Journal, RecoveryAction, SysRoot};

use super::{ExitStatus, Ui, apply};
use crate::cli::UndoArgs;

/// `distsetup undo [ID] [--list] [--forget] [--yes]`: list, or show the change set (the
/// newest by default) and restore it (or drop it from the history) after asking.
pub fn run(a: UndoArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let root = match &a.root {
        Some(d) => SysRoot::new(d)?,
        None => SysRoot::system(),
    };
    if a.list {
        return list(&root, ui);
    }
    let mut journal = Journal::open(&root)?;
    apply::print_recovered(&journal.recovered, ui)?;
    if !a.forget && finished_the_asked_undo(&journal, a.id.as_deref(), &root, ui)? {
        return Ok(ExitStatus::Ok);
    }
    let set = journal.pending(a.id.as_deref())?;
    let what = if a.forget {
        "drop from the history (no file is changed)"
    } else {
        "restores"
    };
    writeln!(
        ui.out,
        "undo {} (applied {} by `{}`) {what}:",
        set.id, set.date, set.command
    )?;
    for p in &set.paths {
        writeln!(ui.out, "  {}", p.display())?;
    }
    let question = if a.forget {
        "Drop this change set from the history?"
    } else {
        "Restore these files?"
    };
    let not_done = if a.forget {
        "not dropped"
    } else {
        "not restored"
    };
    if let Some(status) = confirm(a.yes, question, not_done, ui)? {
        return Ok(status);
    }
    if a.forget {
        let f = journal.forget(&set.id)?;
        for b in &f.backups_kept {
            writeln!(
                ui.out,
                "kept {} (the file as it was before distsetup; delete it when you no longer need it)",
                b.display()
            )?;
        }
        writeln!(
            ui.out,
            "dropped change set {} from the history; no file was changed",
            f.id
        )?;
        return Ok(ExitStatus::Ok);
    }
    let report = match journal.undo(Some(&set.id)) {
        Ok(r) => r,
        Err(e) => {
            if matches!(
                e,
                plan::Error::UndoConflict(_) | plan::Error::UndoNotEmpty { .. }
            ) {
                writeln!(
                    ui.err,
                    "hint: to keep the files as they are, drop change set {} from the history: {}",
                    set.id,
                    apply::undo_command(&root, &["--forget", &set.id])
                )?;
            }
            return Err(e.into());
        }
    };
    for b in &report.backups_removed {
        writeln!(
            ui.out,
            "removed {} (no change set needs it any more)",
            b.display()
        )?;
    }
    writeln!(ui.out, "restored {} path(s)", report.restored.len())?;
    // Only once the user was told: a run that dies before that leaves the finished
    // undo for the next run to report, so running `undo` again undoes nothing more.
    ui.out.flush()?;
    journal.reported()?;
    Ok(ExitStatus::Ok)
}

/// Without `--yes`: ask on a terminal, refuse without one. `Some(status)` when the
/// command stops here.
fn confirm(
    yes: bool,
    question: &str,
    not_done: &str,
    ui: &mut Ui,
) -> anyhow::Result<Option<ExitStatus>> {
    if yes {
        return Ok(None);
    }
    if !ui.interactive {
        writeln!(
            ui.err,
            "{not_done}: no terminal to ask on; run again with --yes"
        )?;
        return Ok(Some(ExitStatus::Negative));
    }
    if !ui.ask.confirm(question, false)? {
        writeln!(ui.err, "{not_done}: declined")?;
        return Ok(Some(ExitStatus::Aborted));
    }
    Ok(None)
}

/// Opening the journal finished an undo that an earlier run was interrupted in: that
/// was the undo the user asked for (the same command, run again), so nothing more is
/// undone. Says so, and what the next undo would be. Whether that was the case.
fn finished_the_asked_undo(
    journal: &Journal,
    id: Option<&str>,
    root: &SysRoot,
    ui: &mut Ui,
) -> anyhow::Result<bool> {
    let finished: Vec<&str> = journal
        .recovered
        .iter()
        .filter(|r| r.action == RecoveryAction::UndoFinished)
        .map(|r| r.id.as_str())
        .collect();
    if finished.is_empty() || id.is_some_and(|id| !finished.contains(&id)) {
        return Ok(false);
    }
    writeln!(
        ui.out,
        "the interrupted undo of change set {} is finished now; that was the undo asked for, so nothing else was undone",
        finished.join(", ")
    )?;
    match journal.sets().first() {
        Some(next) => writeln!(
            ui.out,
            "the newest change set is now {} (`{}`); `{}` undoes it",
            next.id,
            next.command,
            apply::undo_command(root, &[])
        )?,
        None => writeln!(ui.out, "no change set is left to undo")?,
    }
    Ok(true)
}

fn list(root: &SysRoot, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let h = plan::history(root)?;
    apply::print_recovered(&h.recovered, ui)?;
    if let Some(why) = &h.not_repaired {
        writeln!(
            ui.err,
            "warning: interrupted change sets were not repaired ({why}); the next run that can write repairs them:"
        )?;
        for i in &h.interrupted {
            writeln!(ui.err, "  {i}")?;
        }
    }
    if h.sets.is_empty() {
        writeln!(
            ui.out,
            "no change set to undo under {}",
            root.dir().display()
        )?;
        return Ok(ExitStatus::Ok);
    }
    for s in &h.sets {
        writeln!(ui.out, "{}  {}  {}", s.id, s.date, s.command)?;
        for p in &s.paths {
            writeln!(ui.out, "    {}", p.display())?;
        }
    }
    Ok(ExitStatus::Ok)
}
