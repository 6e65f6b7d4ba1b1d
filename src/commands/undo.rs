//! `distsetup undo`: the root's history of applied change sets, and undoing one.

use distsetup::plan::{self, SysRoot};

use super::{ExitStatus, Ui, apply};
use crate::cli::UndoArgs;

/// `distsetup undo [ID] [--list] [--yes]`: list, or show the change set (the newest by
/// default) and restore it after asking.
pub fn run(a: UndoArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let root = match &a.root {
        Some(d) => SysRoot::new(d)?,
        None => SysRoot::system(),
    };
    apply::print_recovered(&plan::recover(&root)?, ui)?;
    if a.list {
        return list(&root, ui);
    }
    let set = plan::pending_undo(&root, a.id.as_deref())?;
    writeln!(
        ui.out,
        "undo {} (applied {} by `{}`) restores:",
        set.id, set.date, set.command
    )?;
    for p in &set.paths {
        writeln!(ui.out, "  {}", p.display())?;
    }
    if !a.yes {
        if !ui.interactive {
            writeln!(
                ui.err,
                "not restored: no terminal to ask on; run again with --yes"
            )?;
            return Ok(ExitStatus::Negative);
        }
        if !ui.ask.confirm("Restore these files?", false)? {
            writeln!(ui.err, "not restored: declined")?;
            return Ok(ExitStatus::Aborted);
        }
    }
    // The ID shown, not "the newest": another run may have applied in between.
    let report = plan::undo(&root, Some(&set.id))?;
    apply::print_recovered(&report.recovered, ui)?;
    for b in &report.backups_removed {
        writeln!(
            ui.out,
            "removed {} (no change set needs it any more)",
            b.display()
        )?;
    }
    writeln!(ui.out, "restored {} path(s)", report.restored.len())?;
    Ok(ExitStatus::Ok)
}

fn list(root: &SysRoot, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let (sets, recovered) = plan::history(root)?;
    apply::print_recovered(&recovered, ui)?;
    if sets.is_empty() {
        writeln!(
            ui.out,
            "no change set to undo under {}",
            root.dir().display()
        )?;
        return Ok(ExitStatus::Ok);
    }
    for s in &sets {
        writeln!(ui.out, "{}  {}  {}", s.id, s.date, s.command)?;
        for p in &s.paths {
            writeln!(ui.out, "    {}", p.display())?;
        }
    }
    Ok(ExitStatus::Ok)
}
